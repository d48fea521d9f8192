import { describe, expect, it } from 'vitest';
import { convTensorBytes, fitReorderCost, reorderMs } from '@litepred/predictor';

describe('reorder cost', () => {
  // 20 GB/s with a 1 µs floor: what this machine's convs show (docs: real-models).
  const samples = Array.from({ length: 200 }, (_, i) => {
    const bytes = 2 ** (10 + (i % 16));
    return { bytes, ms: 0.001 + bytes / 20e9 * 1000 };
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
    expect(convTensorBytes({ type: 'conv-bn-relu', HW: 56, W: 28, CIN: 16, COUT: 32, KERNEL_SIZE: 3, STRIDES: 2 })).toEqual({ input: 4 * 56 * 28 * 16, output: 4 * 28 * 14 * 32 });
    expect(convTensorBytes({ type: 'dwconv-bn', HW: 14, CIN: 64, KERNEL_SIZE: 5, STRIDES: 1 })).toEqual({ input: 4 * 14 * 14 * 64, output: 4 * 14 * 14 * 64 });
    expect(convTensorBytes({ type: 'relu', HW: 14, CIN: 64 })).toBeUndefined();
  });
});
