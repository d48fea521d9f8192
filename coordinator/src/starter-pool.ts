// The starter pool: kernel measurements of a few runtime configurations of one x86 machine,
// shipped with litepred (coordinator/starter-pool/*.jsonl, written by `npm run bench:collect`),
// imported on the coordinator's first start so a new device has something to transfer from, and
// whole architectures timed end to end on the same configurations (their compositions).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { architectureTask, type Fingerprint } from '@litepred/protocol';
import type { PoolMeasurement, PredictorStore } from './predictor-store.js';

export const STARTER_POOL_DIR = new URL('../starter-pool/', import.meta.url);

interface DeviceLine { key: 'device'; runtime: Fingerprint['runtime'] & { runtimeVersion: string; executionProvider: string }; cpu?: string; cores?: number; memoryBytes?: number; measuredAt: string }

/** Imports every configuration not yet in the store; returns the device ids imported now. */
export function importStarterPool(dir: string, predictors: PredictorStore): string[] {
  const imported: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).map((l, i) => {
      try { return JSON.parse(l); } catch (e) { throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`); }
    });
    const device = lines.find((l) => l.key === 'device') as DeviceLine | undefined;
    if (!device) throw new Error(`${file}: no device line`);
    const fingerprint: Fingerprint = {
      cpuModel: device.cpu ?? 'unknown', cores: device.cores ?? 1, arch: 'x64', os: 'Linux (starter pool)', memoryBytes: device.memoryBytes ?? 0,
      runtime: { backend: device.runtime.backend, threads: device.runtime.threads, graphOptimizationLevel: device.runtime.graphOptimizationLevel },
      runtimeVersion: device.runtime.runtimeVersion, executionProvider: device.runtime.executionProvider,
    };
    const rows: PoolMeasurement[] = lines.filter((l) => l.kind === 'kernel')
      .map((l) => ({ config: l.config, latencyMs: l.latencyMs, measurement: { config: l.config, latencyMs: l.latencyMs, kernel: l.kernel, boundary: l.boundary } }));
    // Whole architectures (their composition): timed in interleaved rounds where the file has them.
    const rounds = lines.filter((l) => l.kind === 'model-rounds');
    for (const l of rounds.length ? rounds : lines.filter((l) => l.kind === 'model')) {
      const config = architectureTask(l.space, l.seed);
      rows.push({ config, latencyMs: l.latencyMs, measurement: { kind: 'model', config, latencyMs: l.latencyMs, roundMedians: l.roundMedians ?? [l.latencyMs], kernels: l.kernels } });
    }
    const id = `pool-${file.replace(/\.jsonl$/, '')}`;
    if (predictors.importStarterDevice(id, fingerprint, rows, Date.parse(device.measuredAt))) imported.push(id);
  }
  return imported;
}
