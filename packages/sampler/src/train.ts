// Training a family's VAE into a shippable model: scales from the training configs, the decoder's
// weights, and how it was trained.
import { seededRng } from '@litepred/nn';
import type { WeightedRows } from './dataset.js';
import { binnedKl, type Divergence } from './divergence.js';
import { FAMILIES } from './families.js';
import { fitScales, unscaleAndSnap } from './scaling.js';
import type { VaeModel } from './samplers.js';
import { decodeSamples, trainVae, VAE_DEFAULTS, type VaeTraining } from './vae.js';

/** Seeds of the search-space architectures: the VAEs train on one, choose beta on another, and the benchmark holds out the third. */
export const TRAIN_SEED = 1;
export const VALIDATION_SEED = 3;
export const HELD_OUT_SEED = 2;

export interface TrainedModel {
  model: VaeModel;
  /** Divergence of 5,000 decoded samples from the validation configs (when given). */
  validation?: Divergence;
}

export function trainFamilyModel(
  data: WeightedRows,
  options: VaeTraining & { validation?: WeightedRows; extras?: VaeModel['extras']; about?: Record<string, unknown> } = {},
): TrainedModel {
  const family = FAMILIES[data.family];
  const scales = fitScales(family.features, data);
  const vae = trainVae(scales, data, options);
  const model: VaeModel = {
    version: 1,
    family: data.family,
    scales,
    latent: vae.latent,
    decoder: vae.decoder.toJSON(),
    extras: options.extras ?? {},
    training: {
      ...options.about,
      distinctConfigs: data.rows.length,
      ...Object.fromEntries(
        Object.keys(VAE_DEFAULTS).map((k) => [k, (options as Record<string, unknown>)[k] ?? VAE_DEFAULTS[k as keyof typeof VAE_DEFAULTS]]),
      ),
      finalLoss: vae.final,
    },
  };
  if (!options.validation) return { model };
  const samples = decodeSamples(vae.decoder, vae.latent, 5000, seededRng(12345)).map((x) => unscaleAndSnap(scales, x));
  return { model, validation: binnedKl(family.features, options.validation, samples) };
}
