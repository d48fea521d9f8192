// The three config samplers behind one interface: the VAE (LitePred), nn-Meter's per-dimension
// prior, and uniform. Every config they return has passed the kernel library's validation.
import { readFileSync } from 'node:fs';
import { compactConfig, kernelCost, resolveConfig, type KernelConfig } from '@litepred/kernels';
import { Mlp, seededRng, type Rng } from '@litepred/nn';
import { familyOf, type Family, type FamilyName } from './families.js';
import { unscaleAndSnap, type FeatureScale } from './scaling.js';
import { decodeSamples } from './vae.js';
import { priorRows } from './prior.js';
import { drawExtras } from './extras.js';
import { broadRows } from './broad.js';

export type SamplerKind = 'vae' | 'prior' | 'uniform' | 'broad';
export const SAMPLER_KINDS: readonly SamplerKind[] = ['vae', 'prior', 'uniform', 'broad'];

/**
 * Configs over this many FLOPs are drawn again: the largest layers of deployed vision networks are
 * under 1 GFLOP (a ViT-B MLP matmul 0.93, a ResNet-50 3x3 conv 0.23), and a 100-GFLOP kernel
 * would hold a measuring agent for minutes.
 */
export const MAX_SAMPLED_FLOPS = 4e9;

/** A family's trained decoder and what it needs to turn samples into configs (models/<family>.json). */
export interface VaeModel {
  version: 1;
  family: FamilyName;
  scales: FeatureScale[];
  latent: number;
  decoder: ReturnType<Mlp['toJSON']>;
  /** Fields the feature vector lacks, drawn by their training frequency (HEADS of mhsa). */
  extras: { HEADS?: { values: number[]; weights: number[] } };
  training: Record<string, unknown>;
}

export const MODELS_DIR = new URL('../models/', import.meta.url);

const modelCache = new Map<string, VaeModel>();

export function loadVaeModel(family: FamilyName, dir: URL = MODELS_DIR): VaeModel {
  const file = new URL(`${family}.json`, dir);
  const cached = modelCache.get(file.href);
  if (cached) return cached;
  let model: VaeModel;
  try {
    model = JSON.parse(readFileSync(file, 'utf8')) as VaeModel;
  } catch (e) {
    throw new Error(`no trained VAE for the ${family} family at ${file.pathname} (run npm run train:vae): ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (model.version !== 1 || model.family !== family) throw new Error(`${file.pathname} is not a version-1 VAE for the ${family} family`);
  modelCache.set(file.href, model);
  return model;
}

export interface SampleResult {
  configs: KernelConfig[];
  /** Candidates the kernel library rejected (and that were drawn again). */
  rejected: number;
}

/** Feature vectors for a family, `n` at a time; sampleWith validates them as configs. */
export type RowSource = (n: number, r: Rng) => number[][];

/** Decoded z ~ N(0, I), snapped to the training values. */
export function vaeRows(model: VaeModel): RowSource {
  const decoder = Mlp.fromJSON(model.decoder);
  return (n, r) => decodeSamples(decoder, model.latent, n, r).map((x) => unscaleAndSnap(model.scales, x));
}

/** Uniform integers over each feature's training range (odd kernel sizes for convolutions), like nn-Meter's random sampler. */
export function uniformRows(family: Family, scales: readonly FeatureScale[]): RowSource {
  return (n, r) => {
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    return Array.from({ length: n }, () =>
      scales.map((s) => {
        const [lo, hi] = [s.support[0]!, s.support[s.support.length - 1]!];
        if (s.name === 'KERNEL_SIZE' && family.name !== 'pooling') return 2 * int(Math.ceil((lo - 1) / 2), Math.floor((hi - 1) / 2)) + 1;
        return int(lo, hi);
      }),
    );
  };
}

/**
 * `n` valid configs of kernel type `type` from `source`. Candidates the kernel library rejects
 * are drawn again (up to 50 rounds); a source that cannot produce valid configs fails clearly.
 */
export function sampleWith(type: string, n: number, source: RowSource, r: Rng, name: string, model?: VaeModel, real = true): SampleResult {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer (got ${n})`);
  const family = familyOf(type);
  const configs: KernelConfig[] = [];
  let rejected = 0;
  for (let round = 0; configs.length < n; round++) {
    if (round === 50)
      throw new Error(`the ${name} sampler gave only ${configs.length} valid ${type} configs of ${n} after ${rejected} rejections`);
    for (const row of source(n - configs.length, r)) {
      try {
        const base = family.config(type, row);
        const config = compactConfig(resolveConfig({ ...base, ...drawExtras(type, base, r, model?.extras.HEADS, real) }));
        if (kernelCost(config).flops > MAX_SAMPLED_FLOPS) throw new Error('too large');
        configs.push(config);
      } catch {
        rejected++;
      }
    }
  }
  return { configs, rejected };
}

/**
 * `n` valid configs of kernel type `type` from the shipped VAE, nn-Meter's prior, uniform over the
 * VAE's training ranges, or broad (deployed networks' ranges, broad.ts); seeded.
 * `realShapes` (default on) also draws what the family's features leave out and real networks
 * have (extras.ts: rectangular inputs, dilation, broadcast operands, SE widths); off, configs are
 * square and undilated as the search spaces' are.
 */
export function sampleConfigs(
  type: string,
  n: number,
  options: { sampler: SamplerKind; seed: number; modelsDir?: URL; realShapes?: boolean },
): SampleResult {
  const family = familyOf(type);
  const real = options.realShapes ?? true;
  if (options.sampler === 'prior') {
    return sampleWith(type, n, (count, r) => priorRows(family.name, type, count, r), seededRng(options.seed), 'prior', undefined, real);
  }
  const model = loadVaeModel(family.name, options.modelsDir);
  const source =
    options.sampler === 'vae' ? vaeRows(model) : options.sampler === 'broad' ? broadRows(family) : uniformRows(family, model.scales);
  return sampleWith(type, n, source, seededRng(options.seed), options.sampler, model, real);
}
