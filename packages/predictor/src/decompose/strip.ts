// A model without its weights' values: what decomposition reads of a model is its graph, every
// tensor's dims and the values of small constants (shapes, axes, scales), so a client can send
// that and leave the megabytes of weights at home. `litepred predict` does; the coordinator takes
// either form.
import onnxProto from 'onnx-proto';
import { MAX_TRACKED_ELEMENTS } from './fold.js';

const { onnx } = onnxProto;

const elements = (t: onnxProto.onnx.ITensorProto) => (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);

/**
 * The model with the values of every initializer (and Constant node tensor) of more than
 * MAX_TRACKED_ELEMENTS elements dropped; dims and data types stay. Decomposes exactly as the
 * whole model does (tested on the corpus). Bytes that are not a model come back as they are, for
 * the coordinator to refuse with its own message.
 */
export function stripWeights(bytes: Uint8Array): Uint8Array {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    return bytes;
  }
  const strip = (t: onnxProto.onnx.ITensorProto | null | undefined) => {
    if (!t || elements(t) <= MAX_TRACKED_ELEMENTS) return;
    t.rawData = new Uint8Array();
    for (const field of ['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data', 'stringData'] as const) t[field] = [];
  };
  for (const t of model.graph?.initializer ?? []) strip(t);
  for (const n of model.graph?.node ?? []) for (const a of n.attribute ?? []) strip(a.t);
  return onnx.ModelProto.encode(model).finish();
}
