// Leases live in memory, not in the store: a coordinator frees every lease when it starts anyway
// (no agent is connected to a new process), and writing each task's 'leased' state, then clearing
// it, moved three index entries per task and took about a third of ingest (measured on the store
// alone: 1,000 devices x 100 tasks). The store keeps what must survive: tasks pending, done, failed.
export interface LeaseRecord { leaseId: string; deviceId: string; campaignId: string; taskIds: number[]; expiresAt: number }

type Held = LeaseRecord & { open: number };

export class Leases {
  private readonly byId = new Map<string, Held>();
  private readonly byTask = new Map<number, Held>();
  private readonly countByDevice = new Map<string, number>();

  add(record: LeaseRecord): void {
    const lease: Held = { ...record, open: record.taskIds.length };
    this.byId.set(lease.leaseId, lease);
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

  /** A task got its result (or was cancelled): it is no longer out. */
  settle(taskId: number): void {
    const lease = this.byTask.get(taskId);
    if (!lease) return;
    this.byTask.delete(taskId);
    this.countByDevice.set(lease.deviceId, this.heldBy(lease.deviceId) - 1);
    if (--lease.open === 0) this.byId.delete(lease.leaseId);
  }

  /** Drops the leases that match; returns how many tasks they still held. */
  drop(match: (lease: LeaseRecord) => boolean): number {
    let tasks = 0;
    for (const lease of [...this.byId.values()]) {
      if (!match(lease)) continue;
      this.byId.delete(lease.leaseId);
      for (const t of lease.taskIds) {
        if (this.byTask.get(t) !== lease) continue;
        this.byTask.delete(t);
        this.countByDevice.set(lease.deviceId, this.heldBy(lease.deviceId) - 1);
        lease.open--;
        tasks++;
      }
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
}
