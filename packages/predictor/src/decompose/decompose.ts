// An ONNX model split into the kernel library's kernels, following the fusion rules runtimes
// apply (conv+bn+activation, SE blocks, residual add+relu, layer norm and GELU written out,
// attention blocks). Reshapes and friends are glue; anything else is reported, never dropped.
import { compactConfig, kernelCost, KernelConfigError, resolveConfig, type KernelConfig } from '@litepred/kernels';
import { loadGraph, ModelError, type OnnxNode } from './graph.js';
import { GraphIndex } from './match.js';
import { fusedPlainKernel, nchwcReorders, type Reorder } from './layout.js';
import type { Match } from './fields.js';
import { conv, globalPool, pool } from './patterns-conv.js';
import { batchNorm, binary, channelShuffle, concat, split, transpose, unary } from './patterns-elementwise.js';
import { gemm, layerNormNode, layerNormWrittenOut, matMul, reduction, softmax } from './patterns-transformer.js';
import { BN_FOLD_RULE, ruleFor, type FusionRules } from '../fusion.js';

export interface ModelKernel {
  config: KernelConfig;
  /** The ONNX nodes it covers. */
  nodes: string[];
}

export interface Coverage {
  /** Nodes that only move data (Reshape, Transpose, Flatten, ...): no kernel, no latency term. */
  glue: Record<string, number>;
  /** Nodes computed from constants only: the runtime folds them when it loads the model. */
  folded: number;
  /** Compute nodes no kernel type covers, by op type, with their FLOPs and (some of) the nodes and why. */
  unsupported: { op: string; count: number; flops: number; reasons: string[] }[];
  /** Share of the model's FLOPs that its kernels cover. */
  flopsShare: number;
  /** Share of the model's compute nodes (glue and folded nodes left out) that its kernels cover. */
  nodeShare: number;
  /** Ops whose output shapes were not inferred here but taken from the model or guessed. */
  guessedShapes: string[];
}

export interface Decomposition {
  kernels: ModelKernel[];
  /**
   * The layout reorders ONNX Runtime's NCHWc transformer puts between them (layout.ts): a device
   * that runs NCHWc pays for each by its bytes (reorder-cost.ts), others nothing.
   */
  reorders: Reorder[];
  /**
   * Glue nodes that copy their output (COPYING_GLUE): ONNX Runtime runs each as a node that moves
   * the tensor's bytes, priced like a reorder (a copy) on the devices whose measurements show one.
   */
  copies: { op: string; bytes: number }[];
  coverage: Coverage;
  /** Whether it was made for a runtime that folds batch norm into convs (then conv-relu and conv-bn-relu are one kernel). */
  foldsBatchNorm: boolean;
}

/** Nodes that only move data or compute shapes: no kernel, no latency term. */
const GLUE = new Set([
  'Reshape',
  'Transpose',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Slice',
  'Identity',
  'Dropout',
  'Concat',
  'Cast',
  'Shape',
  'Gather',
  'Constant',
  'Split',
  'Expand',
  'Pad',
  'ConstantOfShape',
  'Range',
  'Tile',
]);

/**
 * Glue ops ONNX Runtime runs as a copy of their output (a Reshape too, unless its input buffer can be reused); the rest pass a buffer on or
 * work on shapes.
 */
const COPYING_GLUE = new Set([
  'Reshape',
  'Transpose',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Slice',
  'Concat',
  'Split',
  'Expand',
  'Pad',
  'Tile',
  'Gather',
]);

/**
 * `fusionRules` (from fusion detection on a device, and the device's runtime: `runtimeFusionRules`)
 * keeps an activation apart from the kernel before it where the device does not fuse the pair, and
 * says whether it folds batch norm into a conv (then a conv with and without one are one kernel).
 */
export function decomposeModel(
  bytes: Uint8Array,
  options: { inputShape?: readonly number[]; fusionRules?: FusionRules } = {},
): Decomposition {
  const rules = options.fusionRules;
  const ix = new GraphIndex(
    loadGraph(bytes, options.inputShape),
    (first, act) => rules?.[ruleFor(first, act)] !== false,
    rules?.[BN_FOLD_RULE] !== false,
  );
  const kernels: ModelKernel[] = [];
  const glue: Record<string, number> = {};
  const copies: { op: string; bytes: number }[] = [];
  const unsupported = new Map<string, { op: string; count: number; flops: number; reasons: Set<string> }>();
  let coveredFlops = 0;
  let [kernelNodes, uncoveredNodes] = [0, 0];
  for (const node of ix.graph.nodes) {
    if (ix.claimed.has(node) || ix.graph.folded.has(node)) continue;
    let m: Match;
    try {
      m = matchAt(ix, node);
    } catch (e) {
      // A graph malformed in a way no matcher expects: say where, as a model error (a 4xx), not a crash.
      throw new ModelError(`node '${node.name}' (${node.op}): ${(e as Error).message}`);
    }
    if (m && 'config' in m) {
      try {
        const config = compactConfig(resolveConfig(m.config));
        m.nodes.forEach((n) => ix.claimed.add(n));
        kernels.push({ config, nodes: m.nodes.map((n) => n.name) });
        coveredFlops += kernelCost(config).flops;
        kernelNodes += m.nodes.length;
        continue;
      } catch (e) {
        if (!(e instanceof KernelConfigError)) throw e;
        m = { reason: `${m.config.type} ${e.message}` };
      }
    }
    if (GLUE.has(node.op)) {
      glue[node.op] = (glue[node.op] ?? 0) + 1;
      if (COPYING_GLUE.has(node.op)) {
        const bytes = node.outputs.reduce((s, t) => s + 4 * ix.shape(t).reduce((a, b) => a * b, 1), 0);
        if (bytes > 0 && !(node.op === 'Gather' && bytes <= 64)) copies.push({ op: node.op, bytes });
      }
      continue;
    }
    const u = unsupported.get(node.op) ?? { op: node.op, count: 0, flops: 0, reasons: new Set<string>() };
    u.count++;
    uncoveredNodes++;
    u.flops += roughFlops(ix, node);
    if (m && 'reason' in m) u.reasons.add(`${node.name}: ${m.reason}`);
    unsupported.set(node.op, u);
  }
  const missing = [...unsupported.values()].reduce((s, u) => s + u.flops, 0);
  const plain = new Set(kernels.filter((k) => fusedPlainKernel(k.config.type)).flatMap((k) => k.nodes));
  return {
    kernels,
    foldsBatchNorm: ix.foldsBatchNorm,
    reorders: nchwcReorders(ix.graph, plain),
    copies,
    coverage: {
      glue,
      folded: ix.graph.folded.size,
      flopsShare: coveredFlops + missing > 0 ? coveredFlops / (coveredFlops + missing) : 1,
      nodeShare: kernelNodes + uncoveredNodes > 0 ? kernelNodes / (kernelNodes + uncoveredNodes) : 1,
      unsupported: [...unsupported.values()].map((u) => ({
        op: u.op,
        count: u.count,
        flops: u.flops,
        reasons: [...u.reasons].slice(0, MAX_REASONS),
      })),
      guessedShapes: [...new Set(ix.graph.guessedShapes)],
    },
  };
}

/** Reasons kept per uncovered op type: enough to name the nodes, not a copy of a huge model. */
const MAX_REASONS = 5;

/** FLOPs of a node no kernel covers: exact for Conv/MatMul/Gemm, one per output element otherwise. */
function roughFlops(ix: GraphIndex, n: OnnxNode): number {
  const elems = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const out = elems(ix.shape(n.outputs[0] ?? ''));
  if (n.op === 'Conv') return 2 * out * elems(ix.shape(n.inputs[1]!).slice(1));
  if (n.op === 'MatMul' || n.op === 'Gemm') return 2 * out * (ix.shape(n.inputs[0]!).at(-1) ?? 1);
  return out;
}

function matchAt(ix: GraphIndex, n: OnnxNode): Match {
  switch (n.op) {
    case 'Conv':
      return conv(ix, n);
    case 'GlobalAveragePool':
      return globalPool(ix, n);
    case 'ReduceMean':
      return globalPool(ix, n) ?? layerNormWrittenOut(ix, n) ?? reduction(ix, n);
    case 'ReduceL2':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'ReduceMin':
      return reduction(ix, n);
    case 'MaxPool':
    case 'AveragePool':
      return pool(ix, n);
    case 'BatchNormalization':
      return batchNorm(ix, n);
    case 'Add':
    case 'Mul':
    case 'Sub':
    case 'Div':
    case 'Max':
    case 'Min':
      return unary(ix, n) ?? binary(ix, n);
    case 'Gemm':
      return gemm(ix, n);
    case 'MatMul':
      return matMul(ix, n);
    case 'Concat':
      return concat(ix, n);
    case 'Split':
      return split(ix, n);
    case 'Reshape':
      return channelShuffle(ix, n);
    case 'Transpose':
      return transpose(ix, n);
    case 'Softmax':
      return softmax(ix, n);
    case 'LayerNormalization':
      return layerNormNode(ix, n);
  }
  return unary(ix, n);
}
