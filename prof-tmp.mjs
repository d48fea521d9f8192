import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { withDistinctWeights } from './bench/dist/distinct-weights.js';
const name = process.argv[2];
const bytes = withDistinctWeights(new Uint8Array(gunzipSync(readFileSync(`test/model-corpus/${name}.onnx.gz`))));
const prefix = `/tmp/prof-${name}`;
const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, enableProfiling: true, profileFilePrefix: prefix, logSeverityLevel: 3 });
const meta = s.inputNames[0];
const [h, w] = name.split('-').at(-1).split('x').map(Number);
const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * h * w }, () => Math.random()), [1, 3, h, w]);
const RUNS = 20;
const wall = [];
for (let i = 0; i < 5 + RUNS; i++) { const a = performance.now(); await s.run({ [meta]: x }); if (i >= 5) wall.push(performance.now() - a); }
s.endProfiling();
const file = '/tmp/' + readdirSync('/tmp').filter((f) => f.startsWith(`prof-${name}_`) && f.endsWith('.json'))[0];
await s.release();
const events = JSON.parse(readFileSync(file, 'utf8'));
rmSync(file);
const byOp = new Map();
let runs = 0;
for (const e of events) {
  if (e.cat === 'Session' && e.name === 'model_run') runs++;
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const op = e.args.op_name;
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
}
wall.sort((a, b) => a - b);
const perRun = (us) => us / runs / 1000;
const total = [...byOp.values()].reduce((a, b) => a + b, 0);
console.log(`${name}: ${runs} runs, median wall ${wall[wall.length >> 1].toFixed(2)} ms, node time ${perRun(total).toFixed(2)} ms/run`);
for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(22)} ${perRun(us).toFixed(3)} ms  ${(100 * us / total).toFixed(1)}%`);
