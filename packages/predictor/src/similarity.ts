// Which pool predictor is closest to a new device: every candidate predicts the same
// representative configs that the new device measured, and a measure compares the two latency
// lists. LitePred's measure is KL(predicted || measured) over the latency lists normalised to
// sums of 1 (scipy.stats.entropy); its public code then sorts descending and so picks the least
// similar device. Here the most similar comes first, and two alternatives are offered.

export type SimilarityMeasure = 'litepred-kl' | 'spearman' | 'log-linear';

export const SIMILARITY_MEASURES: readonly SimilarityMeasure[] = ['litepred-kl', 'spearman', 'log-linear'];

/** KL(p || q) of the two lists normalised to distributions over the configs. Lower = more similar. */
export function latencyKl(predicted: readonly number[], measured: readonly number[]): number {
  const clamp = (v: number) => Math.max(v, 1e-9);
  const [sp, sm] = [predicted.reduce((s, v) => s + clamp(v), 0), measured.reduce((s, v) => s + clamp(v), 0)];
  return predicted.reduce((s, v, i) => {
    const p = clamp(v) / sp;
    return s + p * Math.log(p / (clamp(measured[i]!) / sm));
  }, 0);
}

function ranks(xs: readonly number[]): number[] {
  const order = xs.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const [ma, mb] = [a.reduce((s, v) => s + v, 0) / n, b.reduce((s, v) => s + v, 0) / n];
  let [sab, saa, sbb] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return saa && sbb ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Spearman rank correlation. Higher = more similar. */
export function spearman(predicted: readonly number[], measured: readonly number[]): number {
  return pearson(ranks(predicted), ranks(measured));
}

/**
 * RMS residual of log(measured) = a + b·log(predicted): what remains after the best
 * scale-and-power recalibration. Lower = more similar. Optional weights per config.
 */
export function logLinearResidual(predicted: readonly number[], measured: readonly number[], weights?: readonly number[]): number {
  const x = predicted.map((v) => Math.log(Math.max(v, 1e-9)));
  const y = measured.map((v) => Math.log(Math.max(v, 1e-9)));
  const w = weights ?? x.map(() => 1);
  const { a, b } = fitLine(x, y, w);
  return Math.sqrt(x.reduce((s, v, i) => s + w[i]! * (y[i]! - a - b * v) ** 2, 0) / w.reduce((s, v) => s + v, 0));
}

/** Least-squares line y = a + b·x, optionally weighted. */
export function fitLine(x: readonly number[], y: readonly number[], weights?: readonly number[]): { a: number; b: number } {
  const w = weights ?? x.map(() => 1);
  const sw = w.reduce((s, v) => s + v, 0);
  const [mx, my] = [x.reduce((s, v, i) => s + w[i]! * v, 0) / sw, y.reduce((s, v, i) => s + w[i]! * v, 0) / sw];
  const sxx = x.reduce((s, v, i) => s + w[i]! * (v - mx) ** 2, 0);
  const b = sxx > 0 ? x.reduce((s, v, i) => s + w[i]! * (v - mx) * (y[i]! - my), 0) / sxx : 1;
  return { a: my - b * mx, b };
}

export interface Candidate {
  source: string;
  /** The candidate's predictions for the representative configs, in order. */
  predicted: number[];
}

export interface RankedCandidate {
  source: string;
  score: number;
}

/** Candidates ordered most similar first under `measure` (the score is the measure's raw value). */
export function rankSources(
  candidates: readonly Candidate[],
  measured: readonly number[],
  measure: SimilarityMeasure = 'log-linear',
  weights?: readonly number[],
): RankedCandidate[] {
  if (candidates.length === 0) throw new Error('the pool has no predictor for this kernel type');
  for (const c of candidates) {
    if (c.predicted.length !== measured.length)
      throw new Error(`${c.source} predicted ${c.predicted.length} configs, the device measured ${measured.length}`);
  }
  // Weights (how much each config counts) only the log-linear residual takes; the others are as published.
  const score = {
    'litepred-kl': latencyKl,
    spearman,
    'log-linear': (p: readonly number[], m: readonly number[]) => logLinearResidual(p, m, weights),
  }[measure];
  const higherIsBetter = measure === 'spearman';
  return candidates
    .map((c) => ({ source: c.source, score: score(c.predicted, measured) }))
    .sort((p, q) => (higherIsBetter ? q.score - p.score : p.score - q.score));
}
