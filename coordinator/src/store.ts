// The coordinator's store: the single source of truth, one SQLite database (store/database.ts).
// Each table has one writing module (listed in the coordinator README): store/enrolment.ts,
// store/devices.ts, store/campaigns.ts, store/measurements.ts, store/adaptations.ts and
// predictor-store.ts. This class opens them on one connection and carries out what spans two of
// them (enrolling a device uses up a token; revoking one fails its open tasks).
import { DEFAULT_PROTOCOL } from '@litepred/profiler';
import type { Fingerprint, TaskResult } from '@litepred/protocol';
import { FleetEvents } from './events.js';
import { Campaigns, type Campaign, type CampaignInput, type DeviceProgress, type ImportedMeasurement } from './store/campaigns.js';
import type { Lease } from './store/dispatch.js';
import { registerConnection, StoreDatabase, type StoreOpenOptions } from './store/database.js';
import { Devices, type Device } from './store/devices.js';
import { Enrolment, type EnrolmentToken } from './store/enrolment.js';
import { Measurements, type StoredMeasurement } from './store/measurements.js';

export {
  CAMPAIGN_STEP_TASKS,
  type Campaign,
  type CampaignInput,
  type CampaignPurpose,
  type DeviceProgress,
  type ImportedMeasurement,
} from './store/campaigns.js';
export { MAX_LEASE_LOSSES, type Lease } from './store/dispatch.js';
export type { Device } from './store/devices.js';
export type { EnrolmentToken } from './store/enrolment.js';
export type { StoredMeasurement } from './store/measurements.js';
export { StoreError } from './store/secrets.js';

export class Store {
  private readonly db: StoreDatabase;
  private readonly enrolment: Enrolment;
  private readonly devices: Devices;
  private readonly campaigns: Campaigns;
  private readonly measurementTable: Measurements;
  /** The fleet's events (events.ts): the store emits campaign.done and campaign.cancelled after their commit, the server the rest. */
  readonly events = new FleetEvents();
  /** Campaigns a previous process was still creating when it stopped (cancelled on open; their measurements stay). */
  readonly interruptedCreations: string[] = [];

  /** `readonly`: a reader beside the coordinator's connection (build-worker.ts); no migrations, no writes. */
  constructor(path: string, options: StoreOpenOptions = {}) {
    this.db = new StoreDatabase(path, options);
    registerConnection(this, this.db);
    this.enrolment = new Enrolment(this.db);
    this.devices = new Devices(this.db);
    this.measurementTable = new Measurements(this.db);
    this.campaigns = new Campaigns(this.db, this.devices, this.measurementTable, this.events);
    if (!options.readonly) this.interruptedCreations = this.campaigns.open();
  }

  close(): void {
    this.db.close();
  }

  // --- credentials and devices ------------------------------------------------------------

  ensureAdminToken(): string | undefined {
    return this.enrolment.ensureAdminToken();
  }
  isAdmin(token: string | undefined): boolean {
    return this.enrolment.isAdmin(token);
  }
  createEnrolmentToken(options: { label?: string; ttlMs?: number; maxUses?: number } = {}) {
    return this.enrolment.createToken(options);
  }
  listEnrolmentTokens(now = Date.now()): EnrolmentToken[] {
    return this.enrolment.listTokens(now);
  }
  revokeEnrolmentToken(id: string): void {
    this.enrolment.revokeToken(id);
  }
  /** Checks an enrolment token without using it up (the upgrade check). */
  checkEnrolmentToken(token: string): boolean {
    return this.enrolment.checkToken(token);
  }

  /** Uses an enrolment token: a new device with a credential of its own. */
  enrolDevice(token: string, fingerprint: Fingerprint): { deviceId: string; credential: string } {
    return this.db.transaction(() => this.devices.add(this.enrolment.useToken(token), fingerprint));
  }

  /** The device a credential belongs to, unless unknown or revoked. */
  authenticateDevice(credential: string): Device | undefined {
    return this.devices.authenticate(credential);
  }
  updateFingerprint(deviceId: string, fingerprint: Fingerprint): void {
    this.devices.updateFingerprint(deviceId, fingerprint);
  }
  touchDevice(deviceId: string): void {
    this.devices.touch(deviceId);
  }
  listDevices(): Device[] {
    return this.devices.list();
  }
  getDevice(deviceId: string): Device {
    return this.devices.get(deviceId);
  }

  /**
   * Revokes a device: its credential stops working and its open tasks fail ("device revoked"), so
   * the campaigns they are in can finish without it. Closing its socket is the coordinator's part.
   */
  revokeDevice(deviceId: string): void {
    this.devices.revoke(deviceId);
    this.campaigns.failOpenTasksOf(deviceId, 'device revoked');
  }

  /**
   * A starter-pool configuration as a device with its measurements, as one finished campaign, in
   * one transaction. Returns false (and changes nothing) when the device is already there.
   */
  importStarterDevice(deviceId: string, fingerprint: Fingerprint, rows: readonly ImportedMeasurement[], measuredAt: number): boolean {
    return this.db.transaction(() => {
      if (!this.devices.addImported(deviceId, fingerprint, measuredAt)) return false;
      this.campaigns.addImported(`cmp_pool_${deviceId}`, `starter pool: ${deviceId}`, deviceId, DEFAULT_PROTOCOL, rows, measuredAt);
      this.measurementTable.count(
        deviceId,
        rows.length,
        rows.filter((r) => (r.measurement as { drift?: { flagged?: boolean } }).drift?.flagged).length,
      );
      return true;
    });
  }

  // --- campaigns, tasks and leases --------------------------------------------------------

  /** A campaign: every config on every device, one task each, inserted in one transaction. */
  createCampaign(input: CampaignInput): Campaign {
    return this.campaigns.create(input);
  }
  /** The same, a thousand tasks per transaction with the event loop free in between (campaigns.ts). */
  createCampaignInSteps(input: CampaignInput, stepTasks?: number): Promise<Campaign> {
    return this.campaigns.createInSteps(input, stepTasks);
  }
  getCampaign(id: string): Campaign {
    return this.campaigns.get(id);
  }
  listCampaigns(): Campaign[] {
    return this.campaigns.list();
  }
  cancelCampaign(id: string): Campaign {
    return this.campaigns.cancel(id);
  }
  progress(campaignId: string): DeviceProgress[] {
    return this.campaigns.progress(campaignId);
  }
  taskStates(campaignId: string): Record<string, number> {
    return this.campaigns.taskStates(campaignId);
  }
  /** The newest campaign of that name, if any. */
  findCampaign(name: string): Campaign | undefined {
    return this.campaigns.findByName(name);
  }
  /** An adaptation's measurement round of that phase, if it was created. */
  findAdaptationCampaign(adaptationId: string, phase: string): Campaign | undefined {
    return this.campaigns.findOfAdaptation(adaptationId, phase);
  }
  campaignResults(campaignId: string) {
    return this.campaigns.results(campaignId);
  }

  /** Up to `capacity` pending tasks of one running campaign, leased to a device. */
  leaseTasks(deviceId: string, capacity: number, leaseMs: number): Lease | undefined {
    return this.campaigns.lease(deviceId, capacity, leaseMs);
  }
  releaseLeases(deviceId: string): number {
    return this.campaigns.releaseLeases(deviceId);
  }
  expireLeases(now = Date.now()): number {
    return this.campaigns.expireLeases(now);
  }
  outstandingLeases(): { deviceId: string; campaignId: string; tasks: number }[] {
    return this.campaigns.outstandingLeases();
  }

  // --- measurements -----------------------------------------------------------------------

  /** Stores a device's batch of results in one transaction (campaigns.ts: idempotent, other devices' tasks rejected). */
  recordResults(deviceId: string, items: readonly TaskResult[]) {
    return this.campaigns.recordResults(deviceId, items);
  }

  /** Several devices' batches in one transaction (the ingest's batching). */
  recordResultBatches(batches: readonly { deviceId: string; items: readonly TaskResult[] }[]) {
    return this.db.transaction(() => batches.map((b) => this.campaigns.recordResults(b.deviceId, b.items)));
  }

  /** Measurements per device and how many of them were taken while the drift check flagged the device. */
  measurementCounts(): Map<string, { measured: number; driftFlagged: number }> {
    return this.measurementTable.counts();
  }
  /** Measurements stored per campaign since a time (at most five minutes ago). */
  resultsSince(since: number): Map<string, number> {
    return this.measurementTable.since(since);
  }
  measurements(filter: { campaignId?: string; deviceId?: string } = {}): StoredMeasurement[] {
    return [...this.measurementTable.pages(filter)];
  }
  /** The measurements in task order, a page of rows per query. */
  measurementPages(filter: { campaignId?: string; deviceId?: string } = {}, pageSize = 2000): Generator<StoredMeasurement> {
    return this.measurementTable.pages(filter, pageSize);
  }

  /** Tasks with their state, for checks such as "every task has exactly one measurement". */
  taskCounts(campaignId: string): { tasks: number; measurements: number; distinctMeasuredTasks: number } {
    const m = this.measurementTable.ofCampaign(campaignId);
    return { tasks: this.campaigns.taskCount(campaignId), measurements: m.measurements, distinctMeasuredTasks: m.distinctTasks };
  }
}
