// A predictor meant to need little data: a roofline-style linear model (fixed cost + FLOPs +
// activation bytes + weight bytes, non-negative, fitted for relative error) times a learned
// multiplicative residual (ridge regression of log(measured / roofline) on log1p features).
import { kernelCost, type KernelConfig } from '@litepred/kernels';
import type { Sample } from './mlp-predictor.js';
import { fitStandardiser, standardise } from './standardise.js';

export interface RooflinePredictorData {
  kind: 'roofline';
  kernelType: string;
  /** ms = c[0] + c[1]·MFLOPs + c[2]·activation MB + c[3]·weight MB */
  coefficients: number[];
  /** log(residual) = beta · standardised log1p(featureVector), plus bias. */
  residual: { mean: number[]; std: number[]; beta: number[]; bias: number };
}

const terms = (c: KernelConfig) => {
  const cost = kernelCost(c);
  return [1, cost.flops / 1e6, cost.activationBytes / 2 ** 20, (4 * cost.params) / 2 ** 20];
};

/** Solves A x = b (small, symmetric positive definite after ridge) by Gaussian elimination. */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const d = M[c]![c]! || 1e-12;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / d;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((row, i) => row[n]! / (row[i]! || 1e-12));
}

/** Weighted least squares on the chosen columns; weights 1/y² make it minimise relative error. */
function fitColumns(X: number[][], y: number[], cols: number[], ridge = 1e-9): number[] {
  const A = cols.map((i) => cols.map((j) => X.reduce((s, row, k) => s + (row[i]! * row[j]!) / y[k]! ** 2, 0) + (i === j ? ridge : 0)));
  const b = cols.map((i) => X.reduce((s, row, k) => s + (row[i]! * y[k]!) / y[k]! ** 2, 0));
  const sol = solve(A, b);
  const full = new Array<number>(X[0]!.length).fill(0);
  cols.forEach((c, i) => (full[c] = sol[i]!));
  return full;
}

export class RooflinePredictor {
  private constructor(readonly data: RooflinePredictorData) {}

  static fromJSON(data: RooflinePredictorData): RooflinePredictor {
    if (data.kind !== 'roofline') throw new Error(`not a roofline predictor (kind ${String(data.kind)})`);
    return new RooflinePredictor(data);
  }

  get kernelType(): string {
    return this.data.kernelType;
  }

  toJSON(): RooflinePredictorData {
    return this.data;
  }

  roofline(c: KernelConfig): number {
    return Math.max(
      1e-6,
      terms(c).reduce((s, t, i) => s + t * this.data.coefficients[i]!, 0),
    );
  }

  predict(configs: readonly KernelConfig[]): number[] {
    const { beta, bias } = this.data.residual;
    return configs.map((c) => {
      if (c.type !== this.data.kernelType) throw new Error(`a ${this.data.kernelType} predictor cannot predict a ${c.type} config`);
      const z = standardise(this.data.residual, c);
      return this.roofline(c) * Math.exp(bias + z.reduce((s, v, j) => s + v * beta[j]!, 0));
    });
  }

  /**
   * Fits the non-negative roofline (the best subset of terms whose coefficients come out
   * non-negative), then the ridge residual (`ridge` on standardised features; larger = closer to
   * the pure roofline, which is what little data can support).
   */
  static train(kernelType: string, samples: readonly Sample[], options: { ridge?: number } = {}): RooflinePredictor {
    if (samples.length === 0) throw new Error(`no ${kernelType} samples to train on`);
    const y = samples.map((s) => s.latencyMs);
    if (y.some((v) => !(v > 0))) throw new Error('latencies must be positive');
    const X = samples.map((s) => terms(s.config));
    let best: { coef: number[]; err: number } | undefined;
    for (let mask = 1; mask < 16; mask++) {
      const cols = [0, 1, 2, 3].filter((i) => mask & (1 << i));
      if (cols.length > samples.length) continue;
      const coef = fitColumns(X, y, cols);
      if (coef.some((c) => c < 0)) continue;
      const err = X.reduce((s, row, k) => s + ((row.reduce((p, t, i) => p + t * coef[i]!, 0) - y[k]!) / y[k]!) ** 2, 0);
      if (!best || err < best.err) best = { coef, err };
    }
    const coefficients = best?.coef ?? [y.reduce((a, b) => a + b, 0) / y.length, 0, 0, 0];
    const base = RooflinePredictor.fromJSON({
      kind: 'roofline',
      kernelType,
      coefficients,
      residual: { mean: [], std: [], beta: [], bias: 0 },
    });
    const scaling = fitStandardiser(samples.map((s) => s.config));
    const { mean, std } = scaling;
    const Z = samples.map((s) => [1, ...standardise(scaling, s.config)]);
    const t = samples.map((s, k) => Math.log(y[k]! / base.roofline(s.config)));
    const ridge = options.ridge ?? 3;
    const A = Z[0]!.map((_, i) => Z[0]!.map((__, j) => Z.reduce((s, z) => s + z[i]! * z[j]!, 0) + (i === j && i > 0 ? ridge : 0)));
    const b = Z[0]!.map((_, i) => Z.reduce((s, z, k) => s + z[i]! * t[k]!, 0));
    const [bias, ...beta] = solve(A, b);
    return RooflinePredictor.fromJSON({ kind: 'roofline', kernelType, coefficients, residual: { mean, std, beta, bias: bias! } });
  }
}
