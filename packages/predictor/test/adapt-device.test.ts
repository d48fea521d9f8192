import { describe, expect, it } from 'vitest';
import { kernelCost, type KernelConfig } from '@litepred/kernels';
import { sampleConfigs } from '@litepred/sampler';
import {
  adaptDevice,
  chooseByCrossValidation,
  metrics,
  RecalibratedPredictor,
  recalibrateDevice,
  rankPoolDevices,
  RooflinePredictor,
  type DeviceAdaptEvent,
  type PoolDevice,
} from '@litepred/predictor';

const TYPES = ['conv-bn-relu', 'dwconv-bn-relu', 'add'];
const DEVICES: Record<string, (c: KernelConfig) => number> = {
  'compute-bound': (c) => 0.01 + kernelCost(c).flops / 2e9 + kernelCost(c).activationBytes / 40e9,
  'memory-bound': (c) => 0.01 + kernelCost(c).flops / 40e9 + kernelCost(c).activationBytes / 1e9,
};
/** The new board: a slower relative of the compute-bound device, with depthwise convs 30% slower again. */
const newBoard = (c: KernelConfig) => 1.8 * DEVICES['compute-bound']!(c) * (c.type === 'dwconv-bn-relu' ? 1.3 : 1);
const sample = (type: string, n: number, seed: number) => sampleConfigs(type, n, { sampler: 'vae', seed }).configs;
const pool: PoolDevice[] = Object.entries(DEVICES).map(([source, f]) => ({
  source,
  predictors: new Map(
    TYPES.map((t) => [
      t,
      RooflinePredictor.train(
        t,
        sample(t, 80, 7).map((config) => ({ config, latencyMs: f(config) })),
      ),
    ]),
  ),
}));
const measured = (type: string, n: number, seed: number) =>
  sample(type, n, seed).map((config) => ({ config, latencyMs: newBoard(config) }));

describe('device-level transfer', () => {
  it('ranks the similar pool device first over kernels of every type', () => {
    expect(
      rankPoolDevices(
        pool,
        TYPES.flatMap((t) => measured(t, 3, 9)),
      )[0]!.source,
    ).toBe('compute-bound');
  });

  it("shrinks each type's line toward the shared one: a type with no kernels gets the shared line, many kernels its own", () => {
    const few = [...measured('conv-bn-relu', 10, 3), ...measured('add', 10, 3)];
    const shared = recalibrateDevice(pool[0]!, few);
    // dwconv unmeasured: the shared line, which misses its extra 30%.
    const dw = sample('dwconv-bn-relu', 20, 4);
    const ratio = (p: number[], cs: KernelConfig[]) => p.reduce((s, v, i) => s + v / newBoard(cs[i]!), 0) / cs.length;
    expect(ratio(shared.get('dwconv-bn-relu')!.predict(dw), dw)).toBeCloseTo(1 / 1.3, 1);
    const many = recalibrateDevice(pool[0]!, [...few, ...measured('dwconv-bn-relu', 40, 5)]);
    expect(ratio(many.get('dwconv-bn-relu')!.predict(dw), dw)).toBeCloseTo(1, 1);
  });

  it('adapts within the budget, names the source, and stops on held-out accuracy', async () => {
    const events: DeviceAdaptEvent[] = [];
    const phases: string[] = [];
    const result = await adaptDevice({
      types: [...TYPES, 'gelu'],
      pool,
      sample,
      budget: 200,
      target: 0.9,
      measure: async (configs, phase) => {
        phases.push(phase);
        return configs.map(newBoard);
      },
      onProgress: (e) => events.push(e),
    });
    expect(result.source).toBe('compute-bound');
    expect(result.skippedTypes).toEqual(['gelu']);
    expect(result.stoppedBecause).toBe('target');
    expect(result.heldOutMetrics.within10).toBeGreaterThanOrEqual(0.9);
    expect(result.measured).toBeLessThanOrEqual(200);
    expect(phases.slice(0, 2)).toEqual(['probe', 'held-out']);
    expect(events.map((e) => e.phase).slice(0, 2)).toEqual(['probe', 'source']);
    // It stops at the first round that meets the target, not after a fixed count.
    const rounds = events.filter((e): e is Extract<DeviceAdaptEvent, { phase: 'round' }> => e.phase === 'round');
    expect(rounds.slice(0, -1).every((e) => e.heldOut.within10 < 0.9)).toBe(true);
  });

  it(
    'spends the budget when the target is out of reach, drops failed measurements, and refuses a budget below probe + ' + 'held-out',
    async () => {
      const base = { types: TYPES, pool, sample, target: 1.01 };
      const result = await adaptDevice({
        ...base,
        budget: 60,
        measure: async (configs) => configs.map((c, i) => (i % 7 === 0 ? Number.NaN : newBoard(c))),
      });
      expect(result.stoppedBecause).toBe('budget');
      expect(result.measured).toBe(60);
      expect(result.samples.every((s) => s.latencyMs > 0)).toBe(true);
      // Failed measurements are dropped, not kept as samples: fewer samples than kernels measured.
      expect(result.samples.length + result.heldOut.length).toBeLessThan(60);
      await expect(adaptDevice({ ...base, budget: 10, measure: async (c) => c.map(newBoard) })).rejects.toThrow(
        /budget of 10 kernels cannot cover the probe and held-out sets of 3 kernel types \(12\)/,
      );
    },
  );

  it("keeps the transferred line unless a type's own kernels, left out in turn, are predicted better by a predictor of their own", () => {
    // Depthwise convs on this board are bound by memory, which no line on the compute-bound source's predictions fits.
    const odd = (c: KernelConfig) => (c.type === 'dwconv-bn-relu' ? 3 * DEVICES['memory-bound']!(c) : newBoard(c));
    const own = (type: string, s: readonly { config: KernelConfig; latencyMs: number }[]) => RooflinePredictor.train(type, s);
    const data = (n: number) => TYPES.flatMap((t) => sample(t, n, 13).map((config) => ({ config, latencyMs: odd(config) })));
    const many = chooseByCrossValidation(pool[0]!, data(30), own);
    expect(many.get('dwconv-bn-relu')).toBeInstanceOf(RooflinePredictor);
    // (conv and add fit a roofline exactly on this made-up board, so either choice is right for them.)
    expect(
      metrics(many.get('dwconv-bn-relu')!.predict(sample('dwconv-bn-relu', 20, 14)), sample('dwconv-bn-relu', 20, 14).map(odd)).within10,
    ).toBeGreaterThan(0.9);
    const few = chooseByCrossValidation(pool[0]!, data(4), own);
    expect([...few.values()].every((p) => p instanceof RecalibratedPredictor)).toBe(true);
  });
});
