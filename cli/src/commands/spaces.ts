// `litepred spaces list|sample|distribution`: the NAS search spaces, their architectures as ONNX
// models with kernel manifests, and their kernel-config distributions.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { buildArchitectureModel, getSpace, kernelDistribution, kernelsOf, sampleArchitecture, SEARCH_SPACES } from '@litepred/spaces';
import { formatConfigs } from '../config-files.js';
import { progressBar } from '../progress.js';
import { formatTable } from '../table.js';
import { commandGroup } from './group.js';

const spaceNames = () => SEARCH_SPACES.map((s) => s.name);

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer (got ${v})`);
  return v;
}

function list(json: boolean): void {
  const rows = SEARCH_SPACES.map((s) => ({ name: s.name, title: s.title, resolutions: s.resolutions, source: s.source }));
  if (json) return console.log(JSON.stringify(rows, null, 2));
  const res = (r: readonly number[]) => (r.length > 1 ? `${r[0]}..${r[r.length - 1]} (${r.length})` : String(r[0]));
  console.log(
    formatTable(
      ['space', 'title', 'input', 'source'],
      rows.map((r) => [r.name, r.title, res(r.resolutions), r.source]),
    ),
  );
}

function sample(a: { space: string; n: number; seed: number; out: string; json: boolean }): void {
  const space = getSpace(a.space);
  mkdirSync(a.out, { recursive: true });
  const bar = progressBar(a.n, `sampling ${space.name}`, !a.json);
  const architectures = [];
  for (let i = 0; i < a.n; i++) {
    const arch = sampleArchitecture(space, a.seed + i);
    const file = `${arch.id}.onnx`;
    writeFileSync(join(a.out, file), buildArchitectureModel(arch).bytes);
    architectures.push({ id: arch.id, file, inputShape: arch.inputShape, choices: arch.choices, kernels: kernelsOf(arch) });
    bar.tick(arch.id);
  }
  bar.stop();
  const manifest = { space: space.name, seeds: [a.seed, a.seed + a.n - 1], architectures };
  writeFileSync(join(a.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  if (a.json) return console.log(JSON.stringify(manifest));
  console.log(
    formatTable(
      ['model', 'input', 'kernels'],
      architectures.map((x) => [x.file, x.inputShape.join('x'), x.kernels.length]),
    ),
  );
  console.log(`\n${a.n} models and manifest.json written to ${a.out}`);
}

function distribution(a: { space: string; n: number; seed: number; out?: string; json: boolean }): void {
  const spaces = a.space === 'all' ? SEARCH_SPACES : [getSpace(a.space)];
  const dist = kernelDistribution(spaces, a.n, a.seed);
  const rows = [...dist.values()].flat().map((e) => ({ ...e.config, COUNT: e.count, FREQ: e.freq }));
  if (a.out) writeFileSync(a.out, formatConfigs(a.out, rows));
  const summary = [...dist].map(([type, e]) => ({ type, distinct: e.length, total: e.reduce((s, x) => s + x.count, 0) }));
  if (a.json) return console.log(JSON.stringify(a.out ? { out: a.out, summary } : rows));
  console.log(
    formatTable(
      ['kernel type', 'distinct configs', 'occurrences'],
      summary.map((s) => [s.type, s.distinct, s.total]),
    ),
  );
  console.log(
    `\n${a.n} architectures per space ` +
      `from ${spaces.map((s) => s.name).join(', ')}${a.out ? `; written to ${a.out}` : ' (--out FILE.csv|.jsonl to save)'}`,
  );
}

type SpaceArgs = { space: string; n: number; seed: number; out?: string; json: boolean };

const spaceOptions = (y: Argv, spaceHelp: string) =>
  y
    .option('space', { type: 'string', demandOption: true, describe: spaceHelp })
    .option('n', { type: 'number', default: 10, describe: 'architectures to sample (per space for distribution)' })
    .option('seed', { type: 'number', default: 1, describe: 'first seed; architecture i uses seed + i' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON' });

const checked = (a: SpaceArgs) => {
  positiveInt('n', a.n);
  if (!Number.isInteger(a.seed)) throw new Error(`--seed must be an integer (got ${a.seed})`);
  return a;
};

const spacesList: CommandModule<object, { json: boolean }> = {
  command: 'list',
  describe: 'the NAS search spaces and what they hold',
  builder: (y: Argv) => y.option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as unknown as Argv<{ json: boolean }>,
  // async, so a thrown error reaches the CLI's one-line failure handler
  handler: async (a) => list(a.json),
};

const spacesSample: CommandModule<object, SpaceArgs & { out: string }> = {
  command: 'sample',
  describe: 'sample architectures of a space as ONNX models, with a manifest of their kernels',
  builder: (y: Argv) =>
    spaceOptions(y, `search space (${spaceNames().join(', ')})`)
      .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
      .example(
        '$0 spaces sample --space ofa-mbv3 --n 5 --out models/',
        'five OFA MobileNetV3 models and their kernel lists',
      ) as unknown as Argv<SpaceArgs & { out: string }>,
  handler: async (a) => sample(checked(a) as SpaceArgs & { out: string }),
};

const spacesDistribution: CommandModule<object, SpaceArgs> = {
  command: 'distribution',
  describe: 'the kernel configs of sampled architectures, with their frequencies',
  builder: (y: Argv) =>
    spaceOptions(y, `search space (${spaceNames().join(', ')}, or all)`)
      .option('out', { type: 'string', describe: '.csv or .jsonl file' })
      .example(
        '$0 spaces distribution --space all --n 200 --out configs.csv',
        'the kernel configs of all spaces with frequencies',
      ) as unknown as Argv<SpaceArgs>,
  handler: async (a) => distribution(checked(a)),
};

export const spacesCommand = commandGroup(
  'spaces',
  'NAS search spaces: list, sample (architectures as ONNX), distribution (kernel configs)',
  [spacesList, spacesSample, spacesDistribution],
);
