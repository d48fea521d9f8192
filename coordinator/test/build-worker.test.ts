// Full-data builds planned in a worker thread on a read-only connection and saved by the caller:
// the same predictors as building on the coordinator's thread, and the worker writes nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildInWorker, PredictorBuilds, PredictorService, PredictorStore, Store, type BuildReport } from '@litepred/coordinator';
import type { Fingerprint } from '@litepred/protocol';

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

/** A store with `devices` devices that each measured 8 relu configs (latency grows with the tensor). */
function storeWithMeasurements(devices: number) {
  const database = join(mkdtempSync(join(tmpdir(), 'litepred-build-')), 'db.sqlite');
  const store = new Store(database);
  const { token } = store.createEnrolmentToken({ maxUses: devices });
  const ids = Array.from({ length: devices }, () => store.enrolDevice(token, fingerprint).deviceId);
  const configs = Array.from({ length: 8 }, (_, i) => ({ type: 'relu', HW: 8 + 4 * i, CIN: 16 }));
  store.createCampaign({
    name: 'relu',
    configs,
    deviceIds: ids,
    protocol: { warmupRuns: 1, warmupMs: 0, minRuns: 5, maxRuns: 10, maxMs: 50, targetPrecision: 0.05 },
  });
  for (const [d, id] of ids.entries()) {
    const lease = store.leaseTasks(id, 64, 60_000)!;
    store.recordResults(
      id,
      lease.tasks.map((t) => ({
        taskId: t.taskId,
        leaseId: lease.leaseId,
        measurement: { config: t.config, latencyMs: (1 + d) * 1e-5 * (t.config.HW as number) ** 2 } as never,
      })),
    );
  }
  return { database, store, ids };
}

describe('predictor builds in a worker', () => {
  it('plans in the worker, saves here, and gives the predictors a build on this thread gives', async () => {
    const { database, store, ids } = storeWithMeasurements(3);
    const predictors = new PredictorStore(store);
    const service = new PredictorService(store, predictors);
    const plan = service.planFullData(ids[0]!);
    expect(plan.built).toEqual(['relu']);
    expect(predictors.latestPredictors(ids[0]!)).toEqual([]); // planning writes nothing

    const reports: BuildReport[] = [];
    await buildInWorker(database, ids, (r) => reports.push(r), service).done;
    expect(reports).toEqual(ids.map((deviceId) => ({ deviceId, built: 1 })));
    for (const id of ids) {
      const [p] = predictors.latestPredictors(id);
      expect(p).toMatchObject({
        kernelType: 'relu',
        kind: 'roofline',
        version: 1,
        trainingSamples: 8,
        provenance: { method: 'full-data', measurements: 8 },
      });
    }
    // The worker's plan is the plan this thread makes (same seeded split, same fit).
    expect(predictors.latestPredictors(ids[0]!)[0]!.data).toEqual(plan.items[0]!.data);
    // Nothing new since: a second build leaves every device as it is.
    const again: BuildReport[] = [];
    await buildInWorker(database, ids, (r) => again.push(r), service).done;
    expect(again).toEqual(ids.map((deviceId) => ({ deviceId, built: 0 })));
    expect(predictors.latestPredictors(ids[0]!)[0]!.version).toBe(1);
    store.close();
  });

  it('says predictors.built for each device whose predictors it built, once they are stored', async () => {
    const { database, store, ids } = storeWithMeasurements(2);
    const predictors = new PredictorStore(store);
    const builds = new PredictorBuilds(database, new PredictorService(store, predictors), () => undefined, store.events);
    const built = new Promise<string[]>((resolve) => {
      const seen: string[] = [];
      store.events.on('predictors.built', (id) => {
        expect(predictors.latestPredictors(id)).toHaveLength(1);
        if (seen.push(id) === ids.length) resolve(seen);
      });
    });
    builds.add(ids);
    expect((await built).sort()).toEqual([...ids].sort());
    await builds.stop();
    store.close();
  });
});
