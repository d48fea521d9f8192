// The reads that can take seconds, in a worker thread with its own read connection to the store:
// whole-model predictions (a user's model can have tens of thousands of nodes, and on the
// coordinator's thread one such request held every other request, /api/health included, for
// seconds) and the dashboard's accuracy and similarity views (every predictor of every device
// against its measured kernels). One worker (a 2-core board runs the coordinator and maybe an
// agent), a bounded queue: a request that finds it full is answered 503 with Retry-After instead
// of waiting behind it.
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ModelError, StalePredictorError } from '@litepred/predictor';
import { accuracy, similarity } from './dashboard-reads.js';
import { HttpError } from './http.js';
import { PredictorService } from './predictor-service.js';
import { PredictorStore } from './predictor-store.js';
import { Store, StoreError } from './store.js';

type Prediction = ReturnType<PredictorService['predict']>;
type Job =
  | { job: 'predict'; deviceId: string; model: Uint8Array; inputShape?: number[] }
  | { job: 'accuracy'; deviceId: string }
  | { job: 'similarity' };
type Request = Job & { id: number };
type Reply =
  | { id: number; result: unknown }
  | { id: number; error: { kind: 'model' | 'stale' | 'store' | 'other'; code?: StoreError['code']; message: string } };

const WORKER_FILE = fileURLToPath(new URL('../dist/read-worker.js', import.meta.url));

/** Requests that may wait for the worker; one more is answered 503. */
export const READ_QUEUE = 8;

export class ReadWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (result: unknown) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly database: string,
    private readonly log: (line: string) => void = () => undefined,
    private readonly queue = READ_QUEUE,
  ) {}

  /**
   * Predicts in the worker; fails as the API would answer on its own thread (400 for the model's fault, 409 stale, StoreError), or 503 when
   * the queue is full.
   */
  predict(deviceId: string, model: Uint8Array, inputShape?: readonly number[]): Promise<Prediction> {
    return this.run({ job: 'predict', deviceId, model, inputShape: inputShape ? [...inputShape] : undefined }, [
      model.buffer as ArrayBuffer,
    ]) as Promise<Prediction>;
  }

  /** The dashboard's accuracy view of a device (dashboard-data.ts), computed in the worker. */
  accuracy(deviceId: string): Promise<ReturnType<typeof accuracy>> {
    return this.run({ job: 'accuracy', deviceId }) as Promise<ReturnType<typeof accuracy>>;
  }

  /** The dashboard's similarity matrix (dashboard-data.ts), computed in the worker. */
  similarity(): Promise<ReturnType<typeof similarity>> {
    return this.run({ job: 'similarity' }) as Promise<ReturnType<typeof similarity>>;
  }

  private run(job: Job, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.waiting.size >= this.queue + 1) {
      return Promise.reject(
        new HttpError(503, `${this.waiting.size} predictions or dashboard reads are in progress or waiting; try again in a few seconds`),
      );
    }
    const id = this.nextId++;
    const worker = this.start();
    return new Promise<unknown>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...job, id } satisfies Request, transfer);
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_FILE, { workerData: { database: this.database, reads: true } });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const pending = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (!pending) return;
      if ('result' in reply) return pending.resolve(reply.result);
      const e = reply.error;
      // As the API answers these errors on its own thread: a model's fault 400, a stale predictor 409.
      pending.reject(
        e.kind === 'model'
          ? new HttpError(400, `model: ${e.message}`)
          : e.kind === 'stale'
            ? new HttpError(409, e.message)
            : e.kind === 'store'
              ? new StoreError(e.code!, e.message)
              : new Error(e.message),
      );
    });
    // A worker that dies (out of memory on a hostile model) fails what it held; the next request starts another.
    const failAll = (reason: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, p] of this.waiting) {
        this.waiting.delete(id);
        p.reject(new HttpError(503, `the read worker stopped (${reason}); try again`));
      }
    };
    worker.on('error', (e) => {
      this.log(`read worker: ${e.message}`);
      failAll(e.message);
    });
    worker.on('exit', (code) => failAll(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }
}

if (!isMainThread && parentPort && (workerData as { reads?: boolean })?.reads) {
  const port = parentPort;
  const store = new Store((workerData as { database: string }).database, { autoCheckpoint: false, readonly: true });
  const predictors = new PredictorStore(store);
  const context = { store, predictors, service: new PredictorService(store, predictors) };
  port.on('message', (r: Request) => {
    try {
      const result =
        r.job === 'predict'
          ? context.service.predict(r.deviceId, r.model, r.inputShape)
          : r.job === 'accuracy'
            ? accuracy(context, r.deviceId)
            : similarity(context);
      port.postMessage({ id: r.id, result } satisfies Reply);
    } catch (error) {
      const e = error as Error;
      const kind =
        e instanceof ModelError ? 'model' : e instanceof StalePredictorError ? 'stale' : e instanceof StoreError ? 'store' : 'other';
      port.postMessage({
        id: r.id,
        error: { kind, ...(e instanceof StoreError ? { code: e.code } : {}), message: e.message },
      } satisfies Reply);
    }
  });
}
