import { describe, expect, it } from 'vitest';
import { nodeRole, parseOrtProfile, reordersInsideKernel, splitRun, type RunProfile } from '@litepred/profiler';

// The shape of onnxruntime's profile JSON, as onnxruntime-node 1.30 writes it.
const trace = [
  { cat: 'Session', name: 'model_loading_array', ts: 0, dur: 300 },
  { cat: 'Session', name: 'model_run', ts: 1000, dur: 400 },
  { cat: 'Node', name: 'ReorderInput_kernel_time', ts: 1010, dur: 7, args: { op_name: 'ReorderInput' } },
  { cat: 'Node', name: 'relu_0_nchwc_kernel_time', ts: 1020, dur: 280, args: { op_name: 'Conv' } },
  { cat: 'Node', name: 'ReorderOutput_kernel_time', ts: 1300, dur: 23, args: { op_name: 'ReorderOutput' } },
  { cat: 'Node', name: 'litepred_sink_0_kernel_time', ts: 1330, dur: 5, args: { op_name: 'Slice' } },
  { cat: 'Session', name: 'model_run', ts: 2000, dur: 390 },
  { cat: 'Node', name: 'ReorderInput_kernel_time', ts: 2010, dur: 6, args: { op_name: 'ReorderInput' } },
  { cat: 'Node', name: 'relu_0_nchwc_kernel_time', ts: 2020, dur: 270, args: { op_name: 'Conv' } },
  { cat: 'Node', name: 'ReorderOutput_kernel_time', ts: 2300, dur: 22, args: { op_name: 'ReorderOutput' } },
  { cat: 'Node', name: 'litepred_sink_0_kernel_time', ts: 2330, dur: 4, args: { op_name: 'Slice' } },
];

describe('ORT profile parsing', () => {
  it('groups node events by the run they fall in', () => {
    const runs = parseOrtProfile(trace);
    expect(runs).toHaveLength(2);
    expect(runs.map((r) => r.nodes.length)).toEqual([4, 4]);
    expect(runs[1]!.nodes[1]).toEqual({ name: 'relu_0_nchwc', op: 'Conv', us: 270 });
  });

  it('tells kernel nodes from layout reorders and the sink', () => {
    const roles = parseOrtProfile(trace)[0]!.nodes.map(nodeRole);
    expect(roles).toEqual(['reorder-in', 'kernel', 'reorder-out', 'sink']);
    const split = splitRun(parseOrtProfile(trace)[0]!);
    expect(split.kernel).toBeCloseTo(0.28, 12);
    expect(split['reorder-in']).toBeCloseTo(0.007, 12);
    expect(split['reorder-out']).toBeCloseTo(0.023, 12);
    expect(split.sink).toBeCloseTo(0.005, 12);
    expect(split.all).toBeCloseTo(0.315, 12);
  });
});

describe('profile corrections', () => {
  it('takes the calibrated profiler cost off every node, never below zero', () => {
    const split = splitRun(parseOrtProfile(trace)[0]!, 6);
    expect(split.kernel).toBeCloseTo(0.274, 12);
    expect(split['reorder-in']).toBeCloseTo(0.001, 12);
    expect(split.sink).toBe(0);
  });

  it('leaves the cache scrub out of every sum', () => {
    const run: RunProfile = {
      runUs: 0,
      nodes: [
        { name: 'litepred_scrub_0', op: 'ReduceMax', us: 900 },
        { name: 'conv', op: 'Conv', us: 100 },
      ],
    };
    expect(nodeRole(run.nodes[0]!)).toBe('scrub');
    expect(splitRun(run).all).toBeCloseTo(0.1, 12);
  });

  it("counts reorders as the kernel's own when a kernel node runs after leaving the blocked layout", () => {
    const conv = parseOrtProfile(trace)[0]!;
    expect(reordersInsideKernel(conv)).toBe(false);
    const se: RunProfile = {
      runUs: 0,
      nodes: [
        { name: 'ReorderInput', op: 'ReorderInput', us: 5 },
        { name: 'gap', op: 'GlobalAveragePool', us: 5 },
        { name: 'ReorderOutput', op: 'ReorderOutput', us: 5 },
        { name: 'mul', op: 'Mul', us: 5 },
        { name: 'litepred_sink', op: 'Slice', us: 1 },
      ],
    };
    expect(reordersInsideKernel(se)).toBe(true);
  });
});
