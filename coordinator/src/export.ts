// Measurement exports, streamed: rows are written as SQLite hands them over, so an export of a
// million measurements holds one row in memory, not the whole file. CSV: one row per measurement,
// the config's fields as columns (blank where a kernel type does not have one), then the numbers a
// predictor is trained on; the runtime columns come from the measurement, else from the device's
// fingerprint (starter-pool measurements do not repeat it). JSONL: the stored records as they are.
import type { ServerResponse } from 'node:http';
import { CONFIG_FIELDS } from '@litepred/kernels';
import type { Fingerprint } from '@litepred/protocol';
import type { StoredMeasurement } from './store.js';

export type ExportFormat = 'csv' | 'jsonl';

interface M {
  config?: Record<string, number | string>;
  kernel?: { median?: number; p10?: number; p90?: number; n?: number };
  runtime?: { backend?: string; threads?: number; graphOptimizationLevel?: string; runtimeVersion?: string };
  boundary?: { coldWeightsMs?: number };
  drift?: { flagged?: boolean };
  throttle?: { flagged?: boolean };
}

export const CSV_HEADER = [
  'task_id',
  'campaign_id',
  'device_id',
  'kernel_type',
  ...CONFIG_FIELDS,
  'latency_ms',
  'hot_median_ms',
  'p10_ms',
  'p90_ms',
  'runs',
  'cold_weights_ms',
  'drift_flagged',
  'throttle_flagged',
  'backend',
  'threads',
  'opt_level',
  'runtime_version',
];

/** A CSV field: quoted where it holds a comma, quote or line break (a campaign's name could). */
const field = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function csvRow(r: StoredMeasurement, fingerprint?: Fingerprint): string {
  const m = r.measurement as M;
  const runtime = { ...fingerprint?.runtime, runtimeVersion: fingerprint?.runtimeVersion, ...m.runtime };
  const config = m.config ?? {};
  return [
    r.taskId,
    r.campaignId,
    r.deviceId,
    r.kernelType,
    ...CONFIG_FIELDS.map((f) => config[f]),
    r.latencyMs,
    m.kernel?.median,
    m.kernel?.p10,
    m.kernel?.p90,
    m.kernel?.n,
    m.boundary?.coldWeightsMs,
    m.drift?.flagged,
    m.throttle?.flagged,
    runtime.backend,
    runtime.threads,
    runtime.graphOptimizationLevel,
    runtime.runtimeVersion,
  ]
    .map(field)
    .join(',');
}

/**
 * Writes the rows to the response as they come, waiting whenever the socket's buffer is full. The
 * caller has checked the request (format, filters) before: once the headers are out, an error can
 * only cut the body short, which the client sees as a broken transfer, not as a 200 with an error.
 */
export async function streamExport(
  res: ServerResponse,
  format: ExportFormat,
  rows: Iterable<StoredMeasurement>,
  fingerprints: Map<string, Fingerprint>,
): Promise<void> {
  res.writeHead(200, { 'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson' });
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  const write = async (text: string) => {
    if (!res.write(text)) await drained();
    if (res.destroyed) throw new Error('the client went away');
  };
  try {
    if (format === 'csv') await write(CSV_HEADER.join(',') + '\n');
    let chunk = '';
    for (const r of rows) {
      chunk += (format === 'csv' ? csvRow(r, fingerprints.get(r.deviceId)) : JSON.stringify(r)) + '\n';
      if (chunk.length >= 64 * 1024) {
        await write(chunk);
        chunk = '';
      }
    }
    res.end(chunk);
  } catch {
    res.destroy();
  }
}
