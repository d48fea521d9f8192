// Whole architectures timed end to end (what a device's composition is fitted on): every model
// of the lease opened once, then timed in short rounds interleaved across the models, so a burst
// of load on the device slows one round of a model rather than all of its runs; each model's
// latency is its fastest round's median.
import { performance } from 'node:perf_hooks';
import { architectureOf, type WireKernelConfig, type WireMeasurementProtocol, type WireModelMeasurement } from '@litepred/protocol';
import type { KernelProfiler } from '@litepred/profiler';
import { buildArchitectureModel, getSpace, kernelsOf, sampleArchitecture } from '@litepred/spaces';

export const ARCHITECTURE_ROUNDS = 3;

export async function measureArchitectures(profiler: KernelProfiler, configs: readonly WireKernelConfig[], protocol: WireMeasurementProtocol,
  rounds = ARCHITECTURE_ROUNDS): Promise<{ measurement?: WireModelMeasurement; error?: Error }[]> {
  const round = { warmupRuns: Math.min(3, protocol.warmupRuns), warmupMs: 0, minRuns: Math.min(10, protocol.minRuns), maxRuns: Math.min(10, protocol.minRuns), maxMs: protocol.maxMs };
  type Open = { config: WireKernelConfig; session: Awaited<ReturnType<KernelProfiler['openModel']>>; kernels: number; sessionCreateMs: number; medians: number[] };
  const open: (Open | { config: WireKernelConfig; error: Error })[] = [];
  for (const config of configs) {
    try {
      const { space, seed } = architectureOf(config);
      const arch = sampleArchitecture(getSpace(space), seed);
      const t0 = performance.now();
      const session = await profiler.openModel(buildArchitectureModel(arch));
      open.push({ config, session, kernels: kernelsOf(arch).length, sessionCreateMs: performance.now() - t0, medians: [] as number[] });
    } catch (error) {
      open.push({ config, error: error as Error });
    }
  }
  try {
    for (let r = 0; r < rounds; r++) {
      for (const m of open) if ('session' in m) m.medians.push((await m.session.time(round)).median);
    }
  } finally {
    for (const m of open) if ('session' in m) await m.session.close();
  }
  const measuredAt = new Date().toISOString();
  const { backend, threads, graphOptimizationLevel, runtimeVersion, executionProvider } = profiler.runtime;
  return open.map((m) => ('error' in m ? { error: m.error } : {
    measurement: {
      kind: 'model', config: m.config, latencyMs: Math.min(...m.medians), roundMedians: m.medians, kernels: m.kernels, sessionCreateMs: m.sessionCreateMs,
      runtime: { backend, threads, graphOptimizationLevel, runtimeVersion, executionProvider }, measuredAt,
    },
  }));
}
