// Whole architectures timed end to end (what a device's composition is fitted on), in rounds
// interleaved across the lease's models (KernelProfiler.timeInRounds); each model's latency is its
// fastest round's median.
import { architectureOf, type WireKernelConfig, type WireMeasurementProtocol, type WireModelMeasurement } from '@litepred/protocol';
import type { KernelProfiler } from '@litepred/profiler';
import { buildArchitectureModel, getSpace, kernelsOf, sampleArchitecture } from '@litepred/spaces';

export const ARCHITECTURE_ROUNDS = 3;

export async function measureArchitectures(
  profiler: KernelProfiler,
  configs: readonly WireKernelConfig[],
  protocol: WireMeasurementProtocol,
  rounds = ARCHITECTURE_ROUNDS,
): Promise<{ measurement?: WireModelMeasurement; error?: Error }[]> {
  const archs = configs.map((config) => () => {
    const { space, seed } = architectureOf(config);
    return sampleArchitecture(getSpace(space), seed);
  });
  const timed = await profiler.timeInRounds(
    archs.map((arch) => () => buildArchitectureModel(arch())),
    rounds,
    protocol,
  );
  const measuredAt = new Date().toISOString();
  const { backend, threads, graphOptimizationLevel, runtimeVersion, executionProvider } = profiler.runtime;
  return timed.map((t, i) =>
    'error' in t
      ? { error: t.error }
      : {
          measurement: {
            kind: 'model',
            config: configs[i]!,
            latencyMs: Math.min(...t.roundMedians),
            roundMedians: t.roundMedians,
            kernels: kernelsOf(archs[i]!()).length,
            sessionCreateMs: t.sessionCreateMs,
            runtime: { backend, threads, graphOptimizationLevel, runtimeVersion, executionProvider },
            measuredAt,
          },
        },
  );
}
