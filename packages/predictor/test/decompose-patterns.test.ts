// Fusion patterns as exporters (PyTorch, tf2onnx) write them, built node by node.
import { describe, expect, it } from 'vitest';
import { attr, GraphBuilder, type Shape } from '@litepred/kernels';
import { BN_FOLD_RULE, decomposeModel, FUSION_PAIRS, fusionProbe, isFused, ruleFor } from '@litepred/predictor';

function model(inputShape: Shape, build: (g: GraphBuilder, x: string) => [string, Shape]): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', inputShape);
  const [y, shape] = build(g, x);
  g.output(y, shape);
  return g.encode('test');
}

const conv = (g: GraphBuilder, x: string, cin: number, cout: number, k = 3) =>
  g.op('Conv', [x, g.weight('w', [cout, cin, k, k]), g.weight('b', [cout])], {
    kernel_shape: attr.ints([k, k]),
    strides: attr.ints([1, 1]),
    pads: attr.ints(new Array(4).fill((k - 1) >> 1)),
  });

const types = (bytes: Uint8Array) => decomposeModel(bytes).kernels.map((k) => k.config.type);

describe('fusion patterns', () => {
  it('hswish written as Add 3, Clip 0..6, Mul, Div 6 fuses into the conv', () => {
    const bytes = model([1, 8, 16, 16], (g, x) => {
      const c = conv(g, x, 8, 16);
      const clip = g.op('Clip', [g.op('Add', [c, g.scalar('three', 3)]), g.scalar('lo', 0), g.scalar('hi', 6)]);
      return [g.op('Div', [g.op('Mul', [c, clip]), g.scalar('six', 6)]), [1, 16, 16, 16]];
    });
    expect(decomposeModel(bytes).kernels).toEqual([
      { config: { type: 'conv-bn-hswish', HW: 16, CIN: 8, COUT: 16, KERNEL_SIZE: 3, STRIDES: 1 }, nodes: expect.any(Array) },
    ]);
  });

  it('hswish written as x * HardSigmoid(x) after batch norm fuses too; x * Sigmoid(x) alone is swish', () => {
    const bytes = model([1, 8, 16, 16], (g, x) => {
      const bn = g.op('BatchNormalization', [
        conv(g, x, 8, 8),
        g.weight('s', [8], 'positive'),
        g.weight('b', [8]),
        g.weight('m', [8]),
        g.weight('v', [8], 'positive'),
      ]);
      const h = g.op('Mul', [bn, g.op('HardSigmoid', [bn], { alpha: attr.float(1 / 6), beta: attr.float(0.5) })]);
      return [g.op('Mul', [h, g.op('Sigmoid', [h])]), [1, 8, 16, 16]];
    });
    expect(types(bytes)).toEqual(['conv-bn-hswish', 'swish']);
  });

  it('a classifier head: global pool, Flatten (glue), Gemm + Relu', () => {
    const bytes = model([1, 32, 7, 7], (g, x) => {
      const flat = g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: attr.int(1) });
      return [g.op('Relu', [g.op('Gemm', [flat, g.weight('w', [10, 32]), g.weight('b', [10])], { transB: attr.int(1) })]), [1, 10]];
    });
    const d = decomposeModel(bytes);
    expect(d.kernels.map((k) => k.config)).toEqual([
      { type: 'global-avgpool', HW: 7, CIN: 32 },
      { type: 'fc-relu', CIN: 32, COUT: 10 },
    ]);
    expect(d.coverage.glue).toEqual({ Flatten: 1 });
  });

  it('layer norm and GELU written out in elementary ops', () => {
    const bytes = model([1, 10, 16], (g, x) => {
      const mean = g.op('ReduceMean', [x, g.int64s('axes', [-1])]);
      const centred = g.op('Sub', [x, mean]);
      const variance = g.op('ReduceMean', [g.op('Pow', [centred, g.scalar('two', 2)]), g.int64s('axes', [-1])]);
      const normed = g.op('Div', [centred, g.op('Sqrt', [g.op('Add', [variance, g.scalar('eps', 1e-5)])])]);
      const ln = g.op('Add', [g.op('Mul', [normed, g.weight('gamma', [16])]), g.weight('beta', [16])]);
      const erf = g.op('Erf', [g.op('Div', [ln, g.scalar('sqrt2', Math.SQRT2)])]);
      return [g.op('Mul', [g.op('Mul', [ln, g.op('Add', [erf, g.scalar('one', 1)])]), g.scalar('half', 0.5)]), [1, 10, 16]];
    });
    const d = decomposeModel(bytes);
    expect(d.kernels.map((k) => k.config)).toEqual([
      { type: 'layernorm', L: 10, CIN: 16 },
      { type: 'gelu', L: 10, CIN: 16 },
    ]);
    expect(d.coverage.unsupported).toEqual([]);
  });
});

describe('fusion rules', () => {
  it("nn-Meter's rule: fused when the pair saves more than alpha of the cheaper op", () => {
    expect(isFused(1.0, 0.2, 1.02)).toBe(true);
    expect(isFused(1.0, 0.2, 1.19)).toBe(false);
    expect(ruleFor('conv-bn', 'relu')).toBe('conv-bn+relu');
    expect(ruleFor('dwconv-bn', 'hswish')).toBe('dwconv-bn+hswish');
    expect(ruleFor('add', 'relu')).toBe('add+relu');
    const [first, second, both] = fusionProbe(FUSION_PAIRS[2]!, { HW: 28, CIN: 32 });
    expect([first.type, second.type, both.type]).toEqual(['dwconv-bn', 'relu', 'dwconv-bn-relu']);
  });

  it('keep an activation apart where the device does not fuse the pair', () => {
    const bytes = model([1, 8, 16, 16], (g, x) => {
      const c = g.op('Relu', [conv(g, x, 8, 8)]);
      return [g.op('Relu', [g.op('Add', [c, x])]), [1, 8, 16, 16]];
    });
    // A conv without batch norm runs as the kernel with it where the runtime folds batch norm (the default), as itself where it does not.
    expect(types(bytes)).toEqual(['conv-bn-relu', 'add-relu']);
    expect(decomposeModel(bytes, { fusionRules: { [BN_FOLD_RULE]: false } }).kernels.map((k) => k.config.type)).toEqual([
      'conv-relu',
      'add-relu',
    ]);
    const apart = decomposeModel(bytes, { fusionRules: { 'conv-bn+relu': false, 'add+relu': false } });
    expect(apart.kernels.map((k) => k.config.type)).toEqual(['conv-bn', 'relu', 'add', 'relu']);
  });
});
