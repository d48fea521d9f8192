import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFleetConfig, MAX_LEASE_LOSSES, Store } from '@litepred/coordinator';
import type { Fingerprint, WireMeasurement } from '@litepred/protocol';
import { sqliteOf } from './sqlite.js';

const dir = () => mkdtempSync(join(tmpdir(), 'litepred-store-'));
const fingerprint: Fingerprint = {
  cpuModel: 'Test CPU',
  cores: 2,
  arch: 'x64',
  os: 'Linux',
  memoryBytes: 1e9,
  runtime: { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' },
  runtimeVersion: '1.30.0',
  executionProvider: 'cpu',
};
const protocol = { warmupRuns: 1, warmupMs: 0, minRuns: 5, maxRuns: 10, maxMs: 50, targetPrecision: 0.05 };
const stats = { n: 5, median: 1, p10: 1, p90: 1, min: 1, max: 1, mean: 1, std: 0, iqm: 1, q1mean: 1 };
const measurement = (config: Record<string, unknown>): WireMeasurement => ({
  config: config as WireMeasurement['config'],
  latencyMs: 1,
  statistic: 'median',
  kernel: stats,
  wall: stats,
  boundary: { reorderInMs: 0, reorderOutMs: 0, sinkMs: 0, runOverheadMs: 0, coldWeightsMs: 0 },
  method: 'node-profile',
  warmupRuns: 1,
  converged: true,
  sessionCreateMs: 1,
  runtime: { ...fingerprint.runtime, runtimeVersion: '1.30.0', executionProvider: 'cpu' },
  measuredAt: new Date().toISOString(),
});

function setup() {
  const store = new Store(join(dir(), 'db.sqlite'));
  const { token } = store.createEnrolmentToken({ label: 't' });
  const a = store.enrolDevice(token, fingerprint);
  const b = store.enrolDevice(token, fingerprint);
  const configs = [
    { type: 'relu', HW: 8, CIN: 8 },
    { type: 'relu', HW: 16, CIN: 8 },
    { type: 'add', HW: 8, CIN: 8 },
  ];
  const campaign = store.createCampaign({ name: 'c', configs, deviceIds: [a.deviceId, b.deviceId], protocol });
  return { store, a, b, campaign };
}

describe('store', () => {
  it('runs in WAL mode and migrates to the current schema once', () => {
    const path = join(dir(), 'db.sqlite');
    const s1 = new Store(path);
    expect(sqliteOf(s1).pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqliteOf(s1).pragma('user_version', { simple: true })).toBe(8);
    s1.close();
    const s2 = new Store(path); // reopening does not re-run migrations
    expect(sqliteOf(s2).pragma('user_version', { simple: true })).toBe(8);
    s2.close();
  });

  it('stores credentials hashed, never in clear', () => {
    const { store, a } = setup();
    const rows =
      JSON.stringify(sqliteOf(store).prepare('SELECT * FROM devices').all()) +
      JSON.stringify(sqliteOf(store).prepare('SELECT * FROM enrolment_tokens').all());
    expect(rows).not.toContain(a.credential);
    expect(store.authenticateDevice(a.credential)!.id).toBe(a.deviceId);
    expect(store.authenticateDevice('lpd_forged')).toBeUndefined();
    store.revokeDevice(a.deviceId);
    expect(store.authenticateDevice(a.credential)).toBeUndefined();
  });

  it('honours token use limits, expiry and revocation', () => {
    const store = new Store(join(dir(), 'db.sqlite'));
    const once = store.createEnrolmentToken({ maxUses: 1 });
    store.enrolDevice(once.token, fingerprint);
    expect(() => store.enrolDevice(once.token, fingerprint)).toThrow(/used up/);
    const expired = store.createEnrolmentToken({ ttlMs: 1 });
    const t0 = Date.now();
    while (Date.now() - t0 < 5) {
      /* let it expire */
    }
    expect(store.checkEnrolmentToken(expired.token)).toBe(false);
    const revoked = store.createEnrolmentToken();
    store.revokeEnrolmentToken(revoked.id);
    expect(() => store.enrolDevice(revoked.token, fingerprint)).toThrow(/revoked/);
  });

  it('keeps the store and its WAL files owner-only, and narrows an older store that was not', () => {
    const path = join(dir(), 'db.sqlite');
    const store = new Store(path);
    store.createEnrolmentToken();
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(file).mode & 0o777).toBe(0o600);
    store.close();
    chmodSync(path, 0o644);
    new Store(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("leases only a device's own tasks, once, and hands them back when its agent drops", () => {
    const { store, a, b, campaign } = setup();
    const l1 = store.leaseTasks(a.deviceId, 2, 60_000)!;
    expect(l1.tasks).toHaveLength(2);
    const l2 = store.leaseTasks(a.deviceId, 5, 60_000)!;
    expect(l2.tasks.map((t) => t.taskId)).not.toContain(l1.tasks[0]!.taskId);
    expect(store.leaseTasks(a.deviceId, 5, 60_000)).toBeUndefined();
    expect(store.progress(campaign.id).find((p) => p.deviceId === a.deviceId)).toMatchObject({ leased: 3, pending: 0 });
    expect(store.releaseLeases(a.deviceId)).toBe(3);
    expect(store.progress(campaign.id).find((p) => p.deviceId === b.deviceId)).toMatchObject({ pending: 3 });
  });

  it('fails as poison a task whose lease was lost MAX_LEASE_LOSSES times while it was in hand, and leases the rest on', () => {
    const { store, a, campaign } = setup();
    const [first, second] = store.leaseTasks(a.deviceId, 3, 60_000)!.tasks.map((t) => t.taskId);
    expect(
      store.recordResults(a.deviceId, [{ taskId: first!, leaseId: 'x', measurement: measurement({ type: 'relu', HW: 8, CIN: 8 }) }]).acked,
    ).toEqual([first]);
    // The agent dies on the second task: every time it is leased again, it is the one in hand.
    expect(store.releaseLeases(a.deviceId)).toBe(2);
    for (let loss = 2; loss <= MAX_LEASE_LOSSES; loss++) {
      expect(store.leaseTasks(a.deviceId, 3, 60_000)!.tasks[0]!.taskId).toBe(second);
      expect(store.releaseLeases(a.deviceId)).toBe(2);
    }
    const results = store.campaignResults(campaign.id).filter((r) => r.deviceId === a.deviceId);
    expect(results.map((r) => r.state)).toEqual(['done', 'failed', 'pending']);
    expect(results[1]!.error).toMatch(/^poison: leased 3 times and never answered/);
    // The task behind it was never blamed, and is leased on its own now.
    expect(store.leaseTasks(a.deviceId, 3, 60_000)!.tasks.map((t) => t.taskId)).toEqual([results[2]!.taskId]);
  });

  it('keeps leases in memory only: results settle them, and a store from before has its leased rows freed by the upgrade', () => {
    const { store, a, campaign } = setup();
    const lease = store.leaseTasks(a.deviceId, 3, 60_000)!;
    expect(sqliteOf(store).prepare("SELECT COUNT(*) n FROM tasks WHERE state = 'leased'").get()).toEqual({ n: 0 });
    expect(store.outstandingLeases()).toEqual([{ deviceId: a.deviceId, campaignId: campaign.id, tasks: 3 }]);
    store.recordResults(
      a.deviceId,
      lease.tasks.slice(0, 2).map((t) => ({ taskId: t.taskId, leaseId: lease.leaseId, measurement: measurement(t.config) })),
    );
    expect(store.outstandingLeases()).toEqual([{ deviceId: a.deviceId, campaignId: campaign.id, tasks: 1 }]);
    expect(store.progress(campaign.id).find((p) => p.deviceId === a.deviceId)).toMatchObject({ done: 2, leased: 1, pending: 0 });
    // A row left 'leased' by an older coordinator that crashed: pending again once the store is upgraded.
    const last = lease.tasks[2]!.taskId;
    sqliteOf(store).prepare("UPDATE tasks SET state = 'leased', lease_id = 'old', lease_expires_at = 1 WHERE id = ?").run(last);
    sqliteOf(store).pragma('user_version = 4');
    const file = sqliteOf(store).name;
    store.close();
    const reopened = new Store(file);
    expect(reopened.outstandingLeases()).toEqual([]);
    expect(sqliteOf(reopened).prepare('SELECT state FROM tasks WHERE id = ?').get(last)).toEqual({ state: 'pending' });
    expect(reopened.leaseTasks(a.deviceId, 3, 60_000)!.tasks.map((t) => t.taskId)).toEqual([last]);
    reopened.close();
  });

  it('creates a large campaign in steps: creating, leasable meanwhile, running with every task at the end', async () => {
    const { store, a, b } = setup();
    const configs = Array.from({ length: 10 }, (_, i) => ({ type: 'relu', HW: 4 + i, CIN: 8 }));
    const creating = store.createCampaignInSteps({ name: 'big', configs, deviceIds: [a.deviceId, b.deviceId], protocol }, 6);
    const id = store.listCampaigns().find((c) => c.name === 'big')!.id;
    expect(store.getCampaign(id).state).toBe('creating');
    expect(() => store.cancelCampaign(id)).toThrow(/still being created/);
    await new Promise((resolve) => setImmediate(resolve));
    // The first step is in: device a's first tasks go out while the rest are still being inserted.
    expect(store.taskCounts(id).tasks).toBe(6);
    const lease = store.leaseTasks(b.deviceId, 4, 60_000)!; // b's tasks of campaign 'c' come first
    store.recordResults(
      a.deviceId,
      lease.tasks.map((t) => ({ taskId: t.taskId, leaseId: lease.leaseId, measurement: measurement(t.config) })),
    );
    expect(store.getCampaign(id).state).toBe('creating');
    const campaign = await creating;
    expect(campaign).toMatchObject({ id, state: 'running' });
    expect(store.taskCounts(id).tasks).toBe(20);
    // Task order is config order per device, as with a campaign made in one transaction.
    const rows = sqliteOf(store).prepare('SELECT device_id, config FROM tasks WHERE campaign_id = ? ORDER BY id').all(id) as {
      device_id: string;
      config: string;
    }[];
    expect(rows.map((r) => [r.device_id, JSON.parse(r.config).HW])).toEqual([a, b].flatMap((d) => configs.map((c) => [d.deviceId, c.HW])));
    // Small campaigns still go in one transaction.
    expect(
      (await store.createCampaignInSteps({ name: 'small', configs: configs.slice(0, 2), deviceIds: [a.deviceId], protocol }, 6)).state,
    ).toBe('running');
  });

  it('cancels a campaign whose creation a stopped process left half-done, and keeps what it measured', async () => {
    const { store, a, campaign: earlier } = setup();
    const ahead = store.leaseTasks(a.deviceId, 3, 60_000)!; // device a's tasks of the earlier campaign come first
    store.recordResults(
      a.deviceId,
      ahead.tasks.map((t) => ({ taskId: t.taskId, leaseId: ahead.leaseId, measurement: measurement(t.config) })),
    );
    const configs = Array.from({ length: 30 }, (_, i) => ({ type: 'relu', HW: 4 + i, CIN: 8 }));
    const creating = store.createCampaignInSteps({ name: 'big', configs, deviceIds: [a.deviceId], protocol }, 5);
    const id = store.listCampaigns().find((c) => c.name === 'big')!.id;
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const lease = store.leaseTasks(a.deviceId, 3, 60_000)!; // some of what is in so far
    expect(lease.campaignId).toBe(id);
    store.recordResults(
      a.deviceId,
      lease.tasks.map((t) => ({ taskId: t.taskId, leaseId: lease.leaseId, measurement: measurement(t.config) })),
    );
    const file = sqliteOf(store).name;
    store.close(); // the process stops between two steps
    await expect(creating).rejects.toThrow(/not open/);

    const reopened = new Store(file);
    expect(reopened.interruptedCreations).toEqual([id]);
    expect(reopened.getCampaign(id).state).toBe('cancelled');
    const states = Object.fromEntries(
      (
        sqliteOf(reopened).prepare('SELECT state, COUNT(*) n FROM tasks WHERE campaign_id = ? GROUP BY state').all(id) as {
          state: string;
          n: number;
        }[]
      ).map((r) => [r.state, r.n]),
    );
    expect(states.done).toBe(lease.tasks.length);
    expect(states.pending).toBeUndefined();
    expect(states.cancelled).toBeGreaterThan(0);
    expect(lease.tasks.length + states.cancelled).toBeLessThan(30);
    expect(reopened.taskCounts(id).measurements).toBe(lease.tasks.length);
    expect(reopened.getCampaign(earlier.id).state).toBe('running'); // other campaigns untouched
    expect(reopened.taskCounts(earlier.id).measurements).toBe(3);
    reopened.close();
    expect(new Store(file).interruptedCreations).toEqual([]); // once
  });

  it('counts measurements per device with every insert (drift flags too, resends once) and backfills the counts on upgrade', () => {
    const { store, a, b, campaign } = setup();
    const recount = () =>
      new Map(
        (
          sqliteOf(store)
            .prepare(
              `SELECT device_id, COUNT(*) n, SUM(CASE WHEN json_extract(measurement, '$.drift.flagged') = 1 THEN 1 ELSE 0 END) d
      FROM measurements GROUP BY device_id`,
            )
            .all() as { device_id: string; n: number; d: number }[]
        ).map((r) => [r.device_id, { measured: r.n, driftFlagged: r.d }]),
      );
    const lease = store.leaseTasks(a.deviceId, 3, 60_000)!;
    const items = lease.tasks.map((t, i) => ({
      taskId: t.taskId,
      leaseId: lease.leaseId,
      measurement: { ...measurement(t.config), drift: { ratioBefore: 1, ratioAfter: i === 0 ? 1.3 : 1, flagged: i === 0 } },
    }));
    const before = Date.now();
    store.recordResults(a.deviceId, items);
    store.recordResults(a.deviceId, items); // a resend after a lost ack
    const other = store.leaseTasks(b.deviceId, 1, 60_000)!;
    // A failure is no measurement.
    store.recordResults(b.deviceId, [{ taskId: other.tasks[0]!.taskId, leaseId: other.leaseId, error: 'crashed' }]);
    expect(store.measurementCounts()).toEqual(new Map([[a.deviceId, { measured: 3, driftFlagged: 1 }]]));
    expect(store.measurementCounts()).toEqual(recount());
    expect(store.taskStates(campaign.id)).toEqual({ done: 3, failed: 1, pending: 2 });
    store.leaseTasks(b.deviceId, 1, 60_000); // leased tasks are pending in the store, leased in the counts
    expect(store.taskStates(campaign.id)).toEqual({ done: 3, failed: 1, pending: 1, leased: 1 });
    expect(store.resultsSince(before)).toEqual(new Map([[campaign.id, 3]]));
    expect(store.resultsSince(Date.now() + 1000)).toEqual(new Map());

    // A store from before the counters: they are filled from what it holds.
    sqliteOf(store).exec(
      'DROP TABLE device_measurements; DROP INDEX campaigns_by_adaptation; ALTER TABLE campaigns DROP COLUMN ' +
        'adaptation_phase; ALTER TABLE campaigns DROP COLUMN adaptation_id; PRAGMA user_version = 6',
    );
    const file = sqliteOf(store).name;
    store.close();
    const upgraded = new Store(file);
    expect(upgraded.measurementCounts()).toEqual(new Map([[a.deviceId, { measured: 3, driftFlagged: 1 }]]));
    upgraded.close();
  });

  it(
    'leases from its in-memory pending tasks exactly what the store holds: in task order, one campaign per lease, after ' + 'a reopen too',
    () => {
      const { store, a, campaign: first } = setup();
      const second = store.createCampaign({
        name: 'd',
        configs: [
          { type: 'relu', HW: 32, CIN: 8 },
          { type: 'add', HW: 4, CIN: 8 },
        ],
        deviceIds: [a.deviceId],
        protocol,
      });
      const stored = () =>
        (
          sqliteOf(store)
            .prepare("SELECT id, campaign_id, config FROM tasks WHERE device_id = ? AND state = 'pending' ORDER BY id")
            .all(a.deviceId) as { id: number; campaign_id: string; config: string }[]
        ).map((r) => ({ taskId: r.id, campaignId: r.campaign_id, config: JSON.parse(r.config) }));
      const expected = stored();
      const l1 = store.leaseTasks(a.deviceId, 10, 60_000)!;
      expect(l1.campaignId).toBe(first.id);
      expect(l1.tasks).toEqual(
        expected
          .filter((t) => t.campaignId === first.id)
          .map(({ taskId, config }) => ({ taskId, config, configJson: JSON.stringify(config) })),
      );
      const l2 = store.leaseTasks(a.deviceId, 1, 60_000)!;
      expect(l2).toMatchObject({ campaignId: second.id, tasks: [{ taskId: expected[3]!.taskId, config: expected[3]!.config }] });
      store.recordResults(
        a.deviceId,
        l1.tasks.slice(0, 2).map((t) => ({ taskId: t.taskId, leaseId: l1.leaseId, measurement: measurement(t.config) })),
      );
      const file = sqliteOf(store).name;
      store.close();
      // A new process: no leases, the store's pending tasks reloaded.
      const reopened = new Store(file);
      const again = reopened.leaseTasks(a.deviceId, 10, 60_000)!;
      expect(again.tasks.map((t) => t.taskId)).toEqual([expected[2]!.taskId]);
      expect(reopened.leaseTasks(a.deviceId, 10, 60_000)!.tasks.map((t) => t.taskId)).toEqual(expected.slice(3).map((t) => t.taskId));
      expect(reopened.leaseTasks(a.deviceId, 10, 60_000)).toBeUndefined();
      reopened.close();
    },
  );

  it('re-issues expired leases', () => {
    const { store, a } = setup();
    const first = store.leaseTasks(a.deviceId, 3, 60_000)!;
    expect(store.expireLeases(Date.now() + 120_000)).toBe(3);
    expect(store.leaseTasks(a.deviceId, 3, 60_000)!.tasks.map((t) => t.taskId)).toEqual(first.tasks.map((t) => t.taskId));
  });

  it('stores a result once however often it arrives, and finishes the campaign (once, as an event after the commit)', () => {
    const { store, a, b, campaign } = setup();
    const done: string[] = [];
    store.events.on('campaign.done', (id) => done.push(`${id} ${store.getCampaign(id).state}`));
    for (const device of [a, b]) {
      const lease = store.leaseTasks(device.deviceId, 3, 60_000)!;
      const items = lease.tasks.map((t) => ({ taskId: t.taskId, leaseId: lease.leaseId, measurement: measurement(t.config) }));
      expect(store.recordResults(device.deviceId, items).acked).toHaveLength(3);
      expect(store.recordResults(device.deviceId, items).acked).toHaveLength(3); // a resend is acknowledged again...
    }
    expect(store.taskCounts(campaign.id)).toEqual({ tasks: 6, measurements: 6, distinctMeasuredTasks: 6 }); // ...and stored once
    expect(store.getCampaign(campaign.id).state).toBe('done');
    expect(done).toEqual([`${campaign.id} done`]);
  });

  it("refuses results for another device's task", () => {
    const { store, a, b } = setup();
    const lease = store.leaseTasks(a.deviceId, 1, 60_000)!;
    const r = store.recordResults(b.deviceId, [
      { taskId: lease.tasks[0]!.taskId, leaseId: lease.leaseId, measurement: measurement(lease.tasks[0]!.config) },
    ]);
    expect(r.rejected).toEqual([{ taskId: lease.tasks[0]!.taskId, reason: 'the task belongs to another device' }]);
    expect(store.measurements()).toHaveLength(0);
  });

  it('refuses a campaign whose protocol its agents would refuse, and stores nothing of it', () => {
    const { store, a } = setup();
    const before = store.listCampaigns().length;
    const make = (p: Record<string, unknown>) => () =>
      store.createCampaign({
        name: 'p',
        configs: [{ type: 'relu', HW: 8, CIN: 8 }],
        deviceIds: [a.deviceId],
        protocol: { ...protocol, ...p } as never,
      });
    expect(make({ maxMs: -1 })).toThrow(/protocol: maxMs: /);
    expect(make({ rounds: 50 })).toThrow(/protocol: rounds: /);
    expect(make({ minRuns: 20, maxRuns: 10 })).toThrow(/minRuns \(20\) is more than maxRuns \(10\)/);
    expect(store.listCampaigns()).toHaveLength(before);
  });

  it('cancels a campaign: nothing more is leased', () => {
    const { store, a, campaign } = setup();
    const cancelled: string[] = [];
    store.events.on('campaign.cancelled', (id) => cancelled.push(id));
    store.cancelCampaign(campaign.id);
    expect(cancelled).toEqual([campaign.id]);
    expect(store.leaseTasks(a.deviceId, 5, 60_000)).toBeUndefined();
    expect(() => store.cancelCampaign(campaign.id)).toThrow(/already cancelled/);
  });
});

describe('fleet config', () => {
  it('loads the default fleet and resolves the database beside the config file', () => {
    const c = loadFleetConfig('fleet.config.json');
    expect(c.listen.port).toBe(7420);
    expect(c.database).toMatch(/\.litepred\/litepred\.sqlite$/);
    expect(c.localAgents.length).toBeGreaterThan(0);
  });

  it('names the field that is wrong', () => {
    const d = dir();
    const write = (v: unknown) => {
      const f = join(d, `c${Math.random()}.json`);
      writeFileSync(f, JSON.stringify(v));
      return f;
    };
    const base = JSON.parse(JSON.stringify(loadFleetConfig('fleet.config.json'))) as Record<string, unknown>;
    delete base.file;
    expect(() => loadFleetConfig(write({ ...base, listen: { host: 'x', port: 70000 } }))).toThrow(/listen\.port: /);
    expect(() => loadFleetConfig(write({ ...base, protocol: { ...(base.protocol as object), minRuns: 0 } }))).toThrow(
      /protocol\.minRuns: /,
    );
    expect(() => loadFleetConfig(write({ ...base, colour: 'red' }))).toThrow(/colour/);
    expect(() => loadFleetConfig(join(d, 'missing.json'))).toThrow(/missing\.json: \(file\): not found/);
  });
});
