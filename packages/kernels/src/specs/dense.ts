// Fully connected and pooling kernels.
import { attr } from '../graph.js';
import type { KernelSpec, ResolvedConfig } from '../config.js';
import { nchw, requireFits, spatial, WIDTH, windowOut, windowPad } from './common.js';

function fcSpec(type: 'fc' | 'fc-relu'): KernelSpec {
  return {
    type,
    family: 'fc',
    summary: type === 'fc' ? 'fully connected (Gemm)' : 'fully connected + relu',
    required: ['CIN', 'COUT'],
    inputShapes: (c) => [[1, c.CIN]],
    outputShapes: (c) => [[1, c.COUT]],
    params: (c) => c.COUT * (c.CIN + 1),
    flops: (c) => 2 * c.COUT * (c.CIN + 1),
    emit(g, [x], c) {
      const y = g.op('Gemm', [x!, g.weight('fc_w', [c.COUT, c.CIN]), g.weight('fc_b', [c.COUT])], { transB: attr.int(1) });
      return [type === 'fc' ? y : g.op('Relu', [y])];
    },
  };
}

const poolPad = (c: ResolvedConfig) => windowPad(c.KERNEL_SIZE, c.STRIDES);
const poolOut = (c: ResolvedConfig) => spatial(c).map((s) => windowOut(s, c.KERNEL_SIZE, c.STRIDES, poolPad(c))) as [number, number];

function poolSpec(type: 'maxpool' | 'avgpool'): KernelSpec {
  return {
    type,
    family: 'pooling',
    summary: type === 'maxpool' ? 'max pooling' : 'average pooling',
    required: ['HW', 'CIN', 'KERNEL_SIZE', 'STRIDES'],
    optional: WIDTH,
    inputShapes: (c) => [nchw(c)],
    outputShapes: (c) => [[1, c.CIN, ...poolOut(c)]],
    params: () => 0,
    flops: (c) => c.CIN * poolOut(c)[0] * poolOut(c)[1] * c.KERNEL_SIZE * c.KERNEL_SIZE,
    check: (c) => requireFits(c, c.KERNEL_SIZE, poolPad(c)),
    emit(g, [x], c) {
      const p = poolPad(c);
      return [
        g.op(type === 'maxpool' ? 'MaxPool' : 'AveragePool', [x!], {
          kernel_shape: attr.ints([c.KERNEL_SIZE, c.KERNEL_SIZE]),
          strides: attr.ints([c.STRIDES, c.STRIDES]),
          pads: attr.ints([p, p, p, p]),
        }),
      ];
    },
  };
}

const globalAvgPool: KernelSpec = {
  type: 'global-avgpool',
  family: 'pooling',
  summary: 'global average pooling',
  required: ['HW', 'CIN'],
  optional: WIDTH,
  inputShapes: (c) => [nchw(c)],
  outputShapes: (c) => [[1, c.CIN, 1, 1]],
  params: () => 0,
  flops: (c) => c.CIN * c.HW * c.W,
  emit: (g, [x]) => [g.op('GlobalAveragePool', [x!])],
};

export const denseSpecs: KernelSpec[] = [fcSpec('fc'), fcSpec('fc-relu'), poolSpec('maxpool'), poolSpec('avgpool'), globalAvgPool];
