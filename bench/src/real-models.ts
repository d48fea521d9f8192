// npm run bench:real-models -- --help
// The real-architecture corpus (test/model-corpus: 31 timm networks nobody here built) against the
// product: how much of each model its kernel types cover; its end-to-end latency on each local
// runtime configuration, measured in interleaved rounds (the fastest round's median, as
// bench:collect times the pool's architectures); the latency the coordinator predicts for it with
// that configuration's full-data predictors (the starter pool device of the same runtime, its
// composition included), through the same code POST /api/devices/:id/predict runs; which kernel
// types of the model that device has no predictor for; how many of the corpus's kernels fall
// outside the ranges the pool's configs were sampled from; and how long a prediction takes over HTTP.
// With --passes 2 every model is timed twice, the passes apart: the share of models whose two
// times agree within ±10% is the ceiling printed beside the predictions' share.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { getKernelSpec, kernelCost, resolveConfig, type BuiltModel, type ConfigField, type KernelConfig } from '@litepred/kernels';
import { Coordinator, poolFileName, readPoolFile, STARTER_POOL_DIR } from '@litepred/coordinator';
import { decomposeModel, loadGraph, stripWeights } from '@litepred/predictor';
import { KernelProfiler } from '@litepred/profiler';
import { RUNTIMES } from './runtimes.js';
import { withDistinctWeights } from './distinct-weights.js';
import { benchArgs } from './args.js';
import { median, pct, Report } from './report.js';

const ARGS = benchArgs(
  'npm run bench:real-models --',
  'The real-architecture corpus against the product: coverage, measured and predicted latency, prediction time over HTTP.',
  {
    runtimes: { default: 'node-t1-all,node-t2-all,web-t1', describe: 'runtime configurations, comma-separated' },
    rounds: { default: 3, describe: 'interleaved rounds each model is timed in' },
    passes: { default: 1, describe: 'passes over the corpus (2: the pass-to-pass ceiling)' },
    'http-repeats': { default: 30, describe: 'predictions timed over HTTP' },
    pool: { default: '', describe: 'pool directory (default: the shipped starter pool)' },
  },
);
const NAMES = ARGS.runtimes.split(',');
const ROUNDS = ARGS.rounds;
const HTTP_REPEATS = ARGS['http-repeats'];
const PASSES = ARGS.passes;
const POOL = ARGS.pool ? resolve(ARGS.pool) : STARTER_POOL_DIR.pathname;
for (const n of NAMES) if (!RUNTIMES[n]) throw new Error(`unknown runtime '${n}'; known: ${Object.keys(RUNTIMES).join(', ')}`);

const CORPUS = new URL('../../test/model-corpus/', import.meta.url);
const corpus = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.onnx.gz'))
  .sort()
  .map((file) => {
    const bytes = new Uint8Array(gunzipSync(readFileSync(new URL(file, CORPUS))));
    const g = loadGraph(bytes);
    // Timed with weights of its own (distinct-weights.ts): the zero weights' shared tensors let ORT merge branches.
    const model: BuiltModel = {
      bytes: withDistinctWeights(bytes),
      inputs: [{ name: g.input.name, shape: g.input.shape }],
      outputs: [{ name: g.output, shape: g.shapes.get(g.output) ?? [] }],
    };
    return { name: file.replace(/\.onnx\.gz$/, ''), bytes, model, nodes: g.nodes.length, decomposition: decomposeModel(bytes) };
  });

// Another pool's run gets a report of its own (real-models-<dir>.md), beside the shipped pool's.
const report = new Report(
  ARGS.pool ? `real-models-${basename(POOL)}` : 'real-models',
  `Real models: coverage, measured and predicted latency${ARGS.pool ? ` (pool: ${basename(POOL)})` : ''}`,
  `npm run bench:real-models -- --runtimes ${NAMES.join(',')} --rounds ${ROUNDS} --passes ${PASSES} ` +
    `--http-repeats ${HTTP_REPEATS}${ARGS.pool ? ` --pool ${ARGS.pool}` : ''}`,
);

// 1. Coverage: decomposition as the coordinator does it for a runtime that folds batch norm.
report.text('## Coverage');
report.text(
  "Share of each model's FLOPs and compute nodes (glue and nodes folded at load left out) that kernel types cover, with " +
    'the default fusion rules (ONNX Runtime above `disabled`).',
);
report.table(
  ['model', 'nodes', 'kernels', 'FLOPs covered', 'compute nodes covered', 'not covered'],
  corpus.map((m) => [
    m.name,
    m.nodes,
    m.decomposition.kernels.length,
    pct(m.decomposition.coverage.flopsShare),
    pct(m.decomposition.coverage.nodeShare),
    m.decomposition.coverage.unsupported.map((u) => `${u.op} x${u.count}`).join(', ') || '-',
  ]),
);

// 2. The corpus's kernels against the configs the pool was sampled from.
const poolConfigs = new Map<string, KernelConfig[]>();
const poolFile = ['node-t1-all.jsonl', 'node-t1-all.jsonl.gz'].map((f) => join(POOL, f)).find(existsSync);
for (const l of (poolFile ? readPoolFile(poolFile) : []) as { kind?: string; config?: KernelConfig }[]) {
  if (l.kind !== 'kernel' || !l.config) continue;
  const configs = poolConfigs.get(l.config.type) ?? [];
  configs.push(l.config);
  poolConfigs.set(l.config.type, configs);
}
const byType = new Map<string, { kernels: number; flops: number; outside: number; fields: Set<string> }>();
let totalFlops = 0;
for (const k of corpus.flatMap((m) => m.decomposition.kernels)) {
  const type = k.config.type;
  const e = byType.get(type) ?? { kernels: 0, flops: 0, outside: 0, fields: new Set<string>() };
  e.kernels++;
  const flops = kernelCost(k.config).flops;
  e.flops += flops;
  totalFlops += flops;
  const pool = poolConfigs.get(type);
  if (pool) {
    const c = resolveConfig(k.config);
    const spec = getKernelSpec(type);
    const fields = [...spec.required, ...Object.keys(spec.optional ?? {})] as ConfigField[];
    const out = fields.filter((f) => {
      const values = pool.map((p) => resolveConfig(p)[f]);
      return c[f] < Math.min(...values) || c[f] > Math.max(...values);
    });
    if (out.length) e.outside++;
    out.forEach((f) => e.fields.add(f));
  }
  byType.set(type, e);
}
report.text("## The corpus's kernels against the pool's configs");
report.text(
  "Per kernel type the corpus decomposes into: its kernels and share of the corpus's FLOPs; whether the starter pool " +
    "measured the type (node-t1-all); and how many of its kernels have a field outside the range of the pool's configs " +
    'of that type (square and undilated in the current pool, so any W or DILATION is outside).',
);
report.table(
  ['kernel type', 'kernels', 'share of FLOPs', 'in the pool', 'kernels outside its ranges', 'fields outside'],
  [...byType]
    .sort((a, b) => b[1].flops - a[1].flops)
    .map(([t, e]) => [
      t,
      e.kernels,
      pct(e.flops / totalFlops),
      poolConfigs.has(t) ? 'yes' : 'no',
      poolConfigs.has(t) ? `${e.outside} (${pct(e.outside / e.kernels)})` : '-',
      [...e.fields].join(', ') || '-',
    ]),
);

/**
 * How fast the machine runs now against the pool's typical speed (the speed its drift-corrected
 * labels are at): the collection's reference kernels (kind reference) timed now, the geometric
 * mean of now/median over them. 1 where the pool file has none (the shipped pool).
 */
async function speedNow(profiler: KernelProfiler, name: string): Promise<number> {
  const file = readdirSync(POOL).find((f) => poolFileName(f) === name);
  const refs = file ? readPoolFile(join(POOL, file)).filter((l) => l.kind === 'reference') : [];
  const byConfig = new Map<string, { config: KernelConfig; ms: number[] }>();
  for (const r of refs) {
    const key = JSON.stringify(r.config);
    const e = byConfig.get(key) ?? { config: r.config as KernelConfig, ms: [] };
    e.ms.push(r.latencyMs);
    byConfig.set(key, e);
  }
  if (byConfig.size === 0) return 1;
  const logs: number[] = [];
  for (const { config, ms } of byConfig.values()) {
    const now: number[] = [];
    for (let i = 0; i < 5; i++) now.push((await profiler.measure(config)).latencyMs);
    logs.push(Math.log(median(now) / median(ms)));
  }
  return Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length);
}

// 3. Measured end to end and predicted, per runtime configuration.
const dir = mkdtempSync(join(tmpdir(), 'litepred-real-models-'));
const c = await Coordinator.start({ database: join(dir, 'store.sqlite'), port: 0, starterPool: POOL, log: () => undefined });
const CHUNK = 8;
const summary: (string | number)[][] = [];
for (const name of NAMES) {
  const profiler = await KernelProfiler.create({ runtime: RUNTIMES[name]! });
  const speedBefore = await speedNow(profiler, name);
  const passes: number[][] = [];
  for (let pass = 0; pass < PASSES; pass++) {
    const times: number[] = [];
    for (let i = 0; i < corpus.length; i += CHUNK) {
      const chunk = corpus.slice(i, i + CHUNK);
      const timed = await profiler.timeInRounds(
        chunk.map((m) => () => m.model),
        ROUNDS,
        { maxMs: 2000 },
      );
      timed.forEach((t, j) => {
        if ('error' in t) throw new Error(`${chunk[j]!.name} on ${name}: ${t.error.message}`);
        times.push(Math.min(...t.roundMedians));
      });
      process.stderr.write(`${name}: pass ${pass + 1}/${PASSES}: ${Math.min(i + CHUNK, corpus.length)}/${corpus.length} models timed\n`);
    }
    passes.push(times);
  }
  const measured = passes[0]!;
  const speed = Math.sqrt(speedBefore * (await speedNow(profiler, name)));
  // The ceiling: how often the model's second pass agrees with its first within ±10%.
  const ceiling = PASSES > 1 ? pct(measured.filter((t, i) => Math.abs(passes[1]![i]! / t - 1) <= 0.1).length / measured.length) : '-';
  const device = `pool-${name}`;
  const rows = corpus.map((m, i) => {
    const p = c.service.predict(device, m.bytes);
    const missingFlops = p.kernels.filter((k) => k.predictedMs === null).reduce((s, k) => s + kernelCost(k.config).flops, 0);
    const allFlops = p.kernels.reduce((s, k) => s + kernelCost(k.config).flops, 0);
    const error = p.latencyMs / measured[i]! - 1;
    return {
      name: m.name,
      measured: measured[i]!,
      predicted: p.latencyMs,
      error,
      missing: p.missingPredictors,
      predictedShare: allFlops ? 1 - missingFlops / allFlops : 1,
      moves: p.reorders.ms + p.copies.ms,
      withoutMoves: (p.latencyMs - p.reorders.ms - p.copies.ms) / measured[i]! - 1,
      reorders: p.reorders.count,
      copies: p.copies.count,
      atSpeed: (p.latencyMs * speed) / measured[i]! - 1,
    };
  });
  report.text(`## ${name}: measured end to end vs predicted (${device}'s full-data predictors and composition)`);
  report.text(
    `Measured: the fastest of ${ROUNDS} interleaved rounds of 10 runs (models in chunks of ${CHUNK}, opened together), ` +
      `each model with weights of its own (distinct-weights.ts). Predicted: kernel predictions x the device's ` +
      `composition + its run overhead + the layout reorders and copying glue nodes priced by the device's copy cost (the ` +
      `"moves"; the error without them is given beside); kernels of a type the device has no predictor for count as ` +
      `nothing in the total, and their share of the model's FLOPs is given.`,
  );
  report.text(
    `The machine's speed during this run against the pool's typical speed (its reference kernels timed before and after ` +
      `the models, now/typical, geometric mean): ${speed.toFixed(3)}. The pool's labels are at its typical speed; "error ` +
      `at this run's speed" compares the prediction times that factor with the measurement (the raw error is the ` +
      `product's answer as it stands).`,
  );
  report.table(
    [
      'model',
      'measured ms',
      'predicted ms',
      'error',
      "error at this run's speed",
      'reorders + copies: n, ms',
      'error without them',
      'FLOPs with a predictor',
      'no predictor for',
    ],
    rows.map((r) => [
      r.name,
      r.measured,
      r.predicted,
      `${r.error >= 0 ? '+' : ''}${pct(r.error)}`,
      `${r.atSpeed >= 0 ? '+' : ''}${pct(r.atSpeed)}`,
      `${r.reorders} + ${r.copies}, ${r.moves.toFixed(3)}`,
      `${r.withoutMoves >= 0 ? '+' : ''}${pct(r.withoutMoves)}`,
      pct(r.predictedShare),
      r.missing.join(', ') || '-',
    ]),
  );
  const complete = rows.filter((r) => r.missing.length === 0);
  const within = (rs: typeof rows) => rs.filter((r) => Math.abs(r.error) <= 0.1).length;
  summary.push([
    name,
    `${within(rows)}/${rows.length}`,
    `${within(complete)}/${complete.length}`,
    `${rows.filter((r) => Math.abs(r.atSpeed) <= 0.1).length}/${rows.length} (speed ${speed.toFixed(3)})`,
    `${rows.filter((r) => Math.abs(r.withoutMoves) <= 0.1).length}/${rows.length}`,
    pct(median(rows.map((r) => Math.abs(r.error)))),
    pct(median(rows.map((r) => Math.abs(r.atSpeed)))),
    ceiling,
  ]);
}
report.text('## Summary');
report.text(
  'Models within ±10% of their measured end-to-end latency (target: ≥ 90% of the corpus on each configuration), over all ' +
    'models and over the models whose every kernel type has a predictor; the same without the reorders and copies (what ' +
    'predictions were before they counted them); median |error|; and the ceiling: models whose end-to-end time measured ' +
    'in a second pass agrees with the first within ±10% (--passes 2).',
);
report.table(
  [
    'runtime',
    'within ±10%, all',
    'within ±10%, every type predicted',
    "within ±10% at this run's speed",
    'within ±10% without reorders and copies',
    'median |error|',
    "median |error| at this run's speed",
    'pass-to-pass within ±10% (ceiling)',
  ],
  summary,
);

// 4. Prediction through the HTTP API, from a process of its own (as the CLI asks): one request at a time.
const probe = corpus.reduce((best, m) => (Math.abs(m.nodes - 100) < Math.abs(best.nodes - 100) ? m : best));
const probeFile = join(dir, 'probe.onnx');
writeFileSync(probeFile, probe.bytes);
const client = `const [url, file, n] = process.argv.slice(1); const body = require('fs').readFileSync(file); const times = [];
for (let i = 0; i < Number(n) + 3; i++) { const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } }); await res.json();
  if (i >= 3) times.push(performance.now() - t0); }
console.log(JSON.stringify(times));`;
async function timeRequests(file: string): Promise<number[]> {
  const child = spawn(process.execPath, [
    '--input-type=commonjs',
    '-e',
    `(async () => { ${client} })()`,
    `${c.address.http}/api/devices/pool-node-t1-all/predict`,
    file,
    String(HTTP_REPEATS),
  ]);
  let printed = '';
  child.stdout.on('data', (d: Buffer) => {
    printed += d.toString();
  });
  await new Promise((resolve) => child.on('exit', resolve));
  return (JSON.parse(printed) as number[]).sort((a, b) => a - b);
}
const stripped = stripWeights(probe.bytes);
const strippedFile = join(dir, 'probe-stripped.onnx');
writeFileSync(strippedFile, stripped);
const [whole, light] = [await timeRequests(probeFile), await timeRequests(strippedFile)];
report.text('## Prediction over HTTP');
report.text(
  `POST /api/devices/pool-node-t1-all/predict with ${probe.name} (${probe.nodes} nodes), ${HTTP_REPEATS} times after 3 ` +
    `warm-up requests, one at a time from a client process of its own (target ≤ 50 ms for a 100-node model):`,
);
report.table(
  ['body', 'bytes', 'median ms', 'slowest ms'],
  [
    ['the whole model (as curl sends it)', probe.bytes.length, median(whole).toFixed(1), whole.at(-1)!.toFixed(1)],
    [
      "without the weights' values (as litepred predict sends it: stripWeights)",
      stripped.length,
      median(light).toFixed(1),
      light.at(-1)!.toFixed(1),
    ],
  ],
);
report.write();
// Coordinator.stop() left this process with nothing to run and its promise pending (exit code 13
// before the report was written); stop, or give up after 5 s, and exit.
await Promise.race([c.stop(), new Promise((resolve) => setTimeout(resolve, 5000))]);
process.exit(0);
