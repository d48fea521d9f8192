// The runtime configurations of this machine the benchmarks measure (the starter pool's devices).
import type { RuntimeOptions } from '@litepred/profiler';

export const RUNTIMES: Record<string, RuntimeOptions> = {
  'node-t1-all': { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' },
  'node-t2-all': { backend: 'ort-node', threads: 2, graphOptimizationLevel: 'all' },
  'node-t1-basic': { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'basic' },
  'node-t1-disabled': { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'disabled' },
  'web-t1': { backend: 'ort-web', threads: 1, graphOptimizationLevel: 'all' },
  'web-t2': { backend: 'ort-web', threads: 2, graphOptimizationLevel: 'all' },
};
