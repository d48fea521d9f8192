import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { buildKernelModel, compactConfig, foldedConvType, resolveConfig, type KernelConfig } from '@litepred/kernels';
import { buildArchitectureModel, kernelsOf, sampleArchitecture, SEARCH_SPACES } from '@litepred/spaces';
import { decomposeModel, ModelError } from '@litepred/predictor';

const { onnx } = onnxProto;
const canonical = (cs: KernelConfig[]) => cs.map((c) => JSON.stringify(compactConfig(resolveConfig(c)))).sort();

describe('decomposing a model into kernels', () => {
  describe.each(SEARCH_SPACES.map((s) => [s.name, s] as const))('%s', (_name, space) => {
    it.each([1, 2])('gives exactly the kernels the space says architecture %i has', (seed) => {
      const arch = sampleArchitecture(space, seed);
      const d = decomposeModel(buildArchitectureModel(arch).bytes);
      // The space lists nn-Meter's types (a last conv without batch norm is conv-hswish); the runtime folds batch norm, so both are
      // conv-bn-hswish.
      const folded = kernelsOf(arch).map((c) => ({ ...c, type: foldedConvType(c.type) }));
      expect(canonical(d.kernels.map((k) => k.config))).toEqual(canonical(folded));
      expect(d.coverage.unsupported).toEqual([]);
      expect(d.coverage.flopsShare).toBe(1);
    });
  });

  it('reports an op it has no kernel for, with its share of the FLOPs, instead of dropping it', () => {
    const model = onnx.ModelProto.decode(
      buildKernelModel({ type: 'conv-bn-relu', HW: 16, CIN: 8, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 }, { outputs: 'full' }).bytes,
    );
    const g = model.graph!;
    const out = g.output![0]!.name!;
    g.node!.push({ opType: 'LRN', input: [out], output: ['normed'], name: 'lp' });
    g.output![0]!.name = 'normed';
    const d = decomposeModel(onnx.ModelProto.encode(model).finish());
    expect(d.kernels.map((k) => k.config.type)).toEqual(['conv-bn-relu']);
    expect(d.coverage.unsupported).toEqual([{ op: 'LRN', count: 1, flops: 8 * 16 * 16, reasons: [] }]);
    expect(d.coverage.flopsShare).toBeLessThan(1);
    expect(d.coverage.guessedShapes).toEqual(['LRN']);
  });

  it('says why a conv it cannot map is not covered', () => {
    const model = onnx.ModelProto.decode(
      buildKernelModel({ type: 'conv-bn', HW: 16, CIN: 8, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 }, { outputs: 'full' }).bytes,
    );
    const conv = model.graph!.node!.find((n) => n.opType === 'Conv')!;
    conv.attribute!.find((a) => a.name === 'pads')!.ints = [0, 0, 0, 0];
    const d = decomposeModel(onnx.ModelProto.encode(model).finish());
    expect(d.coverage.unsupported[0]).toMatchObject({
      op: 'Conv',
      count: 1,
      reasons: ['n_Conv_0: Conv 3x3 stride 1x1 with pads [0,0,0,0] gives 14x14; the kernels pad 1 (16x16)'],
    });
  });

  it('needs the input shape where the model leaves it dynamic, and checks it', () => {
    const model = onnx.ModelProto.decode(buildKernelModel({ type: 'relu', HW: 8, CIN: 4 }, { outputs: 'full' }).bytes);
    model.graph!.input![0]!.type!.tensorType!.shape!.dim![2] = { dimParam: 'h' };
    model.graph!.input![0]!.type!.tensorType!.shape!.dim![3] = { dimParam: 'w' };
    const bytes = onnx.ModelProto.encode(model).finish();
    expect(() => decomposeModel(bytes)).toThrow(/dynamic dims \[1, 4, -1, -1\]; give --input-shape/);
    expect(() => decomposeModel(bytes, { inputShape: [1, 4, 8] })).toThrow(/has 3 dims/);
    expect(() => decomposeModel(bytes, { inputShape: [1, 3, 8, 8] })).toThrow(/dim 1 is 3, the model fixes it to 4/);
    expect(decomposeModel(bytes, { inputShape: [1, 4, 12, 12] }).kernels[0]!.config).toEqual({ type: 'relu', HW: 12, CIN: 4 });
    expect(() => decomposeModel(new Uint8Array([1, 2, 3]))).toThrow(ModelError);
  });
});
