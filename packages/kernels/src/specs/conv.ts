// Convolution kernels: conv and depthwise conv, each with optional batch norm and activation,
// named as in nn-Meter's builder set (conv-bn-relu, dwconv-bn-hswish, ...), on rectangular inputs,
// dilated or not, with the activations ONNX Runtime fuses into a conv (FusedConv) besides
// nn-Meter's relu, relu6 and hswish.
import type { KernelSpec, ResolvedConfig } from '../config.js';
import {
  emitActivation,
  emitBatchNorm,
  emitConv,
  nchw,
  requireDivisible,
  requireFits,
  spatial,
  windowOut,
  windowPad,
  type Activation,
} from './common.js';

/** Activations a conv kernel type can end in: nn-Meter's (relu, relu6, hswish), and the rest of what ONNX Runtime's FusedConv takes. */
export const CONV_ACTIVATIONS: readonly Activation[] = ['relu', 'relu6', 'hswish', 'hsigmoid', 'sigmoid', 'tanh', 'leakyrelu'];

/** A conv kernel type's parts: `dwconv-bn-relu` is { base: 'dwconv', bn: true, act: 'relu' }. */
export function convTypeParts(type: string): { base: 'conv' | 'dwconv'; bn: boolean; act?: Activation } | undefined {
  const [base, ...parts] = type.split('-');
  if (base !== 'conv' && base !== 'dwconv') return undefined;
  const bn = parts[0] === 'bn';
  const rest = bn ? parts.slice(1) : parts;
  if (rest.length > 1 || (rest[0] !== undefined && !CONV_ACTIVATIONS.includes(rest[0] as Activation))) return undefined;
  return { base, bn, ...(rest[0] ? { act: rest[0] as Activation } : {}) };
}

export const convTypeName = (base: 'conv' | 'dwconv', bn: boolean, act?: Activation): string =>
  [base, ...(bn ? ['bn'] : []), ...(act ? [act] : [])].join('-');

function convSpec(type: string): KernelSpec {
  const { base, bn, act } = convTypeParts(type)!;
  const depthwise = base === 'dwconv';
  const cout = (c: ResolvedConfig) => (depthwise ? c.CIN : c.COUT);
  const pad = (c: ResolvedConfig) => windowPad(c.KERNEL_SIZE, c.STRIDES, c.DILATION);
  const out = (c: ResolvedConfig) => spatial(c).map((s) => windowOut(s, c.KERNEL_SIZE, c.STRIDES, pad(c), c.DILATION)) as [number, number];
  const outElements = (c: ResolvedConfig) => out(c)[0] * out(c)[1];
  const groups = (c: ResolvedConfig) => (depthwise ? c.CIN : c.GROUPS);
  const params = (c: ResolvedConfig) => cout(c) * (c.KERNEL_SIZE * c.KERNEL_SIZE * (c.CIN / groups(c)) + 1);
  return {
    type,
    family: depthwise ? 'dwconv' : 'conv',
    summary: `${depthwise ? 'depthwise ' : ''}conv${bn ? ' + batch norm' : ''}${act ? ` + ${act}` : ''}`,
    required: depthwise ? ['HW', 'CIN', 'KERNEL_SIZE', 'STRIDES'] : ['HW', 'CIN', 'COUT', 'KERNEL_SIZE', 'STRIDES'],
    // GROUPS: grouped convolution (FBNet's g2 blocks, ShuffleNet v1); 1 is a plain convolution.
    optional: { ...(depthwise ? {} : { GROUPS: 1 }), W: 'HW', DILATION: 1 },
    inputShapes: (c) => [nchw(c)],
    outputShapes: (c) => [[1, cout(c), ...out(c)]],
    params,
    // nn-Meter's convention: the conv alone (batch norm and activation are folded or fused into it).
    flops: (c) => 2 * outElements(c) * params(c),
    check(c) {
      requireFits(c, c.KERNEL_SIZE, pad(c), c.DILATION);
      if (!depthwise) {
        requireDivisible('CIN', c.CIN, c.GROUPS, 'GROUPS');
        requireDivisible('COUT', c.COUT, c.GROUPS, 'GROUPS');
      }
    },
    emit(g, [x], c) {
      let y = emitConv(g, x!, c.CIN, cout(c), c.KERNEL_SIZE, c.STRIDES, groups(c), c.DILATION);
      if (bn) y = emitBatchNorm(g, y, cout(c));
      if (act) y = emitActivation(g, y, act, cout(c));
      return [y];
    },
  };
}

export const convSpecs: KernelSpec[] = (['conv', 'dwconv'] as const).flatMap((base) =>
  [false, true].flatMap((bn) => [undefined, ...CONV_ACTIVATIONS].map((act) => convSpec(convTypeName(base, bn, act)))),
);

/**
 * The type a conv type runs as where the runtime folds batch norm into the conv's weights (ONNX
 * Runtime at every optimization level but 'disabled'): its -bn form, the one the pool measures.
 * Any other type is itself.
 */
export function foldedConvType(type: string): string {
  const p = convTypeParts(type);
  return p ? convTypeName(p.base, true, p.act) : type;
}
