// npm run train:vae [-- --families conv,fc --archs 600]: trains every family's VAE on the search
// spaces' kernel configs and writes packages/sampler/models/<family>.json. Seeded: the same
// command gives the same files. The KL weight is chosen per family on validation architectures
// (another seed), never on the held-out ones the benchmark uses.
import { mkdirSync, writeFileSync } from 'node:fs';
import { kernelDistribution, SEARCH_SPACES } from '@litepred/spaces';
import { spaceConfigs } from './dataset.js';
import type { FamilyName } from './families.js';
import { MODELS_DIR } from './samplers.js';
import { trainFamilyModel, TRAIN_SEED, VALIDATION_SEED, type TrainedModel } from './train.js';
const BETAS = [0.001, 0.003];

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};

async function main(): Promise<void> {
  const archs = Number(arg('archs', '600'));
  const started = Date.now();
  const train = spaceConfigs(archs, TRAIN_SEED);
  const validation = spaceConfigs(Math.ceil(archs / 3), VALIDATION_SEED);
  const families = arg('families', [...train.keys()].join(',')).split(',') as FamilyName[];
  const heads = new Map<number, number>();
  for (const e of kernelDistribution(SEARCH_SPACES, archs, TRAIN_SEED).get('mhsa') ?? [])
    heads.set(e.config.HEADS!, (heads.get(e.config.HEADS!) ?? 0) + e.count);
  mkdirSync(MODELS_DIR, { recursive: true });
  for (const family of families) {
    const data = train.get(family);
    if (!data) throw new Error(`no ${family} configs in the search spaces`);
    let best: (TrainedModel & { beta: number }) | undefined;
    for (const beta of BETAS) {
      const t0 = Date.now();
      const trained = trainFamilyModel(data, {
        beta,
        validation: validation.get(family),
        extras: family === 'transformer' ? { HEADS: { values: [...heads.keys()], weights: [...heads.values()] } } : {},
        about: {
          spaces: SEARCH_SPACES.map((s) => s.name),
          architecturesPerSpace: archs,
          seed: TRAIN_SEED,
          validationSeed: VALIDATION_SEED,
        },
      });
      process.stderr.write(
        `${family} beta ${beta}: validation KL ${trained.validation!.joint.toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`,
      );
      if (!best || trained.validation!.joint < best.validation!.joint) best = { ...trained, beta };
    }
    best!.model.training.validationKl = best!.validation;
    writeFileSync(new URL(`${family}.json`, MODELS_DIR), JSON.stringify(best!.model) + '\n');
    console.log(
      `${family}: ${data.rows.length} distinct configs, beta ${best!.beta}, validation ` +
        `KL ${best!.validation!.joint.toFixed(3)} -> models/${family}.json`,
    );
  }
  console.log(`trained in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
