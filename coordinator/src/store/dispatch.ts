// What lease requests read, in memory and for this process only: each device's pending tasks
// (pending.ts), the leases out (leases.ts: why they are not written to the store), each running
// campaign's protocol and each task's lost leases. campaigns.ts owns the rows and changes this
// after each commit that changes them.
import { randomUUID } from 'node:crypto';
import type { WireKernelConfig, WireMeasurementProtocol } from '@litepred/protocol';
import { Leases } from '../leases.js';
import { PendingTasks } from '../pending.js';

/** A task the agent dies on (or drops its connection on) this many times is failed as poison. */
export const MAX_LEASE_LOSSES = 3;

/** A lease as the store hands it out; each task's config comes serialised too (encodeLease). */
export interface Lease {
  leaseId: string;
  campaignId: string;
  protocol: WireMeasurementProtocol;
  expiresAt: number;
  tasks: { taskId: number; config: WireKernelConfig; configJson: string }[];
}

export type TaskRef = { deviceId: string; taskId: number };

export class Dispatch {
  private readonly leases = new Leases();
  private readonly pending = new PendingTasks();
  /** Protocols of campaigns with tasks to lease, read once each; forgotten when a campaign ends. */
  private readonly protocols = new Map<string, WireMeasurementProtocol>();
  /** Leases lost in the middle of each task (lost()). */
  private readonly losses = new Map<number, number>();

  /** protocolOf: a campaign's protocol, read from the store the first time a lease of it is made. */
  constructor(private readonly protocolOf: (campaignId: string) => WireMeasurementProtocol) {}

  /** A task a committed transaction inserted (or the store holds pending at open) becomes leasable. */
  add(deviceId: string, taskId: number, campaignId: string, configJson: string): void {
    this.pending.add(deviceId, taskId, campaignId, configJson);
  }

  /**
   * Up to `capacity` of a device's pending tasks, in task order past those it holds already, all of
   * one campaign (one protocol per lease).
   */
  lease(deviceId: string, capacity: number, leaseMs: number): Lease | undefined {
    let campaignId: string | undefined;
    const tasks: Lease['tasks'] = [];
    const held = this.leases.heldBy(deviceId);
    for (const [taskId, task] of this.pending.of(deviceId)) {
      if (held.has(taskId)) continue;
      campaignId ??= task.campaignId;
      if (task.campaignId !== campaignId) break;
      tasks.push({ taskId, config: task.config, configJson: task.configJson });
      if (tasks.length === capacity) break;
    }
    if (campaignId === undefined) return undefined;
    const leaseId = randomUUID();
    const expiresAt = Date.now() + leaseMs;
    this.leases.add({ leaseId, deviceId, campaignId, taskIds: tasks.map((t) => t.taskId), expiresAt });
    let protocol = this.protocols.get(campaignId);
    if (!protocol) this.protocols.set(campaignId, (protocol = this.protocolOf(campaignId)));
    return { leaseId, campaignId, protocol, expiresAt, tasks };
  }

  /** Tasks out on leases right now, per device and campaign. */
  outstanding(): { deviceId: string; campaignId: string; tasks: number }[] {
    return this.leases.outstanding();
  }

  /**
   * Frees the leases that match (socket dropped, lease expired): their tasks go to the next lease.
   * The task each was in the middle of counts a loss; returns how many tasks were freed and the
   * tasks lost MAX_LEASE_LOSSES times, to be failed as poison instead of leased for ever (a kernel
   * that crashes the runtime, or outlasts every lease). Counted in memory: a coordinator restart is
   * not the task's fault.
   */
  drop(match: (lease: { deviceId: string; campaignId: string; expiresAt: number }) => boolean): { tasks: number; poison: TaskRef[] } {
    const dropped = this.leases.drop(match);
    const poison: TaskRef[] = [];
    for (const t of dropped.inHand) {
      const losses = (this.losses.get(t.taskId) ?? 0) + 1;
      this.losses.set(t.taskId, losses);
      if (losses >= MAX_LEASE_LOSSES) poison.push(t);
    }
    return { tasks: dropped.tasks, poison };
  }

  /** A task's result (or failure) was committed: it is neither out nor pending any more. */
  closed(t: TaskRef): void {
    this.leases.settle(t.deviceId, t.taskId);
    this.pending.remove(t.deviceId, t.taskId);
    this.losses.delete(t.taskId);
  }

  /** A campaign finished: nothing of it is leased again. */
  campaignFinished(campaignId: string): void {
    this.pending.campaignFinished(campaignId);
    this.protocols.delete(campaignId);
  }

  /** A campaign was cancelled: its leases and pending tasks are dropped. */
  campaignCancelled(campaignId: string): void {
    this.leases.drop((l) => l.campaignId === campaignId);
    this.pending.removeCampaign(campaignId);
    this.protocols.delete(campaignId);
  }
}
