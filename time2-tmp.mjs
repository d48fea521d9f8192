import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { withDistinctWeights } from './bench/dist/distinct-weights.js';
for (const name of process.argv.slice(2)) {
  const zero = new Uint8Array(gunzipSync(readFileSync(`test/model-corpus/${name}.onnx.gz`)));
  const [h, w] = name.split('-').at(-1).split('x').map(Number);
  const time = async (b) => { const s = await ort.InferenceSession.create(b, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, logSeverityLevel: 3 });
    const inp = s.inputNames[0]; const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * h * w }, () => Math.random()), [1, 3, h, w]);
    for (let i = 0; i < 5; i++) await s.run({ [inp]: x });
    const t = []; for (let i = 0; i < 30; i++) { const a = performance.now(); await s.run({ [inp]: x }); t.push(performance.now() - a); }
    await s.release(); t.sort((a, b) => a - b); return t[15]; };
  const d = withDistinctWeights(zero);
  const r = [];
  for (let i = 0; i < 2; i++) r.push(`zero ${(await time(zero)).toFixed(2)} / distinct ${(await time(d)).toFixed(2)}`);
  console.log(name.padEnd(32), r.join('  |  '));
}
