// Vision-transformer kernels on token activations [1, L, C]: the linear layer (MatMul + bias),
// layer norm, softmax, GELU, the residual add, and a whole multi-head self-attention block.
import { attr, type GraphBuilder } from '../graph.js';
import type { KernelSpec, ResolvedConfig } from '../config.js';
import { emitBatchNorm, requireDivisible } from './common.js';

const tokens = (c: ResolvedConfig, width = c.CIN) => [1, c.L, width];
const tokenElements = (c: ResolvedConfig) => c.L * c.CIN;

/** x[1, L, cin] @ W[cin, cout] + b: how ViT linear layers appear in exported ONNX. */
export function emitLinear(g: GraphBuilder, x: string, cin: number, cout: number): string {
  return g.op('Add', [g.op('MatMul', [x, g.weight('lin_w', [cin, cout])]), g.weight('lin_b', [cout])]);
}

function tokenUnary(
  type: string,
  summary: string,
  flopsPerElement: number,
  params: (c: ResolvedConfig) => number,
  emit: KernelSpec['emit'],
): KernelSpec {
  return {
    type,
    family: 'transformer',
    summary,
    required: ['L', 'CIN'],
    inputShapes: (c) => [tokens(c)],
    outputShapes: (c) => [tokens(c)],
    params,
    flops: (c) => flopsPerElement * tokenElements(c),
    emit,
  };
}

const matmul: KernelSpec = {
  type: 'matmul',
  family: 'transformer',
  summary: 'token linear layer: MatMul by a [CIN, COUT] weight + bias',
  required: ['L', 'CIN', 'COUT'],
  inputShapes: (c) => [tokens(c)],
  outputShapes: (c) => [tokens(c, c.COUT)],
  params: (c) => c.COUT * (c.CIN + 1),
  flops: (c) => 2 * c.L * c.COUT * (c.CIN + 1),
  emit: (g, [x], c) => [emitLinear(g, x!, c.CIN, c.COUT)],
};

const mhsa: KernelSpec = {
  type: 'mhsa',
  family: 'transformer',
  summary: 'multi-head self-attention: qkv projection, softmax(q k^T / sqrt(d)) v, output projection',
  required: ['L', 'CIN', 'HEADS'],
  inputShapes: (c) => [tokens(c)],
  outputShapes: (c) => [tokens(c)],
  params: (c) => 4 * c.CIN * c.CIN + 4 * c.CIN,
  flops: (c) => 2 * c.L * 3 * c.CIN * (c.CIN + 1) + 2 * 2 * c.L * c.L * c.CIN + 2 * c.L * c.CIN * (c.CIN + 1),
  check: (c) => requireDivisible('CIN', c.CIN, c.HEADS, 'HEADS'),
  emit(g, [x], c) {
    const d = c.CIN / c.HEADS;
    const qkv = emitLinear(g, x!, c.CIN, 3 * c.CIN);
    const split = g.op('Transpose', [g.op('Reshape', [qkv, g.int64s('shape', [1, c.L, 3, c.HEADS, d])])], {
      perm: attr.ints([2, 0, 3, 1, 4]),
    }); // [3, 1, H, L, d]
    const [q, k, v] = g
      .node('Split', [split], { axis: attr.int(0), num_outputs: attr.int(3) }, 3)
      .map((t) => g.op('Squeeze', [t, g.int64s('axis', [0])]));
    const kT = g.op('Transpose', [k!], { perm: attr.ints([0, 1, 3, 2]) });
    const scores = g.op('Mul', [g.op('MatMul', [q!, kT]), g.scalar('scale', 1 / Math.sqrt(d))]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: attr.int(-1) }), v!]); // [1, H, L, d]
    const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: attr.ints([0, 2, 1, 3]) }), g.int64s('shape', [1, c.L, c.CIN])]);
    return [emitLinear(g, merged, c.CIN, c.CIN)];
  },
};

/**
 * A batched product of two activations, [1, HEADS, L, CIN] @ [1, HEADS, CIN, COUT]: attention's
 * q k^T and scores v where an exporter writes them out (SDPA, LeViT, MobileViT) rather than as
 * the whole block `mhsa` matches.
 */
const bmm: KernelSpec = {
  type: 'bmm',
  family: 'transformer',
  summary: 'batched MatMul of two activations: HEADS products of [L, CIN] by [CIN, COUT]',
  required: ['HEADS', 'L', 'CIN', 'COUT'],
  inputShapes: (c) => [
    [1, c.HEADS, c.L, c.CIN],
    [1, c.HEADS, c.CIN, c.COUT],
  ],
  outputShapes: (c) => [[1, c.HEADS, c.L, c.COUT]],
  params: () => 0,
  flops: (c) => 2 * c.HEADS * c.L * c.CIN * c.COUT,
  emit: (g, [a, b]) => [g.op('MatMul', [a!, b!])],
};

/**
 * A reduction of each token over its CIN values, [1, L, CIN] -> [1, L, 1] (ReduceMean): what a
 * normalisation's mean or norm costs. Reductions over other axes, and ReduceL2/Sum/Max, read as
 * many values per output and map onto it.
 */
const reduce: KernelSpec = {
  type: 'reduce',
  family: 'transformer',
  summary: 'reduction over the last axis: ReduceMean of [1, L, CIN] to [1, L, 1]',
  required: ['L', 'CIN'],
  inputShapes: (c) => [tokens(c)],
  outputShapes: (c) => [tokens(c, 1)],
  params: () => 0,
  flops: (c) => tokenElements(c),
  emit: (g, [x]) => [g.op('ReduceMean', [x!, g.int64s('axes', [-1])], { keepdims: attr.int(1) })],
};

/** The residual add of a transformer block, on [1, L, CIN] tokens. */
const tokenAdd: KernelSpec = {
  type: 'token-add',
  family: 'transformer',
  summary: 'residual add of two token tensors',
  required: ['L', 'CIN'],
  inputShapes: (c) => [tokens(c), tokens(c)],
  outputShapes: (c) => [tokens(c)],
  params: () => 0,
  flops: (c) => tokenElements(c),
  emit: (g, [a, b]) => [g.op('Add', [a!, b!])],
};

export const transformerSpecs: KernelSpec[] = [
  matmul,
  bmm,
  reduce,
  tokenAdd,
  tokenUnary(
    'layernorm',
    'layer norm over the embedding axis',
    8,
    (c) => 2 * c.CIN,
    (g, [x], c) => [
      g.op('LayerNormalization', [x!, g.weight('ln_scale', [c.CIN], 'positive'), g.weight('ln_bias', [c.CIN])], { axis: attr.int(-1) }),
    ],
  ),
  tokenUnary(
    'softmax',
    'softmax over the last axis (attention scores as [1, H*L, L])',
    5,
    () => 0,
    (g, [x]) => [g.op('Softmax', [x!], { axis: attr.int(-1) })],
  ),
  tokenUnary(
    'gelu',
    'GELU (erf form)',
    8,
    () => 0,
    (g, [x]) => [g.op('Gelu', [x!])],
  ),
  mhsa,
  // Batch norm of tokens as [L, C] (LeViT: BatchNorm1d on flattened tokens): ONNX's channel axis is
  // then the last one and there is no spatial plane, which ONNX Runtime runs per element, far
  // slower than a batch norm of the same size on an image (docs/decisions.md).
  {
    type: 'bn-tokens',
    family: 'transformer',
    summary: 'batch norm of tokens as [L, C] (a rank-2 BatchNormalization)',
    required: ['L', 'CIN'],
    inputShapes: (c) => [[c.L, c.CIN]],
    outputShapes: (c) => [[c.L, c.CIN]],
    params: (c) => 4 * c.CIN,
    flops: (c) => 2 * c.L * c.CIN,
    emit: (g, [x], c) => [emitBatchNorm(g, x!, c.CIN)],
  },
];
