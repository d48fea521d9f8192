// npm run bench:predict -- --help
// How fast predictions are: kernels per second in batches (the JS predictors and the exported
// ONNX predictor on onnxruntime-node), and whole models per second (decompose + predict).
// Throughput does not depend on accuracy, so the predictors are trained on a made-up
// roofline device; the numbers say nothing about accuracy.
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { featureVector, kernelCost, type KernelConfig } from '@litepred/kernels';
import {
  exportMlpOnnx,
  MlpPredictor,
  predictModel,
  PREDICTOR_INPUT,
  RooflinePredictor,
  type KernelLatencyPredictor,
} from '@litepred/predictor';
import { sampleConfigs } from '@litepred/sampler';
import { buildArchitectureModel, kernelsOf, sampleArchitecture, SEARCH_SPACES } from '@litepred/spaces';
import { benchArgs } from './args.js';
import { median, Report } from './report.js';

const ARGS = benchArgs('npm run bench:predict --', 'How fast predictions are: kernels per second in batches and whole models per second.', {
  repeats: { default: 5, describe: 'repeats of each measurement' },
});
const REPEATS = ARGS.repeats;
const made = (c: KernelConfig) => 0.01 + kernelCost(c).flops / 4e9 + kernelCost(c).activationBytes / 8e9;

/** Median over repeats of items per second. */
async function rate(items: number, run: () => unknown): Promise<number> {
  await run(); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await run();
    rates.push(items / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

const report = new Report('predict', 'Prediction speed', `npm run bench:predict -- --repeats ${REPEATS}`);
report.text(
  `Median of ${REPEATS} timed repeats after one warm-up; all rows measured in one run, one after another. Predictors ` +
    `trained on a made-up roofline device (speed does not depend on accuracy).`,
);

const type = 'conv-bn-relu';
const train = sampleConfigs(type, 200, { sampler: 'vae', seed: 1 }).configs.map((config) => ({ config, latencyMs: made(config) }));
const mlp = MlpPredictor.train(type, train, { epochs: 3 });
const roofline = RooflinePredictor.train(type, train);
const session = await ort.InferenceSession.create(exportMlpOnnx(mlp.toJSON()), { intraOpNumThreads: 1 });

const rows: (string | number)[][] = [];
for (const batch of [1, 100, 10_000]) {
  const configs = sampleConfigs(type, batch, { sampler: 'vae', seed: 2 }).configs;
  const features = Float32Array.from(configs.flatMap((c) => featureVector(c)));
  const dims = [batch, features.length / batch];
  rows.push([`LitePred MLP, JS`, batch, Math.round(await rate(batch, () => mlp.predict(configs)))]);
  rows.push([
    `LitePred MLP, ONNX on onnxruntime-node (1 thread), features given`,
    batch,
    Math.round(await rate(batch, () => session.run({ [PREDICTOR_INPUT]: new ort.Tensor('float32', features, dims) }))),
  ]);
  rows.push([`roofline, JS`, batch, Math.round(await rate(batch, () => roofline.predict(configs)))]);
  process.stderr.write(`batch ${batch} done\n`);
}
report.table(['predictor', 'batch', 'kernels per second (median)'], rows);

// Whole models: one predictor per kernel type the models use (roofline, made-up device).
const archs = SEARCH_SPACES.flatMap((s) => [1, 2, 3].map((seed) => sampleArchitecture(s, seed)));
const types = [...new Set(archs.flatMap((a) => kernelsOf(a).map((c) => c.type)))];
const predictors = new Map<string, KernelLatencyPredictor>(
  types.map((t) => {
    const samples = archs
      .flatMap((a) => kernelsOf(a))
      .filter((c) => c.type === t)
      .map((config) => ({ config, latencyMs: made(config) }));
    return [t, RooflinePredictor.train(t, samples)];
  }),
);
const models = archs.map((a) => buildArchitectureModel(a).bytes);
const modelRate = await rate(models.length, () => models.forEach((m) => predictModel(m, predictors)));
const kernelCount = archs.reduce((s, a) => s + kernelsOf(a).length, 0);
report.table(
  ['whole models', 'models', 'kernels per model (mean)', 'models per second (median)'],
  [
    [
      `ONNX bytes -> decompose -> roofline per kernel type -> sum (${SEARCH_SPACES.length} spaces x 3)`,
      models.length,
      Math.round(kernelCount / models.length),
      Number(modelRate.toFixed(1)),
    ],
  ],
);
await session.release();
report.write();
