// npm run bench:demo -- --help
// The README's main command, measured: `litepred demo` on fresh stores (temporary copies of
// fleet.config.json), then again on the same store (what a second `npm start` reuses). Writes its
// output (accuracy, budget, wall time) to docs/benchmarks/demo.md.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.js';
import { median, pct, Report } from './report.js';

const ARGS = benchArgs(
  'npm run bench:demo --',
  "The README's main command (litepred demo) measured on fresh stores, then again on the same store.",
  {
    budget: { default: 300, describe: 'adaptation budget, kernels' },
    models: { default: 14, describe: 'held-out architectures timed end to end' },
    runs: { default: 3, describe: 'runs on fresh stores' },
  },
);
const BUDGET = String(ARGS.budget);
const MODELS = String(ARGS.models);
const RUNS = ARGS.runs;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A fresh store: a temporary copy of fleet.config.json pointing at a new database. */
function freshConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'litepred-demo-'));
  const config = JSON.parse(readFileSync(join(ROOT, 'fleet.config.json'), 'utf8'));
  const file = join(dir, 'fleet.config.json');
  writeFileSync(
    file,
    JSON.stringify({ ...config, database: join(dir, 'litepred.sqlite'), starterPool: resolve(ROOT, config.starterPool) }, null, 2),
  );
  return file;
}

interface DemoOutput {
  deviceId: string;
  runtime: { backend: string; threads: number; graphOptimizationLevel: string };
  adaptation: {
    id: string;
    source: string;
    measured: number;
    rounds: number;
    stoppedBecause: string;
    heldOut: { n: number; within5: number; within10: number; within15: number; mape: number };
    ranked: { source: string; score: number }[];
    composition: { models: number; heldOut?: { within10: number; n: number } | null } | null;
  };
  models: { model: string; kernels: number; measuredMs: number; predictedMs: number; error: number }[];
  modelsWithin10: number;
  seconds: number;
}

function runDemo(configFile: string): { out: DemoOutput; wallSeconds: number; log: string } {
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'cli/bin/litepred.js'), 'demo', '--config', configFile, '--budget', BUDGET, '--models', MODELS, '--json'],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
  if (r.status !== 0) throw new Error(`litepred demo failed (${r.status}):\n${r.stderr}`);
  process.stderr.write(r.stderr);
  return { out: JSON.parse(r.stdout) as DemoOutput, wallSeconds: (Date.now() - t0) / 1000, log: r.stderr };
}

// Each run a new device on a fresh store, one after another: on a shared VM the machine itself
// changes between runs, and one run would hide that.
const configs = Array.from({ length: RUNS }, freshConfig);
const runs = configs.map((f) => runDemo(f));
const again = runDemo(configs.at(-1)!);
const o = runs.at(-1)!.out;
const report = new Report(
  'demo',
  'The main command: `npm start` (litepred demo), measured',
  `npm run bench:demo -- --budget ${BUDGET} --models ${MODELS} --runs ${RUNS}`,
);
report.text(
  `What each run did: a coordinator on a fresh store with the starter pool; a local agent for ` +
    `onnxruntime ${o.runtime.backend}, ${o.runtime.threads} thread(s), graph optimization ` +
    `\`${o.runtime.graphOptimizationLevel}\` (a configuration the pool does not have) enrolled as a new device; ` +
    `adaptation within ${BUDGET} kernels (target 95% of held-out kernels within ±10%), then 28 whole architectures timed ` +
    `end to end by the agent for the device's composition; then ${MODELS} other sampled architectures of the seven ` +
    `spaces timed end to end by the agent (fastest of 3 interleaved round medians; a campaign nothing is fitted on) and ` +
    `predicted. ${RUNS} runs one after another, each a new device on a fresh store; then the last one again on its store ` +
    `(what a second \`npm start\` does).`,
);
report.table(
  [
    'run',
    'source chosen',
    'kernels measured',
    'held-out kernels ±10% (≥10 µs)',
    'composition: held-out models ±10%',
    'other whole models ±10%',
    'their median error',
    'wall time',
  ],
  runs.map((r, i) => {
    const a = r.out.adaptation;
    return [
      i + 1,
      `${a.source} (${a.ranked[0]!.score.toFixed(3)}; next ${a.ranked[1]?.source} ${a.ranked[1]?.score.toFixed(3)})`,
      `${a.measured} of ${BUDGET} (stopped: ${a.stoppedBecause})`,
      `${pct(a.heldOut.within10)} of ${a.heldOut.n} (MAPE ${pct(a.heldOut.mape)})`,
      a.composition?.heldOut
        ? `${pct(a.composition.heldOut.within10)} of ${a.composition.heldOut.n} (fitted ` +
          `on ${a.composition.models - a.composition.heldOut.n})`
        : 'none',
      `${pct(r.out.modelsWithin10)} of ${r.out.models.length}`,
      `${median(r.out.models.map((m) => m.error)) >= 0 ? '+' : ''}${pct(median(r.out.models.map((m) => m.error)))}`,
      `${r.wallSeconds.toFixed(0)} s`,
    ];
  }),
);
report.text(
  `Run ${RUNS} again on its store (reuses the device, its adaptation and the end-to-end ` +
    `measurements): ${again.wallSeconds.toFixed(0)} s, ${pct(again.out.modelsWithin10)} of models within ±10% (the same ` +
    `measurements and predictors). Per model, run ${RUNS}:`,
);
report.table(
  ['model', 'kernels', 'measured ms', 'predicted ms', 'error'],
  o.models.map((m) => [m.model, m.kernels, m.measuredMs, m.predictedMs, `${m.error >= 0 ? '+' : ''}${pct(m.error)}`]),
);
report.text(`Run ${RUNS}'s progress, as printed:\n\n\`\`\`\n` + runs.at(-1)!.log.trim() + '\n```');
report.write();
