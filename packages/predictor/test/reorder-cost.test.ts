import { describe, expect, it } from 'vitest';
import { convTensorBytes, decomposeModel, fitReorderCost, predictDecomposed, reorderMs, type Decomposition } from '@litepred/predictor';
import { buildNetworkModel } from '@litepred/kernels';

describe('reorder cost', () => {
  // 20 GB/s with a 1 µs floor: what this machine's convs show (docs: real-models).
  const samples = Array.from({ length: 200 }, (_, i) => {
    const bytes = 2 ** (10 + (i % 16));
    return { bytes, ms: 0.001 + (bytes / 20e9) * 1000 };
  });

  it('follows the measured medians, rises with the bytes, and scales with them past the ends', () => {
    const cost = fitReorderCost(samples)!;
    expect(cost.log2Bytes[0]).toBe(10);
    expect(reorderMs(cost, 2 ** 20)).toBeCloseTo(0.001 + 2 ** 20 / 20e6, 6);
    const sizes = [2 ** 9, 3000, 2 ** 15 + 5, 2 ** 22, 2 ** 27];
    const ms = sizes.map((b) => reorderMs(cost, b));
    expect(ms).toEqual([...ms].sort((a, b) => a - b));
    expect(reorderMs(cost, 2 ** 27) / reorderMs(cost, 2 ** 26)).toBeCloseTo(2, 6);
    expect(reorderMs(cost, 0)).toBe(0);
  });

  it('is undefined for a device that shows no reorders (no NCHWc), or too few', () => {
    expect(fitReorderCost(samples.map((s) => ({ ...s, ms: 0 })))).toBeUndefined();
    expect(fitReorderCost(samples.slice(0, 10))).toBeUndefined();
  });

  it('knows the bytes of a conv and a depthwise conv, rectangular and strided; nothing for other kernels', () => {
    expect(convTensorBytes({ type: 'conv-bn-relu', HW: 56, W: 28, CIN: 16, COUT: 32, KERNEL_SIZE: 3, STRIDES: 2 })).toEqual({
      input: 4 * 56 * 28 * 16,
      output: 4 * 28 * 14 * 32,
    });
    expect(convTensorBytes({ type: 'dwconv-bn', HW: 14, CIN: 64, KERNEL_SIZE: 5, STRIDES: 1 })).toEqual({
      input: 4 * 14 * 14 * 64,
      output: 4 * 14 * 14 * 64,
    });
    expect(convTensorBytes({ type: 'relu', HW: 14, CIN: 64 })).toBeUndefined();
  });
});

describe('reorders and copies in a prediction', () => {
  const cost = fitReorderCost(Array.from({ length: 100 }, (_, i) => ({ bytes: 2 ** (10 + (i % 12)), ms: 2 ** (10 + (i % 12)) / 20e6 })))!;
  const decomposition: Decomposition = {
    kernels: [],
    foldsBatchNorm: true,
    reorders: [
      { tensor: 'a', bytes: 2 ** 18, kind: 'out' },
      { tensor: 'b', bytes: 2 ** 16, kind: 'in' },
    ],
    copies: [{ op: 'Transpose', bytes: 2 ** 18 }],
    coverage: { glue: {}, folded: 0, unsupported: [], flopsShare: 1, nodeShare: 1, guessedShapes: [] },
  };

  it("prices them with the device's reorder cost, and at nothing for a device that has none", () => {
    const p = predictDecomposed(decomposition, new Map(), { overheadMs: 0.05, reorderCost: cost });
    expect(p.reorders).toEqual({ count: 2, ms: reorderMs(cost, 2 ** 18) + reorderMs(cost, 2 ** 16) });
    expect(p.copies).toEqual({ count: 1, ms: reorderMs(cost, 2 ** 18) });
    expect(p.latencyMs).toBeCloseTo(0.05 + p.reorders.ms + p.copies.ms, 9);
    const none = predictDecomposed(decomposition, new Map(), { overheadMs: 0.05 });
    expect(none.latencyMs).toBe(0.05);
    expect(none.reorders).toEqual({ count: 0, ms: 0 });
  });

  it('finds the copying glue of a network (conv to tokens) with its output bytes, and the reorders around the conv', () => {
    const model = buildNetworkModel(
      [
        { config: { type: 'conv-bn-relu', HW: 8, CIN: 16, COUT: 16, KERNEL_SIZE: 3, STRIDES: 1 } },
        { glue: 'tokens' },
        { config: { type: 'layernorm', L: 64, CIN: 16 } },
      ],
      [1, 16, 8, 8],
    );
    const d = decomposeModel(model.bytes);
    expect(d.copies.length).toBeGreaterThan(0);
    expect(d.copies.every((c) => c.bytes === 4 * 64 * 16)).toBe(true);
    expect(d.reorders.find((r) => r.kind === 'out')?.bytes).toBe(4 * 64 * 16); // the conv's blocked output, read by the reshape
    expect(d.reorders.some((r) => r.kind === 'in')).toBe(true); // the conv reads a 16-channel NCHW input
  });
});
