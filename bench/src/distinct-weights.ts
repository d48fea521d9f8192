// The model corpus ships with zero weights, and its exporter stored every set of identical (zero)
// tensors once, aliased through Identity nodes. ONNX Runtime then sees parallel branches with the
// same weights on the same input as one computation and merges them (common subexpression
// elimination), and a multi-branch model runs in a fraction of its trained twin's time
// (docs/decisions.md has mobileone_s0's numbers). Timed end to end, a corpus model gets
// weights of its own: every aliased tensor its own copy, every float tensor random values, so the
// graph ORT optimises is the graph a trained model gives it.
import onnxProto from 'onnx-proto';
import { seededRng } from '@litepred/nn';

const { onnx } = onnxProto;
const FLOAT = 1;

/**
 * The same model with every weight tensor its own and random (scaled by fan-in; 1-D tensors in [0.5, 1.5], so batch-norm variances stay
 * positive).
 */
export function withDistinctWeights(bytes: Uint8Array, seed = 1): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const rng = seededRng(seed);
  const tensors = (graph.initializer ??= []);
  const initializers = new Map(tensors.map((t) => [t.name!, t]));
  const fill = (t: onnxProto.onnx.ITensorProto) => {
    if (t.dataType !== FLOAT) return;
    const dims = (t.dims ?? []).map(Number);
    const n = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    if (dims.length <= 1) for (let i = 0; i < n; i++) values[i] = 0.5 + rng();
    else {
      const scale = Math.sqrt(3 / Math.max(1, n / dims[0]!));
      for (let i = 0; i < n; i++) values[i] = (2 * rng() - 1) * scale;
    }
    t.rawData = new Uint8Array(values.buffer);
    t.floatData = [];
  };
  const nodes = [];
  for (const node of graph.node ?? []) {
    const source = node.opType === 'Identity' ? initializers.get(node.input![0]!) : undefined;
    if (!source) {
      nodes.push(node);
      continue;
    }
    const copy = onnx.TensorProto.create({ ...source, name: node.output![0]! });
    tensors.push(copy);
  }
  graph.node = nodes;
  for (const t of tensors) fill(t);
  return onnx.ModelProto.encode(model).finish();
}
