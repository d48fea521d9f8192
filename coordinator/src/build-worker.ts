// Full-data predictor builds in a worker thread with its own read connection to the store (WAL lets
// it read while the coordinator writes): after a campaign over a large fleet there are many devices
// to build for, and on the coordinator's thread they held up lease dispatch (bench:fleet, paced p99
// dispatch 70–136 ms while 1,000 devices were built for, one per event-loop turn; under 30 ms
// without). The worker plans; the coordinator saves each plan, so the store keeps one writer.
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { PredictorService, type FullDataPlan } from './predictor-service.js';
import { PredictorStore } from './predictor-store.js';
import { Store } from './store.js';
import type { FleetEvents } from './events.js';

export type BuildReport = { deviceId: string; built: number } | { deviceId: string; error: string };
type WorkerMessage = { plan: FullDataPlan } | { deviceId: string; error: string };

// Always the compiled file: from src/ (tests) and from dist/ this is coordinator/dist/build-worker.js.
const WORKER_FILE = fileURLToPath(new URL('../dist/build-worker.js', import.meta.url));

/**
 * Builds the devices' full-data predictors: planned in a worker (the compiled file: `npm run build`
 * makes it, and `npm test` builds first), saved here by `service`; `onReport` hears each device.
 */
export function buildInWorker(
  database: string,
  deviceIds: readonly string[],
  onReport: (r: BuildReport) => void,
  service: PredictorService,
): { done: Promise<void>; stop: () => Promise<void> } {
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
    worker.once('error', (e) => {
      onReport({ deviceId: '(worker)', error: e.message });
      resolve();
    });
  });
  // A build is one transaction per device: stopping between two loses nothing but the builds not yet run.
  return {
    done,
    stop: async () => {
      await worker.terminate();
      await done;
    },
  };
}

/** Devices waiting for full-data predictors, built one batch at a time in a worker. */
export class PredictorBuilds {
  private readonly queue = new Set<string>();
  private running: ReturnType<typeof buildInWorker> | undefined;
  private runningCount = 0;
  private stopped = false;

  constructor(
    private readonly database: string,
    private readonly service: PredictorService,
    private readonly log: (line: string) => void,
    private readonly events?: FleetEvents,
  ) {}

  /** Devices being built or waiting to be. */
  get pending(): number {
    return this.queue.size + this.runningCount;
  }

  add(deviceIds: readonly string[]): void {
    for (const d of deviceIds) this.queue.add(d);
    this.next();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.stop();
  }

  private next(): void {
    if (this.running || this.queue.size === 0 || this.stopped) return;
    const deviceIds = [...this.queue];
    this.queue.clear();
    this.runningCount = deviceIds.length;
    // One line per batch: a campaign over a large fleet would otherwise log a line per device.
    let devices = 0;
    let types = 0;
    let one = '';
    this.running = buildInWorker(
      this.database,
      deviceIds,
      (r) => {
        if ('error' in r) this.log(`${r.deviceId}: building predictors failed: ${r.error}`);
        else if (r.built > 0) {
          devices++;
          types += r.built;
          one = r.deviceId;
          this.events?.emit('predictors.built', r.deviceId);
        }
      },
      this.service,
    );
    void this.running.done.then(() => {
      if (devices > 0)
        this.log(
          devices === 1
            ? `${one}: full-data predictors built for ${types} kernel type(s)`
            : `full-data predictors built for ${devices} device(s), ${types} predictor(s) in all`,
        );
      this.running = undefined;
      this.runningCount = 0;
      this.next();
    });
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
