import { describe, expect, it } from 'vitest';
import { kernelCost, type KernelConfig } from '@litepred/kernels';
import { sampleConfigs } from '@litepred/sampler';
import { buildArchitectureModel, getSpace, kernelsOf, sampleArchitecture } from '@litepred/spaces';
import {
  latencyKl,
  logLinearResidual,
  predictModel,
  rankSources,
  RooflinePredictor,
  SIMILARITY_MEASURES,
  spearman,
  type KernelLatencyPredictor,
} from '@litepred/predictor';

/** Made-up devices: different balances of compute, memory and fixed cost, and one quirk each. */
const DEVICES: Record<string, (c: KernelConfig) => number> = {
  'compute-bound': (c) => 0.01 + kernelCost(c).flops / 2e9 + kernelCost(c).activationBytes / 40e9,
  'memory-bound': (c) => 0.01 + kernelCost(c).flops / 40e9 + kernelCost(c).activationBytes / 1e9,
  'overhead-bound': (c) => 0.3 + kernelCost(c).flops / 20e9,
  'big-kernels-slow': (c) => (0.01 + kernelCost(c).flops / 5e9) * (c.KERNEL_SIZE! >= 5 ? 2 : 1),
};

const configs = sampleConfigs('conv-bn-relu', 140, { sampler: 'vae', seed: 31 }).configs;
const [trainSet, probe] = [configs.slice(0, 100), configs.slice(100)];
const pool = Object.entries(DEVICES).map(([source, f]) => ({
  source,
  predictor: RooflinePredictor.train(
    'conv-bn-relu',
    trainSet.map((config) => ({ config, latencyMs: f(config) })),
    { ridge: 0.3 },
  ),
}));

describe('similarity detection', () => {
  it.each(SIMILARITY_MEASURES.filter((m) => m !== 'spearman'))(
    "%s ranks each device's own predictor first on its own measurements",
    (measure) => {
      for (const [device, f] of Object.entries(DEVICES)) {
        const measured = probe.map(f);
        const ranked = rankSources(
          pool.map((p) => ({ source: p.source, predicted: p.predictor.predict(probe) })),
          measured,
          measure,
        );
        expect(ranked[0]!.source).toBe(device);
      }
    },
  );

  it('spearman puts the own predictor at the top, but cannot tell apart devices that order configs alike', () => {
    for (const [device, f] of Object.entries(DEVICES)) {
      const ranked = rankSources(
        pool.map((p) => ({ source: p.source, predicted: p.predictor.predict(probe) })),
        probe.map(f),
        'spearman',
      );
      const own = ranked.find((r) => r.source === device)!.score;
      expect(own).toBeGreaterThanOrEqual(ranked[0]!.score - 0.02);
    }
    const overhead = probe.map(DEVICES['overhead-bound']!);
    const compute = pool.find((p) => p.source === 'compute-bound')!.predictor.predict(probe);
    expect(spearman(compute, overhead)).toBeGreaterThan(0.95); // a different device, nearly the same ranks
  });

  it("LitePred's measure is lowest for the right device, so its public code's descending sort picks a wrong one", () => {
    const measured = probe.map(DEVICES['compute-bound']!);
    const kls = pool.map((p) => ({ source: p.source, kl: latencyKl(p.predictor.predict(probe), measured) })).sort((a, b) => b.kl - a.kl);
    expect(kls[kls.length - 1]!.source).toBe('compute-bound');
    expect(kls[0]!.source).not.toBe('compute-bound');
  });

  it('measures behave at their extremes', () => {
    const x = [1, 2, 3, 4, 5];
    expect(latencyKl(x, x)).toBeCloseTo(0, 12);
    expect(
      latencyKl(
        x,
        x.map((v) => 10 * v),
      ),
    ).toBeCloseTo(0, 12); // scale-free, as in LitePred
    expect(spearman(x, [10, 20, 30, 40, 50])).toBeCloseTo(1, 12);
    expect(spearman(x, [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(
      logLinearResidual(
        x,
        x.map((v) => 3 * v ** 1.5),
      ),
    ).toBeCloseTo(0, 10);
    expect(() => rankSources([], x)).toThrow(/no predictor/);
    expect(() => rankSources([{ source: 'a', predicted: [1] }], x)).toThrow(/predicted 1 configs, the device measured 5/);
  });
});

describe('model latency from kernel predictions', () => {
  const arch = sampleArchitecture(getSpace('ofa-mbv3'), 4);
  const bytes = buildArchitectureModel(arch).bytes;
  const flopsPredictor = (kernelType: string): KernelLatencyPredictor => ({
    kernelType,
    predict: (cs) => cs.map((c) => kernelCost(c).flops / 1e9),
  });

  it("sums the kernels' predictions plus the overhead, and names kernel types without a predictor", () => {
    const types = [...new Set(kernelsOf(arch).map((c) => c.type))];
    const predictors = new Map(types.filter((t) => t !== 'se').map((t) => [t, flopsPredictor(t)]));
    const p = predictModel(bytes, predictors, { overheadMs: 0.5 });
    const expected = kernelsOf(arch)
      .filter((c) => c.type !== 'se')
      .reduce((s, c) => s + kernelCost(c).flops / 1e9, 0.5);
    expect(p.latencyMs).toBeCloseTo(expected, 9);
    expect(p.missingPredictors).toEqual(['se']);
    expect(p.kernels.filter((k) => k.predictedMs === null).every((k) => k.config.type === 'se')).toBe(true);
    expect(p.coverage.flopsShare).toBe(1);
  });
});
