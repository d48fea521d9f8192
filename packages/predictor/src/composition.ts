// Kernels inside a network do not cost what they cost alone: caches are colder, layouts get
// reordered between them, and the runtime's per-node dispatch adds up. A composition is one
// factor per kernel type, learned from whole models measured end to end on a device:
//   model ms ≈ overhead + Σ_type factor_type · Σ_{kernels of that type} predicted ms,
// fitted for relative error with a ridge pulling every factor toward 1 (no correction); a type no
// fitted model has gets the one factor that fits all types at once.
import type { KernelConfig } from '@litepred/kernels';
import type { Decomposition } from './decompose/decompose.js';
import { predictAs } from './fusion.js';
import type { KernelLatencyPredictor } from './kernel-latency-predictor.js';
import { solve } from './roofline-predictor.js';

/**
 * In relative-error² units per factor. `npm run bench:transfer -- --composition-ridge R` compares
 * values; none dominates, and 0.1 is the middle of those tried (docs/decisions.md).
 */
export const DEFAULT_COMPOSITION_RIDGE = 0.1;

export interface Composition {
  /** Multiplies the kernel predictions of a type; types not listed get `shared`. */
  factors: Record<string, number>;
  /** The one factor that fits all types at once. */
  shared: number;
  /** Models it was fitted on. */
  models: number;
}

/** Per model, the summed kernel predictions by type; undefined when a type has no predictor. */
export function typeSums(
  d: Decomposition | readonly KernelConfig[],
  predictors: ReadonlyMap<string, KernelLatencyPredictor>,
): Map<string, number> | undefined {
  const sums = new Map<string, number>();
  const byType = new Map<string, KernelConfig[]>();
  for (const config of 'kernels' in d ? d.kernels.map((k) => k.config) : d) {
    const list = byType.get(config.type);
    if (list) list.push(config);
    else byType.set(config.type, [config]);
  }
  for (const [type, configs] of byType) {
    const predicted = predictAs(predictors, type, configs, 'kernels' in d ? d.foldsBatchNorm : true);
    if (!predicted) return undefined;
    sums.set(
      type,
      predicted.reduce((s, v) => s + v, 0),
    );
  }
  return sums;
}

/**
 * `fixedMs` of a model: time it spends beside its kernels that no factor scales (its layout
 * reorders, priced by the device's reorder cost), taken off with the run overhead.
 */
export function fitComposition(
  models: readonly { sums: ReadonlyMap<string, number>; measuredMs: number; fixedMs?: number }[],
  overheadMs: number,
  ridge = DEFAULT_COMPOSITION_RIDGE,
): Composition {
  if (models.length === 0) throw new Error('a composition needs at least one model measured end to end');
  const types = [...new Set(models.flatMap((m) => [...m.sums.keys()]))].sort();
  const n = types.length;
  const A = types.map(() => new Array<number>(n).fill(0));
  const b = new Array<number>(n).fill(0);
  let [sxy, sxx] = [0, 0];
  for (const m of models) {
    const x = types.map((t) => (m.sums.get(t) ?? 0) / m.measuredMs);
    const y = 1 - (overheadMs + (m.fixedMs ?? 0)) / m.measuredMs;
    const total = x.reduce((s, v) => s + v, 0);
    sxy += total * y;
    sxx += total * total;
    for (let i = 0; i < n; i++) {
      b[i]! += x[i]! * y;
      for (let j = 0; j < n; j++) A[i]![j]! += x[i]! * x[j]!;
    }
  }
  const shared = sxx > 0 ? sxy / sxx : 1;
  // Ridge toward 1: (A + λI) f = b + λ. (Toward the shared factor measured worse: one factor
  // fits a device whose in-network slowdown differs by kernel type badly, and drags them all.)
  for (let i = 0; i < n; i++) {
    A[i]![i]! += ridge;
    b[i]! += ridge;
  }
  const f = solve(A, b);
  return { factors: Object.fromEntries(types.map((t, i) => [t, Math.max(0.2, f[i]!)])), shared, models: models.length };
}

/** What a composition multiplies a kernel type's standalone predictions by (1 without one). */
export function factorOf(composition: Composition | undefined, type: string): number {
  return composition ? (composition.factors[type] ?? composition.shared) : 1;
}

/** A model's latency from its per-type sums under a composition. */
export function composedLatency(sums: ReadonlyMap<string, number>, overheadMs: number, composition?: Composition): number {
  let total = overheadMs;
  for (const [t, s] of sums) total += factorOf(composition, t) * s;
  return total;
}
