// Building blocks shared by several kernel specs.
import { attr, type GraphBuilder } from '../graph.js';
import { KernelConfigError, type ConfigField, type ResolvedConfig } from '../config.js';

/**
 * Activations real networks put after a conv, a linear layer or on their own. ONNX Runtime's CPU
 * provider fuses relu, relu6 (Clip), sigmoid, tanh, leakyrelu and hsigmoid into the conv before
 * them (FusedConv); the others run as a node of their own after it.
 */
export const ACTIVATIONS = [
  'relu',
  'relu6',
  'hswish',
  'swish',
  'hsigmoid',
  'sigmoid',
  'tanh',
  'leakyrelu',
  'prelu',
  'mish',
  'gelu',
] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** nn-Meter's FLOPs per element of each activation (and the obvious count for the ones it lacks). */
export const ACTIVATION_FLOPS: Record<Activation, number> = {
  relu: 1,
  relu6: 2,
  hswish: 4,
  swish: 5,
  hsigmoid: 3,
  sigmoid: 4,
  tanh: 5,
  leakyrelu: 2,
  prelu: 2,
  mish: 8,
  gelu: 8,
};

export function emitActivation(g: GraphBuilder, x: string, act: Activation, channels = 1, rank = 4): string {
  switch (act) {
    case 'relu':
      return g.op('Relu', [x]);
    case 'relu6':
      return g.op('Clip', [x, g.scalar('zero', 0), g.scalar('six', 6)]);
    case 'hswish':
      return g.op('HardSwish', [x]);
    case 'hsigmoid':
      return g.op('HardSigmoid', [x], { alpha: attr.float(1 / 6), beta: attr.float(0.5) });
    case 'swish':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    case 'tanh':
      return g.op('Tanh', [x]);
    case 'leakyrelu':
      return g.op('LeakyRelu', [x], { alpha: attr.float(0.01) });
    // One slope per channel, broadcast as PyTorch exports nn.PReLU: [C, 1, 1] on NCHW.
    case 'prelu':
      return g.op('PRelu', [x, g.weight('prelu_slope', rank === 4 ? [channels, 1, 1] : [channels])]);
    case 'mish':
      return g.op('Mish', [x]);
    case 'gelu':
      return g.op('Gelu', [x]);
  }
}

export function emitBatchNorm(g: GraphBuilder, x: string, channels: number): string {
  return g.op('BatchNormalization', [
    x,
    g.weight('bn_scale', [channels], 'positive'),
    g.weight('bn_bias', [channels]),
    g.weight('bn_mean', [channels]),
    g.weight('bn_var', [channels], 'positive'),
  ]);
}

/**
 * The padding a conv or pool of these parameters takes: none for non-overlapping windows
 * (k == stride: patchify stems, 2x2 downsampling) and even windows, 'same' ((k-1)/2 times the
 * dilation) for odd ones. It is what exported networks use nearly everywhere; a model whose
 * padding differs is reported by decomposition, not silently mapped.
 */
export function windowPad(k: number, stride: number, dilation = 1): number {
  return k === stride || k % 2 === 0 ? 0 : ((k - 1) >> 1) * dilation;
}

/** Conv (groups = 1), grouped or depthwise (groups = channels), on [1, cin, h, w]. */
export function emitConv(
  g: GraphBuilder,
  x: string,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  groups = 1,
  dilation = 1,
): string {
  const pad = windowPad(k, stride, dilation);
  return g.op('Conv', [x, g.weight('conv_w', [cout, cin / groups, k, k]), g.weight('conv_b', [cout])], {
    kernel_shape: attr.ints([k, k]),
    strides: attr.ints([stride, stride]),
    pads: attr.ints([pad, pad, pad, pad]),
    dilations: attr.ints([dilation, dilation]),
    group: attr.int(groups),
  });
}

/** Output size of a window op: floor((hw + 2*pad - dilation*(k-1) - 1) / stride) + 1. */
export function windowOut(hw: number, k: number, stride: number, pad: number, dilation = 1): number {
  return Math.floor((hw + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

/** Height and width of a config on NCHW activations (W defaults to HW: square). */
export const spatial = (c: ResolvedConfig): [number, number] => [c.HW, c.W || c.HW];

/** [1, channels, H, W] of a config. */
export const nchw = (c: ResolvedConfig, channels = c.CIN): number[] => [1, channels, ...spatial(c)];

/** The optional width every NCHW kernel type takes. */
export const WIDTH: Partial<Record<ConfigField, ConfigField>> = { W: 'HW' };

export function requireFits(c: ResolvedConfig, k: number, pad: number, dilation = 1): void {
  const span = dilation * (k - 1) + 1;
  const [h, w] = spatial(c);
  for (const [field, size] of [
    ['HW', h],
    ['W', w],
  ] as const) {
    if (span > size + 2 * pad) {
      throw new KernelConfigError(
        'KERNEL_SIZE',
        `${k}${dilation > 1 ? ` dilated ${dilation}x` : ''} is larger than the padded input (${field} ${size} + 2*${pad} ` +
          `padding = ${size + 2 * pad})`,
      );
    }
  }
}

export function requireDivisible(field: string, v: number, by: number, byName: string): void {
  if (v % by !== 0) throw new KernelConfigError(field, `${v} is not divisible by ${byName} (${by})`);
}

/** SE block's squeeze width, as nn-Meter and MobileNetV3 build it: CIN/4 rounded to a multiple of 8. */
export function seMidChannels(cin: number): number {
  return Math.max(8, Math.round(cin / 4 / 8) * 8);
}
