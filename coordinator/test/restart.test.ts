import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Coordinator, Store } from '@litepred/coordinator';

describe('coordinator restart', () => {
  it('frees every lease of the previous process at start, expired or not', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'litepred-restart-')), 'fleet.sqlite');
    const store = new Store(db);
    const { token } = store.createEnrolmentToken();
    const { deviceId } = store.enrolDevice(token, {
      cpuModel: 'x',
      cores: 1,
      arch: 'x64',
      os: 'Linux',
      memoryBytes: 1,
      runtimeVersion: '1.30.0',
      executionProvider: 'cpu',
      runtime: { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' },
    });
    const campaign = store.createCampaign({
      name: 'c',
      configs: [
        { type: 'relu', HW: 4, CIN: 8 },
        { type: 'relu', HW: 5, CIN: 8 },
      ],
      deviceIds: [deviceId],
      protocol: { warmupRuns: 1, warmupMs: 0, minRuns: 1, maxRuns: 1, maxMs: 1, targetPrecision: 1 },
    });
    store.leaseTasks(deviceId, 2, 3_600_000); // an hour-long lease, held by a process that is gone
    store.close();
    const c = await Coordinator.start({ database: db, port: 0 });
    expect(c.store.progress(campaign.id)).toEqual([{ deviceId, pending: 2, leased: 0, done: 0, failed: 0, cancelled: 0 }]);
    await c.stop();
  });
});
