// The starter pool: kernel measurements of a few runtime configurations of one x86 machine,
// shipped with litepred (coordinator/starter-pool/*.jsonl, written by `npm run bench:collect`),
// imported on the coordinator's first start so a new device has something to transfer from, and
// whole architectures timed end to end on the same configurations (their compositions).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { architectureTask, type Fingerprint } from '@litepred/protocol';
import type { ImportedMeasurement, Store } from './store.js';

export const STARTER_POOL_DIR = new URL('../starter-pool/', import.meta.url);

interface DeviceLine {
  key: 'device';
  runtime: Fingerprint['runtime'] & { runtimeVersion: string; executionProvider: string };
  cpu?: string;
  cores?: number;
  memoryBytes?: number;
  measuredAt: string;
}

/** A pool file's name without its extension (`node-t1-all` of node-t1-all.jsonl or .jsonl.gz), or undefined for another file. */
export const poolFileName = (file: string) => /^(.+)\.jsonl(\.gz)?$/.exec(file)?.[1];

/**
 * The records of a pool file: JSON lines, plain (.jsonl) or gzipped (.jsonl.gz, which bench:collect
 * appends to as one gzip member per batch of lines; gunzip reads the members as one stream). A
 * collector stopped in the middle of a write leaves a last line or member cut short: that part is
 * left out (`truncated` says so), every complete line before it is read.
 */
export function readPoolFile(path: string): Record<string, any>[] & { truncated?: boolean } {
  const raw = readFileSync(path);
  let truncated = false;
  let buffer = raw;
  if (path.endsWith('.gz')) {
    try {
      buffer = gunzipSync(raw);
    } catch {
      buffer = gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      truncated = true;
    }
  }
  const text = buffer.toString('utf8');
  const lines = text.split('\n');
  if (text.length > 0 && !text.endsWith('\n')) {
    lines.pop();
    truncated = true;
  }
  const records = lines.filter(Boolean).map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, any>;
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not JSON (${(e as Error).message})`, { cause: e });
    }
  }) as Record<string, any>[] & { truncated?: boolean };
  if (truncated) records.truncated = true;
  return records;
}

/** Imports every configuration not yet in the store; returns the device ids imported now. */
export function importStarterPool(dir: string, store: Store): string[] {
  const imported: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => poolFileName(f) !== undefined)
    .sort()) {
    // Labels as measured: dividing them by the drift of the reference kernels around them made the
    // pool's kernels agree less often with their own retests, not more (docs/decisions.md).
    const lines = readPoolFile(join(dir, file));
    const device = lines.find((l) => l.key === 'device') as DeviceLine | undefined;
    if (!device) throw new Error(`${file}: no device line`);
    const fingerprint: Fingerprint = {
      cpuModel: device.cpu ?? 'unknown',
      cores: device.cores ?? 1,
      arch: 'x64',
      os: 'Linux (starter pool)',
      memoryBytes: device.memoryBytes ?? 0,
      runtime: {
        backend: device.runtime.backend,
        threads: device.runtime.threads,
        graphOptimizationLevel: device.runtime.graphOptimizationLevel,
      },
      runtimeVersion: device.runtime.runtimeVersion,
      executionProvider: device.runtime.executionProvider,
    };
    const rows: ImportedMeasurement[] = lines
      .filter((l) => l.kind === 'kernel')
      .map((l) => ({
        config: l.config,
        latencyMs: l.latencyMs,
        measurement: { config: l.config, latencyMs: l.latencyMs, kernel: l.kernel, boundary: l.boundary },
      }));
    // Whole architectures (their composition): timed in interleaved rounds where the file has them.
    const rounds = lines.filter((l) => l.kind === 'model-rounds');
    for (const l of rounds.length ? rounds : lines.filter((l) => l.kind === 'model')) {
      const config = architectureTask(l.space, l.seed);
      rows.push({
        config,
        latencyMs: l.latencyMs,
        measurement: { kind: 'model', config, latencyMs: l.latencyMs, roundMedians: l.roundMedians ?? [l.latencyMs], kernels: l.kernels },
      });
    }
    const id = `pool-${poolFileName(file)}`;
    if (store.importStarterDevice(id, fingerprint, rows, Date.parse(device.measuredAt))) imported.push(id);
  }
  return imported;
}
