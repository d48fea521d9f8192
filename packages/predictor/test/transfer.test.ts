import { describe, expect, it } from 'vitest';
import { kernelCost, resolveConfig, type KernelConfig } from '@litepred/kernels';
import { seededRng } from '@litepred/nn';
import { sampleConfigs } from '@litepred/sampler';
import { finegrained, finetune, metrics, MlpPredictor, recalibrate, RooflinePredictor } from '@litepred/predictor';

const DEVICES: Record<string, (c: KernelConfig) => number> = {
  'compute-bound': (c) => 0.01 + kernelCost(c).flops / 2e9 + kernelCost(c).activationBytes / 40e9,
  'memory-bound': (c) => 0.01 + kernelCost(c).flops / 40e9 + kernelCost(c).activationBytes / 1e9,
  'overhead-bound': (c) => 0.3 + kernelCost(c).flops / 20e9,
};
/** A new board: a faster relative of the compute-bound one, with 5x7 kernels a little slow. */
const newBoard = (c: KernelConfig) => 0.6 * DEVICES['compute-bound']!(c) * (c.KERNEL_SIZE === 7 ? 1.15 : 1);

const trainConfigs = sampleConfigs('conv-bn-relu', 120, { sampler: 'vae', seed: 41 }).configs;
const pool = Object.entries(DEVICES).map(([source, f]) => ({
  source,
  predictor: RooflinePredictor.train(
    'conv-bn-relu',
    trainConfigs.map((config) => ({ config, latencyMs: f(config) })),
    { ridge: 0.3 },
  ),
}));
const sample = (n: number, seed: number) => sampleConfigs('conv-bn-relu', n, { sampler: 'vae', seed }).configs;

describe('transfer', () => {
  it('recalibration maps a similar device onto the new one', () => {
    const samples = sample(30, 5).map((config) => ({ config, latencyMs: newBoard(config) }));
    const test = sample(60, 6);
    const p = recalibrate(pool[0]!.predictor, samples);
    expect(metrics(p.predict(test), test.map(newBoard)).mape).toBeLessThan(
      metrics(pool[0]!.predictor.predict(test), test.map(newBoard)).mape,
    );
    expect(() => recalibrate(pool[0]!.predictor, samples.slice(0, 1))).toThrow(/at least 2/);
  });

  it('fine-tuning starts from the source MLP and moves it toward the new device', () => {
    const source = MlpPredictor.train(
      'conv-bn-relu',
      trainConfigs.map((config) => ({ config, latencyMs: DEVICES['compute-bound']!(config) })),
      { epochs: 30 },
    );
    const samples = sample(40, 5).map((config) => ({ config, latencyMs: newBoard(config) }));
    const test = sample(60, 6);
    const tuned = finetune(source, samples, { epochs: 20 });
    expect(tuned.toJSON().mean).toEqual(source.toJSON().mean); // keeps the source's normalisation
    expect(metrics(tuned.predict(test), test.map(newBoard)).mape).toBeLessThan(metrics(source.predict(test), test.map(newBoard)).mape);
  });

  it('fine-grained samples stay valid and near their seed config', () => {
    const seed = resolveConfig({ type: 'conv-bn-relu', HW: 28, CIN: 64, COUT: 128, KERNEL_SIZE: 3, STRIDES: 1 });
    const near = finegrained({ type: 'conv-bn-relu', HW: 28, CIN: 64, COUT: 128, KERNEL_SIZE: 3, STRIDES: 1 }, 20, seededRng(2));
    expect(near).toHaveLength(20);
    for (const c of near) {
      expect(() => resolveConfig(c)).not.toThrow();
      const changed = (['HW', 'CIN', 'COUT'] as const).filter((f) => c[f] !== seed[f]);
      expect(changed.length).toBeLessThanOrEqual(1);
    }
  });
});
