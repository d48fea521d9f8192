// Measurements as CSV: one row per measurement, the config's fields as columns (blank where a
// kernel type does not have one), then the numbers a predictor is trained on.
import { CONFIG_FIELDS } from '@litepred/kernels';
import type { StoredMeasurement } from './store.js';

interface M { config: Record<string, number | string>; kernel: { median: number; p10: number; p90: number; n: number }; runtime: { backend: string; threads: number; graphOptimizationLevel: string; runtimeVersion: string }; boundary: { coldWeightsMs: number }; drift?: { flagged: boolean } }

export function toCsv(rows: readonly StoredMeasurement[]): string {
  const header = ['task_id', 'campaign_id', 'device_id', 'kernel_type', ...CONFIG_FIELDS, 'latency_ms', 'hot_median_ms', 'p10_ms', 'p90_ms', 'runs',
    'cold_weights_ms', 'drift_flagged', 'backend', 'threads', 'opt_level', 'runtime_version'];
  const lines = rows.map((r) => {
    const m = r.measurement as M;
    return [r.taskId, r.campaignId, r.deviceId, r.kernelType, ...CONFIG_FIELDS.map((f) => m.config[f] ?? ''), r.latencyMs, m.kernel.median, m.kernel.p10,
      m.kernel.p90, m.kernel.n, m.boundary.coldWeightsMs, m.drift?.flagged ?? '', m.runtime.backend, m.runtime.threads, m.runtime.graphOptimizationLevel,
      m.runtime.runtimeVersion].join(',');
  });
  return [header.join(','), ...lines].join('\n') + '\n';
}
