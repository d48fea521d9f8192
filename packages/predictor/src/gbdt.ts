// Gradient-boosted regression trees on log latency: the predictor family meant for a dense pool
// (hundreds to thousands of kernels per type), where a roofline's few terms cannot follow the
// steps real kernels have (tile and cache-size boundaries, channel alignment). Written here
// because no well-kept npm package fits: ml-xgboost is a 2019 WebAssembly build with a few
// thousand downloads a month, and ml-cart grows single trees with no boosting and no export to
// ONNX's TreeEnsembleRegressor (gbdt-onnx.ts), which is how a pulled predictor runs anywhere.
// Trees are grown level by level over features sorted once, exact splits, squared error on the
// log of the latency (so the relative error), shrinkage and row subsampling per tree.
import { featureNames, featureVector, type KernelConfig } from '@litepred/kernels';
import { seededRng } from '@litepred/nn';
import type { Sample } from './mlp-predictor.js';
import { RooflinePredictor, type RooflinePredictorData } from './roofline-predictor.js';

/** A node of a tree: a split on `feature` at `threshold` (x <= threshold goes left), or a leaf (feature -1) worth `value`. */
export interface TreeNode {
  feature: number;
  threshold: number;
  left: number;
  right: number;
  value: number;
}

export interface GbdtPredictorData {
  kind: 'gbdt';
  kernelType: string;
  features: string[];
  /** log(ms) before any tree: the mean of the training targets (on top of the prior's log, where there is one). */
  base: number;
  /**
   * A roofline fitted to the same samples whose log the trees add to: the trees then model what
   * it misses (steps, alignment) instead of approximating a power law over decades with constant
   * leaves.
   */
  prior?: RooflinePredictorData;
  /** Leaf values already include the learning rate. */
  trees: TreeNode[][];
}

export interface GbdtTraining {
  trees?: number;
  depth?: number;
  learningRate?: number;
  /** Fewest samples in a leaf. */
  minLeaf?: number;
  /** Share of the rows each tree is grown on. */
  subsample?: number;
  seed?: number;
  /** Grow the trees on top of a roofline fitted to the same samples (default true). */
  prior?: boolean;
}

export const GBDT_DEFAULTS: Required<GbdtTraining> = {
  trees: 300,
  depth: 5,
  learningRate: 0.05,
  minLeaf: 4,
  subsample: 0.8,
  seed: 1,
  prior: true,
};

/** One tree fitted to `target` over the rows `use` marks, level by level. */
function growTree(
  x: Float64Array[],
  order: Int32Array[],
  target: Float64Array,
  use: Uint8Array,
  depth: number,
  minLeaf: number,
): TreeNode[] {
  const n = target.length;
  const nodeOf = new Int32Array(n).fill(-1);
  const nodes: TreeNode[] = [{ feature: -1, threshold: 0, left: 0, right: 0, value: 0 }];
  let sum = 0,
    count = 0;
  for (let i = 0; i < n; i++)
    if (use[i]) {
      nodeOf[i] = 0;
      sum += target[i]!;
      count++;
    }
  nodes[0]!.value = count ? sum / count : 0;
  let level = [{ id: 0, sum, count }];
  for (let d = 0; d < depth && level.length; d++) {
    const slot = new Map(level.map((l, k) => [l.id, k]));
    const best = level.map(() => ({ gain: 1e-12, feature: -1, threshold: 0 }));
    for (let f = 0; f < x.length; f++) {
      const leftSum = new Float64Array(level.length),
        leftCount = new Int32Array(level.length),
        last = new Float64Array(level.length).fill(NaN);
      for (const i of order[f]!) {
        const k = slot.get(nodeOf[i]!);
        if (k === undefined) continue;
        const v = x[f]![i]!;
        const node = level[k]!;
        const lc = leftCount[k]!;
        if (v > last[k]! && lc >= minLeaf && node.count - lc >= minLeaf) {
          const ls = leftSum[k]!,
            rs = node.sum - ls;
          const gain = (ls * ls) / lc + (rs * rs) / (node.count - lc) - (node.sum * node.sum) / node.count;
          if (gain > best[k]!.gain) best[k] = { gain, feature: f, threshold: (last[k]! + v) / 2 };
        }
        leftSum[k]! += target[i]!;
        leftCount[k]!++;
        last[k] = v;
      }
    }
    const next: { id: number; sum: number; count: number }[] = [];
    const children = new Map<number, [number, number]>();
    level.forEach((l, k) => {
      const b = best[k]!;
      if (b.feature < 0) return;
      const node = nodes[l.id]!;
      node.feature = b.feature;
      node.threshold = b.threshold;
      node.left = nodes.push({ feature: -1, threshold: 0, left: 0, right: 0, value: 0 }) - 1;
      node.right = nodes.push({ feature: -1, threshold: 0, left: 0, right: 0, value: 0 }) - 1;
      children.set(l.id, [node.left, node.right]);
    });
    const stats = new Map<number, { sum: number; count: number }>();
    for (let i = 0; i < n; i++) {
      const c = children.get(nodeOf[i]!);
      if (!c) {
        if (nodeOf[i]! >= 0 && !children.has(nodeOf[i]!)) nodeOf[i] = -1;
        continue;
      }
      const parent = nodes[nodeOf[i]!]!;
      nodeOf[i] = x[parent.feature]![i]! <= parent.threshold ? c[0] : c[1];
      const s = stats.get(nodeOf[i]!) ?? { sum: 0, count: 0 };
      s.sum += target[i]!;
      s.count++;
      stats.set(nodeOf[i]!, s);
    }
    for (const [id, s] of stats) {
      nodes[id]!.value = s.sum / s.count;
      next.push({ id, ...s });
    }
    level = next;
  }
  return nodes;
}

export function treeValue(nodes: readonly TreeNode[], row: ArrayLike<number>): number {
  let k = 0;
  for (;;) {
    const node = nodes[k]!;
    if (node.feature < 0) return node.value;
    k = row[node.feature]! <= node.threshold ? node.left : node.right;
  }
}

export class GbdtPredictor {
  private constructor(readonly data: GbdtPredictorData) {}

  static fromJSON(data: GbdtPredictorData): GbdtPredictor {
    if (data.kind !== 'gbdt') throw new Error(`not a gbdt predictor (kind ${String(data.kind)})`);
    return new GbdtPredictor(data);
  }

  get kernelType(): string {
    return this.data.kernelType;
  }

  toJSON(): GbdtPredictorData {
    return this.data;
  }

  /** log(ms) of each config. */
  logPredict(configs: readonly KernelConfig[]): number[] {
    const prior = this.data.prior ? RooflinePredictor.fromJSON(this.data.prior).predict(configs) : undefined;
    return configs.map((c, i) => {
      const row = featureVector(c);
      return this.data.trees.reduce((s, t) => s + treeValue(t, row), this.data.base + (prior ? Math.log(prior[i]!) : 0));
    });
  }

  predict(configs: readonly KernelConfig[]): number[] {
    return this.logPredict(configs).map(Math.exp);
  }

  static train(kernelType: string, samples: readonly Sample[], options: GbdtTraining = {}): GbdtPredictor {
    if (samples.length === 0) throw new Error(`no ${kernelType} samples to train on`);
    if (samples.some((s) => !(s.latencyMs > 0))) throw new Error('latencies must be positive to train on their log');
    const o = { ...GBDT_DEFAULTS, ...options };
    const rows = samples.map((s) => featureVector(s.config));
    const F = rows[0]!.length;
    const x = Array.from({ length: F }, (_, f) => Float64Array.from(rows, (r) => r[f]!));
    const order = x.map((col) => Int32Array.from(col.keys()).sort((a, b) => col[a]! - col[b]!));
    const prior = o.prior ? RooflinePredictor.train(kernelType, samples) : undefined;
    const priorMs = prior?.predict(samples.map((s) => s.config));
    const y = Float64Array.from(samples, (s, i) => Math.log(s.latencyMs) - (priorMs ? Math.log(priorMs[i]!) : 0));
    const base = y.reduce((s, v) => s + v, 0) / y.length;
    const fitted = new Float64Array(y.length).fill(base);
    const r = seededRng(o.seed);
    const trees: TreeNode[][] = [];
    for (let t = 0; t < o.trees; t++) {
      const residual = Float64Array.from(y, (v, i) => v - fitted[i]!);
      const use = Uint8Array.from(y, () => (r() < o.subsample ? 1 : 0));
      const tree = growTree(x, order, residual, use, o.depth, o.minLeaf);
      for (const node of tree) node.value *= o.learningRate;
      for (let i = 0; i < y.length; i++) fitted[i]! += treeValue(tree, rows[i]!);
      trees.push(tree);
    }
    return new GbdtPredictor({
      kind: 'gbdt',
      kernelType,
      features: featureNames(kernelType),
      base,
      trees,
      ...(prior ? { prior: prior.toJSON() } : {}),
    });
  }
}
