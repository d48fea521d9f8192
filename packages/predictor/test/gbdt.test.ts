// Boosted trees: they learn what a roofline cannot (a step), and their ONNX export, alone or as a
// transferred predictor, gives the same predictions on onnxruntime-node and onnxruntime-web.
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { featureNames, featureVector, kernelCost, type KernelConfig } from '@litepred/kernels';
import { sampleConfigs } from '@litepred/sampler';
import {
  exportPredictor,
  exportStoredPredictor,
  GbdtPredictor,
  isStalePredictor,
  metrics,
  predictorFromData,
  PREDICTOR_INPUT,
  PREDICTOR_OUTPUT,
  recalibratedData,
  RooflinePredictor,
} from '@litepred/predictor';

/** A made-up device with a step: channel counts off a multiple of 16 cost 40% more, as SIMD tails do. */
const stepped = (c: KernelConfig) =>
  (0.01 + kernelCost(c).flops / 4e9 + kernelCost(c).activationBytes / 8e9) * (c.COUT! % 16 === 0 ? 1 : 1.4);

const configs = sampleConfigs('conv-bn-relu', 700, { sampler: 'broad', seed: 5 }).configs;
const train = configs.slice(0, 600).map((config) => ({ config, latencyMs: stepped(config) }));
const test = configs.slice(600);
const truth = test.map(stepped);
const about = { device: { id: 'dev_x', fingerprint: {} }, trainingSamples: train.length };

/** The exported model's predictions for `rows` on one runtime. */
async function run(ort: typeof ortNode, onnx: Uint8Array, columns: string[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx);
  const rows = test.map((c) => [
    ...featureVector(c),
    ...(columns.at(-1) === 'ACTIVATION_MB' ? [kernelCost(c).activationBytes / 2 ** 20] : []),
  ]);
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, columns.length]);
  const out = (await session.run({ [PREDICTOR_INPUT]: input }))[PREDICTOR_OUTPUT]!.data as Float32Array;
  await session.release();
  return out;
}

/**
 * Share of predictions two implementations give alike (float32 inputs can fall on the other side of a threshold where float64 ones do not).
 */
const alike = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).filter((v, i) => Math.abs(b[i]! / v - 1) < 1e-4).length / a.length;

describe('gradient-boosted trees', () => {
  const gbdt = GbdtPredictor.train('conv-bn-relu', train, { trees: 150, seed: 2 });

  it('learn a step a roofline cannot: more held-out kernels within ±10%, more again on top of the roofline', () => {
    const roofline = metrics(RooflinePredictor.train('conv-bn-relu', train).predict(test), truth).within10;
    const alone = metrics(GbdtPredictor.train('conv-bn-relu', train, { trees: 150, seed: 2, prior: false }).predict(test), truth).within10;
    const onTop = metrics(gbdt.predict(test), truth).within10;
    expect(alone).toBeGreaterThan(roofline);
    expect(onTop).toBeGreaterThan(alone);
  });

  it('train the same trees from the same seed, round-trip through stored JSON, and say when they are stale', () => {
    expect(GbdtPredictor.train('conv-bn-relu', train, { trees: 150, seed: 2 }).predict(test)).toEqual(gbdt.predict(test));
    expect(predictorFromData(JSON.parse(JSON.stringify(gbdt.toJSON()))).predict(test)).toEqual(gbdt.predict(test));
    expect(isStalePredictor(gbdt.toJSON())).toBe(false);
    expect(isStalePredictor({ ...gbdt.toJSON(), features: featureNames('conv-bn-relu').slice(0, -2) })).toBe(true);
    expect(() => GbdtPredictor.fromJSON({ kind: 'roofline' } as never)).toThrow(/not a gbdt predictor/);
    expect(() => GbdtPredictor.train('conv-bn-relu', [])).toThrow(/no conv-bn-relu samples/);
  });

  it.each([
    ['onnxruntime-node', ortNode],
    ['onnxruntime-web', ortWeb as unknown as typeof ortNode],
  ])(
    "export to a TreeEnsembleRegressor on the roofline's graph that %s runs with the same predictions, transferred too",
    async (_name, ort) => {
      const exported = exportPredictor(gbdt.toJSON(), about);
      expect(exported.metadata.kind).toBe('gbdt');
      expect(exported.metadata.input.columns.at(-1)).toBe('ACTIVATION_MB');
      expect(alike(await run(ort, exported.onnx, exported.metadata.input.columns), gbdt.predict(test))).toBeGreaterThan(0.97);
      const transferred = recalibratedData(gbdt.toJSON(), 'pool-x', { a: 0.3, b: 0.9 });
      const files = exportStoredPredictor(transferred, about);
      expect(alike(await run(ort, files.onnx, files.metadata.input.columns), predictorFromData(transferred).predict(test))).toBeGreaterThan(
        0.97,
      );
    },
  );
});
