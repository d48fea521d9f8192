// Labels of kernels near the timer's resolution: how many copies, and copies timed for real.
import { describe, expect, it } from 'vitest';
import { KernelProfiler, copiesFor, MAX_COPIES, MAX_REPLICA_BYTES, REPLICATION_SPAN_MS } from '@litepred/profiler';

describe('copiesFor', () => {
  it('asks for enough copies to span the target, none for a kernel that spans it alone', () => {
    expect(copiesFor(0.2, REPLICATION_SPAN_MS)).toBe(1);
    expect(copiesFor(0.1, REPLICATION_SPAN_MS)).toBe(1);
    expect(copiesFor(0.02, REPLICATION_SPAN_MS)).toBe(5);
    expect(copiesFor(0.06, REPLICATION_SPAN_MS)).toBe(2);
    // A kernel labelled 0 by one copy gets the most copies, not infinitely many.
    expect(copiesFor(0, REPLICATION_SPAN_MS)).toBe(MAX_COPIES);
    expect(copiesFor(0.001, 0)).toBe(1);
  });

  it(
    'keeps the bytes the copies read of their own (inputs or weights) within the cache budget, and makes none where two ' + 'would not fit',
    () => {
      expect(copiesFor(0.001, REPLICATION_SPAN_MS, MAX_REPLICA_BYTES / 4)).toBe(4);
      expect(copiesFor(0.001, REPLICATION_SPAN_MS, MAX_REPLICA_BYTES)).toBe(1);
    },
  );
});

describe('replicated labels on onnxruntime-node', () => {
  const quick = { warmupRuns: 3, warmupMs: 0, minRuns: 10, maxRuns: 40, maxMs: 300, targetPrecision: 0.05 };

  it('times a kernel near the resolution as copies, end to end, and never labels it 0', async () => {
    const profiler = await KernelProfiler.create({ protocol: quick, coldWeightMsPerByte: 0 });
    const tiny = await profiler.measure({ type: 'relu', HW: 4, CIN: 8 });
    expect(tiny.copies).toBeGreaterThan(1);
    expect(tiny.method).toBe('paired-null-difference');
    expect(tiny.latencyMs).toBeGreaterThan(0);
    // Weightless and not chainable (a pool halves its input): copies side by side, within the input budget.
    const pool = await profiler.measure({ type: 'maxpool', HW: 8, CIN: 8, KERNEL_SIZE: 2, STRIDES: 2 });
    expect(pool.copies).toBeGreaterThan(1);
    expect(pool.latencyMs).toBeGreaterThan(0);
    // More inputs than outputs: the null model ends in as many sinks as the copies' outputs, not one per input
    // (with one per input it cost more than the concats and labelled them 0).
    const concat = await profiler.measure({ type: 'concat', HW: 2, CIN1: 4, CIN2: 4, CIN3: 4, CIN4: 4 });
    expect(concat.copies).toBeGreaterThan(1);
    expect(concat.latencyMs).toBeGreaterThan(0);
  });

  it("replicates a small kernel with big weights only as far as the copies' weights stay in cache", async () => {
    const profiler = await KernelProfiler.create({ protocol: quick, coldWeightMsPerByte: 0 });
    // 1.9 MB of weights: one copy alone is over the budget, so it is timed once.
    const fc = await profiler.measure({ type: 'fc', CIN: 3144, COUT: 152 });
    expect(fc.copies).toBeUndefined();
    // 64 KB: at most 8 copies.
    const small = await profiler.measure({ type: 'fc', CIN: 128, COUT: 128 });
    expect(small.copies ?? 1).toBeLessThanOrEqual(MAX_REPLICA_BYTES / (4 * 128 * 129));
  });

  it('times a transpose on its whole input: the optimizer cannot move it past the sink', async () => {
    // With a Slice right after it, ORT's transpose optimizer moved the Transpose past the Slice and
    // ran it on one element: 1.2 MB permutes came out 0 ms.
    const profiler = await KernelProfiler.create({ protocol: quick, coldWeightMsPerByte: 0 });
    const m = await profiler.measure({ type: 'transpose', HW: 56, CIN: 96 });
    expect(m.copies).toBeUndefined();
    expect(m.latencyMs).toBeGreaterThan(0);
  });

  it('leaves a kernel that spans the target alone, and replicates nothing when told not to', async () => {
    const big = { type: 'conv-bn-relu', HW: 56, CIN: 64, COUT: 64, KERNEL_SIZE: 3, STRIDES: 1 };
    const profiler = await KernelProfiler.create({ protocol: quick, coldWeightMsPerByte: 0 });
    const m = await profiler.measure(big);
    expect(m.copies).toBeUndefined();
    expect(m.method).toBe('node-profile');
    const off = await KernelProfiler.create({ protocol: quick, coldWeightMsPerByte: 0, replicationSpanMs: 0 });
    expect((await off.measure({ type: 'relu', HW: 4, CIN: 8 })).copies).toBeUndefined();
  });
});
