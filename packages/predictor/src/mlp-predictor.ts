// LitePred's kernel latency predictor, reproduced: a 16-layer MLP (widths up to 256, ReLU, two
// LeakyReLU(0.3) layers near the end) on the kernel's feature vector, trained with MAPE loss,
// Adam 1e-3, a cosine schedule over the epochs, batches of 32. Features are log1p-standardised
// (fitted on the training set and kept with the weights, so the ONNX export applies them too).
import { featureNames, type KernelConfig } from '@litepred/kernels';
import { Adam, cosineLr, Mlp, seededRng, type Activation } from '@litepred/nn';
import { fitStandardiser, standardise } from './standardise.js';

export const LITEPRED_WIDTHS = [16, 32, 64, 128, 128, 256, 256, 256, 256, 256, 256, 256, 128, 64, 16, 1];
export const LITEPRED_ACTIVATIONS: Activation[] = [...new Array<Activation>(12).fill('relu'), 'leaky-relu', 'leaky-relu', 'relu', 'linear'];

export interface Sample {
  config: KernelConfig;
  latencyMs: number;
}

export interface MlpTraining {
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  /** Start from these weights (transfer) instead of a fresh initialisation. */
  init?: MlpPredictorData;
  onEpoch?(epoch: number, loss: number): void;
}

export interface MlpPredictorData {
  kind: 'litepred-mlp';
  kernelType: string;
  features: string[];
  /** log1p(feature) is standardised with these. */
  mean: number[];
  std: number[];
  net: ReturnType<Mlp['toJSON']>;
}

export class MlpPredictor {
  private constructor(
    readonly data: MlpPredictorData,
    private readonly net: Mlp,
  ) {}

  static fromJSON(data: MlpPredictorData): MlpPredictor {
    if (data.kind !== 'litepred-mlp') throw new Error(`not an MLP predictor (kind ${String(data.kind)})`);
    return new MlpPredictor(data, Mlp.fromJSON(data.net));
  }

  get kernelType(): string {
    return this.data.kernelType;
  }

  /** Standardised inputs for a batch of configs. */
  private inputs(configs: readonly KernelConfig[]): Float64Array {
    const f = this.data.features.length;
    const x = new Float64Array(configs.length * f);
    configs.forEach((c, i) => {
      if (c.type !== this.data.kernelType) throw new Error(`a ${this.data.kernelType} predictor cannot predict a ${c.type} config`);
      x.set(standardise(this.data, c), i * f);
    });
    return x;
  }

  predict(configs: readonly KernelConfig[]): number[] {
    if (configs.length === 0) return [];
    return Array.from(this.net.output(this.net.forward(this.inputs(configs), configs.length)));
  }

  toJSON(): MlpPredictorData {
    return { ...this.data, net: this.net.toJSON() };
  }

  /** Trains a predictor for one kernel type on measured samples. */
  static train(kernelType: string, samples: readonly Sample[], options: MlpTraining = {}): MlpPredictor {
    if (samples.length === 0) throw new Error(`no ${kernelType} samples to train on`);
    const o = { epochs: 350, batch: 32, lr: 1e-3, seed: 1, ...options };
    const features = featureNames(kernelType);
    // Fine-tuning keeps the source's scaling: its weights were learnt on those inputs.
    const { mean, std } = o.init ?? fitStandardiser(samples.map((s) => s.config));
    const r = seededRng(o.seed);
    const net = o.init ? Mlp.fromJSON(o.init.net) : Mlp.create([features.length, ...LITEPRED_WIDTHS], LITEPRED_ACTIVATIONS, r);
    const predictor = new MlpPredictor({ kind: 'litepred-mlp', kernelType, features, mean, std, net: net.toJSON() }, net);
    const x = predictor.inputs(samples.map((s) => s.config));
    const y = samples.map((s) => s.latencyMs);
    if (y.some((v) => !(v > 0))) throw new Error('latencies must be positive to train with a relative (MAPE) loss');
    const adam = new Adam(net.parameters(), { lr: o.lr });
    const f = features.length;
    const order = samples.map((_, i) => i);
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const lr = cosineLr(o.lr, epoch, o.epochs);
      let loss = 0;
      for (let start = 0; start < order.length; start += o.batch) {
        const idx = order.slice(start, start + o.batch);
        const xb = new Float64Array(idx.length * f);
        idx.forEach((k, i) => xb.set(x.subarray(k * f, (k + 1) * f), i * f));
        const pass = net.forward(xb, idx.length);
        const out = net.output(pass);
        const d = new Float64Array(idx.length);
        idx.forEach((k, i) => {
          const e = (out[i]! - y[k]!) / y[k]!;
          loss += Math.abs(e);
          d[i] = Math.sign(e) / y[k]! / idx.length;
        });
        adam.step(net.backward(pass, d).grads, lr);
      }
      o.onEpoch?.(epoch, loss / order.length);
    }
    return MlpPredictor.fromJSON({ ...predictor.data, net: net.toJSON() });
  }
}
