// Leases live in memory, not in the store: a coordinator frees every lease when it starts anyway
// (no agent is connected to a new process), and writing each task's 'leased' state, then clearing
// it, moved three index entries per task and took about a third of ingest (measured on the store
// alone: 1,000 devices x 100 tasks). The store keeps what must survive: tasks pending, done, failed.
export interface LeaseRecord { leaseId: string; deviceId: string; campaignId: string; taskIds: number[]; expiresAt: number }

export class Leases {
  private readonly byTask = new Map<number, LeaseRecord>();
  /** An index over byTask: every lease request asks how many tasks its device holds. */
  private readonly countByDevice = new Map<string, number>();

  add(lease: LeaseRecord): void {
    for (const t of lease.taskIds) this.byTask.set(t, lease);
    this.countByDevice.set(lease.deviceId, this.heldBy(lease.deviceId) + lease.taskIds.length);
  }

  isLeased(taskId: number): boolean {
    return this.byTask.has(taskId);
  }

  /** Tasks a device holds right now. */
  heldBy(deviceId: string): number {
    return this.countByDevice.get(deviceId) ?? 0;
  }

  /** A task got its result: it is no longer out. */
  settle(taskId: number): void {
    const lease = this.byTask.get(taskId);
    if (lease) this.remove(taskId, lease);
  }

  /** Frees the tasks of the leases that match; returns how many. */
  drop(match: (lease: LeaseRecord) => boolean): number {
    let tasks = 0;
    for (const [taskId, lease] of this.byTask) {
      if (!match(lease)) continue;
      this.remove(taskId, lease);
      tasks++;
    }
    return tasks;
  }

  /** Tasks out per device and campaign (progress, the dashboard's current work). */
  outstanding(): { deviceId: string; campaignId: string; tasks: number }[] {
    const counts = new Map<string, { deviceId: string; campaignId: string; tasks: number }>();
    for (const lease of this.byTask.values()) {
      const key = `${lease.deviceId}\u0000${lease.campaignId}`;
      const c = counts.get(key) ?? { deviceId: lease.deviceId, campaignId: lease.campaignId, tasks: 0 };
      c.tasks++;
      counts.set(key, c);
    }
    return [...counts.values()];
  }

  private remove(taskId: number, lease: LeaseRecord): void {
    this.byTask.delete(taskId);
    this.countByDevice.set(lease.deviceId, this.heldBy(lease.deviceId) - 1);
  }
}
