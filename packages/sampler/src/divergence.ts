// How far a set of sampled configs is from a reference distribution: KL divergence over joint
// bins of the feature vector, sizes binned on log2 (half-octave bins) as LitePred's evaluation
// bins them, kernel size and stride exact.
import type { Feature } from './families.js';

export interface Divergence {
  /** KL(reference || samples) over joint bins, in nats. */
  joint: number;
  /** Mean over features of the per-feature KL(reference || samples). */
  marginal: number;
  /** Share of the reference's weight in bins the samples never reach. */
  uncovered: number;
}

const binOf = (feat: Feature, v: number) => (feat.log ? Math.floor(2 * Math.log2(v)) : v);

/**
 * Add-alpha smoothing over the union of occupied bins keeps the divergence finite when samples
 * miss a bin (alpha = 0.5 of a sample's weight), so missing the reference's bins costs a lot but
 * not infinitely.
 */
function kl(reference: Map<string, number>, samples: Map<string, number>, alpha = 0.5): { kl: number; uncovered: number } {
  const bins = new Set([...reference.keys(), ...samples.keys()]);
  const refTotal = [...reference.values()].reduce((a, b) => a + b, 0);
  const sampleTotal = [...samples.values()].reduce((a, b) => a + b, 0);
  let out = 0;
  let uncovered = 0;
  for (const bin of reference.keys()) {
    const p = reference.get(bin)! / refTotal;
    const q = ((samples.get(bin) ?? 0) + alpha) / (sampleTotal + alpha * bins.size);
    if (!samples.has(bin)) uncovered += p;
    out += p * Math.log(p / q);
  }
  return { kl: out, uncovered };
}

function histogram(
  features: readonly Feature[],
  rows: readonly number[][],
  weights: readonly number[] | undefined,
  pick: (feat: number) => boolean,
): Map<string, number> {
  const h = new Map<string, number>();
  rows.forEach((row, i) => {
    const key = features.map((f, j) => (pick(j) ? binOf(f, row[j]!) : '')).join('|');
    h.set(key, (h.get(key) ?? 0) + (weights?.[i] ?? 1));
  });
  return h;
}

export function binnedKl(
  features: readonly Feature[],
  reference: { rows: number[][]; weights?: number[] },
  samples: number[][],
): Divergence {
  const joint = kl(
    histogram(features, reference.rows, reference.weights, () => true),
    histogram(features, samples, undefined, () => true),
  );
  const marginals = features.map(
    (_, j) =>
      kl(
        histogram(features, reference.rows, reference.weights, (k) => k === j),
        histogram(features, samples, undefined, (k) => k === j),
      ).kl,
  );
  return { joint: joint.kl, marginal: marginals.reduce((a, b) => a + b, 0) / features.length, uncovered: joint.uncovered };
}
