// Summary statistics of repeated timings.

export interface Stats {
  n: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Mean of the samples between the 25th and 75th percentile: robust like the median, finer-grained. */
  iqm: number;
  /**
   * Mean of the fastest quarter of the samples. Interference from other work only ever slows a
   * run down, so on a shared machine the fast end is what repeats; averaging a quarter rather than
   * taking the minimum smooths the profiler's 1 µs resolution.
   */
  q1mean: number;
}

/** The statistics a measurement can report as its latency. */
export type Statistic = 'median' | 'iqm' | 'q1mean' | 'min';

/** Percentile by linear interpolation between closest ranks (numpy's default). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The median of unsorted samples. */
export function median(samples: readonly number[]): number {
  return percentile(
    [...samples].sort((a, b) => a - b),
    0.5,
  );
}

/**
 * The median of samples that a timer quantized to steps of `step` (ORT's profile gives whole
 * microseconds), interpolated inside the step it falls in, as for grouped data: the share of the
 * samples below, in and above that step places the median within it. The plain median jumps a
 * whole step when a run or two moves across a tick (1 µs is 7% of a 14 µs kernel); this one moves
 * in proportion. Samples all on one value give that value. Off-lattice samples (a clamped node)
 * are only counted below or above.
 */
export function quantizedMedian(sorted: readonly number[], step: number): number {
  const n = sorted.length;
  if (n === 0 || !(step > 0)) return percentile(sorted, 0.5);
  // The median sample's own step (it counts itself, so `at` is at least 1).
  const centre = sorted[Math.floor((n - 1) / 2)]!;
  let below = 0;
  let at = 0;
  for (const x of sorted) {
    if (x < centre - step / 2) below++;
    else if (x < centre + step / 2) at++;
  }
  const within = (n / 2 - below) / at;
  return centre - step / 2 + Math.min(1, Math.max(0, within)) * step;
}

/**
 * Summary statistics. With `resolution` (the timer's step), the median is the quantization-aware
 * one (quantizedMedian); the other statistics are unchanged.
 */
export function summarize(samples: readonly number[], resolution?: number): Stats {
  const n = samples.length;
  if (n === 0) throw new Error('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const lo = Math.floor(n * 0.25);
  const hi = Math.max(lo + 1, Math.ceil(n * 0.75));
  const mid = s.slice(lo, hi);
  const fast = s.slice(0, Math.max(1, Math.floor(n / 4)));
  return {
    n,
    median: resolution ? quantizedMedian(s, resolution) : percentile(s, 0.5),
    p10: percentile(s, 0.1),
    p90: percentile(s, 0.9),
    min: s[0]!,
    max: s[n - 1]!,
    mean,
    std: Math.sqrt(variance),
    iqm: mid.reduce((a, b) => a + b, 0) / mid.length,
    q1mean: fast.reduce((a, b) => a + b, 0) / fast.length,
  };
}

/**
 * Half-width of a distribution-free ~95% confidence interval of the median, relative to the
 * median: the order statistics n/2 ± 0.98·sqrt(n) bound it (binomial approximation).
 */
export function medianRelativePrecision(samples: readonly number[]): number {
  const n = samples.length;
  if (n < 5) return Number.POSITIVE_INFINITY;
  const s = [...samples].sort((a, b) => a - b);
  const k = 0.98 * Math.sqrt(n);
  const lo = s[Math.max(0, Math.floor(n / 2 - k))]!;
  const hi = s[Math.min(n - 1, Math.ceil(n / 2 + k))]!;
  const med = percentile(s, 0.5);
  return med > 0 ? (hi - lo) / 2 / med : Number.POSITIVE_INFINITY;
}
