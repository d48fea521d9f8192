// Adam (Kingma & Ba) over a list of parameter arrays, updated in place; and the cosine learning
// rate schedule LitePred trains with.

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam {
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private t = 0;
  readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(
    private readonly params: Float64Array[],
    options: AdamOptions = {},
  ) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.m = params.map((p) => new Float64Array(p.length));
    this.v = params.map((p) => new Float64Array(p.length));
  }

  step(grads: readonly Float64Array[], lr = this.lr): void {
    if (grads.length !== this.params.length) throw new Error(`${grads.length} gradients for ${this.params.length} parameters`);
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    this.params.forEach((p, i) => {
      const [g, m, v] = [grads[i]!, this.m[i]!, this.v[i]!];
      for (let k = 0; k < p.length; k++) {
        m[k] = this.beta1 * m[k]! + (1 - this.beta1) * g[k]!;
        v[k] = this.beta2 * v[k]! + (1 - this.beta2) * g[k]! * g[k]!;
        p[k]! -= (lr * (m[k]! / c1)) / (Math.sqrt(v[k]! / c2) + this.eps);
      }
    });
  }
}

/** Cosine annealing from `base` at step 0 to `min` at `total`. */
export function cosineLr(base: number, step: number, total: number, min = 0): number {
  const t = Math.min(1, Math.max(0, step / Math.max(1, total)));
  return min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * t));
}
