// Making a predictor for a new device from a pool predictor and a few measurements (the adaptive
// loop that decides how many are enough is adapt-device.ts).
import { compactConfig, resolveConfig, type KernelConfig } from '@litepred/kernels';
import type { Rng } from '@litepred/nn';
import { MlpPredictor, type Sample } from './mlp-predictor.js';
import type { KernelLatencyPredictor } from './kernel-latency-predictor.js';
import { fitLine } from './similarity.js';

/** A source predictor mapped onto the new device: ms = exp(a) · source(config)^b. */
export class RecalibratedPredictor implements KernelLatencyPredictor {
  constructor(
    readonly source: KernelLatencyPredictor,
    readonly a: number,
    readonly b: number,
  ) {}
  get kernelType(): string {
    return this.source.kernelType;
  }
  predict(configs: readonly KernelConfig[]): number[] {
    return this.source.predict(configs).map((p) => Math.exp(this.a) * Math.max(p, 1e-9) ** this.b);
  }
}

/** Fits the log-linear map from the source's predictions to the device's measurements. */
export function recalibrate(source: KernelLatencyPredictor, samples: readonly Sample[]): RecalibratedPredictor {
  if (samples.length < 2) throw new Error('recalibration needs at least 2 measurements');
  const predicted = source.predict(samples.map((s) => s.config));
  const { a, b } = fitLine(
    predicted.map((p) => Math.log(Math.max(p, 1e-9))),
    samples.map((s) => Math.log(s.latencyMs)),
  );
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
