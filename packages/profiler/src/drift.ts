// Drift detection: a fixed reference kernel is re-timed between windows of measurements; a window
// whose bracketing reference times moved more than the threshold from the first one is flagged
// (thermal throttling, a noisy neighbour, a governor change on a real board).
import type { KernelConfig } from '@litepred/kernels';
import type { KernelProfiler } from './profiler.js';
import type { Measurement, MeasurementProtocol } from './types.js';

export const REFERENCE_KERNEL: KernelConfig = { type: 'conv-bn-relu', HW: 28, CIN: 32, COUT: 64, KERNEL_SIZE: 3, STRIDES: 1 };

export interface DriftOptions {
  /** Kernels between two reference checks. */
  every?: number;
  /** Relative change of the reference latency that flags a window. */
  threshold?: number;
  reference?: KernelConfig;
  /** Measurement protocol for these kernels (and the reference checks); default the profiler's. */
  protocol?: Partial<MeasurementProtocol>;
}

export interface DriftCheck {
  index: number;
  latencyMs: number;
  ratio: number;
}

/**
 * Measures every config, yielding each measurement with drift info once the window it belongs to
 * is closed by its second reference check. Invalid configs are not skipped silently: the error is
 * yielded in place of the measurement.
 */
export async function* measureWithDriftChecks(
  profiler: KernelProfiler,
  configs: Iterable<KernelConfig>,
  options: DriftOptions = {},
  onCheck?: (check: DriftCheck) => void,
): AsyncGenerator<{ config: KernelConfig; measurement?: Measurement; error?: Error }> {
  const every = options.every ?? 25;
  const threshold = options.threshold ?? 0.1;
  const reference = options.reference ?? REFERENCE_KERNEL;
  let baseline: number | undefined;
  let checks = 0;
  const check = async () => {
    const latency = (await profiler.measure(reference, options.protocol)).latencyMs;
    baseline ??= latency;
    const ratio = latency / baseline;
    onCheck?.({ index: checks++, latencyMs: latency, ratio });
    return ratio;
  };
  let before = await check();
  let window: { config: KernelConfig; measurement?: Measurement; error?: Error }[] = [];
  const flush = async function* (after: number) {
    const flagged = Math.abs(before - 1) > threshold || Math.abs(after - 1) > threshold;
    for (const item of window) {
      if (item.measurement) item.measurement.drift = { ratioBefore: before, ratioAfter: after, flagged };
      yield item;
    }
    window = [];
    before = after;
  };
  const rounds = options.protocol?.rounds ?? profiler.protocol.rounds ?? 1;
  let pending: KernelConfig[] = [];
  const measureWindow = async () => {
    window = await measureInRounds(profiler, pending, rounds, options.protocol);
    pending = [];
  };
  for (const config of configs) {
    pending.push(config);
    if (pending.length >= every) {
      await measureWindow();
      yield* flush(await check());
    }
  }
  if (pending.length > 0) {
    await measureWindow();
    yield* flush(await check());
  }
}

/**
 * Each config measured `rounds` times, round after round across all of them, keeping its fastest
 * round (with every round's latency in roundLatenciesMs). Interleaving matters: a burst of load on
 * a shared host spoils a round of a few kernels, not every round of one; kernels measured twice
 * agree more often so than with one longer measurement (docs/decisions.md; bench:timing has the
 * reproducible comparison). A config that fails is not measured again.
 */
export async function measureInRounds(
  profiler: KernelProfiler,
  configs: readonly KernelConfig[],
  rounds: number,
  protocol?: Partial<MeasurementProtocol>,
): Promise<{ config: KernelConfig; measurement?: Measurement; error?: Error }[]> {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`rounds: must be a positive integer (got ${rounds})`);
  const results: { config: KernelConfig; measurement?: Measurement; error?: Error; latencies: number[] }[] = configs.map((config) => ({
    config,
    latencies: [],
  }));
  for (let r = 0; r < rounds; r++) {
    for (const item of results) {
      if (item.error) continue;
      try {
        const m = await profiler.measure(item.config, protocol);
        item.latencies.push(m.latencyMs);
        if (!item.measurement || m.latencyMs < item.measurement.latencyMs) item.measurement = m;
      } catch (error) {
        item.error = error as Error;
        item.measurement = undefined;
      }
    }
  }
  return results.map(({ config, measurement, error, latencies }) => {
    if (measurement && rounds > 1) measurement.roundLatenciesMs = latencies;
    return error ? { config, error } : { config, measurement };
  });
}
