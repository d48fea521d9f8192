import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { featureNames, featureVector, kernelCost, type KernelConfig } from '@litepred/kernels';
import { sampleConfigs } from '@litepred/sampler';
import {
  exportMlpOnnx,
  exportPredictor,
  exportRooflineOnnx,
  exportStoredPredictor,
  metrics,
  MlpPredictor,
  onnxInputs,
  predictorFromData,
  PREDICTOR_INPUT,
  PREDICTOR_OUTPUT,
  recalibrate,
  recalibratedData,
  RooflinePredictor,
  type PredictorData,
} from '@litepred/predictor';

/** A made-up device: time grows with FLOPs and bytes moved, plus a fixed cost. */
const synthetic = (c: KernelConfig) => 0.02 + kernelCost(c).flops / 4e9 + kernelCost(c).activationBytes / 8e9;

const configs = sampleConfigs('conv-bn-relu', 160, { sampler: 'vae', seed: 21 }).configs;
const train = configs.slice(0, 120).map((config) => ({ config, latencyMs: synthetic(config) }));
const test = configs.slice(120);

describe('LitePred MLP predictor', () => {
  const predictor = MlpPredictor.train('conv-bn-relu', train, { epochs: 40, seed: 3 });

  it('learns: its error on unseen configs falls well below an untrained one', () => {
    const untrained = MlpPredictor.train('conv-bn-relu', train, { epochs: 0, seed: 3 });
    const truth = test.map(synthetic);
    const after = metrics(predictor.predict(test), truth);
    expect(after.mape).toBeLessThan(metrics(untrained.predict(test), truth).mape / 2);
    expect(after.n).toBe(40);
  });

  it('round-trips through JSON with the same predictions, and refuses other kernel types', () => {
    const back = MlpPredictor.fromJSON(JSON.parse(JSON.stringify(predictor.toJSON())));
    expect(back.predict(test)).toEqual(predictor.predict(test));
    expect(() => predictor.predict([{ type: 'dwconv-bn-relu', HW: 8, CIN: 8, KERNEL_SIZE: 3, STRIDES: 1 }])).toThrow(
      /a conv-bn-relu predictor cannot predict a dwconv-bn-relu config/,
    );
    expect(() => MlpPredictor.train('fc', [{ config: { type: 'fc', CIN: 8, COUT: 8 }, latencyMs: 0 }])).toThrow(/positive/);
  });

  it('exports to ONNX that onnxruntime-node and onnxruntime-web run with the same predictions', async () => {
    const bytes = exportMlpOnnx(predictor.toJSON());
    const features = Float32Array.from(test.flatMap((c) => featureVector(c)));
    const dims = [test.length, featureVector(test[0]!).length];
    const expected = predictor.predict(test);
    const results: number[][] = [];
    for (const ort of [ortNode, ortWeb] as unknown as (typeof ortNode)[]) {
      const session = await ort.InferenceSession.create(bytes);
      const out = await session.run({ [PREDICTOR_INPUT]: new ort.Tensor('float32', features, dims) });
      results.push(Array.from(out[PREDICTOR_OUTPUT]!.data as Float32Array));
      await session.release();
    }
    results[1]!.forEach((v, i) => expect(v).toBeCloseTo(results[0]![i]!, 5));
    // float32 in ONNX Runtime vs float64 here: agree to 1e-4 of the typical prediction (not of
    // each one: an output near zero after 16 layers of cancellation has no relative precision).
    const scale = expected.reduce((s, v) => s + Math.abs(v), 0) / expected.length;
    results[0]!.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-4 * scale));
  });
});

describe('exported predictor files', () => {
  it('carry metadata that names the input columns, the device and the training size', () => {
    const p = RooflinePredictor.train('conv-bn-relu', train);
    const { onnx, metadata } = exportPredictor(p.toJSON(), {
      device: { id: 'dev_1', fingerprint: { cores: 2 } },
      trainingSamples: train.length,
      createdAt: '2026-11-27T00:00:00Z',
    });
    expect(onnx.length).toBeGreaterThan(100);
    expect(metadata).toMatchObject({
      formatVersion: 1,
      kernelType: 'conv-bn-relu',
      kind: 'roofline',
      trainingSamples: 120,
      device: { id: 'dev_1' },
      input: {
        name: 'features',
        columns: ['HW', 'CIN', 'COUT', 'KERNEL_SIZE', 'STRIDES', 'FLOPS', 'PARAMS', 'GROUPS', 'W', 'DILATION', 'ACTIVATION_MB'],
      },
      output: { name: 'latency_ms', unit: 'ms' },
    });
  });
});

describe('metrics', () => {
  it('counts shares within ±5/10/15% and relative errors', () => {
    const m = metrics([1.04, 1.09, 1.2, 0.5], [1, 1, 1, 1]);
    expect([m.within5, m.within10, m.within15]).toEqual([0.25, 0.5, 0.5]);
    expect(m.mape).toBeCloseTo((0.04 + 0.09 + 0.2 + 0.5) / 4, 10);
    expect(() => metrics([], [])).toThrow(/non-empty/);
  });
});

describe('roofline predictor', () => {
  it('fits a device that is a roofline almost exactly, from 30 samples', () => {
    const few = train.slice(0, 30);
    const p = RooflinePredictor.train('conv-bn-relu', few);
    expect(metrics(p.predict(test), test.map(synthetic)).within5).toBeGreaterThan(0.95);
    expect(RooflinePredictor.fromJSON(JSON.parse(JSON.stringify(p.toJSON()))).predict(test)).toEqual(p.predict(test));
  });

  it('exports to ONNX (features + activation MB) with the same predictions on both runtimes', async () => {
    const p = RooflinePredictor.train('conv-bn-relu', train, { ridge: 0.3 });
    const names = featureNames('conv-bn-relu');
    const bytes = exportRooflineOnnx(p.toJSON(), names);
    expect(onnxInputs(p.toJSON(), names)).toEqual([...names, 'ACTIVATION_MB']);
    const rows = test.map((c) => [...featureVector(c), kernelCost(c).activationBytes / 2 ** 20]);
    const expected = p.predict(test);
    for (const ort of [ortNode, ortWeb] as unknown as (typeof ortNode)[]) {
      const session = await ort.InferenceSession.create(bytes);
      const out = await session.run({
        [PREDICTOR_INPUT]: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]),
      });
      Array.from(out[PREDICTOR_OUTPUT]!.data as Float32Array).forEach((v, i) =>
        expect(Math.abs(v - expected[i]!) / expected[i]!).toBeLessThan(1e-4),
      );
      await session.release();
    }
  });

  it('keeps its coefficients non-negative and learns a residual the roofline misses', () => {
    // A device where stride-2 convs cost 40% more than their FLOPs and bytes say.
    const quirky = (c: KernelConfig) => synthetic(c) * (c.STRIDES === 2 ? 1.4 : 1);
    const samples = train.map((s) => ({ config: s.config, latencyMs: quirky(s.config) }));
    const p = RooflinePredictor.train('conv-bn-relu', samples, { ridge: 0.1 });
    for (const c of p.toJSON().coefficients) expect(c).toBeGreaterThanOrEqual(0);
    const pure = RooflinePredictor.train('conv-bn-relu', samples, { ridge: 1e9 });
    const truth = test.map(quirky);
    expect(metrics(p.predict(test), truth).mape).toBeLessThan(metrics(pure.predict(test), truth).mape);
  });
});

describe('transferred (recalibrated) predictors', () => {
  // A new device 2.5x slower than the source and a little super-linear in it.
  const source = RooflinePredictor.train('conv-bn-relu', train);
  const device = (c: KernelConfig) => 2.5 * synthetic(c) ** 1.05;
  const adapted = recalibrate(
    source,
    train.slice(0, 12).map((s) => ({ config: s.config, latencyMs: device(s.config) })),
  );
  const data: PredictorData = recalibratedData(source.toJSON(), 'pool-a', adapted);

  it('round-trip through their stored JSON with the same predictions', () => {
    expect(predictorFromData(JSON.parse(JSON.stringify(data)) as PredictorData).predict(test)).toEqual(adapted.predict(test));
    expect(metrics(adapted.predict(test), test.map(device)).within10).toBeGreaterThan(0.9);
  });

  for (const [name, base] of [
    ['roofline', source.toJSON()],
    ['MLP', MlpPredictor.train('conv-bn-relu', train, { epochs: 5, seed: 1 }).toJSON()],
  ] as const) {
    it(`export a ${name} source plus its calibration to ONNX with the JS predictions on both runtimes`, async () => {
      const stored = recalibratedData(base, 'pool-a', { a: 0.7, b: 1.05 });
      const { onnx, metadata } = exportStoredPredictor(stored, {
        device: { id: 'dev_x', fingerprint: {} },
        trainingSamples: 12,
        version: 3,
      });
      expect(metadata).toMatchObject({
        kind: 'recalibrated',
        version: 3,
        transfer: { sourceDevice: 'pool-a', sourceKind: base.kind, a: 0.7, b: 1.05 },
      });
      const rows = test.map((c) =>
        metadata.input.columns.at(-1) === 'ACTIVATION_MB'
          ? [...featureVector(c), kernelCost(c).activationBytes / 2 ** 20]
          : featureVector(c),
      );
      const expected = predictorFromData(stored).predict(test);
      for (const ort of [ortNode, ortWeb] as unknown as (typeof ortNode)[]) {
        const session = await ort.InferenceSession.create(onnx);
        const out = await session.run({
          [PREDICTOR_INPUT]: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]),
        });
        Array.from(out[PREDICTOR_OUTPUT]!.data as Float32Array).forEach((v, i) =>
          expect(Math.abs(v - expected[i]!) / expected[i]!).toBeLessThan(1e-4),
        );
        await session.release();
      }
    });
  }
});
