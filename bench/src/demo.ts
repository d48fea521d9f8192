// npm run bench:demo -- [--budget 300] [--models 14]
// The README's main command, measured: `litepred demo` on a fresh store (a temporary copy of
// fleet.config.json), then again on the same store (what a second `npm start` reuses). Writes its
// output (accuracy, budget, wall time) to docs/benchmarks/demo.md.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pct, Report } from './report.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const BUDGET = arg('budget', '300');
const MODELS = arg('models', '14');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'litepred-demo-'));
const config = JSON.parse(readFileSync(join(ROOT, 'fleet.config.json'), 'utf8'));
const configFile = join(dir, 'fleet.config.json');
writeFileSync(configFile, JSON.stringify({ ...config, database: join(dir, 'litepred.sqlite'), starterPool: resolve(ROOT, config.starterPool) }, null, 2));

interface DemoOutput {
  deviceId: string;
  runtime: { backend: string; threads: number; graphOptimizationLevel: string };
  adaptation: { id: string; source: string; measured: number; rounds: number; stoppedBecause: string; heldOut: { n: number; within5: number; within10: number; within15: number; mape: number }; ranked: { source: string; score: number }[] };
  models: { model: string; kernels: number; measuredMs: number; predictedMs: number; error: number }[];
  modelsWithin10: number;
  seconds: number;
}

function runDemo(): { out: DemoOutput; wallSeconds: number; log: string } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'cli/bin/litepred.js'), 'demo', '--config', configFile, '--budget', BUDGET, '--models', MODELS, '--json'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`litepred demo failed (${r.status}):\n${r.stderr}`);
  process.stderr.write(r.stderr);
  return { out: JSON.parse(r.stdout) as DemoOutput, wallSeconds: (Date.now() - t0) / 1000, log: r.stderr };
}

const first = runDemo();
const again = runDemo();
const o = first.out;
const a = o.adaptation;
const report = new Report('demo', 'The main command: `npm start` (litepred demo), measured', `npm run bench:demo -- --budget ${BUDGET} --models ${MODELS}`);
report.text(`What it did: a coordinator on a fresh store with the starter pool; a local agent for onnxruntime ${o.runtime.backend}, ${o.runtime.threads} thread(s), graph optimization \`${o.runtime.graphOptimizationLevel}\` (a configuration the pool does not have) enrolled as ${o.deviceId}; adaptation within ${BUDGET} kernels (target 95% of held-out kernels within ±10%); ${MODELS} sampled architectures of the seven spaces measured end to end on the same runtime configuration (minimum of 5 interleaved round medians) and predicted.`);
report.table(['', 'value'], [
  ['source chosen', `${a.source} (log-linear residual ${a.ranked[0]!.score.toFixed(3)}; next ${a.ranked[1]?.source} ${a.ranked[1]?.score.toFixed(3)})`],
  ['kernels measured on the new device', `${a.measured} of a budget of ${BUDGET} (${a.rounds} round(s); stopped: ${a.stoppedBecause})`],
  ['held-out kernels within ±10% (≥10 µs)', `${pct(a.heldOut.within10)} of ${a.heldOut.n} (±5%: ${pct(a.heldOut.within5)}, ±15%: ${pct(a.heldOut.within15)}, MAPE ${pct(a.heldOut.mape)})`],
  ['whole models within ±10%', `${pct(o.modelsWithin10)} of ${o.models.length}`],
  ['wall time, first run (fresh store)', `${first.wallSeconds.toFixed(0)} s`],
  ['wall time, second run (reuses the store)', `${again.wallSeconds.toFixed(0)} s`],
]);
report.table(['model', 'kernels', 'measured ms', 'predicted ms', 'error'], o.models.map((m) => [m.model, m.kernels, m.measuredMs, m.predictedMs, `${m.error >= 0 ? '+' : ''}${pct(m.error)}`]));
report.text('The first run\'s progress, as printed:\n\n```\n' + first.log.trim() + '\n```');
report.write();
