// Element-wise and data-movement kernels on NCHW activations, and the squeeze-and-excitation block.
import { attr } from '../graph.js';
import { KernelConfigError, type KernelSpec, type ResolvedConfig } from '../config.js';
import { emitActivation, emitBatchNorm, emitConv, requireDivisible, seMidChannels, type Activation } from './common.js';

const nchw = (c: ResolvedConfig, channels = c.CIN) => [1, channels, c.HW, c.HW];
const elements = (c: ResolvedConfig) => c.CIN * c.HW * c.HW;

/** One-input element-wise kernel of HW, CIN; `flopsPerElement` as nn-Meter counts them. */
function unary(type: string, summary: string, flopsPerElement: number, paramsOf: (c: ResolvedConfig) => number,
  emit: KernelSpec['emit']): KernelSpec {
  return {
    type, family: 'elementwise', summary, required: ['HW', 'CIN'],
    inputShapes: (c) => [nchw(c)], outputShapes: (c) => [nchw(c)],
    params: paramsOf, flops: (c) => flopsPerElement * elements(c), emit,
  };
}

const activation = (act: Activation): KernelSpec['emit'] => (g, [x]) => [emitActivation(g, x!, act)];

function binaryAdd(type: 'add' | 'add-relu'): KernelSpec {
  return {
    type, family: 'elementwise', summary: type === 'add' ? 'residual add' : 'residual add + relu', required: ['HW', 'CIN'],
    inputShapes: (c) => [nchw(c), nchw(c)], outputShapes: (c) => [nchw(c)],
    params: () => 0, flops: (c) => (type === 'add' ? 1 : 2) * elements(c),
    emit(g, [a, b]) {
      const y = g.op('Add', [a!, b!]);
      return [type === 'add' ? y : g.op('Relu', [y])];
    },
  };
}

const concat: KernelSpec = {
  type: 'concat', family: 'elementwise', summary: 'channel concat of 2 to 4 inputs (CIN1..CIN4)',
  required: ['HW', 'CIN1', 'CIN2'], optional: { CIN3: 0, CIN4: 0 },
  inputShapes: (c) => [c.CIN1, c.CIN2, c.CIN3, c.CIN4].filter((n) => n > 0).map((n) => nchw(c, n)),
  outputShapes: (c) => [nchw(c, c.CIN1 + c.CIN2 + c.CIN3 + c.CIN4)],
  params: () => 0, flops: () => 0,
  check(c) {
    if (c.CIN4 > 0 && c.CIN3 === 0) throw new KernelConfigError('CIN3', 'must be given when CIN4 is');
  },
  emit: (g, inputs) => [g.op('Concat', inputs, { axis: attr.int(1) })],
};

const split: KernelSpec = {
  type: 'split', family: 'elementwise', summary: 'split channels in two halves (ShuffleNetV2)', required: ['HW', 'CIN'],
  inputShapes: (c) => [nchw(c)], outputShapes: (c) => [nchw(c, c.CIN / 2), nchw(c, c.CIN / 2)],
  params: () => 0, flops: () => 0,
  check: (c) => requireDivisible('CIN', c.CIN, 2, 'the 2 halves of the split'),
  emit: (g, [x], c) => g.node('Split', [x!, g.int64s('split', [c.CIN / 2, c.CIN / 2])], { axis: attr.int(1) }, 2),
};

const channelShuffle: KernelSpec = {
  type: 'channelshuffle', family: 'elementwise', summary: 'channel shuffle: reshape, transpose, reshape',
  required: ['HW', 'CIN'], optional: { GROUPS: 2 },
  inputShapes: (c) => [nchw(c)], outputShapes: (c) => [nchw(c)],
  params: () => 0, flops: () => 0,
  check: (c) => requireDivisible('CIN', c.CIN, c.GROUPS, 'GROUPS'),
  emit(g, [x], c) {
    const grouped = g.op('Reshape', [x!, g.int64s('shape', [1, c.GROUPS, c.CIN / c.GROUPS, c.HW, c.HW])]);
    const swapped = g.op('Transpose', [grouped], { perm: attr.ints([0, 2, 1, 3, 4]) });
    return [g.op('Reshape', [swapped, g.int64s('shape', [1, c.CIN, c.HW, c.HW])])];
  },
};

const squeezeExcite: KernelSpec = {
  type: 'se', family: 'block', summary: 'squeeze-and-excitation: pool, 1x1 conv, relu, 1x1 conv, hsigmoid, scale',
  required: ['HW', 'CIN'],
  inputShapes: (c) => [nchw(c)], outputShapes: (c) => [nchw(c)],
  params: (c) => { const m = seMidChannels(c.CIN); return m * (c.CIN + 1) + c.CIN * (m + 1); },
  flops: (c) => { const m = seMidChannels(c.CIN); return elements(c) + 2 * (m * (c.CIN + 1) + c.CIN * (m + 1)) + 2 * elements(c); },
  emit(g, [x], c) {
    const mid = seMidChannels(c.CIN);
    const pooled = g.op('GlobalAveragePool', [x!]);
    const squeezed = g.op('Relu', [emitConv(g, pooled, c.CIN, mid, 1, 1)]);
    const gate = emitActivation(g, emitConv(g, squeezed, mid, c.CIN, 1, 1), 'hsigmoid');
    return [g.op('Mul', [x!, gate])];
  },
};

const bnParams = (c: ResolvedConfig) => 4 * c.CIN;

export const elementwiseSpecs: KernelSpec[] = [
  unary('relu', 'relu', 1, () => 0, activation('relu')),
  unary('hswish', 'hard swish', 4, () => 0, activation('hswish')),
  unary('swish', 'swish: x * sigmoid(x)', 5, () => 0, activation('swish')),
  unary('bn', 'batch norm', 2, bnParams, (g, [x], c) => [emitBatchNorm(g, x!, c.CIN)]),
  unary('bn-relu', 'batch norm + relu', 3, bnParams, (g, [x], c) => [g.op('Relu', [emitBatchNorm(g, x!, c.CIN)])]),
  binaryAdd('add'), binaryAdd('add-relu'), concat, split, channelShuffle, squeezeExcite,
];
