import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { PredictorStore, Store } from '@litepred/coordinator';
import { reorderMs } from '@litepred/predictor';
import { architectureTask, type Fingerprint } from '@litepred/protocol';
import { sqliteOf } from './sqlite.js';

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
const path = () => join(mkdtempSync(join(tmpdir(), 'litepred-pstore-')), 'db.sqlite');

describe('predictor store', () => {
  it('upgrades a store of the previous schema without losing what it holds', () => {
    const file = path();
    const old = new Store(file);
    const { token } = old.createEnrolmentToken();
    const { deviceId } = old.enrolDevice(token, fingerprint);
    sqliteOf(old).exec(
      'DROP TABLE fusion_rules; DROP TABLE compositions; DROP TABLE adaptations; DROP TABLE predictors; DROP INDEX ' +
        'campaigns_by_name; ALTER TABLE campaigns DROP COLUMN purpose; ALTER TABLE devices DROP COLUMN origin; PRAGMA user_version = 2',
    );
    old.close();
    expect(new Database(file).pragma('user_version', { simple: true })).toBe(2);
    const store = new Store(file);
    expect(store.getDevice(deviceId)).toMatchObject({ id: deviceId, origin: 'agent' });
    store.close();
  });

  it('imports a starter device once, keeps kernels and architectures apart, and versions predictors and compositions', () => {
    const store = new Store(path());
    const ps = new PredictorStore(store);
    const rows = [
      { config: { type: 'relu', HW: 8, CIN: 8 }, latencyMs: 0.01, measurement: { boundary: { runOverheadMs: 0.05 } } },
      { config: { type: 'relu', HW: 8, CIN: 8 }, latencyMs: 0.03, measurement: { boundary: { runOverheadMs: 0.07 } } },
      { config: { type: 'relu', HW: 16, CIN: 8 }, latencyMs: 0.02, measurement: { boundary: { runOverheadMs: 0.06 } } },
      { config: architectureTask('ofa-mbv3', 3), latencyMs: 5, measurement: { kind: 'model' } },
    ];
    expect(store.importStarterDevice('pool-x', fingerprint, rows, 1000)).toBe(true);
    expect(store.importStarterDevice('pool-x', fingerprint, rows, 1000)).toBe(false);
    expect(store.getDevice('pool-x').origin).toBe('starter-pool');
    // One sample per distinct config (the median of repeats), no architecture among the kernels.
    expect([...ps.kernelSamples('pool-x')].map(([t, s]) => [t, s.map((x) => x.latencyMs)])).toEqual([['relu', [0.03, 0.02]]]);
    expect(ps.architectureMeasurements('pool-x', { purposes: ['starter-pool'] })).toEqual([{ space: 'ofa-mbv3', seed: 3, latencyMs: 5 }]);
    expect(ps.architectureMeasurements('pool-x', { purposes: ['profile'] })).toEqual([]);
    expect(ps.runOverheadMs('pool-x')).toBe(0.06);

    const item = {
      deviceId: 'pool-x',
      kernelType: 'relu',
      kind: 'roofline',
      data: { v: 1 },
      trainingSamples: 2,
      metrics: null,
      provenance: { method: 'full-data' as const, measurements: 2, heldOut: 0 },
    };
    expect(ps.savePredictors([item])).toEqual([1]);
    expect(ps.savePredictors([{ ...item, data: { v: 2 } }])).toEqual([2]);
    expect(ps.latestPredictors('pool-x').map((p) => [p.version, p.data])).toEqual([[2, { v: 2 }]]);
    expect(ps.getPredictor('pool-x', 'relu', 1).data).toEqual({ v: 1 });
    expect(() => ps.getPredictor('pool-x', 'add')).toThrow(/device pool-x has no add predictor; it has: relu/);
    expect(ps.saveComposition('pool-x', { factors: {} }, null, { models: 1 })).toBe(1);
    expect(ps.saveComposition('pool-x', { factors: { relu: 2 } }, null, { models: 2 })).toBe(2);
    expect(ps.latestComposition('pool-x')?.data).toEqual({ factors: { relu: 2 } });
  });

  it("reads what a layout reorder costs a device off its convs' boundary reorders; none where it shows none", () => {
    const store = new Store(path());
    const ps = new PredictorStore(store);
    const conv = (hw: number) => ({ type: 'conv-bn-relu', HW: hw, CIN: 32, COUT: 32, KERNEL_SIZE: 3, STRIDES: 1 });
    const rows = (reorders: boolean) =>
      Array.from({ length: 40 }, (_, i) => {
        const config = conv(8 + 4 * (i % 10));
        const bytes = 4 * config.HW * config.HW * 32;
        const boundary = { reorderInMs: reorders ? bytes / 20e6 : 0, reorderOutMs: reorders ? bytes / 20e6 : 0, runOverheadMs: 0.02 };
        return { config, latencyMs: 0.1, measurement: { config, latencyMs: 0.1, boundary } };
      });
    store.importStarterDevice('pool-nchwc', fingerprint, rows(true), 1000);
    store.importStarterDevice('pool-plain', fingerprint, rows(false), 1000);
    const cost = ps.reorderCost('pool-nchwc')!;
    // Binned by powers of two of bytes: within the spread of a bin.
    const ratio = reorderMs(cost, 4 * 24 * 24 * 32) / ((4 * 24 * 24 * 32) / 20e6);
    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(1.2);
    expect(ps.reorderCost('pool-plain')).toBeUndefined();
  });

  it('announces each new phase of an adaptation and its end once stored, and nothing for a finished one', () => {
    const store = new Store(path());
    const ps = new PredictorStore(store);
    const { token } = store.createEnrolmentToken();
    const { deviceId } = store.enrolDevice(token, fingerprint);
    const heard: string[] = [];
    store.events.on('adaptation.phase', (id, phase) => heard.push(`${id}:${phase}`));
    const a = ps.adaptations.create(deviceId, { budget: 10, target: 0.9, seed: 1, models: 0 });
    ps.adaptations.update(a.id, { phase: 'probe', measured: 0 });
    ps.adaptations.update(a.id, { phase: 'probe', measured: 5 }); // the same phase: progress only
    ps.adaptations.update(a.id, { phase: 'round', measured: 8 });
    ps.adaptations.finish(a.id, { state: 'done', result: {} });
    ps.adaptations.update(a.id, { phase: 'models', measured: 9 }); // finished: nothing changes
    ps.adaptations.finish(a.id, { state: 'failed', error: 'late' });
    expect(heard).toEqual([`${a.id}:probe`, `${a.id}:round`, `${a.id}:done`]);
    expect(ps.adaptations.get(a.id)).toMatchObject({ state: 'done', progress: { phase: 'round', measured: 8 } });
    store.close();
  });

  it('leaves adaptation campaigns out of full-data samples', () => {
    const store = new Store(path());
    const ps = new PredictorStore(store);
    const { token } = store.createEnrolmentToken();
    const { deviceId } = store.enrolDevice(token, fingerprint);
    const campaign = store.createCampaign({
      name: 'adapt x: probe',
      adaptation: { id: 'x', phase: 'probe' },
      configs: [{ type: 'relu', HW: 8, CIN: 8 }],
      deviceIds: [deviceId],
      protocol,
      purpose: 'adaptation',
    });
    const lease = store.leaseTasks(deviceId, 1, 60_000)!;
    store.recordResults(deviceId, [
      {
        taskId: lease.tasks[0]!.taskId,
        leaseId: lease.leaseId,
        measurement: { config: { type: 'relu', HW: 8, CIN: 8 }, latencyMs: 0.01 } as never,
      },
    ]);
    expect(store.getCampaign(campaign.id).state).toBe('done');
    expect(ps.kernelSamples(deviceId).size).toBe(0);
    expect(ps.kernelSamples(deviceId, ['adaptation']).get('relu')).toHaveLength(1);
    expect(store.findAdaptationCampaign('x', 'probe')?.id).toBe(campaign.id);
    expect(store.findAdaptationCampaign('x', 'held-out')).toBeUndefined();
    expect(store.campaignResults(campaign.id)).toMatchObject([{ state: 'done', latencyMs: 0.01 }]);
    // A store from before the link found an adaptation's rounds by name: the upgrade reads the link from it.
    sqliteOf(store).exec(
      'DROP INDEX campaigns_by_adaptation; ALTER TABLE campaigns DROP COLUMN adaptation_phase; ALTER TABLE campaigns ' +
        'DROP COLUMN adaptation_id; PRAGMA user_version = 7',
    );
    const file = sqliteOf(store).name;
    store.close();
    const upgraded = new Store(file);
    expect(upgraded.findAdaptationCampaign('x', 'probe')?.id).toBe(campaign.id);
    expect(upgraded.findAdaptationCampaign('x', 'probe: more')).toBeUndefined();
    upgraded.close();
  });

  it("keeps a device's run overhead until it has new measurements, then reads it again", () => {
    const store = new Store(path());
    const ps = new PredictorStore(store);
    const { token } = store.createEnrolmentToken();
    const { deviceId } = store.enrolDevice(token, fingerprint);
    const measure = (ms: number) => {
      store.createCampaign({ name: `c${ms}`, configs: [{ type: 'relu', HW: 8, CIN: ms }], deviceIds: [deviceId], protocol });
      const lease = store.leaseTasks(deviceId, 1, 60_000)!;
      store.recordResults(deviceId, [
        {
          taskId: lease.tasks[0]!.taskId,
          leaseId: lease.leaseId,
          measurement: { config: { type: 'relu', HW: 8, CIN: ms }, latencyMs: 0.01, boundary: { runOverheadMs: ms / 100 } } as never,
        },
      ]);
    };
    measure(8);
    expect(ps.runOverheadMs(deviceId)).toBe(0.08);
    expect(ps.runOverheadMs(deviceId)).toBe(0.08);
    measure(16);
    measure(24);
    expect(ps.runOverheadMs(deviceId)).toBe(0.16);
  });
});
