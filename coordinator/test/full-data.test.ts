// Full-data predictors: the roofline where little is measured, boosted trees where a type has
// enough kernels to show they predict it better.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelCost, type KernelConfig } from '@litepred/kernels';
import { sampleConfigs } from '@litepred/sampler';
import { PredictorService, PredictorStore, Store } from '@litepred/coordinator';
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
/** A made-up device with a step a roofline cannot follow: stride-2 kernels cost 1.6x. */
const stepped = (c: KernelConfig) => (0.01 + kernelCost(c).flops / 4e9 + kernelCost(c).activationBytes / 8e9) * (c.STRIDES === 2 ? 1.6 : 1);

function deviceWith(n: number) {
  const store = new Store(join(mkdtempSync(join(tmpdir(), 'litepred-full-')), 'db.sqlite'));
  const predictors = new PredictorStore(store);
  const rows = sampleConfigs('conv-bn-relu', n, { sampler: 'broad', seed: 3 }).configs.map((config) => ({
    config,
    latencyMs: stepped(config),
    measurement: { boundary: { runOverheadMs: 0.05 } },
  }));
  store.importStarterDevice('pool-x', fingerprint, rows, 1000);
  return { service: new PredictorService(store, predictors), predictors };
}

describe('full-data predictors', () => {
  it('are rooflines where a dozen held-out kernels cannot tell trees from one', () => {
    const { service, predictors } = deviceWith(60);
    expect(service.buildFullData('pool-x').built).toEqual(['conv-bn-relu']);
    const p = predictors.latestPredictors('pool-x')[0]!;
    expect(p.kind).toBe('roofline');
    expect(p.provenance).toMatchObject({ heldOut: 12, candidates: { roofline: expect.any(Number) } });
  });

  it('are boosted trees where enough is held out and they predict it clearly better', () => {
    const { service, predictors } = deviceWith(400);
    service.buildFullData('pool-x');
    const p = predictors.latestPredictors('pool-x')[0]!;
    const candidates = (p.provenance as { candidates: Record<string, number> }).candidates;
    expect(candidates.gbdt).toBeGreaterThan(candidates.roofline! + 0.05);
    expect(p.kind).toBe('gbdt');
    // What the device predicts with is the stored kind.
    const config = { type: 'conv-bn-relu', HW: 28, CIN: 32, COUT: 64, KERNEL_SIZE: 3, STRIDES: 2 };
    expect(service.loaded('pool-x').get('conv-bn-relu')!.predict([config])[0]).toBeGreaterThan(0);
  });
});
