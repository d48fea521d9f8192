// npm run bench:sampler -- --help
// How close each sampler's configs come to the configs NAS asks about: the KL divergence
// (binned on log2 features) between held-out search-space configs and samples from the VAE,
// nn-Meter's prior sampler and uniform sampling; then the same on LitePred's own tables.
import { resolveConfig } from '@litepred/kernels';
import { seededRng, weightedSampler, type Rng } from '@litepred/nn';
import {
  binnedKl,
  FAMILIES,
  fitScales,
  litepredTable,
  loadVaeModel,
  priorRows,
  readCsv,
  sampleWith,
  spaceConfigs,
  trainFamilyModel,
  uniformRows,
  vaeRows,
  HELD_OUT_SEED,
  TRAIN_SEED,
  VALIDATION_SEED,
  type Divergence,
  type FamilyName,
  type RowSource,
  type WeightedRows,
} from '@litepred/sampler';
import { benchArgs } from './args.js';
import { median, pct, Report } from './report.js';

const ARGS = benchArgs('npm run bench:sampler --', "How close each sampler's configs come to the configs NAS asks about (KL divergence).", {
  n: { default: 3000, describe: 'samples per sampler' },
  seeds: { default: 3, describe: 'seeds' },
  archs: { default: 300, describe: 'architectures per space' },
});
const N = ARGS.n;
const SEEDS = ARGS.seeds;
const ARCHS = ARGS.archs;

/** Draws from the training configs themselves: the floor a sampler of that distribution can reach. */
const resampleRows =
  (data: WeightedRows): RowSource =>
  (n, r) => {
    const draw = weightedSampler(data.weights, r);
    return Array.from({ length: n }, () => data.rows[draw()]!);
  };

const TYPE: Record<FamilyName, string> = {
  conv: 'conv-bn-relu',
  dwconv: 'dwconv-bn-relu',
  pooling: 'maxpool',
  fc: 'fc',
  transformer: 'matmul',
  nchw: 'add',
};

type Method = [string, RowSource | undefined];

/** Median (and range) over seeds of the divergence of n valid samples of each method from `reference`. */
function compare(family: FamilyName, reference: WeightedRows, methods: Method[]): { name: string; runs: Divergence[] }[] {
  const feats = FAMILIES[family].features;
  return methods.map(([name, source]) => ({
    name,
    runs: source
      ? Array.from({ length: SEEDS }, (_, s) => {
          const rows = sampleWith(TYPE[family], N, source, seededRng(1000 + s), name).configs.map((c) =>
            FAMILIES[family].row(resolveConfig(c)),
          );
          return binnedKl(feats, reference, rows);
        })
      : [],
  }));
}

function table(report: Report, family: string, results: { name: string; runs: Divergence[] }[]): void {
  const vae = median(results.find((r) => r.name.startsWith('VAE'))!.runs.map((d) => d.joint));
  report.table(
    [`${family}: sampler`, 'joint KL (median)', 'joint KL range', 'vs VAE', 'mean per-feature KL', 'held-out weight in bins never sampled'],
    results
      .filter((r) => r.runs.length)
      .map((r) => {
        const joint = r.runs.map((d) => d.joint);
        return [
          r.name,
          median(joint),
          `${Math.min(...joint).toFixed(3)}–${Math.max(...joint).toFixed(3)}`,
          `${(median(joint) / vae).toFixed(2)}x`,
          median(r.runs.map((d) => d.marginal)),
          pct(median(r.runs.map((d) => d.uncovered))),
        ];
      }),
  );
}

const report = new Report(
  'sampler',
  'Sampler benchmark: how close sampled kernel configs come to NAS search spaces',
  `npm run bench:sampler -- --n ${N} --seeds ${SEEDS} --archs ${ARCHS}`,
);
report.text(
  `KL(held-out || samples) over joint bins of the feature vector: sizes (HW, CIN, COUT, L) in half-octave log2 bins, ` +
    `kernel size and stride exact; ` +
    `add-0.5 smoothing over occupied bins. Each sampler draws ${N} configs that pass the kernel library's validation, ` +
    `with ${SEEDS} seeds; the table gives the median and range. ` +
    `"Resampled training configs" draws from the configs the VAE was trained on: how close merely repeating the training set gets ` +
    `(on the search spaces, where held-out architectures reuse most configs, a floor; on LitePred's tables, whose train ` +
    `and test splits hold different configs, a sampler that generalises can beat it).`,
);

report.text(
  `## 1. The seven search spaces: held-out architectures (${ARCHS} per space, seed ${HELD_OUT_SEED}; the VAEs saw ` +
    `seed ${TRAIN_SEED}, beta was chosen on seed ${VALIDATION_SEED})`,
);
const heldOut = spaceConfigs(ARCHS, HELD_OUT_SEED);
const training = spaceConfigs(Number(loadVaeModel('conv').training.architecturesPerSpace ?? 600), TRAIN_SEED);
const ratios: string[] = [];
for (const family of Object.keys(FAMILIES) as FamilyName[]) {
  const model = loadVaeModel(family);
  const methods: Method[] = [
    ['VAE (shipped)', vaeRows(model)],
    ['nn-Meter prior', family === 'transformer' ? undefined : (n: number, r: Rng) => priorRows(family, TYPE[family], n, r)],
    ['uniform', uniformRows(FAMILIES[family], model.scales)],
    ['resampled training configs', resampleRows(training.get(family)!)],
  ];
  const results = compare(family, heldOut.get(family)!, methods);
  table(report, family, results);
  const m = (name: string) => median(results.find((r) => r.name === name)!.runs.map((d) => d.joint));
  const prior = family === 'transformer' ? 'n/a' : `${(m('nn-Meter prior') / m('VAE (shipped)')).toFixed(1)}x`;
  ratios.push(`${family}: prior/VAE ${prior}, uniform/VAE ${(m('uniform') / m('VAE (shipped)')).toFixed(1)}x`);
  process.stderr.write(`${family} done\n`);
}
report.text(`Ratios of median joint KL: ${ratios.join('; ')}.`);

report.text(`## 2. LitePred's own tables (test split as reference, weighted by FREQ)`);
report.text(
  "The VAE here is ours, trained with the same code and defaults on the table's train split (it never sees the test split). " +
    "LitePred's published VAE samples (litepred_vae_generated_conv.csv, 3,000 configs, CIN = COUT and k in 3/5/7 like " +
    "vae_inputs_patch_lut.csv) are compared as they are against that table's test split.",
);
const DATA = new URL('../../packages/sampler/data/litepred/', import.meta.url);
// vae_inputs_patch_lut.csv (CIN = COUT, k in 3/5/7) is the table LitePred's published samples come from.
const tables: [FamilyName, string][] = [
  ['conv', 'vae_inputs_v3.csv'],
  ['conv', 'vae_inputs_patch_lut.csv'],
  ['dwconv', 'vae_inputs_v4_dwconv.csv'],
  ['pooling', 'vae_inputs_pool_v1.csv'],
];
for (const [family, file] of tables) {
  const train = litepredTable(new URL(file, DATA), family, 'train');
  const test = litepredTable(new URL(file, DATA), family, 'test');
  const t0 = Date.now();
  const { model } = trainFamilyModel(train, { beta: 0.003 });
  process.stderr.write(`${file}: VAE trained on LitePred's train split in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  const methods: Method[] = [
    ['VAE (ours, on LitePred train split)', vaeRows(model)],
    ['nn-Meter prior', (n, r) => priorRows(family, TYPE[family], n, r)],
    ['uniform', uniformRows(FAMILIES[family], fitScales(FAMILIES[family].features, train))],
    ['resampled training configs', resampleRows(train)],
  ];
  const results = compare(family, test, methods);
  if (file === 'vae_inputs_patch_lut.csv') {
    const generated = readCsv(new URL('litepred_vae_generated_conv.csv', DATA)).map((r) =>
      FAMILIES.conv.features.map((f) => Math.round(Number(r[f.name]))),
    );
    results.splice(1, 0, {
      name: "LitePred's published VAE samples",
      runs: [binnedKl(FAMILIES.conv.features, test, generated.slice(0, N))],
    });
  }
  table(report, `${family} (${file})`, results);
}
report.write();
