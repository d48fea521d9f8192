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
  /**
   * For HW: its support per stride, so a stride-2 sample gets an HW that the spaces downsample
   * at (HW consistent with strides).
   */
  supportByStride?: Record<string, number[]>;
}

const transform = (feat: Feature, v: number) => (feat.log ? Math.log2(v) : v);

const distinctSorted = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);

export function fitScales(features: readonly Feature[], data: WeightedRows): FeatureScale[] {
  const strideAt = features.findIndex((f) => f.name === 'STRIDES');
  return features.map((feat, i) => {
    const values = data.rows.map((r) => r[i]!);
    const t = values.map((v) => transform(feat, v));
    const scale: FeatureScale = { ...feat, min: Math.min(...t), max: Math.max(...t), support: distinctSorted(values) };
    if (feat.name === 'HW' && strideAt >= 0) {
      const strides = distinctSorted(data.rows.map((r) => r[strideAt]!));
      scale.supportByStride = Object.fromEntries(
        strides.map((s) => [s, distinctSorted(data.rows.filter((r) => r[strideAt] === s).map((r) => r[i]!))]),
      );
    }
    return scale;
  });
}

export function scaleRow(scales: readonly FeatureScale[], row: readonly number[]): number[] {
  return scales.map((s, i) => (s.max > s.min ? (transform(s, row[i]!) - s.min) / (s.max - s.min) : 0.5));
}

function nearest(s: Feature, support: readonly number[], t: number): number {
  let best = support[0]!;
  for (const v of support) if (Math.abs(transform(s, v) - t) < Math.abs(transform(s, best) - t)) best = v;
  return best;
}

/**
 * A scaled vector back to feature values, each snapped to the nearest value the training configs
 * use (log2-near for sizes); HW to the values used with the snapped stride.
 */
export function unscaleAndSnap(scales: readonly FeatureScale[], x: ArrayLike<number>): number[] {
  const t = scales.map((s, i) => s.min + Math.min(1, Math.max(0, x[i]!)) * (s.max - s.min));
  const row = scales.map((s, i) => nearest(s, s.support, t[i]!));
  const strideAt = scales.findIndex((s) => s.name === 'STRIDES');
  scales.forEach((s, i) => {
    const bySupport = strideAt >= 0 ? s.supportByStride?.[row[strideAt]!] : undefined;
    if (bySupport) row[i] = nearest(s, bySupport, t[i]!);
  });
  return row;
}
