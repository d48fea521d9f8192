// Feature scaling as LitePred's VAE does it: log2 of sizes, then min-max to [0, 1]; and snapping
// a decoded value back to the values the training configs use.
import type { Feature } from './families.js';
import type { WeightedRows } from './dataset.js';

export interface FeatureScale extends Feature {
  /** Min and max of the (log2 where `log`) training values. */
  min: number;
  max: number;
  /** The distinct training values, ascending: what a decoded value snaps to. */
  support: number[];
}

const transform = (feat: Feature, v: number) => (feat.log ? Math.log2(v) : v);

export function fitScales(features: readonly Feature[], data: WeightedRows): FeatureScale[] {
  return features.map((feat, i) => {
    const values = data.rows.map((r) => r[i]!);
    const t = values.map((v) => transform(feat, v));
    return { ...feat, min: Math.min(...t), max: Math.max(...t), support: [...new Set(values)].sort((a, b) => a - b) };
  });
}

export function scaleRow(scales: readonly FeatureScale[], row: readonly number[]): number[] {
  return scales.map((s, i) => (s.max > s.min ? (transform(s, row[i]!) - s.min) / (s.max - s.min) : 0.5));
}

/** A scaled vector back to feature values, each snapped to the nearest support value (log2-near for sizes). */
export function unscaleAndSnap(scales: readonly FeatureScale[], x: ArrayLike<number>): number[] {
  return scales.map((s, i) => {
    const t = s.min + Math.min(1, Math.max(0, x[i]!)) * (s.max - s.min);
    let best = s.support[0]!;
    for (const v of s.support) if (Math.abs(transform(s, v) - t) < Math.abs(transform(s, best) - t)) best = v;
    return best;
  });
}
