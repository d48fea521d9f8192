// Convolution kernels: conv and depthwise conv, each with optional batch norm and activation,
// named as in nn-Meter's builder set (conv-bn-relu, dwconv-bn-hswish, ...).
import type { KernelSpec, ResolvedConfig } from '../config.js';
import { emitActivation, emitBatchNorm, emitConv, requireDivisible, requireFits, requireOdd, windowOut, type Activation } from './common.js';

function convSpec(type: string): KernelSpec {
  const [base, ...parts] = type.split('-');
  const depthwise = base === 'dwconv';
  const bn = parts.includes('bn');
  const act = parts.find((p) => p !== 'bn') as Activation | undefined;
  const cout = (c: ResolvedConfig) => (depthwise ? c.CIN : c.COUT);
  const outHw = (c: ResolvedConfig) => windowOut(c.HW, c.KERNEL_SIZE, c.STRIDES, (c.KERNEL_SIZE - 1) >> 1);
  const groups = (c: ResolvedConfig) => (depthwise ? c.CIN : c.GROUPS);
  const params = (c: ResolvedConfig) => cout(c) * (c.KERNEL_SIZE * c.KERNEL_SIZE * (c.CIN / groups(c)) + 1);
  return {
    type,
    family: depthwise ? 'dwconv' : 'conv',
    summary: `${depthwise ? 'depthwise ' : ''}conv${bn ? ' + batch norm' : ''}${act ? ` + ${act}` : ''}`,
    required: depthwise ? ['HW', 'CIN', 'KERNEL_SIZE', 'STRIDES'] : ['HW', 'CIN', 'COUT', 'KERNEL_SIZE', 'STRIDES'],
    // Grouped convolution (FBNet's g2 blocks, ShuffleNet v1); 1 is a plain convolution.
    ...(depthwise ? {} : { optional: { GROUPS: 1 } }),
    inputShapes: (c) => [[1, c.CIN, c.HW, c.HW]],
    outputShapes: (c) => [[1, cout(c), outHw(c), outHw(c)]],
    params,
    flops: (c) => 2 * outHw(c) * outHw(c) * params(c),
    check(c) {
      requireOdd('KERNEL_SIZE', c.KERNEL_SIZE);
      requireFits(c.HW, c.KERNEL_SIZE, (c.KERNEL_SIZE - 1) >> 1);
      if (!depthwise) {
        requireDivisible('CIN', c.CIN, c.GROUPS, 'GROUPS');
        requireDivisible('COUT', c.COUT, c.GROUPS, 'GROUPS');
      }
    },
    emit(g, [x], c) {
      let y = emitConv(g, x!, c.CIN, cout(c), c.KERNEL_SIZE, c.STRIDES, groups(c));
      if (bn) y = emitBatchNorm(g, y, cout(c));
      if (act) y = emitActivation(g, y, act);
      return [y];
    },
  };
}

export const convSpecs: KernelSpec[] = [
  'conv-bn-relu', 'conv-bn-relu6', 'conv-bn', 'conv-relu', 'conv-relu6', 'conv-bn-hswish', 'conv-hswish',
  'dwconv-bn-relu', 'dwconv-bn-relu6', 'dwconv-bn', 'dwconv-relu', 'dwconv-relu6', 'dwconv-bn-hswish',
].map(convSpec);
