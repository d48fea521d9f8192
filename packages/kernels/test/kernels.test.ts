import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import {
  buildKernelModel,
  buildNullModel,
  compactConfig,
  exampleConfig,
  featureNames,
  featureVector,
  getKernelSpec,
  kernelCost,
  kernelTypes,
  KernelConfigError,
  replication,
  resolveConfig,
} from '@litepred/kernels';

const NN_METER_TYPES = [
  'conv-bn-relu',
  'conv-bn-relu6',
  'conv-bn',
  'conv-relu',
  'conv-relu6',
  'conv-bn-hswish',
  'conv-hswish',
  'dwconv-bn-relu',
  'dwconv-bn-relu6',
  'dwconv-bn',
  'dwconv-relu',
  'dwconv-relu6',
  'dwconv-bn-hswish',
  'fc',
  'fc-relu',
  'maxpool',
  'avgpool',
  'global-avgpool',
  'se',
  'hswish',
  'swish',
  'relu',
  'bn',
  'bn-relu',
  'add',
  'add-relu',
  'concat',
  'split',
  'channelshuffle',
];
const VIT_TYPES = ['matmul', 'bmm', 'reduce', 'token-add', 'layernorm', 'softmax', 'gelu', 'mhsa', 'bn-tokens'];
/**
 * What real networks add: every conv with and without batch norm, with every activation FusedConv takes, the other activations and binary
 * ops.
 */
const CONV_ACTS = ['', '-relu', '-relu6', '-hswish', '-hsigmoid', '-sigmoid', '-tanh', '-leakyrelu'];
const REAL_NETWORK_TYPES = [
  ...['conv', 'conv-bn', 'dwconv', 'dwconv-bn'].flatMap((base) => CONV_ACTS.map((a) => base + a)),
  'relu6',
  'hsigmoid',
  'sigmoid',
  'tanh',
  'leakyrelu',
  'prelu',
  'mish',
  'mul',
  'sub',
  'div',
  'max',
  'min',
  'transpose',
  'resize',
];

function rejects(config: Record<string, unknown>, field: string, message: RegExp) {
  let error: unknown;
  try {
    resolveConfig(config as never);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(KernelConfigError);
  expect((error as KernelConfigError).field).toBe(field);
  expect((error as Error).message).toMatch(message);
}

describe('kernel registry', () => {
  it("has nn-Meter's builder set, the vision-transformer kernels and what real networks add", () => {
    expect(new Set(kernelTypes())).toEqual(new Set([...NN_METER_TYPES, ...VIT_TYPES, ...REAL_NETWORK_TYPES]));
  });

  it.each(kernelTypes())('%s builds a valid ONNX model whose declared graph matches the formulas', (type) => {
    const model = buildKernelModel(exampleConfig(type), { outputs: 'full' });
    const decoded = onnxProto.onnx.ModelProto.decode(model.bytes);
    expect(Number(decoded.opsetImport[0]!.version)).toBe(20);
    const spec = getKernelSpec(type);
    const c = resolveConfig(exampleConfig(type));
    expect(decoded.graph!.input.map((i) => i.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue)))).toEqual(spec.inputShapes(c));
    expect(model.outputs.map((o) => o.shape)).toEqual(spec.outputShapes(c));
  });
});

describe('FLOPs and params', () => {
  it("follow nn-Meter's conv formula: params = COUT(K²·CIN + 1), FLOPs = 2·HWout²·params", () => {
    const c = { type: 'conv-bn-relu', HW: 56, CIN: 24, COUT: 144, KERNEL_SIZE: 1, STRIDES: 1 };
    expect(kernelCost(c).params).toBe(144 * (24 + 1));
    expect(kernelCost(c).flops).toBe(2 * 56 * 56 * 144 * 25);
    const s2 = { type: 'conv-bn-relu', HW: 224, CIN: 3, COUT: 32, KERNEL_SIZE: 3, STRIDES: 2 };
    expect(kernelCost(s2).flops).toBe(2 * 112 * 112 * 32 * (9 * 3 + 1));
  });

  it('count a depthwise conv per channel', () => {
    const c = { type: 'dwconv-bn-relu', HW: 112, CIN: 32, KERNEL_SIZE: 3, STRIDES: 2 };
    expect(kernelCost(c).params).toBe(32 * (9 + 1));
    expect(kernelCost(c).flops).toBe(2 * 56 * 56 * 32 * 10);
  });

  it('count fc, attention and pooling', () => {
    expect(kernelCost({ type: 'fc', CIN: 1280, COUT: 1000 }).flops).toBe(2 * 1000 * 1281);
    const L = 197,
      C = 192;
    expect(kernelCost({ type: 'mhsa', L, CIN: C, HEADS: 3 }).params).toBe(4 * C * C + 4 * C);
    expect(kernelCost({ type: 'mhsa', L, CIN: C, HEADS: 3 }).flops).toBe(2 * L * 3 * C * (C + 1) + 4 * L * L * C + 2 * L * C * (C + 1));
    expect(kernelCost({ type: 'maxpool', HW: 112, CIN: 64, KERNEL_SIZE: 3, STRIDES: 2 }).flops).toBe(64 * 56 * 56 * 9);
  });

  it('give activation bytes from the shapes', () => {
    expect(kernelCost({ type: 'add', HW: 4, CIN: 2 }).activationBytes).toBe(4 * 3 * 2 * 4 * 4);
  });

  it("put LitePred's conv features first, FLOPS and PARAMS in millions", () => {
    const c = { type: 'conv-bn-relu', HW: 56, CIN: 24, COUT: 144, KERNEL_SIZE: 1, STRIDES: 1 };
    expect(featureNames('conv-bn-relu')).toEqual([
      'HW',
      'CIN',
      'COUT',
      'KERNEL_SIZE',
      'STRIDES',
      'FLOPS',
      'PARAMS',
      'GROUPS',
      'W',
      'DILATION',
    ]);
    // W is the real width: HW where the config leaves it out.
    expect(featureVector(c)).toEqual([56, 24, 144, 1, 1, kernelCost(c).flops / 1e6, kernelCost(c).params / 1e6, 1, 56, 1]);
  });

  it('build grouped convolutions, with GROUPS left out of the canonical form when it is 1', () => {
    const raw = { type: 'conv-bn-relu', HW: 8, CIN: 16, COUT: 32, KERNEL_SIZE: 1, STRIDES: 1, GROUPS: 2 };
    const grouped = resolveConfig(raw);
    expect(kernelCost(raw).params).toBe(32 * (16 / 2 + 1));
    expect(compactConfig(grouped)).toMatchObject({ GROUPS: 2 });
    expect(compactConfig(resolveConfig({ type: 'conv-bn', HW: 8, CIN: 16, COUT: 32, KERNEL_SIZE: 1, STRIDES: 1 }))).not.toHaveProperty(
      'GROUPS',
    );
    rejects({ type: 'conv-bn', HW: 8, CIN: 16, COUT: 30, KERNEL_SIZE: 1, STRIDES: 1, GROUPS: 4 }, 'COUT', /not divisible by GROUPS/);
  });
});

describe('shapes real networks have', () => {
  it('take W as the width, default HW, and leave it out of the canonical form when square', () => {
    const rect = { type: 'conv-bn-relu', HW: 180, W: 320, CIN: 3, COUT: 64, KERNEL_SIZE: 7, STRIDES: 2 };
    expect(getKernelSpec('conv-bn-relu').outputShapes(resolveConfig(rect))).toEqual([[1, 64, 90, 160]]);
    expect(kernelCost(rect).flops).toBe(2 * 90 * 160 * 64 * (49 * 3 + 1));
    expect(compactConfig(resolveConfig(rect))).toMatchObject({ W: 320 });
    expect(compactConfig(resolveConfig({ ...rect, W: 180 }))).not.toHaveProperty('W');
    expect(resolveConfig({ type: 'relu', HW: 7, CIN: 8 }).W).toBe(7);
  });

  it("pad non-overlapping and even windows with nothing (patchify stems), odd ones 'same' times the dilation", () => {
    const stem = resolveConfig({ type: 'conv-bn', HW: 224, CIN: 3, COUT: 40, KERNEL_SIZE: 4, STRIDES: 4 });
    expect(getKernelSpec('conv-bn').outputShapes(stem)).toEqual([[1, 40, 56, 56]]);
    const dilated = resolveConfig({ type: 'dwconv-bn-relu', HW: 28, CIN: 8, KERNEL_SIZE: 3, STRIDES: 1, DILATION: 2 });
    expect(getKernelSpec('dwconv-bn-relu').outputShapes(dilated)).toEqual([[1, 8, 28, 28]]);
    const model = onnxProto.onnx.ModelProto.decode(buildKernelModel(compactConfig(dilated)).bytes);
    const conv = model.graph!.node.find((n) => n.opType === 'Conv')!;
    expect(conv.attribute.find((a) => a.name === 'pads')!.ints.map(Number)).toEqual([2, 2, 2, 2]);
    expect(conv.attribute.find((a) => a.name === 'dilations')!.ints.map(Number)).toEqual([2, 2]);
  });

  it('broadcast the second input of a binary op per channel or as a scalar', () => {
    expect(getKernelSpec('mul').inputShapes(resolveConfig({ type: 'mul', HW: 14, W: 10, CIN: 96, BCAST: 1 }))).toEqual([
      [1, 96, 14, 10],
      [1, 96, 1, 1],
    ]);
    expect(getKernelSpec('div').inputShapes(resolveConfig({ type: 'div', HW: 14, CIN: 96, BCAST: 2 }))).toEqual([
      [1, 96, 14, 14],
      [1, 1, 1, 1],
    ]);
  });

  it('take the SE squeeze width where given', () => {
    expect(kernelCost({ type: 'se', HW: 7, CIN: 96, CMID: 24 }).params).toBe(24 * 97 + 96 * 25);
  });
});

describe('config validation names the field', () => {
  it('rejects unknown types, missing, non-integer and non-positive fields', () => {
    rejects({ type: 'conv-bn-gelu' }, 'type', /unknown kernel type 'conv-bn-gelu'/);
    rejects({ HW: 3 }, 'type', /missing/);
    rejects({ type: 'conv-bn-relu', HW: 28, CIN: 32, KERNEL_SIZE: 3, STRIDES: 1 }, 'COUT', /required/);
    rejects({ type: 'conv-bn-relu', HW: 28.5, CIN: 32, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 }, 'HW', /integer/);
    rejects({ type: 'conv-bn-relu', HW: 28, CIN: 0, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 }, 'CIN', /positive/);
    rejects({ type: 'conv-bn-relu', HW: 28, CIN: -4, COUT: 8, KERNEL_SIZE: 3, STRIDES: 1 }, 'CIN', /positive/);
    rejects({ type: 'relu', HW: '28', CIN: 8 }, 'HW', /integer/);
  });

  it('rejects fields the kernel type does not have', () => {
    rejects({ type: 'relu', HW: 28, CIN: 8, KERNEL_SIZE: 3 }, 'KERNEL_SIZE', /not a field of relu/);
  });

  it('rejects channels not divisible by groups or heads', () => {
    rejects({ type: 'channelshuffle', HW: 8, CIN: 9, GROUPS: 2 }, 'CIN', /not divisible by GROUPS/);
    rejects({ type: 'split', HW: 8, CIN: 7 }, 'CIN', /divisible/);
    rejects({ type: 'mhsa', L: 16, CIN: 100, HEADS: 3 }, 'CIN', /HEADS/);
  });

  it('rejects a kernel larger than its padded input, in either dimension, dilated or not', () => {
    rejects({ type: 'maxpool', HW: 2, CIN: 8, KERNEL_SIZE: 3, STRIDES: 3 }, 'KERNEL_SIZE', /larger than the padded input/);
    rejects({ type: 'conv-bn', HW: 8, CIN: 8, COUT: 8, KERNEL_SIZE: 4, STRIDES: 1, W: 3 }, 'KERNEL_SIZE', /W 3/);
    rejects({ type: 'dwconv-bn', HW: 4, CIN: 8, KERNEL_SIZE: 3, STRIDES: 3, DILATION: 2 }, 'KERNEL_SIZE', /dilated 2x/);
  });

  it('rejects a broadcast code it does not know', () => {
    rejects({ type: 'mul', HW: 8, CIN: 8, BCAST: 3 }, 'BCAST', /must be 0/);
  });

  it('rejects tensors beyond the memory cap', () => {
    rejects({ type: 'conv-bn-relu', HW: 2048, CIN: 512, COUT: 512, KERNEL_SIZE: 3, STRIDES: 1 }, 'HW', /MiB cap/);
    expect(() => resolveConfig({ type: 'relu', HW: 64, CIN: 64 }, { maxBytes: 1024 })).toThrow(/over the 0.0 MiB cap/);
  });

  it('rejects CIN4 without CIN3', () => {
    rejects({ type: 'concat', HW: 8, CIN1: 8, CIN2: 8, CIN4: 8 }, 'CIN3', /CIN4/);
  });
});

describe('measurement helpers', () => {
  it('puts the cache scrub first, reading an overridable buffer of the asked size', () => {
    const model = onnxProto.onnx.ModelProto.decode(buildKernelModel(exampleConfig('relu'), { scrubBytes: 4096 }).bytes);
    expect(model.graph!.node[0]!.opType).toBe('ReduceMax');
    expect(model.graph!.node[0]!.name).toMatch(/^litepred_scrub/);
    const buffer = model.graph!.initializer.find((t) => t.name === model.graph!.node[0]!.input[0]);
    expect(buffer!.dims.map(Number)).toEqual([1024]);
    // Declared as a graph input too, so ORT cannot constant-fold the read away.
    expect(model.graph!.input.map((i) => i.name)).toContain(buffer!.name);
  });

  it('builds a null model with the same inputs and nothing but the sink, as many sinks as the kernel model it pairs with', () => {
    const model = onnxProto.onnx.ModelProto.decode(
      buildNullModel([
        [1, 8, 4, 4],
        [1, 8, 4, 4],
      ]).bytes,
    );
    expect(model.graph!.node.map((n) => n.opType)).toEqual(['Slice', 'Slice', 'Sum']);
    const concats = buildKernelModel({ type: 'concat', HW: 2, CIN1: 4, CIN2: 4, CIN3: 4 }, { copies: 5 });
    expect(concats.sinks).toBe(5);
    const paired = onnxProto.onnx.ModelProto.decode(
      buildNullModel(
        concats.inputs.map((i) => i.shape),
        { sinks: concats.sinks },
      ).bytes,
    );
    expect(paired.graph!.node.filter((n) => n.opType === 'Slice')).toHaveLength(5);
    expect(paired.graph!.input).toHaveLength(15);
  });
});

describe('copies of a kernel in one model', () => {
  const count = (bytes: Uint8Array, op: string) =>
    onnxProto.onnx.ModelProto.decode(bytes).graph!.node.filter((n) => n.opType === op).length;

  it("chains copies where the output has the input's shape, with one input", () => {
    const c = { type: 'relu', HW: 4, CIN: 8 };
    expect(replication(c)).toBe('chain');
    const m = buildKernelModel(c, { copies: 5 });
    expect(count(m.bytes, 'Relu')).toBe(5);
    expect(m.inputs).toHaveLength(1);
  });

  it('puts copies with weights side by side on the same inputs, weightless ones on inputs of their own', () => {
    const conv = { type: 'conv-bn', HW: 8, CIN: 8, COUT: 16, KERNEL_SIZE: 3, STRIDES: 2 };
    expect(replication(conv)).toBe('shared-inputs');
    const m = buildKernelModel(conv, { copies: 3 });
    expect(count(m.bytes, 'Conv')).toBe(3);
    expect(m.inputs).toHaveLength(1);
    const pool = { type: 'maxpool', HW: 8, CIN: 8, KERNEL_SIZE: 2, STRIDES: 2 };
    expect(replication(pool)).toBe('own-inputs');
    expect(buildKernelModel(pool, { copies: 3 }).inputs).toHaveLength(3);
    // Two shuffles in a row are transposes an optimizer cancels: never chained.
    expect(replication({ type: 'channelshuffle', HW: 4, CIN: 8 })).toBe('own-inputs');
  });

  it('refuses a copy count that is not a positive whole number', () => {
    expect(() => buildKernelModel({ type: 'relu', HW: 4, CIN: 8 }, { copies: 0 })).toThrow(/copies/);
  });
});

describe('params against the built model', () => {
  it.each(kernelTypes())('%s: the params formula counts the float weights the ONNX model really has', (type) => {
    const c = resolveConfig(exampleConfig(type));
    const graph = onnxProto.onnx.ModelProto.decode(buildKernelModel(exampleConfig(type)).bytes).graph!;
    const FLOAT = onnxProto.onnx.TensorProto.DataType.FLOAT;
    // Float tensors with at least one dimension; scalars (Clip bounds, the attention scale) and Resize's scales are not parameters.
    const weights = graph.initializer
      .filter((t) => t.dataType === FLOAT && t.dims.length > 0 && !t.name!.startsWith('scales'))
      .reduce((sum, t) => sum + t.dims.reduce((p: number, d) => p * Number(d), 1), 0);
    const spec = getKernelSpec(type);
    // nn-Meter counts a conv's params only: batch norm folds into the conv at inference.
    const foldedBn = /^(dw)?conv-bn/.test(type) ? 4 * spec.outputShapes(c)[0]![1]! : 0;
    expect(weights).toBe(spec.params(c) + foldedBn);
  });
});
