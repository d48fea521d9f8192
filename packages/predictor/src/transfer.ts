// Making a predictor for a new device from a pool predictor and a few measurements, and the
// adaptive loop that decides how many measurements are enough.
import { compactConfig, resolveConfig, type KernelConfig } from '@litepred/kernels';
import { seededRng, type Rng } from '@litepred/nn';
import { metrics, type Metrics } from './metrics.js';
import { MlpPredictor, type Sample } from './mlp-predictor.js';
import type { KernelLatencyPredictor } from './model-latency.js';
import { fitLine, rankSources, type RankedCandidate, type SimilarityMeasure } from './similarity.js';

/** A source predictor mapped onto the new device: ms = exp(a) · source(config)^b. */
export class RecalibratedPredictor implements KernelLatencyPredictor {
  constructor(readonly source: KernelLatencyPredictor, readonly a: number, readonly b: number) {}
  get kernelType(): string { return this.source.kernelType; }
  predict(configs: readonly KernelConfig[]): number[] {
    return this.source.predict(configs).map((p) => Math.exp(this.a) * Math.max(p, 1e-9) ** this.b);
  }
}

/** Fits the log-linear map from the source's predictions to the device's measurements. */
export function recalibrate(source: KernelLatencyPredictor, samples: readonly Sample[]): RecalibratedPredictor {
  if (samples.length < 2) throw new Error('recalibration needs at least 2 measurements');
  const predicted = source.predict(samples.map((s) => s.config));
  const { a, b } = fitLine(predicted.map((p) => Math.log(Math.max(p, 1e-9))), samples.map((s) => Math.log(s.latencyMs)));
  return new RecalibratedPredictor(source, a, b);
}

/** LitePred's transfer: train the source MLP further on the new device's samples (same loss and schedule, fewer epochs). */
export function finetune(source: MlpPredictor, samples: readonly Sample[], options: { epochs?: number; seed?: number } = {}): MlpPredictor {
  return MlpPredictor.train(source.kernelType, samples, { init: source.toJSON(), epochs: options.epochs ?? 100, seed: options.seed ?? 1 });
}

/**
 * nn-Meter's fine-grained sampling: configs near `config`, each with one size (HW, CIN, COUT, L)
 * moved by up to ±25%, kept only if the kernel library accepts them.
 */
export function finegrained(config: KernelConfig, n: number, r: Rng): KernelConfig[] {
  const sizes = (['HW', 'CIN', 'COUT', 'L'] as const).filter((f) => config[f] !== undefined);
  const out: KernelConfig[] = [];
  for (let tries = 0; out.length < n && tries < 20 * n; tries++) {
    const f = sizes[Math.floor(r() * sizes.length)]!;
    const v = Math.max(1, Math.round(config[f]! * (0.75 + 0.5 * r())));
    try {
      out.push(compactConfig(resolveConfig({ ...config, [f]: v })));
    } catch {
      // not a valid kernel: draw again
    }
  }
  return out;
}

export type AdaptEvent =
  | { phase: 'probe'; measured: number }
  | { phase: 'source'; ranked: RankedCandidate[] }
  | { phase: 'round'; measured: number; heldOut: Metrics };

export interface AdaptOptions {
  kernelType: string;
  pool: readonly { source: string; predictor: KernelLatencyPredictor }[];
  /** Measures configs on the new device. */
  measure(configs: KernelConfig[]): Promise<number[]>;
  /** Draws configs of the kernel type (the VAE sampler), seeded. */
  sample(n: number, seed: number): KernelConfig[];
  /** Builds the device's predictor from the chosen source and the measurements so far. */
  transfer(source: KernelLatencyPredictor, samples: readonly Sample[]): KernelLatencyPredictor;
  /** Kernel measurements allowed in all, held-out ones included. */
  budget: number;
  /** Share of held-out kernels within ±10% that ends the loop. */
  target: number;
  probe?: number;
  heldOut?: number;
  /** Measurements added per round: half VAE samples, half fine-grained around the worst. */
  step?: number;
  measureName?: SimilarityMeasure;
  seed?: number;
  onProgress?(event: AdaptEvent): void;
}

export interface Adapted {
  predictor: KernelLatencyPredictor;
  source: string;
  ranked: RankedCandidate[];
  samples: Sample[];
  heldOut: Metrics;
  measured: number;
  stoppedBecause: 'target' | 'budget';
}

export async function adapt(o: AdaptOptions): Promise<Adapted> {
  const [probeN, heldN, step] = [o.probe ?? 30, o.heldOut ?? 40, o.step ?? 30];
  if (o.budget < probeN + heldN) throw new Error(`a budget of ${o.budget} kernels cannot cover the probe (${probeN}) and held-out (${heldN}) sets`);
  const r = seededRng(o.seed ?? 1);
  const measureSamples = async (configs: KernelConfig[]): Promise<Sample[]> => {
    const ms = await o.measure(configs);
    return configs.map((config, i) => ({ config, latencyMs: ms[i]! }));
  };
  const probe = await measureSamples(o.sample(probeN, (o.seed ?? 1) * 7919));
  o.onProgress?.({ phase: 'probe', measured: probe.length });
  const ranked = rankSources(o.pool.map((p) => ({ source: p.source, predicted: p.predictor.predict(probe.map((s) => s.config)) })),
    probe.map((s) => s.latencyMs), o.measureName);
  o.onProgress?.({ phase: 'source', ranked });
  const source = o.pool.find((p) => p.source === ranked[0]!.source)!.predictor;
  const heldOut = await measureSamples(o.sample(heldN, (o.seed ?? 1) * 7919 + 1));
  let samples = probe;
  let measured = probe.length + heldOut.length;
  let round = 0;
  for (;;) {
    const predictor = o.transfer(source, samples);
    const predicted = predictor.predict(heldOut.map((s) => s.config));
    const m = metrics(predicted, heldOut.map((s) => s.latencyMs));
    o.onProgress?.({ phase: 'round', measured, heldOut: m });
    if (m.within10 >= o.target) return { predictor, source: ranked[0]!.source, ranked, samples, heldOut: m, measured, stoppedBecause: 'target' };
    const room = o.budget - measured;
    if (room <= 0) return { predictor, source: ranked[0]!.source, ranked, samples, heldOut: m, measured, stoppedBecause: 'budget' };
    // Worst-predicted configs of the training set so far guide the fine-grained half.
    const own = predictor.predict(samples.map((s) => s.config));
    const worst = samples.map((s, i) => [Math.abs(own[i]! / s.latencyMs - 1), s.config] as const).sort((a, b) => b[0] - a[0]).slice(0, 3);
    const n = Math.min(step, room);
    const near = worst.flatMap(([, c]) => finegrained(c, Math.ceil(n / 2 / worst.length), r)).slice(0, Math.floor(n / 2));
    const fresh = o.sample(n - near.length, (o.seed ?? 1) * 7919 + 2 + ++round);
    samples = [...samples, ...(await measureSamples([...near, ...fresh]))];
    measured += n;
  }
}
