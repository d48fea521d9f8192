// Owner of the tables campaigns and tasks (one per config and device). What lease requests read is
// kept in memory (dispatch.ts) and changed here after each commit that changes the rows.
import { randomBytes } from 'node:crypto';
import { MeasurementProtocolSchema, type TaskResult, type WireKernelConfig, type WireMeasurementProtocol } from '@litepred/protocol';
import type { FleetEvents } from '../events.js';
import { resultProblem } from '../result-check.js';
import type { StoreDatabase } from './database.js';
import type { Devices } from './devices.js';
import { Dispatch, MAX_LEASE_LOSSES, type Lease, type TaskRef } from './dispatch.js';
import type { Measurements } from './measurements.js';
import { StoreError } from './secrets.js';

/** Tasks per transaction when a campaign is created in steps: each step holds the event loop for a few ms, not seconds. */
export const CAMPAIGN_STEP_TASKS = 1_000;

/**
 * Why a campaign exists: a user's profiling run, an adaptation's measurements, imported
 * starter-pool data, or measurements that check predictions (never trained or fitted on).
 */
export type CampaignPurpose = 'profile' | 'adaptation' | 'starter-pool' | 'check';

export interface CampaignInput {
  name: string;
  configs: WireKernelConfig[];
  deviceIds: string[];
  protocol: WireMeasurementProtocol;
  purpose?: CampaignPurpose;
  /** An adaptation's measurement round: the adaptation and its phase (findAdaptationCampaign). */
  adaptation?: { id: string; phase: string };
}
export interface Campaign {
  id: string;
  name: string;
  protocol: WireMeasurementProtocol;
  state: 'creating' | 'running' | 'done' | 'cancelled';
  createdAt: number;
  finishedAt: number | null;
  purpose: CampaignPurpose;
}
export interface DeviceProgress {
  deviceId: string;
  pending: number;
  leased: number;
  done: number;
  failed: number;
  cancelled: number;
}
/** A measured config of an imported campaign (the starter pool). */
export interface ImportedMeasurement {
  config: WireKernelConfig;
  latencyMs: number;
  measurement: unknown;
}

/** A task a transaction inserted: device, task id, config JSON. */
type NewTask = [string, number, string];
interface CampaignRow {
  id: string;
  name: string;
  protocol: string;
  state: Campaign['state'];
  created_at: number;
  finished_at: number | null;
  purpose: CampaignPurpose;
}

const toCampaign = (r: CampaignRow): Campaign => ({
  id: r.id,
  name: r.name,
  protocol: JSON.parse(r.protocol),
  state: r.state,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
  purpose: r.purpose,
});

export class Campaigns {
  /** The pending tasks and leases lease requests read, in memory (dispatch.ts). */
  private readonly dispatch = new Dispatch((campaignId) => this.get(campaignId).protocol);

  constructor(
    private readonly db: StoreDatabase,
    private readonly devices: Devices,
    private readonly measurements: Measurements,
    private readonly events: FleetEvents,
  ) {}

  /** Loads the pending tasks; cancels the campaigns a previous process was still creating and returns their ids. */
  open(): string[] {
    const ids = (this.db.sql("SELECT id FROM campaigns WHERE state = 'creating'").all() as { id: string }[]).map((r) => r.id);
    for (const id of ids) this.markCancelled(id);
    const rows = this.db
      .sql("SELECT device_id, id, campaign_id, config FROM tasks WHERE state = 'pending' ORDER BY device_id, id")
      .raw(true)
      .iterate();
    for (const [deviceId, id, campaignId, config] of rows as Iterable<[string, number, string, string]>)
      this.dispatch.add(deviceId, id, campaignId, config);
    return ids;
  }

  /**
   * A campaign that will never be complete: its tasks not yet measured are cancelled (the measured
   * ones stay), nothing of it stays leased or leasable. In a transaction of its own, or the caller's.
   */
  private markCancelled(id: string): void {
    this.db.transaction(() => {
      this.db.sql("UPDATE tasks SET state = 'cancelled' WHERE campaign_id = ? AND state = 'pending'").run(id);
      this.db.sql("UPDATE campaigns SET state = 'cancelled', finished_at = ? WHERE id = ?").run(Date.now(), id);
    });
    this.dispatch.campaignCancelled(id);
    this.events.emit('campaign.cancelled', id);
  }

  /** A campaign: every config on every device, one task each, inserted in one transaction. */
  create(input: CampaignInput): Campaign {
    const inserted: NewTask[] = [];
    const steps = this.steps(input, Number.POSITIVE_INFINITY, inserted);
    const id = this.db.transaction(() => {
      const first = steps.next();
      steps.next();
      return first.value as string;
    });
    this.addPending(id, inserted);
    return this.get(id);
  }

  /** Tasks a committed transaction inserted become leasable. */
  private addPending(campaignId: string, inserted: NewTask[]): void {
    for (const [deviceId, taskId, config] of inserted.splice(0)) this.dispatch.add(deviceId, taskId, campaignId, config);
  }

  /**
   * The same campaign, inserted CAMPAIGN_STEP_TASKS tasks per transaction with the event loop free
   * in between (100,000 tasks in one transaction held the coordinator's thread for 0.6 s: no lease
   * answered, no result stored). It is 'creating' until its last task is in, so it cannot finish
   * early; its tasks are leased as they arrive. A process that stops half-way leaves it 'creating',
   * and the next open cancels it.
   */
  async createInSteps(input: CampaignInput, stepTasks = CAMPAIGN_STEP_TASKS): Promise<Campaign> {
    if (input.configs.length * input.deviceIds.length <= stepTasks) return this.create(input);
    const inserted: NewTask[] = [];
    const steps = this.steps(input, stepTasks, inserted);
    const id = this.db.transaction(() => steps.next().value as string);
    try {
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve));
        const done = this.db.transaction(() => steps.next().done);
        this.addPending(id, inserted);
        if (done) break;
      }
    } catch (error) {
      if (this.db.open) this.markCancelled(id);
      throw error;
    }
    return this.get(id);
  }

  /**
   * Campaign creation as steps, each to run in a transaction of its own: the first validates and
   * inserts the campaign (yielding its id), each next one inserts up to `stepTasks` tasks, the last
   * marks it running. With an infinite step: everything in two steps.
   */
  private *steps(input: CampaignInput, stepTasks: number, inserted: NewTask[]): Generator<string | undefined, void> {
    if (input.configs.length === 0) throw new StoreError('INVALID', 'a campaign needs at least one kernel config');
    if (input.deviceIds.length === 0) throw new StoreError('INVALID', 'a campaign needs at least one device');
    // What every agent will validate its lease against: a protocol it would refuse must not be stored.
    const protocol = MeasurementProtocolSchema.safeParse(input.protocol);
    if (!protocol.success)
      throw new StoreError(
        'INVALID',
        `protocol: ${protocol.error.issues.map((i) => `${i.path.join('.') || '(protocol)'}: ${i.message}`).join('; ')}`,
      );
    if (input.protocol.minRuns > input.protocol.maxRuns)
      throw new StoreError('INVALID', `protocol: minRuns (${input.protocol.minRuns}) is more than maxRuns (${input.protocol.maxRuns})`);
    for (const d of input.deviceIds) {
      if (this.devices.get(d).revoked) throw new StoreError('INVALID', `device ${d} is revoked`);
    }
    const id = `cmp_${randomBytes(6).toString('hex')}`;
    this.db
      .sql(
        'INSERT INTO campaigns (id, name, protocol, state, created_at, purpose, adaptation_id, adaptation_phase) VALUES ' +
          "(?, ?, ?, 'creating', ?, ?, ?, ?)",
      )
      .run(
        id,
        input.name,
        JSON.stringify(input.protocol),
        Date.now(),
        input.purpose ?? 'profile',
        input.adaptation?.id ?? null,
        input.adaptation?.phase ?? null,
      );
    yield id;
    const insert = this.db.sql("INSERT INTO tasks (campaign_id, device_id, config, state) VALUES (?, ?, ?, 'pending')");
    const configs = input.configs.map((c) => JSON.stringify(c)); // once per config, not per task
    let inStep = 0;
    for (const d of input.deviceIds) {
      for (const c of configs) {
        if (inStep === stepTasks) {
          yield undefined;
          inStep = 0;
        }
        inserted.push([d, Number(insert.run(id, d, c).lastInsertRowid), c]);
        inStep++;
      }
    }
    // The step that gets here inserted at least one task, so it cannot be complete yet.
    this.db.sql("UPDATE campaigns SET state = 'running' WHERE id = ? AND state = 'creating'").run(id);
  }

  /**
   * A finished campaign of measurements taken elsewhere (a starter-pool configuration's), its tasks
   * done: in the caller's transaction, which counts the measurements.
   */
  addImported(
    id: string,
    name: string,
    deviceId: string,
    protocol: WireMeasurementProtocol,
    rows: readonly ImportedMeasurement[],
    measuredAt: number,
  ): void {
    this.db
      .sql(
        "INSERT INTO campaigns (id, name, protocol, state, created_at, finished_at, purpose) VALUES (?, ?, ?, 'done', ?, " +
          "?, 'starter-pool')",
      )
      .run(id, name, JSON.stringify(protocol), measuredAt, measuredAt);
    const task = this.db.sql("INSERT INTO tasks (campaign_id, device_id, config, state, attempts) VALUES (?, ?, ?, 'done', 1)");
    for (const r of rows) {
      const taskId = Number(task.run(id, deviceId, JSON.stringify(r.config)).lastInsertRowid);
      this.measurements.insert({
        taskId,
        campaignId: id,
        deviceId,
        kernelType: r.config.type,
        latencyMs: r.latencyMs,
        measurement: r.measurement,
        receivedAt: measuredAt,
      });
    }
  }

  get(id: string): Campaign {
    const row = this.db.sql('SELECT * FROM campaigns WHERE id = ?').get(id) as CampaignRow | undefined;
    if (!row) throw new StoreError('NOT_FOUND', `no campaign ${id}`);
    return toCampaign(row);
  }

  list(): Campaign[] {
    return (this.db.sql('SELECT * FROM campaigns ORDER BY created_at').all() as CampaignRow[]).map(toCampaign);
  }

  cancel(id: string): Campaign {
    const c = this.get(id);
    if (c.state === 'creating') throw new StoreError('INVALID', `campaign ${id} is still being created; cancel it once it is running`);
    if (c.state !== 'running') throw new StoreError('INVALID', `campaign ${id} is already ${c.state}`);
    this.markCancelled(id);
    return this.get(id);
  }

  progress(campaignId: string): DeviceProgress[] {
    this.get(campaignId);
    const rows = this.db
      .sql('SELECT device_id, state, COUNT(*) n FROM tasks WHERE campaign_id = ? GROUP BY device_id, state ORDER BY device_id')
      .all(campaignId) as { device_id: string; state: keyof Omit<DeviceProgress, 'deviceId'>; n: number }[];
    const byDevice = new Map<string, DeviceProgress>();
    for (const r of rows) {
      const p = byDevice.get(r.device_id) ?? { deviceId: r.device_id, pending: 0, leased: 0, done: 0, failed: 0, cancelled: 0 };
      p[r.state] = r.n;
      byDevice.set(r.device_id, p);
    }
    for (const l of this.dispatch.outstanding()) {
      const p = l.campaignId === campaignId ? byDevice.get(l.deviceId) : undefined;
      if (p) {
        p.pending -= l.tasks;
        p.leased += l.tasks;
      }
    }
    return [...byDevice.values()];
  }

  /**
   * Leases up to `capacity` pending tasks of one running campaign to a device. Leases are held in
   * memory; on this single connection's thread two requests cannot take the same task. Expired
   * leases are freed by expireLeases(), which the coordinator runs every few seconds.
   */
  lease(deviceId: string, capacity: number, leaseMs: number): Lease | undefined {
    return this.dispatch.lease(deviceId, capacity, leaseMs);
  }

  /** Hands a device's leased tasks back (its agent dropped): they go to the next lease. */
  releaseLeases(deviceId: string): number {
    return this.lost(this.dispatch.drop((l) => l.deviceId === deviceId));
  }

  /** Expired leases are freed: their tasks go to the next lease. */
  expireLeases(now = Date.now()): number {
    return this.lost(this.dispatch.drop((l) => l.expiresAt < now));
  }

  /** Tasks out on leases right now, per device and campaign. */
  outstandingLeases(): { deviceId: string; campaignId: string; tasks: number }[] {
    return this.dispatch.outstanding();
  }

  /** Leases dropped: the tasks lost too often (dispatch.ts) fail as poison. */
  private lost(dropped: { tasks: number; poison: TaskRef[] }): number {
    if (dropped.poison.length) {
      this.failOpenTasks(
        dropped.poison,
        `poison: leased ${MAX_LEASE_LOSSES} times and never answered (the agent died or lost its connection while measuring it each time)`,
      );
    }
    return dropped.tasks;
  }

  /** Fails a device's tasks still pending or leased with `reason` (its revocation). */
  failOpenTasksOf(deviceId: string, reason: string): void {
    const open = this.db.sql("SELECT id FROM tasks WHERE device_id = ? AND state IN ('pending', 'leased')").all(deviceId) as {
      id: number;
    }[];
    this.failOpenTasks(
      open.map((t) => ({ deviceId, taskId: t.id })),
      reason,
    );
  }

  /** Fails tasks still pending or leased with `reason`, and finishes the campaigns that leaves complete. */
  private failOpenTasks(tasks: readonly { deviceId: string; taskId: number }[], reason: string): void {
    const finished: string[] = [];
    const failed = this.db.transaction(() => {
      const fail = this.db.sql(
        "UPDATE tasks SET state = 'failed', error = ? WHERE id = ? AND state IN ('pending', 'leased') RETURNING campaign_id",
      );
      const campaigns = new Set<string>();
      const done = tasks.filter((t) => {
        const row = fail.get(reason, t.taskId) as { campaign_id: string } | undefined;
        if (row) campaigns.add(row.campaign_id);
        return row !== undefined;
      });
      for (const c of campaigns) if (this.finishIfComplete(c)) finished.push(c);
      return done;
    });
    for (const t of failed) {
      this.dispatch.closed(t);
    }
    this.campaignsFinished(finished);
  }

  /** After the commit that finished them: nothing of these campaigns is leased again, and the fleet hears of it. */
  private campaignsFinished(ids: readonly string[]): void {
    for (const c of ids) {
      this.dispatch.campaignFinished(c);
    }
    for (const c of ids) this.events.emit('campaign.done', c);
  }

  /**
   * Stores a batch of results in one transaction. Idempotent: a task's first result is kept and
   * later copies are ignored, but acknowledged all the same. Results for tasks that are not this
   * device's are rejected. Returns the task ids to acknowledge and those rejected.
   */
  recordResults(deviceId: string, items: readonly TaskResult[]): { acked: number[]; rejected: { taskId: number; reason: string }[] } {
    const acked: number[] = [];
    const rejected: { taskId: number; reason: string }[] = [];
    const now = Date.now();
    const getTask = this.db.sql('SELECT campaign_id, device_id, state, config FROM tasks WHERE id = ?');
    const close = this.db.sql('UPDATE tasks SET state = ?, error = ? WHERE id = ?');
    const touched = new Set<string>();
    const finished: string[] = [];
    let measured = 0;
    let driftFlagged = 0;
    const storedBy = new Map<string, number>();
    const closed: number[] = [];
    this.db.transaction(() => {
      for (const item of items) {
        const task = getTask.get(item.taskId) as { campaign_id: string; device_id: string; state: string; config: string } | undefined;
        if (task?.device_id !== deviceId) {
          rejected.push({ taskId: item.taskId, reason: task ? 'the task belongs to another device' : 'no such task' });
          continue;
        }
        // A resend of a finished task is acknowledged again but changes nothing: the first result stands.
        if (task.state === 'pending' || task.state === 'leased') {
          // A result that is not a measurement of this task fails the task with the reason (measuring it again would give the same).
          const refused = item.measurement ? resultProblem(JSON.parse(task.config) as WireKernelConfig, item.measurement) : undefined;
          const m = refused ? undefined : item.measurement;
          if (
            m &&
            this.measurements.insert({
              taskId: item.taskId,
              campaignId: task.campaign_id,
              deviceId,
              kernelType: m.config.type,
              latencyMs: m.latencyMs,
              measurement: m,
              receivedAt: now,
            })
          ) {
            measured++;
            if ('drift' in m && m.drift?.flagged) driftFlagged++;
            storedBy.set(task.campaign_id, (storedBy.get(task.campaign_id) ?? 0) + 1);
          }
          close.run(
            m ? 'done' : 'failed',
            m ? null : refused ? `result refused: ${refused}` : (item.error ?? 'unknown error'),
            item.taskId,
          );
          closed.push(item.taskId);
          touched.add(task.campaign_id);
        }
        acked.push(item.taskId);
      }
      if (measured > 0) this.measurements.count(deviceId, measured, driftFlagged);
      for (const c of touched) if (this.finishIfComplete(c)) finished.push(c);
    });
    for (const taskId of closed) {
      this.dispatch.closed({ deviceId, taskId });
    }
    for (const [c, n] of storedBy) this.measurements.countRecent(c, n, now);
    this.campaignsFinished(finished);
    return { acked, rejected };
  }

  /**
   * Task counts by state for one campaign (through the campaign index: cost grows with that campaign
   * only). Leased tasks are pending in the store and counted as leased here, as in progress().
   */
  taskStates(campaignId: string): Record<string, number> {
    const rows = this.db.sql('SELECT state, COUNT(*) n FROM tasks WHERE campaign_id = ? GROUP BY state').all(campaignId) as {
      state: string;
      n: number;
    }[];
    const states: Record<string, number> = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    const leased = this.dispatch
      .outstanding()
      .filter((l) => l.campaignId === campaignId)
      .reduce((a, l) => a + l.tasks, 0);
    if (leased > 0) {
      states.pending = (states.pending ?? 0) - leased;
      states.leased = leased;
    }
    return states;
  }

  private finishIfComplete(campaignId: string): boolean {
    // EXISTS stops at the first open task; a COUNT would walk all of them after every batch.
    const open = this.db
      .sql("SELECT EXISTS (SELECT 1 FROM tasks WHERE campaign_id = ? AND state IN ('pending', 'leased')) AS open")
      .get(campaignId) as { open: number };
    if (open.open !== 0) return false;
    return (
      this.db.sql("UPDATE campaigns SET state = 'done', finished_at = ? WHERE id = ? AND state = 'running'").run(Date.now(), campaignId)
        .changes > 0
    );
  }

  /** The newest campaign of that name, if any. */
  findByName(name: string): Campaign | undefined {
    const row = this.db.sql('SELECT * FROM campaigns WHERE name = ? ORDER BY created_at DESC LIMIT 1').get(name) as CampaignRow | undefined;
    return row ? toCampaign(row) : undefined;
  }

  /** An adaptation's measurement round of that phase, if it was created (the newest, should there be two). */
  findOfAdaptation(adaptationId: string, phase: string): Campaign | undefined {
    const row = this.db
      .sql('SELECT * FROM campaigns WHERE adaptation_id = ? AND adaptation_phase = ? ORDER BY created_at DESC LIMIT 1')
      .get(adaptationId, phase) as CampaignRow | undefined;
    return row ? toCampaign(row) : undefined;
  }

  /** A campaign's tasks in the order their configs were given, with the latency where measured. */
  results(
    campaignId: string,
  ): { taskId: number; deviceId: string; config: WireKernelConfig; state: string; latencyMs: number | null; error: string | null }[] {
    return (
      this.db
        .sql(
          `SELECT t.id, t.device_id, t.config, t.state, t.error, m.latency_ms FROM tasks t LEFT JOIN measurements m ON m.task_id = t.id
      WHERE t.campaign_id = ? ORDER BY t.id`,
        )
        .all(campaignId) as {
        id: number;
        device_id: string;
        config: string;
        state: string;
        error: string | null;
        latency_ms: number | null;
      }[]
    ).map((r) => ({
      taskId: r.id,
      deviceId: r.device_id,
      config: JSON.parse(r.config) as WireKernelConfig,
      state: r.state,
      latencyMs: r.latency_ms,
      error: r.error,
    }));
  }

  /** How many tasks a campaign has. */
  taskCount(campaignId: string): number {
    return (this.db.sql('SELECT COUNT(*) n FROM tasks WHERE campaign_id = ?').get(campaignId) as { n: number }).n;
  }
}
