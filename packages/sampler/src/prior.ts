// nn-Meter's prior sampler, re-implemented from its description and code (nn_meter/builder/
// kernel_predictor_builder/data_sampler): each dimension is drawn on its own from a 40-bin
// histogram of the model-zoo values (inverse-CDF sampling, truncated to an integer), snapped to a
// list of valid values, with a share of "frequent settings" for HW, kernel size and stride.
import type { Rng } from '@litepred/nn';
import type { FamilyName } from './families.js';
import { readCsv } from './dataset.js';

const DATA = new URL('../data/nn-meter/', import.meta.url);

const zooCache = new Map<string, Record<string, number[]>>();

/** A prior table's columns as number arrays. */
function zoo(name: 'conv' | 'dwconv' | 'fc' | 'pooling'): Record<string, number[]> {
  let cols = zooCache.get(name);
  if (!cols) {
    const rows = readCsv(new URL(`${name}.csv`, DATA));
    cols = Object.fromEntries(
      Object.keys(rows[0]!)
        .filter((k) => k !== 'model')
        .map((k) => [k, rows.map((r) => Number(r[k]))]),
    );
    zooCache.set(name, cols);
  }
  return cols;
}

/** numpy.histogram(density) + interp1d(cdf, edges) + int(), as nn-Meter samples a dimension. */
export function inverseTransformSample(data: readonly number[], n: number, r: Rng, bins = 40): number[] {
  const lo = Math.min(...data);
  const hi = Math.max(...data);
  const width = (hi - lo) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of data) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
  const cdf = [0];
  for (const c of counts) cdf.push(cdf[cdf.length - 1]! + c / data.length);
  return Array.from({ length: n }, () => {
    const u = r();
    let b = 0;
    while (b < bins - 1 && cdf[b + 1]! < u) b++;
    const span = cdf[b + 1]! - cdf[b]!;
    const frac = span > 0 ? (u - cdf[b]!) / span : 0;
    return Math.trunc(lo + (b + frac) * width);
  });
}

/** nn-Meter's data_validation: each value to the nearest valid one (the first on a tie). */
const snap = (values: number[], valid: readonly number[]) =>
  values.map((v) => valid.reduce((best, x) => (Math.abs(x - v) < Math.abs(best - v) ? x : best), valid[0]!));

function shuffle<T>(xs: T[], r: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** `share` of n drawn from the prior and snapped; the rest from fixed frequent values (shares sum to 1). */
function withFrequent(data: number[], valid: readonly number[], n: number, share: number, frequent: [number, number][], r: Rng): number[] {
  const fromPrior = Math.trunc(n * share);
  const out = snap(inverseTransformSample(data, fromPrior, r), valid);
  for (const [value, part] of frequent) out.push(...new Array<number>(Math.trunc((n - fromPrior) * part)).fill(value));
  while (out.length < n) out.push(frequent[frequent.length - 1]![0]); // nn-Meter's int() can leave a few short
  return shuffle(out, r);
}

/** Feature rows (the family's feature order) from nn-Meter's prior for kernel type `type`. */
export function priorRows(family: FamilyName, type: string, n: number, r: Rng): number[][] {
  const zip = (...cols: number[][]) => Array.from({ length: n }, (_, i) => cols.map((c) => c[i]!));
  switch (family) {
    case 'conv': {
      const z = zoo('conv');
      const cin = inverseTransformSample(z.cin!, n, r);
      const cout = inverseTransformSample(z.cout!, n, r);
      const hw = withFrequent(
        z.input_h!,
        [1, 3, 7, 8, 13, 14, 27, 28, 32, 56, 112, 224],
        n,
        0.7,
        [
          [112, 0.2],
          [56, 0.4],
          [28, 0.4],
        ],
        r,
      );
      const ks = withFrequent(
        z.ks!,
        [1, 3, 5, 7],
        n,
        0.7,
        [
          [5, 0.4],
          [7, 0.6],
        ],
        r,
      );
      const st = withFrequent(
        z.stride!,
        [1, 2, 4],
        n,
        0.7,
        [
          [2, 0.4],
          [1, 0.6],
        ],
        r,
      );
      return zip(hw, cin, cout, ks, st);
    }
    case 'dwconv': {
      const z = zoo('dwconv');
      const cin = inverseTransformSample(z.cin!, n, r);
      const hw = withFrequent(
        z.input_h!,
        [1, 3, 7, 14, 28, 56, 112, 224],
        n,
        0.8,
        [
          [112, 0.4],
          [56, 0.4],
          [28, 0.2],
        ],
        r,
      );
      const ks = withFrequent(
        z.ks!,
        [1, 3, 5, 7],
        n,
        0.8,
        [
          [5, 0.4],
          [7, 0.6],
        ],
        r,
      );
      const st = withFrequent(
        z.stride!,
        [1, 2],
        n,
        0.8,
        [
          [2, 0.5],
          [1, 0.5],
        ],
        r,
      );
      return zip(hw, cin, ks, st);
    }
    case 'pooling': {
      // nn-Meter snaps the table's own kernel sizes and strides in table order (so they are not
      // random); here they are drawn from their distribution like the other dimensions.
      const z = zoo('pooling');
      return zip(
        snap(inverseTransformSample(z.input_h!, n, r), [14, 28, 56, 112, 224]),
        inverseTransformSample(z.cin!, n, r),
        snap(inverseTransformSample(z.ks!, n, r), [2, 3]),
        snap(inverseTransformSample(z.stride!, n, r), [1, 2]),
      );
    }
    case 'fc':
      return zip(inverseTransformSample(zoo('fc').cin!, n, r), new Array<number>(n).fill(1000));
    case 'nchw': {
      const z = zoo('conv');
      const hw = withFrequent(
        z.input_h!,
        [1, 3, 7, 14, 28, 56, 112, 224],
        n,
        0.8,
        [
          [112, 0.4],
          [56, 0.4],
          [28, 0.2],
        ],
        r,
      );
      let cin = inverseTransformSample(z.cin!, n, r);
      // nn-Meter's CinEvenSampler for kernels that halve or group their channels.
      if (['split', 'channelshuffle', 'se', 'concat'].includes(type)) cin = cin.map((c) => (c % 2 ? c + 1 : c));
      return zip(hw, cin);
    }
    case 'transformer':
      throw new Error(
        `nn-Meter's prior has no transformer kernels, so there is no prior sampler for ${type}; use --sampler vae or uniform`,
      );
  }
}
