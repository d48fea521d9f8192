// The coordinator's store: the single source of truth. SQLite in WAL mode, schema migrations by
// user_version, credentials stored as SHA-256 hashes of high-entropy random tokens.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MeasurementProtocolSchema, type Fingerprint, type TaskResult, type WireKernelConfig, type WireMeasurementProtocol } from '@litepred/protocol';
import { Leases } from './leases.js';
import { PendingTasks } from './pending.js';
import { resultProblem } from './result-check.js';
import { MIGRATIONS } from './schema.js';
import { FleetEvents } from './events.js';

/** How far back resultsSince can look. */
const RECENT_SECONDS = 300;

/** A task the agent dies on (or drops its connection on) this many times is failed as poison. */
export const MAX_LEASE_LOSSES = 3;

/** Tasks per transaction when a campaign is created in steps: each step holds the event loop for a few ms, not seconds. */
export const CAMPAIGN_STEP_TASKS = 1_000;

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');
const secret = (prefix: string) => `${prefix}_${randomBytes(24).toString('base64url')}`;

export class StoreError extends Error {
  constructor(readonly code: 'NOT_FOUND' | 'UNAUTHORIZED' | 'INVALID', message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface Device { id: string; fingerprint: Fingerprint; enrolledAt: number; lastSeenAt: number; revoked: boolean; origin: 'agent' | 'starter-pool' }
/**
 * Why a campaign exists: a user's profiling run, an adaptation's measurements, imported
 * starter-pool data, or measurements that check predictions (never trained or fitted on).
 */
export type CampaignPurpose = 'profile' | 'adaptation' | 'starter-pool' | 'check';
/** A task a transaction inserted: device, task id, config JSON. */
type NewTask = [string, number, string];

export interface CampaignInput {
  name: string; configs: WireKernelConfig[]; deviceIds: string[]; protocol: WireMeasurementProtocol; purpose?: CampaignPurpose;
  /** An adaptation's measurement round: the adaptation and its phase (findAdaptationCampaign). */
  adaptation?: { id: string; phase: string };
}
export interface Campaign { id: string; name: string; protocol: WireMeasurementProtocol; state: 'creating' | 'running' | 'done' | 'cancelled'; createdAt: number; finishedAt: number | null; purpose: CampaignPurpose }
/** A lease as the store hands it out; each task's config comes serialised too (encodeLease). */
export interface Lease { leaseId: string; campaignId: string; protocol: WireMeasurementProtocol; expiresAt: number; tasks: { taskId: number; config: WireKernelConfig; configJson: string }[] }
export interface EnrolmentToken { id: string; label: string; createdAt: number; expiresAt: number | null; maxUses: number | null; uses: number; state: 'valid' | 'expired' | 'used up' | 'revoked' }
export interface DeviceProgress { deviceId: string; pending: number; leased: number; done: number; failed: number; cancelled: number }
export interface StoredMeasurement { taskId: number; campaignId: string; deviceId: string; kernelType: string; latencyMs: number; measurement: unknown; receivedAt: number }

interface MeasurementRow { task_id: number; campaign_id: string; device_id: string; kernel_type: string; latency_ms: number; measurement: string; received_at: number }
interface DeviceRow { id: string; fingerprint: string; enrolled_at: number; last_seen_at: number; revoked: number; origin: Device['origin'] }
interface CampaignRow { id: string; name: string; protocol: string; state: Campaign['state']; created_at: number; finished_at: number | null; purpose: CampaignPurpose }

const toDevice = (r: DeviceRow): Device => ({ id: r.id, fingerprint: JSON.parse(r.fingerprint), enrolledAt: r.enrolled_at, lastSeenAt: r.last_seen_at, revoked: r.revoked === 1, origin: r.origin });
const toCampaign = (r: CampaignRow): Campaign => ({ id: r.id, name: r.name, protocol: JSON.parse(r.protocol), state: r.state, createdAt: r.created_at, finishedAt: r.finished_at, purpose: r.purpose });

export class Store {
  readonly db: Database.Database;
  /** Tasks out on leases: in memory, for this connection's process only (leases.ts says why). */
  private readonly leases = new Leases();
  /** Every device's pending tasks, for lease requests (pending.ts); changed after each commit that changes them. */
  private readonly pending = new PendingTasks();
  private readonly statements = new Map<string, Database.Statement>();
  /** Protocols of campaigns with tasks to lease, read once each (campaignProtocol); forgotten when a campaign ends. */
  private readonly protocols = new Map<string, WireMeasurementProtocol>();
  /** Leases lost in the middle of each task (see lost()). */
  private readonly losses = new Map<number, number>();
  /** Measurements stored per campaign and second, for the last RECENT_SECONDS (resultsSince). */
  private readonly recent = new Map<string, Map<number, number>>();
  /** The fleet's events (events.ts): the store emits campaign.done and campaign.cancelled after their commit, the server the rest. */
  readonly events: FleetEvents;

  /** Prepared once per SQL text: preparing costs more than running most of these. */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) this.statements.set(text, (st = this.db.prepare(text)));
    return st;
  }

  /** `readonly`: a reader beside the coordinator's connection (build-worker.ts); no migrations, no writes. */
  constructor(path: string, options: { autoCheckpoint?: boolean; readonly?: boolean } = {}) {
    this.events = new FleetEvents();
    // Owner-only: the store holds credential hashes and the fleet's measurements. Created so before
    // SQLite opens it (SQLite gives its -wal and -shm files the database's mode); an older store is narrowed.
    if (!options.readonly && path !== ':memory:') {
      closeSync(openSync(path, 'a', 0o600));
      for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
    }
    this.db = new Database(path, { readonly: options.readonly ?? false });
    if (options.readonly) {
      this.db.pragma('busy_timeout = 5000');
      return;
    }
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable across a process crash in WAL mode (only an OS crash can lose the last commits).
    this.db.pragma('synchronous = NORMAL');
    // The coordinator checkpoints from a worker thread (checkpointer.ts); other users keep SQLite's default.
    if (options.autoCheckpoint === false) this.db.pragma('wal_autocheckpoint = 0');
    this.db.pragma('busy_timeout = 5000');
    // Off while migrating: a table rebuild drops a table that others reference. Checked before going on.
    this.db.pragma('foreign_keys = OFF');
    this.migrate();
    const broken = this.db.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0) throw new Error(`the database has ${broken.length} broken reference(s) after migrating (PRAGMA foreign_key_check)`);
    this.db.pragma('foreign_keys = ON');
    this.interruptedCreations = this.cancelInterruptedCreations();
    const rows = this.db.prepare("SELECT device_id, id, campaign_id, config FROM tasks WHERE state = 'pending' ORDER BY device_id, id").raw(true).iterate();
    for (const [deviceId, id, campaignId, config] of rows as Iterable<[string, number, string, string]>) this.pending.add(deviceId, id, campaignId, config);
  }

  /** Campaigns a previous process was still creating when it stopped (cancelled on open; their measurements stay). */
  readonly interruptedCreations: string[] = [];

  private cancelInterruptedCreations(): string[] {
    const ids = (this.db.prepare("SELECT id FROM campaigns WHERE state = 'creating'").all() as { id: string }[]).map((r) => r.id);
    for (const id of ids) this.markCancelled(id);
    return ids;
  }

  /**
   * A campaign that will never be complete: its tasks not yet measured are cancelled (the measured
   * ones stay), nothing of it stays leased or leasable. In a transaction of its own, or the caller's.
   */
  private markCancelled(id: string): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE tasks SET state = 'cancelled' WHERE campaign_id = ? AND state = 'pending'").run(id);
      this.db.prepare("UPDATE campaigns SET state = 'cancelled', finished_at = ? WHERE id = ?").run(Date.now(), id);
    })();
    this.leases.drop((l) => l.campaignId === id);
    this.pending.removeCampaign(id);
    this.protocols.delete(id);
    this.events.emit('campaign.cancelled', id);
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`the database is at schema version ${version}, newer than this litepred (${MIGRATIONS.length}); upgrade litepred`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  // --- admin credential -------------------------------------------------------------------

  /** Creates the admin token on first use; returns it only when it was just created. */
  ensureAdminToken(): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'admin_token_hash'").get();
    if (row) return undefined;
    const token = secret('lpa');
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('admin_token_hash', ?)").run(hash(token));
    return token;
  }

  isAdmin(token: string | undefined): boolean {
    if (!token) return false;
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'admin_token_hash'").get() as { value: string } | undefined;
    return row?.value === hash(token);
  }

  // --- enrolment --------------------------------------------------------------------------

  createEnrolmentToken(options: { label?: string; ttlMs?: number; maxUses?: number } = {}): { id: string; token: string; expiresAt: number | null } {
    const token = secret('lpe');
    const id = randomUUID();
    const now = Date.now();
    const expiresAt = options.ttlMs ? now + options.ttlMs : null;
    this.db.prepare('INSERT INTO enrolment_tokens (id, token_hash, label, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, hash(token), options.label ?? '', now, expiresAt, options.maxUses ?? null);
    return { id, token, expiresAt };
  }

  /** Every enrolment token (never the secret: only its hash is stored), newest first, with its uses and whether it still enrols. */
  listEnrolmentTokens(now = Date.now()): EnrolmentToken[] {
    const rows = this.db.prepare('SELECT id, label, created_at, expires_at, max_uses, uses, revoked FROM enrolment_tokens ORDER BY created_at DESC, id').all() as
      { id: string; label: string; created_at: number; expires_at: number | null; max_uses: number | null; uses: number; revoked: number }[];
    return rows.map((r) => ({
      id: r.id, label: r.label, createdAt: r.created_at, expiresAt: r.expires_at, maxUses: r.max_uses, uses: r.uses,
      state: r.revoked ? 'revoked' : r.expires_at !== null && r.expires_at <= now ? 'expired' : r.max_uses !== null && r.uses >= r.max_uses ? 'used up' : 'valid',
    }));
  }

  revokeEnrolmentToken(id: string): void {
    if (this.db.prepare('UPDATE enrolment_tokens SET revoked = 1 WHERE id = ?').run(id).changes === 0) throw new StoreError('NOT_FOUND', `no enrolment token ${id}`);
  }

  /** Checks an enrolment token without using it up (the upgrade check). */
  checkEnrolmentToken(token: string): boolean {
    const row = this.db.prepare('SELECT expires_at, max_uses, uses, revoked FROM enrolment_tokens WHERE token_hash = ?').get(hash(token)) as
      { expires_at: number | null; max_uses: number | null; uses: number; revoked: number } | undefined;
    return !!row && row.revoked === 0 && (row.expires_at === null || row.expires_at > Date.now()) && (row.max_uses === null || row.uses < row.max_uses);
  }

  /** Uses an enrolment token: a new device with a credential of its own. */
  enrolDevice(token: string, fingerprint: Fingerprint): { deviceId: string; credential: string } {
    return this.db.transaction(() => {
      if (!this.checkEnrolmentToken(token)) throw new StoreError('UNAUTHORIZED', 'the enrolment token is unknown, expired, revoked or used up');
      const tokenRow = this.db.prepare('SELECT id FROM enrolment_tokens WHERE token_hash = ?').get(hash(token)) as { id: string };
      this.db.prepare('UPDATE enrolment_tokens SET uses = uses + 1 WHERE id = ?').run(tokenRow.id);
      const deviceId = `dev_${randomBytes(6).toString('hex')}`;
      const credential = secret('lpd');
      const now = Date.now();
      this.db.prepare('INSERT INTO devices (id, credential_hash, fingerprint, token_id, enrolled_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(deviceId, hash(credential), JSON.stringify(fingerprint), tokenRow.id, now, now);
      return { deviceId, credential };
    })();
  }

  /** The device a credential belongs to, unless unknown or revoked. */
  authenticateDevice(credential: string): Device | undefined {
    const row = this.sql('SELECT * FROM devices WHERE credential_hash = ? AND revoked = 0').get(hash(credential)) as DeviceRow | undefined;
    return row ? toDevice(row) : undefined;
  }

  updateFingerprint(deviceId: string, fingerprint: Fingerprint): void {
    this.db.prepare('UPDATE devices SET fingerprint = ?, last_seen_at = ? WHERE id = ?').run(JSON.stringify(fingerprint), Date.now(), deviceId);
  }

  touchDevice(deviceId: string): void {
    this.db.prepare('UPDATE devices SET last_seen_at = ? WHERE id = ?').run(Date.now(), deviceId);
  }

  /**
   * Revokes a device: its credential stops working and its open tasks fail ("device revoked"), so
   * the campaigns they are in can finish without it. Closing its socket is the coordinator's part.
   */
  revokeDevice(deviceId: string): void {
    if (this.db.prepare('UPDATE devices SET revoked = 1 WHERE id = ?').run(deviceId).changes === 0) throw new StoreError('NOT_FOUND', `no device ${deviceId}`);
    const open = this.db.prepare("SELECT id FROM tasks WHERE device_id = ? AND state IN ('pending', 'leased')").all(deviceId) as { id: number }[];
    this.failOpenTasks(open.map((t) => ({ deviceId, taskId: t.id })), 'device revoked');
  }

  listDevices(): Device[] {
    return (this.db.prepare('SELECT * FROM devices ORDER BY enrolled_at').all() as DeviceRow[]).map(toDevice);
  }

  getDevice(deviceId: string): Device {
    const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(deviceId) as DeviceRow | undefined;
    if (!row) throw new StoreError('NOT_FOUND', `no device ${deviceId}`);
    return toDevice(row);
  }

  // --- campaigns and leases ---------------------------------------------------------------

  /** A campaign: every config on every device, one task each, inserted in one transaction. */
  createCampaign(input: CampaignInput): Campaign {
    const inserted: NewTask[] = [];
    const steps = this.campaignSteps(input, Number.POSITIVE_INFINITY, inserted);
    const id = this.db.transaction(() => {
      const first = steps.next();
      steps.next();
      return first.value as string;
    })();
    this.addPending(id, inserted);
    return this.getCampaign(id);
  }

  /** Tasks a committed transaction inserted become leasable. */
  private addPending(campaignId: string, inserted: NewTask[]): void {
    for (const [deviceId, taskId, config] of inserted.splice(0)) this.pending.add(deviceId, taskId, campaignId, config);
  }

  /**
   * The same campaign, inserted CAMPAIGN_STEP_TASKS tasks per transaction with the event loop free
   * in between (100,000 tasks in one transaction held the coordinator's thread for 0.6 s: no lease
   * answered, no result stored). It is 'creating' until its last task is in, so it cannot finish
   * early; its tasks are leased as they arrive. A process that stops half-way leaves it 'creating',
   * and the next open cancels it (interruptedCreations).
   */
  async createCampaignInSteps(input: CampaignInput, stepTasks = CAMPAIGN_STEP_TASKS): Promise<Campaign> {
    if (input.configs.length * input.deviceIds.length <= stepTasks) return this.createCampaign(input);
    const inserted: NewTask[] = [];
    const steps = this.campaignSteps(input, stepTasks, inserted);
    const id = this.db.transaction(() => steps.next().value as string)();
    try {
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve));
        const done = this.db.transaction(() => steps.next().done)();
        this.addPending(id, inserted);
        if (done) break;
      }
    } catch (error) {
      if (this.db.open) this.markCancelled(id);
      throw error;
    }
    return this.getCampaign(id);
  }

  /**
   * Campaign creation as steps, each to run in a transaction of its own: the first validates and
   * inserts the campaign (yielding its id), each next one inserts up to `stepTasks` tasks, the last
   * marks it running. With an infinite step: everything in two steps.
   */
  private *campaignSteps(input: CampaignInput, stepTasks: number, inserted: NewTask[]): Generator<string | undefined, void> {
    if (input.configs.length === 0) throw new StoreError('INVALID', 'a campaign needs at least one kernel config');
    if (input.deviceIds.length === 0) throw new StoreError('INVALID', 'a campaign needs at least one device');
    // What every agent will validate its lease against: a protocol it would refuse must not be stored.
    const protocol = MeasurementProtocolSchema.safeParse(input.protocol);
    if (!protocol.success) throw new StoreError('INVALID', `protocol: ${protocol.error.issues.map((i) => `${i.path.join('.') || '(protocol)'}: ${i.message}`).join('; ')}`);
    if (input.protocol.minRuns > input.protocol.maxRuns) throw new StoreError('INVALID', `protocol: minRuns (${input.protocol.minRuns}) is more than maxRuns (${input.protocol.maxRuns})`);
    for (const d of input.deviceIds) {
      const device = this.getDevice(d);
      if (device.revoked) throw new StoreError('INVALID', `device ${d} is revoked`);
    }
    const id = `cmp_${randomBytes(6).toString('hex')}`;
    this.db.prepare("INSERT INTO campaigns (id, name, protocol, state, created_at, purpose, adaptation_id, adaptation_phase) VALUES (?, ?, ?, 'creating', ?, ?, ?, ?)")
      .run(id, input.name, JSON.stringify(input.protocol), Date.now(), input.purpose ?? 'profile', input.adaptation?.id ?? null, input.adaptation?.phase ?? null);
    yield id;
    const insert = this.sql("INSERT INTO tasks (campaign_id, device_id, config, state) VALUES (?, ?, ?, 'pending')");
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
    this.db.prepare("UPDATE campaigns SET state = 'running' WHERE id = ? AND state = 'creating'").run(id);
  }

  getCampaign(id: string): Campaign {
    const row = this.sql('SELECT * FROM campaigns WHERE id = ?').get(id) as CampaignRow | undefined;
    if (!row) throw new StoreError('NOT_FOUND', `no campaign ${id}`);
    return toCampaign(row);
  }

  listCampaigns(): Campaign[] {
    return (this.db.prepare('SELECT * FROM campaigns ORDER BY created_at').all() as CampaignRow[]).map(toCampaign);
  }

  cancelCampaign(id: string): Campaign {
    const c = this.getCampaign(id);
    if (c.state === 'creating') throw new StoreError('INVALID', `campaign ${id} is still being created; cancel it once it is running`);
    if (c.state !== 'running') throw new StoreError('INVALID', `campaign ${id} is already ${c.state}`);
    this.markCancelled(id);
    return this.getCampaign(id);
  }

  progress(campaignId: string): DeviceProgress[] {
    this.getCampaign(campaignId);
    const rows = this.db.prepare('SELECT device_id, state, COUNT(*) n FROM tasks WHERE campaign_id = ? GROUP BY device_id, state ORDER BY device_id')
      .all(campaignId) as { device_id: string; state: keyof Omit<DeviceProgress, 'deviceId'>; n: number }[];
    const byDevice = new Map<string, DeviceProgress>();
    for (const r of rows) {
      const p = byDevice.get(r.device_id) ?? { deviceId: r.device_id, pending: 0, leased: 0, done: 0, failed: 0, cancelled: 0 };
      p[r.state] = r.n;
      byDevice.set(r.device_id, p);
    }
    for (const l of this.leases.outstanding()) {
      const p = l.campaignId === campaignId ? byDevice.get(l.deviceId) : undefined;
      if (p) { p.pending -= l.tasks; p.leased += l.tasks; }
    }
    return [...byDevice.values()];
  }

  /**
   * Leases up to `capacity` pending tasks of one running campaign to a device. Leases are held in
   * memory (leases.ts); on this single connection's thread two requests cannot take the same task.
   * Expired leases are freed by expireLeases(), which the coordinator runs every few seconds.
   */
  leaseTasks(deviceId: string, capacity: number, leaseMs: number): Lease | undefined {
    // The device's pending tasks in order, past those it holds already; one campaign (one protocol) per lease.
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
    return { leaseId, campaignId, protocol: this.campaignProtocol(campaignId), expiresAt, tasks };
  }

  /** A campaign's measurement protocol, read once: it never changes, and every lease carries it. */
  private campaignProtocol(campaignId: string): WireMeasurementProtocol {
    let protocol = this.protocols.get(campaignId);
    if (!protocol) this.protocols.set(campaignId, (protocol = this.getCampaign(campaignId).protocol));
    return protocol;
  }

  /** Hands a device's leased tasks back (its agent dropped): they go to the next lease. */
  releaseLeases(deviceId: string): number {
    return this.lost(this.leases.drop((l) => l.deviceId === deviceId));
  }

  /** Expired leases are freed: their tasks go to the next lease. */
  expireLeases(now = Date.now()): number {
    return this.lost(this.leases.drop((l) => l.expiresAt < now));
  }

  /**
   * Leases lost (socket dropped, lease expired): the task each was in the middle of counts a loss,
   * and a task lost MAX_LEASE_LOSSES times is failed as poison instead of being leased for ever (a
   * kernel that crashes the runtime, or outlasts every lease). Counted in memory: a coordinator
   * restart is not the task's fault.
   */
  private lost(dropped: { tasks: number; inHand: { deviceId: string; taskId: number }[] }): number {
    const poison: { deviceId: string; taskId: number }[] = [];
    for (const t of dropped.inHand) {
      const losses = (this.losses.get(t.taskId) ?? 0) + 1;
      this.losses.set(t.taskId, losses);
      if (losses >= MAX_LEASE_LOSSES) poison.push(t);
    }
    if (poison.length) {
      this.failOpenTasks(poison, `poison: leased ${MAX_LEASE_LOSSES} times and never answered (the agent died or lost its connection while measuring it each time)`);
    }
    return dropped.tasks;
  }

  /** Fails tasks still pending or leased with `reason`, and finishes the campaigns that leaves complete. */
  private failOpenTasks(tasks: readonly { deviceId: string; taskId: number }[], reason: string): void {
    const finished: string[] = [];
    const failed = this.db.transaction(() => {
      const fail = this.sql("UPDATE tasks SET state = 'failed', error = ? WHERE id = ? AND state IN ('pending', 'leased') RETURNING campaign_id");
      const campaigns = new Set<string>();
      const done = tasks.filter((t) => {
        const row = fail.get(reason, t.taskId) as { campaign_id: string } | undefined;
        if (row) campaigns.add(row.campaign_id);
        return row !== undefined;
      });
      for (const c of campaigns) if (this.finishIfComplete(c)) finished.push(c);
      return done;
    })();
    for (const t of failed) {
      this.leases.settle(t.deviceId, t.taskId);
      this.pending.remove(t.deviceId, t.taskId);
      this.losses.delete(t.taskId);
    }
    for (const c of finished) {
      this.pending.campaignFinished(c);
      this.protocols.delete(c);
    }
    for (const c of finished) this.events.emit('campaign.done', c);
  }

  /** Tasks out on leases right now, per device and campaign. */
  outstandingLeases(): { deviceId: string; campaignId: string; tasks: number }[] {
    return this.leases.outstanding();
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
    const getTask = this.sql('SELECT campaign_id, device_id, state, config FROM tasks WHERE id = ?');
    const insert = this.sql(`INSERT OR IGNORE INTO measurements (task_id, campaign_id, device_id, kernel_type, latency_ms, measurement, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const close = this.sql('UPDATE tasks SET state = ?, error = ? WHERE id = ?');
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
          if (m && insert.run(item.taskId, task.campaign_id, deviceId, m.config.type, m.latencyMs, JSON.stringify(m), now).changes > 0) {
            measured++;
            if ('drift' in m && m.drift?.flagged) driftFlagged++;
            storedBy.set(task.campaign_id, (storedBy.get(task.campaign_id) ?? 0) + 1);
          }
          close.run(m ? 'done' : 'failed', m ? null : refused ? `result refused: ${refused}` : item.error ?? 'unknown error', item.taskId);
          closed.push(item.taskId);
          touched.add(task.campaign_id);
        }
        acked.push(item.taskId);
      }
      if (measured > 0) this.countMeasurements(deviceId, measured, driftFlagged);
      for (const c of touched) if (this.finishIfComplete(c)) finished.push(c);
    })();
    for (const taskId of closed) {
      this.leases.settle(deviceId, taskId);
      this.pending.remove(deviceId, taskId);
    }
    for (const [c, n] of storedBy) this.countRecent(c, n, now);
    for (const c of finished) {
      this.pending.campaignFinished(c);
      this.protocols.delete(c); // nothing of it is leased again
    }
    for (const c of finished) this.events.emit('campaign.done', c);
    return { acked, rejected };
  }

  /** Adds to a device's measurement counters; whoever inserts measurements calls this in the same transaction. */
  countMeasurements(deviceId: string, measured: number, driftFlagged: number): void {
    this.sql(`INSERT INTO device_measurements (device_id, measured, drift_flagged) VALUES (?, ?, ?)
      ON CONFLICT (device_id) DO UPDATE SET measured = measured + excluded.measured, drift_flagged = drift_flagged + excluded.drift_flagged`)
      .run(deviceId, measured, driftFlagged);
  }

  /** Measurements per device and how many of them were taken while the drift check flagged the device. */
  measurementCounts(): Map<string, { measured: number; driftFlagged: number }> {
    const rows = this.sql('SELECT device_id, measured, drift_flagged FROM device_measurements').all() as { device_id: string; measured: number; drift_flagged: number }[];
    return new Map(rows.map((r) => [r.device_id, { measured: r.measured, driftFlagged: r.drift_flagged }]));
  }

  /**
   * Task counts by state for one campaign (through the campaign index: cost grows with that campaign
   * only). Leased tasks are pending in the store and counted as leased here, as in progress().
   */
  taskStates(campaignId: string): Record<string, number> {
    const rows = this.sql('SELECT state, COUNT(*) n FROM tasks WHERE campaign_id = ? GROUP BY state').all(campaignId) as { state: string; n: number }[];
    const states: Record<string, number> = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    const leased = this.leases.outstanding().filter((l) => l.campaignId === campaignId).reduce((a, l) => a + l.tasks, 0);
    if (leased > 0) {
      states.pending = (states.pending ?? 0) - leased;
      states.leased = leased;
    }
    return states;
  }

  /**
   * Measurements stored per campaign since a time (at most RECENT_SECONDS ago), from per-second
   * counts kept in memory as results are stored: a query over the last minute's rows walked every
   * one of them at saturation (docs/decisions.md). A new process counts from its start.
   */
  resultsSince(since: number): Map<string, number> {
    const from = Math.floor(since / 1000);
    const out = new Map<string, number>();
    const oldest = Math.floor(Date.now() / 1000) - RECENT_SECONDS;
    for (const [campaignId, seconds] of this.recent) {
      let n = 0;
      let newest = -Infinity;
      for (const [second, count] of seconds) {
        if (second >= from) n += count;
        newest = Math.max(newest, second);
      }
      if (n > 0) out.set(campaignId, n);
      if (newest < oldest) this.recent.delete(campaignId); // nothing stored for it lately
    }
    return out;
  }

  private countRecent(campaignId: string, stored: number, now: number): void {
    const second = Math.floor(now / 1000);
    let seconds = this.recent.get(campaignId);
    if (!seconds) this.recent.set(campaignId, (seconds = new Map()));
    seconds.set(second, (seconds.get(second) ?? 0) + stored);
    if (seconds.size > RECENT_SECONDS) for (const s of seconds.keys()) if (s <= second - RECENT_SECONDS) seconds.delete(s);
  }

  private finishIfComplete(campaignId: string): boolean {
    // EXISTS stops at the first open task; a COUNT would walk all of them after every batch.
    const open = this.sql("SELECT EXISTS (SELECT 1 FROM tasks WHERE campaign_id = ? AND state IN ('pending', 'leased')) AS open").get(campaignId) as { open: number };
    if (open.open !== 0) return false;
    return this.sql("UPDATE campaigns SET state = 'done', finished_at = ? WHERE id = ? AND state = 'running'").run(Date.now(), campaignId).changes > 0;
  }

  /** The newest campaign of that name, if any. */
  findCampaign(name: string): Campaign | undefined {
    const row = this.sql('SELECT * FROM campaigns WHERE name = ? ORDER BY created_at DESC LIMIT 1').get(name) as CampaignRow | undefined;
    return row ? toCampaign(row) : undefined;
  }

  /** An adaptation's measurement round of that phase, if it was created (the newest, should there be two). */
  findAdaptationCampaign(adaptationId: string, phase: string): Campaign | undefined {
    const row = this.sql('SELECT * FROM campaigns WHERE adaptation_id = ? AND adaptation_phase = ? ORDER BY created_at DESC LIMIT 1').get(adaptationId, phase) as CampaignRow | undefined;
    return row ? toCampaign(row) : undefined;
  }

  /** A campaign's tasks in the order their configs were given, with the latency where measured. */
  campaignResults(campaignId: string): { taskId: number; deviceId: string; state: string; latencyMs: number | null; error: string | null }[] {
    return (this.sql(`SELECT t.id, t.device_id, t.state, t.error, m.latency_ms FROM tasks t LEFT JOIN measurements m ON m.task_id = t.id
      WHERE t.campaign_id = ? ORDER BY t.id`).all(campaignId) as { id: number; device_id: string; state: string; error: string | null; latency_ms: number | null }[])
      .map((r) => ({ taskId: r.id, deviceId: r.device_id, state: r.state, latencyMs: r.latency_ms, error: r.error }));
  }

  measurements(filter: { campaignId?: string; deviceId?: string } = {}): StoredMeasurement[] {
    return [...this.measurementPages(filter)];
  }

  /**
   * The measurements in task order, read a page at a time (each page its own query, so no cursor
   * stays open on the connection while a caller waits on a slow client between pages).
   */
  *measurementPages(filter: { campaignId?: string; deviceId?: string } = {}, pageSize = 2000): Generator<StoredMeasurement> {
    const page = this.sql(`SELECT * FROM measurements WHERE task_id > @after AND (@campaign IS NULL OR campaign_id = @campaign)
      AND (@device IS NULL OR device_id = @device) ORDER BY task_id LIMIT @limit`);
    for (let after = -1; ;) {
      const rows = page.all({ after, limit: pageSize, campaign: filter.campaignId ?? null, device: filter.deviceId ?? null }) as MeasurementRow[];
      for (const r of rows) yield { taskId: r.task_id, campaignId: r.campaign_id, deviceId: r.device_id, kernelType: r.kernel_type, latencyMs: r.latency_ms, measurement: JSON.parse(r.measurement), receivedAt: r.received_at };
      if (rows.length < pageSize) return;
      after = rows.at(-1)!.task_id;
    }
  }

  /** Tasks with their state, for checks such as "every task has exactly one measurement". */
  taskCounts(campaignId: string): { tasks: number; measurements: number; distinctMeasuredTasks: number } {
    const t = this.db.prepare('SELECT COUNT(*) n FROM tasks WHERE campaign_id = ?').get(campaignId) as { n: number };
    const m = this.db.prepare('SELECT COUNT(*) n, COUNT(DISTINCT task_id) d FROM measurements WHERE campaign_id = ?').get(campaignId) as { n: number; d: number };
    return { tasks: t.n, measurements: m.n, distinctMeasuredTasks: m.d };
  }
}
