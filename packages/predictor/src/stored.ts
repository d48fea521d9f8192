// Every predictor as plain JSON (what the coordinator stores) and back, and as ONNX + metadata.
// A transferred predictor is its source's data plus the calibration onto the new device.
import { featureNames } from '@litepred/kernels';
import { exportPredictor, type PredictorMetadata } from './export.js';
import type { Metrics } from './metrics.js';
import { MlpPredictor, type MlpPredictorData } from './mlp-predictor.js';
import type { KernelLatencyPredictor } from './kernel-latency-predictor.js';
import { exportMlpOnnx, exportRooflineOnnx, onnxInputs, PREDICTOR_INPUT, PREDICTOR_OUTPUT, type Calibration } from './onnx-export.js';
import { RooflinePredictor, type RooflinePredictorData } from './roofline-predictor.js';
import { RecalibratedPredictor } from './transfer.js';
import { GbdtPredictor, type GbdtPredictorData } from './gbdt.js';
import { exportGbdtOnnx } from './gbdt-onnx.js';

export type BasePredictorData = MlpPredictorData | RooflinePredictorData | GbdtPredictorData;

export interface RecalibratedPredictorData extends Calibration {
  kind: 'recalibrated';
  kernelType: string;
  /** The pool device the source predictor was trained for. */
  sourceDevice: string;
  source: BasePredictorData;
}

export type PredictorData = BasePredictorData | RecalibratedPredictorData;

function base(data: BasePredictorData): KernelLatencyPredictor {
  if (data.kind === 'roofline') return RooflinePredictor.fromJSON(data);
  if (data.kind === 'litepred-mlp') return MlpPredictor.fromJSON(data);
  if (data.kind === 'gbdt') return GbdtPredictor.fromJSON(data);
  throw new Error(`unknown predictor kind ${String((data as { kind: unknown }).kind)}`);
}

/** A predictor from its stored JSON. */
export function predictorFromData(data: PredictorData): KernelLatencyPredictor {
  if (data.kind === 'recalibrated') return new RecalibratedPredictor(base(data.source), data.a, data.b);
  return base(data);
}

/** Whether stored predictor data was trained on another feature vector than its kernel type has now (StalePredictorError). */
export function isStalePredictor(data: PredictorData): boolean {
  const b = data.kind === 'recalibrated' ? data.source : data;
  const trained = b.kind === 'roofline' ? b.residual.mean.length : b.kind === 'gbdt' ? b.features.length : b.mean.length;
  return trained !== featureNames(b.kernelType).length;
}

/** The stored JSON of a transferred predictor. */
export function recalibratedData(source: BasePredictorData, sourceDevice: string, calibration: Calibration): RecalibratedPredictorData {
  return { kind: 'recalibrated', kernelType: source.kernelType, sourceDevice, source, a: calibration.a, b: calibration.b };
}

/** Any stored predictor as ONNX + metadata (see export.ts); a transferred one names its source device. */
export function exportStoredPredictor(
  data: PredictorData,
  about: { device: { id: string; fingerprint: unknown }; trainingSamples: number; metrics?: Metrics; createdAt?: string; version?: number },
): { onnx: Uint8Array; metadata: PredictorMetadata } {
  if (data.kind !== 'recalibrated') return exportPredictor(data, about);
  const features = featureNames(data.kernelType);
  const source = data.source;
  const exported = exportPredictor(source, about);
  return {
    onnx:
      source.kind === 'roofline'
        ? exportRooflineOnnx(source, features, data)
        : source.kind === 'gbdt'
          ? exportGbdtOnnx(source, data)
          : exportMlpOnnx(source, data),
    metadata: {
      ...exported.metadata,
      kind: 'recalibrated',
      input: { name: PREDICTOR_INPUT, columns: onnxInputs(source, features) },
      output: { name: PREDICTOR_OUTPUT, unit: 'ms' },
      transfer: { sourceDevice: data.sourceDevice, sourceKind: source.kind, a: data.a, b: data.b },
    },
  };
}
