// A kernel type's predictor from all of a device's measurements of it (the pool's predictors): the
// family is chosen on a seeded 20% held out (a roofline, or boosted trees on a roofline prior where
// enough is held out to tell them apart), then trained on everything. The coordinator's full-data
// builds and bench:transfer's "full" column use this one rule.
import { seededRng } from '@litepred/nn';
import { GbdtPredictor } from './gbdt.js';
import { metrics, type Metrics } from './metrics.js';
import type { Sample } from './mlp-predictor.js';
import { RooflinePredictor } from './roofline-predictor.js';

/** Held-out kernels faster than this are not judged: ±10% of a few µs is timer noise. */
export const MIN_JUDGED_MS = 0.01;
/**
 * Boosted trees are tried for a type whose held-out set has at least this many judged kernels, and
 * kept where they do at least as well as the roofline on it (TREE_MARGIN). On a dense pool trees
 * beat the roofline on average, and a 5-point margin over 40 judged kernels kept most types on the
 * roofline (bench:full-data prints all three: docs/benchmarks/full-data.md).
 */
export const MIN_TREE_HELD_OUT = 20;
export const TREE_MARGIN = 0;

export interface FullDataPredictor {
  kind: 'roofline' | 'gbdt';
  predictor: RooflinePredictor | GbdtPredictor;
  /** The chosen kind's metrics on the held-out fifth (trained on the rest). */
  metrics: Metrics;
  heldOut: number;
  /** Each kind tried and its held-out share within ±10%. */
  candidates: Record<string, number>;
}

export function trainFullData(type: string, samples: readonly Sample[]): FullDataPredictor {
  const r = seededRng(11);
  const order = samples
    .map((s) => [r(), s] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, s]) => s);
  const cut = Math.floor(order.length * 0.8);
  const [train, test] = [order.slice(0, cut), order.slice(cut)];
  const judged = test.filter((s) => s.latencyMs >= MIN_JUDGED_MS);
  const scored = judged.length >= 3 ? judged : test;
  const [configs, truth] = [scored.map((s) => s.config), scored.map((s) => s.latencyMs)];
  let m = metrics(RooflinePredictor.train(type, train).predict(configs), truth);
  const candidates: Record<string, number> = { roofline: m.within10 };
  let kind: FullDataPredictor['kind'] = 'roofline';
  if (scored.length >= MIN_TREE_HELD_OUT) {
    const trees = metrics(GbdtPredictor.train(type, train).predict(configs), truth);
    candidates.gbdt = trees.within10;
    if (trees.within10 >= m.within10 + TREE_MARGIN) [kind, m] = ['gbdt', trees];
  }
  const predictor = kind === 'gbdt' ? GbdtPredictor.train(type, samples) : RooflinePredictor.train(type, samples);
  return { kind, predictor, metrics: m, heldOut: scored.length, candidates };
}
