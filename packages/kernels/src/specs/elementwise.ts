// Element-wise and data-movement kernels on NCHW activations, and the squeeze-and-excitation block.
import { attr } from '../graph.js';
import { KernelConfigError, type KernelSpec, type ResolvedConfig } from '../config.js';
import {
  ACTIVATION_FLOPS,
  ACTIVATIONS,
  emitActivation,
  emitBatchNorm,
  emitConv,
  nchw,
  requireDivisible,
  seMidChannels,
  WIDTH,
  type Activation,
} from './common.js';

const elements = (c: ResolvedConfig) => c.CIN * c.HW * c.W;

/** One-input element-wise kernel of HW, CIN (and W); `flopsPerElement` as nn-Meter counts them. */
function unary(
  type: string,
  summary: string,
  flopsPerElement: number,
  paramsOf: (c: ResolvedConfig) => number,
  emit: KernelSpec['emit'],
): KernelSpec {
  return {
    type,
    family: 'elementwise',
    summary,
    required: ['HW', 'CIN'],
    optional: WIDTH,
    inputShapes: (c) => [nchw(c)],
    outputShapes: (c) => [nchw(c)],
    params: paramsOf,
    flops: (c) => flopsPerElement * elements(c),
    emit,
  };
}

const activation =
  (act: Activation): KernelSpec['emit'] =>
  (g, [x], c) => [emitActivation(g, x!, act, c.CIN)];

/**
 * How the second input of a binary kernel broadcasts: 0 the same shape as the first, 1 one value
 * per channel ([1, C, 1, 1]: an SE gate, a layer scale), 2 one value for the whole tensor.
 */
export const BROADCASTS = ['same shape', 'per channel', 'scalar'] as const;
const secondShape = (c: ResolvedConfig): number[] => (c.BCAST === 0 ? nchw(c) : c.BCAST === 1 ? [1, c.CIN, 1, 1] : [1, 1, 1, 1]);

const BINARY_OPS = { add: 'Add', mul: 'Mul', sub: 'Sub', div: 'Div', max: 'Max', min: 'Min' } as const;
export type BinaryOp = keyof typeof BINARY_OPS;
export const BINARY_TYPES = Object.keys(BINARY_OPS) as BinaryOp[];

function binary(op: BinaryOp, relu = false): KernelSpec {
  return {
    type: relu ? `${op}-relu` : op,
    family: 'elementwise',
    summary: `element-wise ${op}${relu ? ' + relu' : ''} (BCAST: ${BROADCASTS.map((b, i) => `${i} ${b}`).join(', ')})`,
    required: ['HW', 'CIN'],
    optional: { ...WIDTH, BCAST: 0 },
    inputShapes: (c) => [nchw(c), secondShape(c)],
    outputShapes: (c) => [nchw(c)],
    params: () => 0,
    flops: (c) => (relu ? 2 : 1) * elements(c),
    check(c) {
      if (c.BCAST > 2)
        throw new KernelConfigError('BCAST', `must be 0 (${BROADCASTS[0]}), 1 (${BROADCASTS[1]}) or 2 (${BROADCASTS[2]}); got ${c.BCAST}`);
    },
    emit(g, [a, b]) {
      const y = g.op(BINARY_OPS[op], [a!, b!]);
      return [relu ? g.op('Relu', [y]) : y];
    },
  };
}

const concat: KernelSpec = {
  type: 'concat',
  family: 'elementwise',
  summary: 'channel concat of 2 to 4 inputs (CIN1..CIN4)',
  required: ['HW', 'CIN1', 'CIN2'],
  optional: { CIN3: 0, CIN4: 0, ...WIDTH },
  inputShapes: (c) => [c.CIN1, c.CIN2, c.CIN3, c.CIN4].filter((n) => n > 0).map((n) => nchw(c, n)),
  outputShapes: (c) => [nchw(c, c.CIN1 + c.CIN2 + c.CIN3 + c.CIN4)],
  params: () => 0,
  flops: () => 0,
  check(c) {
    if (c.CIN4 > 0 && c.CIN3 === 0) throw new KernelConfigError('CIN3', 'must be given when CIN4 is');
  },
  emit: (g, inputs) => [g.op('Concat', inputs, { axis: attr.int(1) })],
};

const split: KernelSpec = {
  type: 'split',
  family: 'elementwise',
  summary: 'split channels in two halves (ShuffleNetV2)',
  required: ['HW', 'CIN'],
  optional: WIDTH,
  inputShapes: (c) => [nchw(c)],
  outputShapes: (c) => [nchw(c, c.CIN / 2), nchw(c, c.CIN / 2)],
  params: () => 0,
  flops: () => 0,
  check: (c) => requireDivisible('CIN', c.CIN, 2, 'the 2 halves of the split'),
  emit: (g, [x], c) => g.node('Split', [x!, g.int64s('split', [c.CIN / 2, c.CIN / 2])], { axis: attr.int(1) }, 2),
};

const channelShuffle: KernelSpec = {
  type: 'channelshuffle',
  family: 'elementwise',
  summary: 'channel shuffle: reshape, transpose, reshape',
  required: ['HW', 'CIN'],
  optional: { GROUPS: 2, ...WIDTH },
  inputShapes: (c) => [nchw(c)],
  outputShapes: (c) => [nchw(c)],
  params: () => 0,
  flops: () => 0,
  check: (c) => requireDivisible('CIN', c.CIN, c.GROUPS, 'GROUPS'),
  emit(g, [x], c) {
    const grouped = g.op('Reshape', [x!, g.int64s('shape', [1, c.GROUPS, c.CIN / c.GROUPS, c.HW, c.W])]);
    const swapped = g.op('Transpose', [grouped], { perm: attr.ints([0, 2, 1, 3, 4]) });
    return [g.op('Reshape', [swapped, g.int64s('shape', [1, c.CIN, c.HW, c.W])])];
  },
};

/** The SE block's squeeze width: CMID where the config gives it, else nn-Meter's rule. */
const seMid = (c: ResolvedConfig) => c.CMID || seMidChannels(c.CIN);

const squeezeExcite: KernelSpec = {
  type: 'se',
  family: 'block',
  summary: 'squeeze-and-excitation: pool, 1x1 conv, relu, 1x1 conv, hsigmoid, scale (CMID: the squeeze width)',
  required: ['HW', 'CIN'],
  optional: { ...WIDTH, CMID: 0 },
  inputShapes: (c) => [nchw(c)],
  outputShapes: (c) => [nchw(c)],
  params: (c) => {
    const m = seMid(c);
    return m * (c.CIN + 1) + c.CIN * (m + 1);
  },
  flops: (c) => {
    const m = seMid(c);
    return elements(c) + 2 * (m * (c.CIN + 1) + c.CIN * (m + 1)) + 2 * elements(c);
  },
  emit(g, [x], c) {
    const mid = seMid(c);
    const pooled = g.op('GlobalAveragePool', [x!]);
    const squeezed = g.op('Relu', [emitConv(g, pooled, c.CIN, mid, 1, 1)]);
    const gate = emitActivation(g, emitConv(g, squeezed, mid, c.CIN, 1, 1), 'hsigmoid');
    return [g.op('Mul', [x!, gate])];
  },
};

/**
 * Data movement real networks pay for: the channels-last permute ConvNeXt- and EdgeNeXt-style
 * blocks run around their layer norms ([1, C, H, W] -> [1, H, W, C]), and nearest-neighbour
 * upsampling by 2 (feature pyramids, decoders). Decomposition maps a channels-first/last Transpose to
 * the first (any other Transpose is glue); a Resize it still reports as uncovered (the next step).
 */
const transpose: KernelSpec = {
  type: 'transpose',
  family: 'elementwise',
  summary: 'channels-last permute: [1, C, H, W] to [1, H, W, C] (a copy)',
  required: ['HW', 'CIN'],
  optional: WIDTH,
  inputShapes: (c) => [nchw(c)],
  outputShapes: (c) => [[1, c.HW, c.W, c.CIN]],
  params: () => 0,
  flops: () => 0,
  emit: (g, [x]) => [g.op('Transpose', [x!], { perm: attr.ints([0, 2, 3, 1]) })],
  sink: 'flatten',
};

const resize: KernelSpec = {
  type: 'resize',
  family: 'elementwise',
  summary: 'nearest-neighbour upsampling by 2: [1, C, H, W] to [1, C, 2H, 2W]',
  required: ['HW', 'CIN'],
  optional: WIDTH,
  inputShapes: (c) => [nchw(c)],
  outputShapes: (c) => [[1, c.CIN, 2 * c.HW, 2 * c.W]],
  params: () => 0,
  flops: (c) => 4 * elements(c),
  emit: (g, [x]) => [g.op('Resize', [x!, '', g.floats('scales', [1, 1, 2, 2])], { mode: attr.string('nearest') })],
};

const bnParams = (c: ResolvedConfig) => 4 * c.CIN;

/** Activations with an element-wise kernel of their own on NCHW activations (GELU's is on tokens). */
export const UNARY_ACTIVATIONS: readonly Activation[] = ACTIVATIONS.filter((a) => a !== 'gelu');

export const elementwiseSpecs: KernelSpec[] = [
  ...UNARY_ACTIVATIONS.map((act) =>
    unary(
      act,
      act === 'swish' ? 'swish: x * sigmoid(x)' : act,
      ACTIVATION_FLOPS[act],
      act === 'prelu' ? (c) => c.CIN : () => 0,
      activation(act),
    ),
  ),
  unary('bn', 'batch norm', 2, bnParams, (g, [x], c) => [emitBatchNorm(g, x!, c.CIN)]),
  unary('bn-relu', 'batch norm + relu', 3, bnParams, (g, [x], c) => [g.op('Relu', [emitBatchNorm(g, x!, c.CIN)])]),
  ...BINARY_TYPES.map((op) => binary(op)),
  binary('add', true),
  concat,
  split,
  channelShuffle,
  squeezeExcite,
  transpose,
  resize,
];
