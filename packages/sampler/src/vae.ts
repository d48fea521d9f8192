// LitePred's config VAE: an MLP encoder to a Gaussian latent, an MLP decoder back to the scaled
// feature vector; trained on frequency-weighted batches with the KL weight annealed from 0.
import { Adam, cosineLr, gaussian, Mlp, seededRng, weightedSampler, type Rng } from '@litepred/nn';
import { scaleRow, type FeatureScale } from './scaling.js';
import type { WeightedRows } from './dataset.js';

export interface VaeTraining {
  latent?: number;
  hidden?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  /** Final KL weight relative to the summed squared reconstruction error. */
  beta?: number;
  /** Share of the steps over which beta rises linearly from 0. */
  warmup?: number;
  seed?: number;
  onProgress?(step: number, loss: { reconstruction: number; kl: number }): void;
}

export const VAE_DEFAULTS = { latent: 4, hidden: 64, steps: 20000, batch: 128, lr: 2e-3, beta: 0.003, warmup: 0.3, seed: 1 };

export interface TrainedVae {
  encoder: Mlp;
  decoder: Mlp;
  latent: number;
  final: { reconstruction: number; kl: number };
}

export function trainVae(scales: readonly FeatureScale[], data: WeightedRows, options: VaeTraining = {}): TrainedVae {
  const o = { ...VAE_DEFAULTS, ...options };
  const d = scales.length;
  const r = seededRng(o.seed);
  const encoder = Mlp.create([d, o.hidden, o.hidden, 2 * o.latent], ['relu', 'relu', 'linear'], r);
  const decoder = Mlp.create([o.latent, o.hidden, o.hidden, d], ['relu', 'relu', 'sigmoid'], r);
  const adam = new Adam([...encoder.parameters(), ...decoder.parameters()], { lr: o.lr });
  const scaled = data.rows.map((row) => scaleRow(scales, row));
  const draw = weightedSampler(data.weights, r);
  const B = o.batch;
  let final = { reconstruction: 0, kl: 0 };
  for (let step = 0; step < o.steps; step++) {
    const x = new Float64Array(B * d);
    for (let i = 0; i < B; i++) x.set(scaled[draw()]!, i * d);
    const eps = Float64Array.from({ length: B * o.latent }, () => gaussian(r));
    const beta = o.beta * Math.min(1, step / Math.max(1, o.warmup * o.steps));
    const { reconstruction, kl, grads } = vaeLoss(encoder, decoder, x, B, eps, beta);
    adam.step(grads, cosineLr(o.lr, step, o.steps, o.lr / 20));
    final = { reconstruction, kl };
    if (step % 500 === 0 || step === o.steps - 1) o.onProgress?.(step, final);
  }
  return { encoder, decoder, latent: o.latent, final };
}

/**
 * The VAE loss on a batch for given noise `eps` (batch x latent), averaged over the batch:
 * summed squared reconstruction error + beta * KL(q(z|x) || N(0, I)); and its gradients for the
 * encoder's then the decoder's parameters (reparameterisation z = mu + exp(logvar / 2) * eps).
 */
export function vaeLoss(
  encoder: Mlp,
  decoder: Mlp,
  x: Float64Array,
  B: number,
  eps: Float64Array,
  beta: number,
): { reconstruction: number; kl: number; loss: number; grads: Float64Array[] } {
  const latent = decoder.inputs;
  const d = decoder.outputs;
  const enc = encoder.forward(x, B);
  const stats = encoder.output(enc);
  const at = (i: number, k: number) => [i * 2 * latent + k, i * 2 * latent + latent + k] as const;
  const z = new Float64Array(B * latent);
  for (let i = 0; i < B; i++)
    for (let k = 0; k < latent; k++) {
      const [mi, li] = at(i, k);
      z[i * latent + k] = stats[mi]! + Math.exp(0.5 * stats[li]!) * eps[i * latent + k]!;
    }
  const dec = decoder.forward(z, B);
  const xHat = decoder.output(dec);
  let recon = 0;
  const dXHat = new Float64Array(B * d);
  for (let n = 0; n < B * d; n++) {
    const e = xHat[n]! - x[n]!;
    recon += e * e;
    dXHat[n] = (2 * e) / B;
  }
  const { grads: decGrads, dInput: dZ } = decoder.backward(dec, dXHat);
  let kl = 0;
  const dStats = new Float64Array(B * 2 * latent);
  for (let i = 0; i < B; i++)
    for (let k = 0; k < latent; k++) {
      const [mi, li] = at(i, k);
      const [mu, logvar] = [stats[mi]!, stats[li]!];
      const variance = Math.exp(logvar);
      kl += -0.5 * (1 + logvar - mu * mu - variance);
      const dz = dZ[i * latent + k]!;
      dStats[mi] = dz + (beta * mu) / B;
      dStats[li] = dz * 0.5 * Math.sqrt(variance) * eps[i * latent + k]! + (beta * 0.5 * (variance - 1)) / B;
    }
  const { grads: encGrads } = encoder.backward(enc, dStats);
  return { reconstruction: recon / B, kl: kl / B, loss: (recon + beta * kl) / B, grads: [...encGrads, ...decGrads] };
}

/** Scaled feature vectors decoded from latent draws z ~ N(0, I). */
export function decodeSamples(decoder: Mlp, latent: number, n: number, r: Rng): Float64Array[] {
  const z = Float64Array.from({ length: n * latent }, () => gaussian(r));
  const out = decoder.output(decoder.forward(z, n));
  const d = decoder.outputs;
  return Array.from({ length: n }, (_, i) => out.subarray(i * d, (i + 1) * d));
}
