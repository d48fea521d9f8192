// Every kernel type on both real runtimes, and real measurements on both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { buildKernelModel, buildNetworkModel, exampleConfig, kernelTypes, type BuiltModel } from '@litepred/kernels';
import { mobileNetV2 } from '@litepred/spaces';
import { KernelProfiler, measureInRounds, measureWithDriftChecks, REFERENCE_KERNEL } from '@litepred/profiler';

type Ort = typeof ortNode;
const runtimes: [string, Ort, string][] = [
  ['onnxruntime-node', ortNode, 'cpu'],
  ['onnxruntime-web (wasm)', ortWeb as unknown as Ort, 'wasm'],
];

async function outputShapes(ort: Ort, ep: string, model: BuiltModel): Promise<number[][]> {
  const session = await ort.InferenceSession.create(model.bytes, { executionProviders: [ep] });
  const feeds = Object.fromEntries(
    model.inputs.map((i) => [
      i.name,
      new ort.Tensor('float32', new Float32Array(i.shape.reduce((a, b) => a * b, 1)).fill(0.5), [...i.shape]),
    ]),
  );
  const out = await session.run(feeds);
  await session.release();
  return model.outputs.map((o) => [...out[o.name]!.dims]);
}

describe.each(runtimes)('%s', (_name, ort, ep) => {
  it.each(kernelTypes())('runs %s with the output shape of the formula', async (type) => {
    const model = buildKernelModel(exampleConfig(type), { outputs: 'full' });
    expect(await outputShapes(ort, ep, model)).toEqual(model.outputs.map((o) => [...o.shape]));
  });

  it.each([
    { type: 'conv-bn-relu', HW: 45, W: 80, CIN: 16, COUT: 24, KERNEL_SIZE: 7, STRIDES: 2 },
    { type: 'conv-bn', HW: 64, CIN: 3, COUT: 24, KERNEL_SIZE: 4, STRIDES: 4 },
    { type: 'dwconv-bn-sigmoid', HW: 14, W: 21, CIN: 32, KERNEL_SIZE: 5, STRIDES: 1, DILATION: 2 },
    { type: 'maxpool', HW: 45, W: 80, CIN: 8, KERNEL_SIZE: 3, STRIDES: 2 },
    { type: 'se', HW: 12, W: 16, CIN: 64, CMID: 16 },
    { type: 'mul', HW: 12, W: 16, CIN: 64, BCAST: 1 },
    { type: 'add', HW: 12, CIN: 64, BCAST: 2 },
    { type: 'prelu', HW: 9, W: 4, CIN: 8 },
  ])('runs rectangular, dilated and broadcast configs with the output shape of the formula: $type', async (config) => {
    const model = buildKernelModel(config, { outputs: 'full' });
    expect(await outputShapes(ort, ep, model)).toEqual(model.outputs.map((o) => [...o.shape]));
  });

  it('runs a whole network built from the same kernels', async () => {
    const net = mobileNetV2(7);
    const model = buildNetworkModel(net.layers, net.inputShape);
    expect(await outputShapes(ort, ep, model)).toEqual([[...model.outputs[0]!.shape]]);
  });
});

const quick = { warmupRuns: 3, warmupMs: 0, minRuns: 10, maxRuns: 40, maxMs: 200, targetPrecision: 0.05 };

describe('KernelProfiler on onnxruntime-node', () => {
  let profiler: KernelProfiler;
  beforeAll(async () => {
    profiler = await KernelProfiler.create({ protocol: quick });
  });

  it('records the runtime options and version with every measurement', async () => {
    const m = await profiler.measure(REFERENCE_KERNEL);
    expect(m.runtime).toEqual({
      backend: 'ort-node',
      threads: 1,
      graphOptimizationLevel: 'all',
      runtimeVersion: '1.30.0',
      executionProvider: 'cpu',
    });
    expect(m.method).toBe('node-profile');
    expect(m.config).toEqual(REFERENCE_KERNEL);
    expect(m.kernel.n).toBe(m.wall.n);
    expect(m.kernel.n).toBeGreaterThanOrEqual(10);
    expect(m.warmupRuns).toBeGreaterThanOrEqual(3);
    expect(m.statistic).toBe('median');
    expect(m.latencyMs).toBeCloseTo(m.kernel.median + m.boundary.coldWeightsMs, 12);
    expect(m.profileNodeOverheadUs).toBe(profiler.nodeOverheadUs);
  });

  it('calibrates the per-node profiler cost and the cold-weight cost on this machine', () => {
    // ORT's profiler always costs something per node, and weights from memory cost more than from cache.
    expect(profiler.nodeOverheadUs).toBeGreaterThan(0);
    expect(profiler.coldWeightMsPerByte).toBeGreaterThan(0);
  });

  it('adds the cold-weight term in proportion to weight bytes', async () => {
    const m = await profiler.measure({ type: 'fc', CIN: 1280, COUT: 1000 });
    expect(m.boundary.coldWeightsMs).toBeCloseTo(profiler.coldWeightMsPerByte * 4 * 1000 * 1281, 12);
  });

  it("counts an SE block's layout reorders as its own: they happen inside a network too", async () => {
    const m = await profiler.measure({ type: 'se', HW: 14, CIN: 96 });
    expect(m.boundary.reorderInMs).toBe(0);
    expect(m.boundary.reorderOutMs).toBe(0);
  });

  it('separates the kernel from what a standalone model adds around it', async () => {
    const m = await profiler.measure({ type: 'conv-bn-relu', HW: 56, CIN: 32, COUT: 64, KERNEL_SIZE: 3, STRIDES: 1 });
    // A conv runs in ORT's blocked NCHWc layout: the standalone model reorders in and out.
    expect(m.boundary.reorderInMs).toBeGreaterThan(0);
    expect(m.boundary.reorderOutMs).toBeGreaterThan(0);
    expect(m.kernel.median).toBeGreaterThan(0);
    expect(m.kernel.median).toBeLessThan(m.wall.median);
  });

  it('validates before measuring, naming the field', async () => {
    await expect(profiler.measure({ type: 'conv-bn-relu', HW: 56, CIN: 32, COUT: 64, KERNEL_SIZE: 3, STRIDES: 0 })).rejects.toThrow(
      /STRIDES: must be positive/,
    );
  });

  it('brackets windows with reference checks and reports bad configs in place', async () => {
    const configs = [exampleConfig('relu'), { type: 'relu', HW: -1, CIN: 8 }, exampleConfig('add'), exampleConfig('bn')];
    const checks: number[] = [];
    const out = [];
    for await (const item of measureWithDriftChecks(profiler, configs, { every: 2, threshold: 10 }, (c) => checks.push(c.ratio)))
      out.push(item);
    expect(out).toHaveLength(4);
    expect(out[1]!.error?.message).toMatch(/HW: must be positive/);
    expect(checks).toHaveLength(3); // before, after the window of 2, after the last
    expect(checks[0]).toBe(1);
    expect(out[0]!.measurement!.drift).toMatchObject({ ratioBefore: 1, flagged: false });
    // A threshold no real timing can meet flags every window.
    const strict = [];
    for await (const item of measureWithDriftChecks(profiler, [exampleConfig('relu')], { threshold: -1 })) strict.push(item);
    expect(strict[0]!.measurement!.drift!.flagged).toBe(true);
  });

  it("measures in rounds interleaved across the kernels, keeps each one's fastest round, and does not retry a bad config", async () => {
    const measured: string[] = [];
    const counting = Object.create(profiler) as KernelProfiler;
    counting.measure = (config, protocol) => {
      measured.push(config.type);
      return profiler.measure(config, protocol);
    };
    const out = await measureInRounds(counting, [exampleConfig('relu'), { type: 'add', HW: 0, CIN: 8 }, exampleConfig('bn')], 3);
    expect(measured).toEqual(['relu', 'add', 'bn', 'relu', 'bn', 'relu', 'bn']);
    expect(out[1]!.error?.message).toMatch(/HW: must be positive/);
    for (const item of [out[0]!, out[2]!]) {
      const rounds = item.measurement!.roundLatenciesMs!;
      expect(rounds).toHaveLength(3);
      expect(item.measurement!.latencyMs).toBe(Math.min(...rounds));
    }
    await expect(measureInRounds(profiler, [exampleConfig('relu')], 0)).rejects.toThrow(/rounds: must be a positive integer/);
    // The protocol's rounds reach the drift-checked path an agent measures its leases with.
    const viaDrift = [];
    for await (const item of measureWithDriftChecks(profiler, [exampleConfig('relu'), exampleConfig('add')], { protocol: { rounds: 2 } }))
      viaDrift.push(item);
    expect(viaDrift.map((i) => i.measurement!.roundLatenciesMs!.length)).toEqual([2, 2]);
    expect(viaDrift[0]!.measurement!.drift).toBeDefined();
  });

  it('times a whole model and the bare run overhead', async () => {
    const net = mobileNetV2(3);
    const model = await profiler.measureModel(buildNetworkModel(net.layers, net.inputShape));
    const overhead = await profiler.measureRunOverhead([net.inputShape]);
    expect(model.median).toBeGreaterThan(overhead.median);
  });
});

describe('KernelProfiler on onnxruntime-web (wasm)', () => {
  let profiler: KernelProfiler;
  beforeAll(async () => {
    profiler = await KernelProfiler.create({ runtime: { backend: 'ort-web' }, protocol: quick });
  });
  afterAll(() => undefined);

  it('measures by pairing each run with a null model of the same inputs', async () => {
    const m = await profiler.measure(REFERENCE_KERNEL);
    expect(m.method).toBe('paired-null-difference');
    expect(m.runtime).toMatchObject({ backend: 'ort-web', executionProvider: 'wasm', runtimeVersion: '1.30.0' });
    expect(m.boundary.runOverheadMs).toBeGreaterThan(0);
    expect(m.kernel.median).toBeGreaterThan(0);
    expect(m.kernel.median).toBeLessThan(m.wall.median);
  });

  it('refuses a per-node profile it does not have', async () => {
    await expect(KernelProfiler.create({ runtime: { backend: 'ort-web' }, method: 'node-profile' })).rejects.toThrow(/no per-node profile/);
  });
});
