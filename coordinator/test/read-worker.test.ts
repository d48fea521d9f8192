// The slow reads off the coordinator's thread: predictions and the dashboard's accuracy and
// similarity views. Errors come back as the API answers them, a full queue is a 503, and what the
// worker computes is what the same functions give on this thread.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildKernelModel } from '@litepred/kernels';
import { accuracy, PredictorService, PredictorStore, ReadWorker, similarity, Store, StoreError } from '@litepred/coordinator';
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

describe('ReadWorker', () => {
  it("answers from the worker with the store's error, and refuses what would wait beyond the queue with 503", async () => {
    const database = join(mkdtempSync(join(tmpdir(), 'litepred-predict-')), 'db.sqlite');
    new Store(database).close();
    const worker = new ReadWorker(database, () => undefined, 0);
    const model = () => buildKernelModel({ type: 'relu', HW: 4, CIN: 8 }).bytes;
    const first = worker.predict('dev_nope', model());
    const second = worker.predict('dev_nope', model());
    await expect(second).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/in progress or waiting; try again/) });
    await expect(first).rejects.toBeInstanceOf(StoreError);
    await expect(first).rejects.toThrow(/no device dev_nope/);
    await expect(worker.accuracy('dev_nope')).rejects.toThrow(/no device dev_nope/);
    await worker.stop();
  });

  it('gives the accuracy and similarity views this thread gives, computed in the worker', async () => {
    const database = join(mkdtempSync(join(tmpdir(), 'litepred-reads-')), 'db.sqlite');
    const store = new Store(database);
    const predictors = new PredictorStore(store);
    const rows = (scale: number) =>
      Array.from({ length: 40 }, (_, i) => {
        const config = { type: 'relu', HW: 8 + 2 * i, CIN: 16 };
        const latencyMs = scale * 1e-5 * (8 + 2 * i) ** 2;
        return { config, latencyMs, measurement: { config, latencyMs } };
      });
    store.importStarterDevice('pool-a', fingerprint, rows(1), 1000);
    store.importStarterDevice('pool-b', fingerprint, rows(2), 1000);
    const service = new PredictorService(store, predictors);
    for (const id of ['pool-a', 'pool-b']) service.buildFullData(id);
    const context = { store, predictors, service };
    const worker = new ReadWorker(database);
    const here = accuracy(context, 'pool-a');
    expect(here.points.length).toBeGreaterThan(0);
    expect(await worker.accuracy('pool-a')).toEqual(here);
    const matrix = similarity(context);
    expect(matrix.devices).toEqual(['pool-a', 'pool-b']);
    expect(matrix.cells[0]![1]).not.toBeNull();
    expect(await worker.similarity()).toEqual(matrix);
    await worker.stop();
    store.close();
  });
});
