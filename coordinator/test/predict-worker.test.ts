// Predictions off the coordinator's thread: errors come back as the API answers them, and a full queue is a 503.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildKernelModel } from '@litepred/kernels';
import { PredictWorker, Store, StoreError } from '@litepred/coordinator';

describe('PredictWorker', () => {
  it('answers from the worker with the store\'s error, and refuses what would wait beyond the queue with 503', async () => {
    const database = join(mkdtempSync(join(tmpdir(), 'litepred-predict-')), 'db.sqlite');
    new Store(database).close();
    const worker = new PredictWorker(database, () => undefined, 0);
    const model = () => buildKernelModel({ type: 'relu', HW: 4, CIN: 8 }).bytes;
    const first = worker.predict('dev_nope', model());
    const second = worker.predict('dev_nope', model());
    await expect(second).rejects.toMatchObject({ status: 503, message: expect.stringMatching(/in progress or waiting; try again/) });
    await expect(first).rejects.toBeInstanceOf(StoreError);
    await expect(first).rejects.toThrow(/no device dev_nope/);
    await worker.stop();
  });
});
