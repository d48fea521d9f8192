// Full-data predictor builds in a worker thread with its own read connection to the store (WAL lets
// it read while the coordinator writes): after a campaign over a large fleet there are many devices
// to build for, and on the coordinator's thread they held up lease dispatch (bench:fleet, paced p99
// dispatch 70–136 ms while 1,000 devices were built for, one per event-loop turn; under 30 ms
// without). The worker plans; the coordinator saves each plan, so the store keeps one writer.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { PredictorService, type FullDataPlan } from './predictor-service.js';
import { PredictorStore } from './predictor-store.js';
import { Store } from './store.js';

export type BuildReport = { deviceId: string; built: number } | { deviceId: string; error: string };
type WorkerMessage = { plan: FullDataPlan } | { deviceId: string; error: string };

// Always the compiled file: from src/ (tests) and from dist/ this is coordinator/dist/build-worker.js.
const WORKER_FILE = fileURLToPath(new URL('../dist/build-worker.js', import.meta.url));

/**
 * Builds the devices' full-data predictors: planned in a worker, saved here by `service`;
 * `onReport` hears each device. Where the compiled worker is missing (sources run without a
 * build), builds on this thread instead, yielding between devices.
 */
export function buildInWorker(database: string, deviceIds: readonly string[], onReport: (r: BuildReport) => void,
  service: PredictorService): { done: Promise<void>; stop: () => Promise<void>; inWorker: boolean } {
  if (!existsSync(WORKER_FILE)) {
    let stopped = false;
    const done = (async () => {
      for (const deviceId of deviceIds) {
        if (stopped) return;
        onReport(buildOne(service, deviceId));
        await new Promise((r) => setImmediate(r));
      }
    })();
    return { done, stop: async () => { stopped = true; await done; }, inWorker: false };
  }
  const worker = new Worker(WORKER_FILE, { workerData: { database, deviceIds } });
  worker.on('message', (m: WorkerMessage) => {
    if ('error' in m) return onReport(m);
    try {
      service.saveFullData(m.plan);
      onReport({ deviceId: m.plan.deviceId, built: m.plan.built.length });
    } catch (error) {
      onReport({ deviceId: m.plan.deviceId, error: (error as Error).message });
    }
  });
  const done = new Promise<void>((resolve) => {
    worker.once('exit', () => resolve());
    worker.once('error', (e) => { onReport({ deviceId: '(worker)', error: e.message }); resolve(); });
  });
  // A build is one transaction per device: stopping between two loses nothing but the builds not yet run.
  return { done, stop: async () => { await worker.terminate(); await done; }, inWorker: true };
}

function buildOne(service: PredictorService, deviceId: string): BuildReport {
  try {
    return { deviceId, built: service.buildFullData(deviceId).built.length };
  } catch (error) {
    return { deviceId, error: (error as Error).message };
  }
}

if (!isMainThread && parentPort && (workerData as { deviceIds?: unknown })?.deviceIds) {
  const { database, deviceIds } = workerData as { database: string; deviceIds: string[] };
  const store = new Store(database, { autoCheckpoint: false, readonly: true });
  const service = new PredictorService(store, new PredictorStore(store));
  for (const deviceId of deviceIds) {
    try {
      parentPort.postMessage({ plan: service.planFullData(deviceId) } satisfies WorkerMessage);
    } catch (error) {
      parentPort.postMessage({ deviceId, error: (error as Error).message } satisfies WorkerMessage);
    }
  }
  store.close();
}
