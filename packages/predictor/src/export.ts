// A predictor as files any ONNX Runtime can use without this project: <type>.onnx and
// <type>.json (what the model expects and where its numbers come from).
import { exportMlpOnnx, exportRooflineOnnx, onnxInputs, PREDICTOR_INPUT, PREDICTOR_OUTPUT } from './onnx-export.js';
import type { Metrics } from './metrics.js';
import type { MlpPredictorData } from './mlp-predictor.js';
import type { RooflinePredictorData } from './roofline-predictor.js';
import type { GbdtPredictorData } from './gbdt.js';
import { exportGbdtOnnx } from './gbdt-onnx.js';
import { featureNames } from '@litepred/kernels';

export const PREDICTOR_FORMAT_VERSION = 1;

export interface PredictorMetadata {
  formatVersion: typeof PREDICTOR_FORMAT_VERSION;
  kernelType: string;
  kind: MlpPredictorData['kind'] | RooflinePredictorData['kind'] | GbdtPredictorData['kind'] | 'recalibrated';
  /** ONNX input `features` [batch, inputs.length] in this column order; FLOPS and PARAMS in millions. */
  input: { name: string; columns: string[] };
  output: { name: string; unit: 'ms' };
  /** The device (and runtime configuration) the predictor is for. */
  device: { id: string; fingerprint: unknown };
  trainingSamples: number;
  metrics?: Metrics;
  createdAt: string;
  /** Increases each time the device's predictor for this kernel type is rebuilt. */
  version?: number;
  /** A transferred predictor: ms = exp(a) · source_ms^b on top of this pool device's predictor. */
  transfer?: { sourceDevice: string; sourceKind: string; a: number; b: number };
}

export function exportPredictor(
  p: MlpPredictorData | RooflinePredictorData | GbdtPredictorData,
  about: { device: { id: string; fingerprint: unknown }; trainingSamples: number; metrics?: Metrics; createdAt?: string; version?: number },
): { onnx: Uint8Array; metadata: PredictorMetadata } {
  const features = featureNames(p.kernelType);
  return {
    onnx: p.kind === 'roofline' ? exportRooflineOnnx(p, features) : p.kind === 'gbdt' ? exportGbdtOnnx(p) : exportMlpOnnx(p),
    metadata: {
      formatVersion: PREDICTOR_FORMAT_VERSION,
      kernelType: p.kernelType,
      kind: p.kind,
      input: { name: PREDICTOR_INPUT, columns: onnxInputs(p, features) },
      output: { name: PREDICTOR_OUTPUT, unit: 'ms' },
      device: about.device,
      trainingSamples: about.trainingSamples,
      ...(about.metrics ? { metrics: about.metrics } : {}),
      createdAt: about.createdAt ?? new Date().toISOString(),
      ...(about.version !== undefined ? { version: about.version } : {}),
    },
  };
}
