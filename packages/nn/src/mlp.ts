// A small dense network on Float64Array batches (row-major [batch, features]) with hand-written
// backpropagation. Small on purpose: the VAE samplers need a few thousand weights, and every
// gradient is checked against finite differences in the tests.
import { gaussian, type Rng } from './random.js';

/** leaky-relu has slope 0.3 below zero (LitePred's predictor uses it). */
export type Activation = 'linear' | 'relu' | 'leaky-relu' | 'tanh' | 'sigmoid';

export const LEAKY_SLOPE = 0.3;

export interface Dense {
  inputs: number;
  outputs: number;
  activation: Activation;
  /** [inputs, outputs], row-major. */
  w: Float64Array;
  b: Float64Array;
}

export interface ForwardPass {
  batch: number;
  /** The input of each layer, then the network output. */
  values: Float64Array[];
}

function activate(act: Activation, v: number): number {
  switch (act) {
    case 'linear':
      return v;
    case 'relu':
      return v > 0 ? v : 0;
    case 'leaky-relu':
      return v > 0 ? v : LEAKY_SLOPE * v;
    case 'tanh':
      return Math.tanh(v);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
  }
}

/** d act / d pre-activation, written in terms of the activation's output y. */
function slope(act: Activation, y: number): number {
  switch (act) {
    case 'linear':
      return 1;
    case 'relu':
      return y > 0 ? 1 : 0;
    case 'leaky-relu':
      return y > 0 ? 1 : LEAKY_SLOPE;
    case 'tanh':
      return 1 - y * y;
    case 'sigmoid':
      return y * (1 - y);
  }
}

export class Mlp {
  constructor(readonly layers: Dense[]) {}

  /** He-initialised layers of the given widths; `activations[i]` follows layer i. */
  static create(widths: readonly number[], activations: readonly Activation[], r: Rng): Mlp {
    if (activations.length !== widths.length - 1) throw new Error('one activation per layer');
    return new Mlp(
      activations.map((activation, i) => {
        const [inputs, outputs] = [widths[i]!, widths[i + 1]!];
        const scale = Math.sqrt((activation === 'relu' || activation === 'leaky-relu' ? 2 : 1) / inputs);
        return {
          inputs,
          outputs,
          activation,
          w: Float64Array.from({ length: inputs * outputs }, () => gaussian(r) * scale),
          b: new Float64Array(outputs),
        };
      }),
    );
  }

  get inputs(): number {
    return this.layers[0]!.inputs;
  }
  get outputs(): number {
    return this.layers[this.layers.length - 1]!.outputs;
  }

  /** Weights and biases, in a fixed order that gradients and the optimiser follow. */
  parameters(): Float64Array[] {
    return this.layers.flatMap((l) => [l.w, l.b]);
  }

  forward(x: Float64Array, batch: number): ForwardPass {
    if (x.length !== batch * this.inputs) throw new Error(`input has ${x.length} values, expected ${batch} x ${this.inputs}`);
    const values = [x];
    let h = x;
    for (const l of this.layers) {
      const y = new Float64Array(batch * l.outputs);
      for (let i = 0; i < batch; i++) {
        const row = i * l.outputs;
        y.set(l.b, row);
        for (let k = 0; k < l.inputs; k++) {
          const xv = h[i * l.inputs + k]!;
          if (xv === 0) continue;
          const wr = k * l.outputs;
          for (let j = 0; j < l.outputs; j++) y[row + j]! += xv * l.w[wr + j]!;
        }
        for (let j = 0; j < l.outputs; j++) y[row + j] = activate(l.activation, y[row + j]!);
      }
      values.push(y);
      h = y;
    }
    return { batch, values };
  }

  output(pass: ForwardPass): Float64Array {
    return pass.values[pass.values.length - 1]!;
  }

  /**
   * Gradients of a loss with respect to every parameter (same order as parameters()) and to the
   * input, given d loss / d output.
   */
  backward(pass: ForwardPass, dOutput: Float64Array): { grads: Float64Array[]; dInput: Float64Array } {
    const grads: Float64Array[] = [];
    let d = Float64Array.from(dOutput);
    for (let li = this.layers.length - 1; li >= 0; li--) {
      const l = this.layers[li]!;
      const [x, y] = [pass.values[li]!, pass.values[li + 1]!];
      for (let n = 0; n < d.length; n++) d[n]! *= slope(l.activation, y[n]!);
      const dw = new Float64Array(l.inputs * l.outputs);
      const db = new Float64Array(l.outputs);
      const dx = new Float64Array(pass.batch * l.inputs);
      for (let i = 0; i < pass.batch; i++) {
        const row = i * l.outputs;
        for (let j = 0; j < l.outputs; j++) db[j]! += d[row + j]!;
        for (let k = 0; k < l.inputs; k++) {
          const xv = x[i * l.inputs + k]!;
          const wr = k * l.outputs;
          let acc = 0;
          for (let j = 0; j < l.outputs; j++) {
            const dv = d[row + j]!;
            dw[wr + j]! += xv * dv;
            acc += dv * l.w[wr + j]!;
          }
          dx[i * l.inputs + k] = acc;
        }
      }
      grads.unshift(dw, db);
      d = dx;
    }
    return { grads, dInput: d };
  }

  /** Plain data, with weights rounded to float32 precision (what ships in JSON). */
  toJSON(): { layers: { inputs: number; outputs: number; activation: Activation; w: number[]; b: number[] }[] } {
    const round = (a: Float64Array) => Array.from(a, (v) => Number(Math.fround(v).toPrecision(7)));
    return {
      layers: this.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, activation: l.activation, w: round(l.w), b: round(l.b) })),
    };
  }

  static fromJSON(data: ReturnType<Mlp['toJSON']>): Mlp {
    return new Mlp(
      data.layers.map((l) => {
        if (l.w.length !== l.inputs * l.outputs || l.b.length !== l.outputs)
          throw new Error('MLP weights do not match their declared shape');
        return { ...l, w: Float64Array.from(l.w), b: Float64Array.from(l.b) };
      }),
    );
  }
}
