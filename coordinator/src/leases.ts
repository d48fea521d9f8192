// Leases live in memory, not in the store: a coordinator frees every lease when it starts anyway
// (no agent is connected to a new process), and writing each task's 'leased' state, then clearing
// it, moved three index entries per task and took about a third of ingest (measured on the store
// alone: 1,000 devices x 100 tasks). The store keeps what must survive: tasks pending, done, failed.
export interface LeaseRecord {
  leaseId: string;
  deviceId: string;
  campaignId: string;
  taskIds: number[];
  expiresAt: number;
}

const NONE: ReadonlyMap<number, LeaseRecord> = new Map();

export class Leases {
  /**
   * Per device, task id -> the lease it is out on. A lease request probes its own device's tasks,
   * and a map of one device's few dozen tasks is cheaper to probe than one map of every task out
   * (64,000 at saturation): in bench:fleet's profile, probing and filling that one map was most of
   * a lease's time.
   */
  private readonly byDevice = new Map<string, Map<number, LeaseRecord>>();

  add(lease: LeaseRecord): void {
    let held = this.byDevice.get(lease.deviceId);
    if (!held) this.byDevice.set(lease.deviceId, (held = new Map()));
    for (const t of lease.taskIds) held.set(t, lease);
  }

  /** The tasks a device holds right now, and their leases. */
  heldBy(deviceId: string): ReadonlyMap<number, LeaseRecord> {
    return this.byDevice.get(deviceId) ?? NONE;
  }

  /** A device's task got its result: it is no longer out. */
  settle(deviceId: string, taskId: number): void {
    this.byDevice.get(deviceId)?.delete(taskId);
  }

  /**
   * Frees the tasks of the leases that match. Returns how many, and for each lease the task that was
   * in hand (its first task without a result: agents measure a lease in order), the one to blame if
   * the agent died measuring it.
   */
  drop(match: (lease: LeaseRecord) => boolean): { tasks: number; inHand: { deviceId: string; taskId: number }[] } {
    let tasks = 0;
    const dropped = new Map<LeaseRecord, Set<number>>();
    for (const held of this.byDevice.values()) {
      for (const [taskId, lease] of held) {
        if (!match(lease)) continue;
        held.delete(taskId);
        tasks++;
        if (!dropped.has(lease)) dropped.set(lease, new Set());
        dropped.get(lease)!.add(taskId);
      }
    }
    const inHand = [...dropped].map(([lease, ids]) => ({ deviceId: lease.deviceId, taskId: lease.taskIds.find((t) => ids.has(t))! }));
    return { tasks, inHand };
  }

  /** Tasks out per device and campaign (progress, the dashboard's current work). */
  outstanding(): { deviceId: string; campaignId: string; tasks: number }[] {
    const counts = new Map<string, { deviceId: string; campaignId: string; tasks: number }>();
    for (const held of this.byDevice.values()) {
      for (const lease of held.values()) {
        const key = `${lease.deviceId}\u0000${lease.campaignId}`;
        const c = counts.get(key) ?? { deviceId: lease.deviceId, campaignId: lease.campaignId, tasks: 0 };
        c.tasks++;
        counts.set(key, c);
      }
    }
    return [...counts.values()];
  }
}
