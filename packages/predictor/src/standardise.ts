// The input scaling both predictors use: log1p of the kernel's feature vector, standardised with
// statistics of the training set (kept with the predictor, and applied by its ONNX export too).
import { featureNames, featureVector, type KernelConfig } from '@litepred/kernels';

/**
 * A stored predictor trained on a feature vector the kernel library no longer gives (a field was
 * added to its kernel type): it cannot predict until it is rebuilt from its measurements.
 */
export class StalePredictorError extends Error {
  constructor(
    readonly kernelType: string,
    trained: number,
  ) {
    super(
      `the ${kernelType} predictor was trained on ${trained} features; the kernel library now ` +
        `gives ${featureNames(kernelType).length} (${featureNames(kernelType).join(', ')}): rebuild it (a campaign's ` +
        `full-data build, or adapt the device again)`,
    );
    this.name = 'StalePredictorError';
  }
}

export interface Standardiser {
  mean: number[];
  std: number[];
}

const logFeatures = (c: KernelConfig) => featureVector(c).map((v) => Math.log1p(v));

/**
 * A feature that does not vary in the training set is divided by 1, not by its float-rounding
 * spread of ~1e-17, which would blow tiny float32/float64 differences up into huge inputs.
 */
const spread = (std: number) => (std > 1e-6 ? std : 1);

export function fitStandardiser(configs: readonly KernelConfig[]): Standardiser {
  const rows = configs.map(logFeatures);
  const dims = rows[0]!.length;
  const mean = Array.from({ length: dims }, (_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
  const std = Array.from({ length: dims }, (_, j) =>
    spread(Math.sqrt(rows.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / rows.length)),
  );
  return { mean, std };
}

export function standardise(s: Standardiser, c: KernelConfig): number[] {
  const features = logFeatures(c);
  if (features.length !== s.mean.length) throw new StalePredictorError(c.type, s.mean.length);
  return features.map((v, j) => (v - s.mean[j]!) / s.std[j]!);
}
