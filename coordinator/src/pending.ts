// Every device's pending tasks, in memory, in task order: what a lease request reads. Reading them
// from SQLite cost about 180 µs per lease of 64 (row materialisation and a JSON.parse per config),
// so 1,000 agents asking at once waited 0.2 s for the last answer. The store (store.ts) is still the
// truth: it loads this at open, and changes it after the transaction that changed the rows. (Inside
// an ingest batch that is a savepoint: if the batch is rolled back later, no ack went out, the agent
// resends, and the resend finds the task still pending in the store.) Leased tasks stay in here
// (leases live in memory too, leases.ts); done, failed and cancelled ones leave.
import type { WireKernelConfig } from '@litepred/protocol';

export interface PendingTask {
  campaignId: string;
  /** Shared by every task of the campaign with the same config, and frozen: leases hand it out as is. */
  config: WireKernelConfig;
  /** JSON.stringify(config), done once per config: lease frames are assembled from it (encodeLease). */
  configJson: string;
}

/** One per distinct config of a campaign, shared by its tasks. */
type SharedConfig = Pick<PendingTask, 'config' | 'configJson'>;

export class PendingTasks {
  /** Per device, task id -> task; a Map iterates in insertion order, and ids only ever grow. */
  private readonly byDevice = new Map<string, Map<number, PendingTask>>();
  /** Per campaign, one frozen object per distinct config text. */
  private readonly configs = new Map<string, Map<string, SharedConfig>>();

  /** Adds a task; ids must arrive in increasing order per device (AUTOINCREMENT, or ORDER BY id). */
  add(deviceId: string, taskId: number, campaignId: string, configJson: string): void {
    let tasks = this.byDevice.get(deviceId);
    if (!tasks) this.byDevice.set(deviceId, (tasks = new Map()));
    tasks.set(taskId, { campaignId, ...this.config(campaignId, configJson) });
  }

  /** A device's pending tasks in task order. */
  of(deviceId: string): ReadonlyMap<number, PendingTask> {
    return this.byDevice.get(deviceId) ?? new Map();
  }

  remove(deviceId: string, taskId: number): void {
    this.byDevice.get(deviceId)?.delete(taskId);
  }

  /** Drops every task of a campaign (cancelled): rare, so a walk over all of them is fine. */
  removeCampaign(campaignId: string): void {
    for (const tasks of this.byDevice.values()) {
      for (const [taskId, task] of tasks) if (task.campaignId === campaignId) tasks.delete(taskId);
    }
    this.configs.delete(campaignId);
  }

  /** A campaign with nothing pending any more: its configs can go. */
  campaignFinished(campaignId: string): void {
    this.configs.delete(campaignId);
  }

  private config(campaignId: string, json: string): SharedConfig {
    let byText = this.configs.get(campaignId);
    if (!byText) this.configs.set(campaignId, (byText = new Map()));
    let shared = byText.get(json);
    if (!shared) {
      const config = Object.freeze(JSON.parse(json) as WireKernelConfig);
      byText.set(json, (shared = { config, configJson: JSON.stringify(config) }));
    }
    return shared;
  }
}
