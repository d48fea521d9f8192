// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever COMMIT
// crosses the threshold, which stalls lease dispatch on the coordinator's only thread (measured:
// paced-load p99 dispatch 97 ms with it, 31 ms without; docs/benchmarks/fleet.md). A worker thread
// with its own connection checkpoints passively every interval instead; PASSIVE never blocks writers.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// An eval worker, so the same code runs from the TypeScript sources (tests) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    parentPort.postMessage(String(e));
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(TRUNCATE)'); } catch (e) { parentPort.postMessage(String(e)); }
  db.close();
  process.exit(0);
});
`;

export class Checkpointer {
  private worker: Worker | undefined;
  private stopping = false;

  constructor(
    private readonly path: string,
    private readonly intervalMs = 1000,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.start();
  }

  private start(): void {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.path, intervalMs: this.intervalMs, driver } });
    worker.on('message', (m) => this.log(`checkpointer: ${String(m)}`));
    worker.on('error', (e) => this.log(`checkpointer: ${e.message}`));
    // Supervised: without it the WAL would grow without bound.
    worker.on('exit', () => {
      if (!this.stopping) setTimeout(() => this.start(), 1000);
    });
    worker.unref();
    this.worker = worker;
  }

  /** A last full checkpoint after the main connection is closed; resolves when the worker is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    const w = this.worker;
    if (!w) return;
    // Held while it finishes: unreferenced, it let a process whose loop had nothing else left exit
    // (code 13) before the last checkpoint, and nothing after `await stop()` ran.
    w.ref();
    await new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.postMessage('stop');
    });
  }
}
