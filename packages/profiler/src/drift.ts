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
  for (const config of configs) {
    try {
      window.push({ config, measurement: await profiler.measure(config, options.protocol) });
    } catch (error) {
      window.push({ config, error: error as Error });
    }
    if (window.length >= every) yield* flush(await check());
  }
  if (window.length > 0) yield* flush(await check());
}
