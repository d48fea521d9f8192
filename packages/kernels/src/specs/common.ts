// Building blocks shared by several kernel specs.
import { attr, type GraphBuilder } from '../graph.js';
import { KernelConfigError } from '../config.js';

export type Activation = 'relu' | 'relu6' | 'hswish' | 'swish' | 'hsigmoid';

export function emitActivation(g: GraphBuilder, x: string, act: Activation): string {
  switch (act) {
    case 'relu': return g.op('Relu', [x]);
    case 'relu6': return g.op('Clip', [x, g.scalar('zero', 0), g.scalar('six', 6)]);
    case 'hswish': return g.op('HardSwish', [x]);
    case 'hsigmoid': return g.op('HardSigmoid', [x], { alpha: attr.float(1 / 6), beta: attr.float(0.5) });
    case 'swish': return g.op('Mul', [x, g.op('Sigmoid', [x])]);
  }
}

export function emitBatchNorm(g: GraphBuilder, x: string, channels: number): string {
  return g.op('BatchNormalization', [
    x, g.weight('bn_scale', [channels], 'positive'), g.weight('bn_bias', [channels]),
    g.weight('bn_mean', [channels]), g.weight('bn_var', [channels], 'positive'),
  ]);
}

/** Square conv with 'same' padding for odd kernels; groups = 1 (conv) or channels (depthwise). */
export function emitConv(g: GraphBuilder, x: string, cin: number, cout: number, k: number, stride: number, groups = 1): string {
  const pad = (k - 1) >> 1;
  return g.op('Conv', [x, g.weight('conv_w', [cout, cin / groups, k, k]), g.weight('conv_b', [cout])], {
    kernel_shape: attr.ints([k, k]), strides: attr.ints([stride, stride]), pads: attr.ints([pad, pad, pad, pad]),
    group: attr.int(groups),
  });
}

/** Output size of a window op: floor((hw + 2*pad - k) / stride) + 1. */
export function windowOut(hw: number, k: number, stride: number, pad: number): number {
  return Math.floor((hw + 2 * pad - k) / stride) + 1;
}

export function requireOdd(field: string, v: number): void {
  if (v % 2 !== 1) throw new KernelConfigError(field, `must be odd (got ${v}); even kernels have no symmetric 'same' padding`);
}

export function requireFits(hw: number, k: number, pad: number): void {
  if (k > hw + 2 * pad) {
    throw new KernelConfigError('KERNEL_SIZE', `${k} is larger than the padded input (HW ${hw} + 2*${pad} padding = ${hw + 2 * pad})`);
  }
}

export function requireDivisible(field: string, v: number, by: number, byName: string): void {
  if (v % by !== 0) throw new KernelConfigError(field, `${v} is not divisible by ${byName} (${by})`);
}

/** SE block's squeeze width, as nn-Meter and MobileNetV3 build it: CIN/4 rounded to a multiple of 8. */
export function seMidChannels(cin: number): number {
  return Math.max(8, Math.round(cin / 4 / 8) * 8);
}
