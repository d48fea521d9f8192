import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { buildKernelModel, GLUE_PREFIX, resolveConfig } from '@litepred/kernels';
import {
  buildArchitectureModel,
  fuseRelus,
  getSpace,
  kernelDistribution,
  kernelsOf,
  sampleArchitecture,
  SEARCH_SPACES,
  type Architecture,
} from '@litepred/spaces';

const { onnx } = onnxProto;

function opTypes(bytes: Uint8Array, keep: (name: string) => boolean): string[] {
  return onnx.ModelProto.decode(bytes)
    .graph!.node!.filter((n) => keep(n.name ?? ''))
    .map((n) => n.opType!)
    .sort();
}

/** The op types of the kernels built one by one, as the profiler builds them (without its sink). */
function kernelOpTypes(arch: Architecture): string[] {
  return kernelsOf(arch)
    .flatMap((c) => opTypes(buildKernelModel(c, { outputs: 'full' }).bytes, () => true))
    .sort();
}

const classes = (arch: Architecture) => (arch.space === 'nasbench201' ? 10 : 1000);

describe('search spaces', () => {
  it('cover the seven spaces the issue names', () => {
    expect(SEARCH_SPACES.map((s) => s.name)).toEqual([
      'proxylessnas',
      'ofa-mbv3',
      'fbnet',
      'ofa-resnet',
      'spos-shufflenetv2',
      'nasbench201',
      'autoformer',
    ]);
    expect(() => getSpace('darts')).toThrow(/unknown search space 'darts'; known: proxylessnas/);
  });

  describe.each(SEARCH_SPACES.map((s) => [s.name, s] as const))('%s', (_name, space) => {
    const archs = [1, 2, 3].map((seed) => sampleArchitecture(space, seed));

    it('samples architectures whose kernels all pass the kernel library', () => {
      for (const arch of archs) {
        expect(kernelsOf(arch).length).toBeGreaterThan(5);
        for (const c of kernelsOf(arch)) expect(() => resolveConfig(c)).not.toThrow();
        expect(space.resolutions).toContain(arch.inputShape[2]);
      }
    });

    it('gives the same architecture for the same seed, and varies with the seed', () => {
      expect(sampleArchitecture(space, 1)).toEqual(archs[0]);
      const distinct = new Set([1, 2, 3, 4, 5].map((seed) => JSON.stringify(sampleArchitecture(space, seed).layers)));
      expect(distinct.size).toBeGreaterThan(1);
    });

    it("builds a model whose nodes are exactly its kernels' nodes plus reshape glue, and that runs", async () => {
      const arch = archs[0]!;
      const model = buildArchitectureModel(arch);
      expect(opTypes(model.bytes, (name) => !name.startsWith(GLUE_PREFIX))).toEqual(kernelOpTypes(arch));
      for (const op of opTypes(model.bytes, (name) => name.startsWith(GLUE_PREFIX))) {
        expect(['Reshape', 'Transpose', 'Concat', 'Slice']).toContain(op);
      }
      const session = await ort.InferenceSession.create(model.bytes, { intraOpNumThreads: 1 });
      try {
        const input = model.inputs[0]!;
        const data = Float32Array.from({ length: input.shape.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) / 7);
        const out = await session.run({ [input.name]: new ort.Tensor('float32', data, input.shape) });
        expect(out[model.outputs[0]!.name]!.dims).toEqual([1, classes(arch)]);
      } finally {
        await session.release();
      }
    });
  });
});

describe('kernel distribution of a space', () => {
  it('counts every kernel of the sampled architectures once, with frequencies per type', () => {
    const space = getSpace('ofa-mbv3');
    const dist = kernelDistribution([space], 20, 7);
    const total = [...dist.values()].flat().reduce((s, e) => s + e.count, 0);
    let expected = 0;
    for (let i = 0; i < 20; i++) expected += kernelsOf(sampleArchitecture(space, 7 * 100_003 + i)).length;
    expect(total).toBe(expected);
    for (const rows of dist.values()) expect(rows.reduce((s, e) => s + e.freq, 0)).toBeCloseTo(1, 9);
    const dw = dist.get('dwconv-bn-hswish')!;
    expect(new Set(dw.map((e) => e.config.KERNEL_SIZE))).toEqual(new Set([3, 5, 7]));
  });
});

describe('fuseRelus', () => {
  it('fuses a relu into the conv-bn or add before it only when nothing else reads that output', () => {
    const layers = [
      { config: { type: 'conv-bn', HW: 8, CIN: 3, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 } },
      { config: { type: 'relu', HW: 8, CIN: 8 } }, // the conv's only reader: fuses
      { config: { type: 'conv-bn', HW: 8, CIN: 8, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 } },
      { config: { type: 'relu', HW: 8, CIN: 8 } }, // layer 2 is also read by the add: stays
      { config: { type: 'add', HW: 8, CIN: 8 }, from: [2, 3] },
      { config: { type: 'global-avgpool', HW: 8, CIN: 8 } },
    ];
    expect(fuseRelus(layers)).toEqual([
      { config: { type: 'conv-bn-relu', HW: 8, CIN: 3, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 } },
      { config: { type: 'conv-bn', HW: 8, CIN: 8, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 } },
      { config: { type: 'relu', HW: 8, CIN: 8 } },
      { config: { type: 'add', HW: 8, CIN: 8 }, from: [1, 2] },
      { config: { type: 'global-avgpool', HW: 8, CIN: 8 } },
    ]);
  });
});
