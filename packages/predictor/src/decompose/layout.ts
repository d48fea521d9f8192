// Where ONNX Runtime reorders tensors between layouts. On x86 at graph optimization level `all`
// its NCHWc transformer runs convolutions (and what follows them: activations, batch norm,
// same-shape adds, aligned concats, pools) in a blocked channel layout, and inserts a
// ReorderInput where such a chain starts from a plain NCHW tensor and a ReorderOutput where a plain
// op (a split, a reshape, a broadcast multiply, a matmul, ...) reads a blocked one. A standalone
// kernel's measurement leaves its own boundary reorders out (profiler: boundary.reorderInMs/OutMs),
// so a network's reorders are predicted here from its graph and costed per device by their bytes.
import type { Graph, OnnxNode } from './graph-types.js';

export interface Reorder {
  tensor: string;
  /** The tensor's size: what a reorder copies. */
  bytes: number;
  /** 'in': NCHW to NCHWc (ReorderInput); 'out': NCHWc to NCHW (ReorderOutput). */
  kind: 'in' | 'out';
}

/** Activations the transformer keeps in the blocked layout (fused into the conv, or run on its blocks). */
const BLOCKED_ACTIVATIONS = new Set(['Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'HardSigmoid', 'Clip', 'HardSwish']);
const BLOCKED_POOLS = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool']);
/** Nodes that pass a tensor on as it is. */
const PASS_THROUGH = new Set(['Identity', 'Dropout']);

/**
 * Kernel types ONNX Runtime fuses into one op of its own that runs NCHW (GELU, layer norm written
 * out, mish), whatever the ops they are written with: their nodes count as plain. (x·sigmoid(x) is
 * not among them: checked against ORT's graphs, efficientnet's swish stays blocked.)
 */
const FUSED_PLAIN_KERNELS = new Set(['gelu', 'layernorm', 'mish']);

/** Whether ONNX Runtime runs a kernel type as one NCHW op of its own (see FUSED_PLAIN_KERNELS). */
export const fusedPlainKernel = (type: string) => FUSED_PLAIN_KERNELS.has(type);

/**
 * The reorders ONNX Runtime's NCHWc transformer would put in this graph (channel block `block`:
 * 16 with AVX-512, this machine's, 8 with AVX2; a device's block is not known here, and only
 * grouped convs and concats depend on it).
 * `plain`: nodes of kernels that run NCHW whatever their ops (fusedPlainKernel).
 */
export function nchwcReorders(graph: Graph, plain: ReadonlySet<string> = new Set(), block = 16): Reorder[] {
  const shape = (t: string) => graph.shapes.get(t) ?? [];
  const bytes = (t: string) => 4 * shape(t).reduce((a, b) => a * b, 1);
  const blocked = new Set<string>();
  const outDone = new Set<string>();
  const inDone = new Set<string>();
  const reorders: Reorder[] = [];
  const toPlain = (t: string) => {
    if (!blocked.has(t) || outDone.has(t)) return;
    outDone.add(t);
    reorders.push({ tensor: t, bytes: bytes(t), kind: 'out' });
  };
  const toBlocked = (t: string) => {
    if (blocked.has(t) || inDone.has(t)) return;
    inDone.add(t);
    reorders.push({ tensor: t, bytes: bytes(t), kind: 'in' });
  };
  const data = (n: OnnxNode) => n.inputs.filter((t) => t !== '' && !graph.constantTensors.has(t));
  for (const n of graph.nodes) {
    if (graph.folded.has(n)) continue;
    const inputs = data(n);
    const out = n.outputs[0] ?? '';
    if (!plain.has(n.name) && placeBlocked(n, inputs)) {
      blocked.add(out);
      continue;
    }
    for (const t of inputs) toPlain(t);
  }
  if (blocked.has(graph.output)) toPlain(graph.output);
  return reorders;

  /** Whether n runs blocked; asks for the reorders its inputs need if so. */
  function placeBlocked(n: OnnxNode, inputs: string[]): boolean {
    const out = n.outputs[0] ?? '';
    if (n.op === 'Conv') {
      const w = graph.constants.get(n.inputs[1] ?? '')?.dims ?? shape(n.inputs[1] ?? '');
      const x = inputs[0];
      if (!w || w.length !== 4 || !x || shape(x).length !== 4) return false;
      const group = Number(n.attrs.group ?? 1);
      const channels = shape(x)[1]!;
      const depthwise = group > 1 && group === channels && w[0] === channels;
      // A grouped conv runs blocked where each group's channels fill whole blocks.
      const grouped = group > 1 && !depthwise;
      if (grouped && ((channels / group) % block !== 0 || (w[0]! / group) % block !== 0)) return false;
      if (group === 1 && channels < 8)
        toPlain(x); // a thin input (an image) is read as NCHW
      else toBlocked(x);
      return true;
    }
    if (inputs.length === 0) return false;
    const allBlocked = inputs.every((t) => blocked.has(t));
    if (PASS_THROUGH.has(n.op) || BLOCKED_ACTIVATIONS.has(n.op) || n.op === 'BatchNormalization') return inputs.length === 1 && allBlocked;
    if (BLOCKED_POOLS.has(n.op)) return allBlocked && shape(out).length === 4;
    // A constant per-channel add or scale after a blocked op is folded into it (conv bias, batch norm).
    if ((n.op === 'Add' || n.op === 'Mul' || n.op === 'Sub' || n.op === 'Div') && inputs.length === 1 && n.inputs.length === 2)
      return allBlocked;
    if (n.op === 'Add' || n.op === 'Sum' || n.op === 'Mul') {
      const same = inputs.length >= 2 && inputs.every((t) => shape(t).join() === shape(out).join());
      return same && allBlocked;
    }
    if (n.op === 'Concat') {
      const axis = Number(n.attrs.axis ?? 1);
      return allBlocked && (axis === 1 || axis === -3) && inputs.every((t) => shape(t).length === 4 && shape(t)[1]! % block === 0);
    }
    return false;
  }
}
