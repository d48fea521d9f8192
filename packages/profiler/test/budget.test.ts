// A kernel that would outlast its task is refused before it is built, with the reason.
import { describe, expect, it } from 'vitest';
import { KernelBudgetError, KernelProfiler } from '@litepred/profiler';

describe('measurement budget', () => {
  it('refuses a convolution whose single run would take longer than maxMs, and measures one that fits', async () => {
    const profiler = await KernelProfiler.create({
      coldWeightMsPerByte: 0,
      protocol: { warmupRuns: 1, warmupMs: 0, minRuns: 5, maxRuns: 10, maxMs: 500 },
    });
    expect(profiler.flopsPerMs).toBeGreaterThan(0);
    // Half a TMAC, like the uniform sampler's convolution that once held an agent for minutes.
    const huge = { type: 'conv-bn-relu', HW: 224, CIN: 1024, COUT: 1024, KERNEL_SIZE: 3, STRIDES: 1 };
    const refused = profiler.measure(huge);
    await expect(refused).rejects.toBeInstanceOf(KernelBudgetError);
    await expect(refused).rejects.toThrow(
      /conv-bn-relu: \d+\.\d GFLOPs take at least \d+\.\d s a run on this device .* over the task's budget of 500 ms \(maxMs\)/,
    );
    const fits = await profiler.measure({ type: 'conv-bn-relu', HW: 14, CIN: 32, COUT: 32, KERNEL_SIZE: 3, STRIDES: 1 });
    expect(fits.latencyMs).toBeGreaterThan(0);
  });
});
