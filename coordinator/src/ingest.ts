// Results arrive one frame at a time from many agents; they are written in batched transactions
// (one SQLite commit per batch, not per result) and acknowledged only after their commit.
import type { TaskResult } from '@litepred/protocol';
import type { Store } from './store.js';

interface Pending {
  deviceId: string;
  items: TaskResult[];
  done: (outcome: { acked: number[]; rejected: { taskId: number; reason: string }[] }) => void;
}

export class Ingest {
  private queue: Pending[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;

  // Small batches keep each commit short, so lease requests never wait long behind an ingest; a
  // small batch costs a little more per result (WAL, synchronous=NORMAL: a commit does not wait for
  // the disk). The measurements: docs/decisions.md.
  constructor(
    private readonly store: Store,
    private readonly maxDelayMs = 5,
    private readonly maxBatch = 128,
  ) {}

  /**
   * Queues a device's results; `done` runs after they are committed. The queue flushes as soon as it
   * reaches maxBatch, so it never holds more than maxBatch results plus one frame (≤ 256 results).
   */
  add(deviceId: string, items: TaskResult[], done: Pending['done']): void {
    this.queue.push({ deviceId, items, done });
    this.queued += items.length;
    if (this.queued >= this.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
  }

  /** Commits everything queued in one transaction, then acknowledges. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    this.queued = 0;
    if (batch.length === 0) return;
    const outcomes = this.store.recordResultBatches(batch);
    batch.forEach((p, i) => p.done(outcomes[i]!));
  }
}
