// npm run bench:full-data -- --help
// Issue 15's first target, per runtime configuration of a pool: kernel predictors trained on all of
// a configuration's kernels but a held-out fifth (trainFullData, as the coordinator builds them: a
// roofline, or boosted trees on a roofline prior where they do better on their own inner hold-out),
// scored on the held-out kernels of at least 10 µs: the share within ±10%, per kernel type and over
// all, next to the test-retest ceilings measured in the same collection (kernels measured twice,
// seconds and about ten minutes apart). Labels as measured, as the coordinator imports them
// (--drift-corrected: divided by the reference kernels' drift, which the coordinator no longer does).
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { correctDrift, poolFileName, readPoolFile } from '@litepred/coordinator';
import type { KernelConfig } from '@litepred/kernels';
import { seededRng } from '@litepred/nn';
import { GbdtPredictor, RooflinePredictor, trainFullData, type KernelLatencyPredictor, type Sample } from '@litepred/predictor';
import { CEILING_MIN_MS, poolCeilings } from './pool-ceiling.js';
import { benchArgs } from './args.js';
import { pct, Report } from './report.js';

const ARGS = benchArgs(
  'npm run bench:full-data --',
  'Full-data kernel predictors per runtime configuration of a pool, scored on held-out kernels next to the test-retest ceilings.',
  {
    pool: { default: 'coordinator/starter-pool-next', describe: 'pool directory (bench:collect --out)' },
    'held-out': { default: 0.2, describe: "share of each configuration's kernels held out" },
    'drift-corrected': { default: false, describe: "labels divided by the reference kernels' drift around them" },
  },
);
const POOL = resolve(fileURLToPath(new URL('../../', import.meta.url)), ARGS.pool);
const HELD_OUT = ARGS['held-out'];
const RAW = !ARGS['drift-corrected'];

const report = new Report(
  'full-data',
  'Full-data kernel predictors against the test-retest ceiling',
  `npm run bench:full-data -- --pool ${ARGS.pool} --held-out ${HELD_OUT}${RAW ? '' : ' --drift-corrected'}`,
);
report.text(
  `Per configuration: each kernel type's kernels split at random (seeded), ${pct(HELD_OUT)} held out; the predictor is ` +
    `trained on the rest as the coordinator trains it ` +
    `(trainFullData: a roofline, or boosted trees on a roofline prior where they beat it by 5 points on an inner fifth). ` +
    `Shares count held-out kernels of at least ${CEILING_MIN_MS * 1000} µs. ` +
    `Labels ${RAW ? 'as measured' : 'divided by the drift of the reference kernels around them (pool-drift.ts)'}. ` +
    'Ceiling: kernels of the same collection measured twice, seconds apart (20 kernels later) and about ten minutes ' +
    'apart (2,000 kernels later), drift-corrected; ' +
    'held-out kernels were measured at random times in the collection, so the ten-minute ceiling is the one that ' +
    'applies. Target (issue 15): 85% on every configuration, or within 5 points of its ceiling.',
);

const summary: (string | number)[][] = [];
for (const file of readdirSync(POOL)
  .filter((f) => poolFileName(f) !== undefined)
  .sort()) {
  const name = poolFileName(file)!;
  const raw = readPoolFile(join(POOL, file));
  const lines = RAW ? raw : correctDrift(raw);
  const byType = new Map<string, Sample[]>();
  for (const l of lines) {
    if (l.kind !== 'kernel' || !(l.latencyMs > 0)) continue;
    const list = byType.get(l.config.type) ?? [];
    list.push({ config: l.config as KernelConfig, latencyMs: l.latencyMs as number });
    byType.set(l.config.type, list);
  }
  const rows: (string | number)[][] = [];
  let [within, judged, trees, allRoofline, allTrees] = [0, 0, 0, 0, 0];
  const hitsOf = (p: KernelLatencyPredictor, test: readonly Sample[]) => {
    const predicted = p.predict(test.map((s) => s.config));
    return test.filter((s, i) => Math.abs(predicted[i]! / s.latencyMs - 1) <= 0.1).length;
  };
  for (const [type, samples] of [...byType].sort((a, b) => b[1].length - a[1].length)) {
    const r = seededRng(7);
    const order = samples
      .map((s) => [r(), s] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, s]) => s);
    const cut = Math.floor(order.length * HELD_OUT);
    const [test, train] = [order.slice(0, cut).filter((s) => s.latencyMs >= CEILING_MIN_MS), order.slice(cut)];
    if (train.length < 6 || test.length === 0) continue;
    const built = trainFullData(type, train);
    const hits = hitsOf(built.predictor, test);
    allRoofline += hitsOf(RooflinePredictor.train(type, train), test);
    allTrees += hitsOf(GbdtPredictor.train(type, train), test);
    within += hits;
    judged += test.length;
    if (built.kind === 'gbdt') trees++;
    rows.push([
      type,
      train.length,
      test.length,
      built.kind,
      pct(built.candidates.roofline ?? 0),
      built.candidates.gbdt === undefined ? '-' : pct(built.candidates.gbdt),
      pct(hits / test.length),
    ]);
    process.stderr.write(`${name}: ${type} ${pct(hits / test.length)}\n`);
  }
  const ceilings = poolCeilings(raw);
  const ceiling = (kind: string) => {
    const c = ceilings.find((x) => x.kind === kind);
    return c ? `${pct(RAW ? c.within10 : c.within10Corrected)} (${c.pairs} pairs)` : '-';
  };
  report.text(`## ${name}`);
  report.table(
    [
      'kernel type',
      'trained on',
      'held out (≥ 10 µs)',
      'chosen',
      'roofline, inner hold-out',
      'trees, inner hold-out',
      'held out within ±10%',
    ],
    rows,
  );
  summary.push([
    name,
    byType.size,
    [...byType.values()].reduce((s, v) => s + v.length, 0),
    `${trees}/${rows.length}`,
    `${pct(within / judged)} (${judged})`,
    pct(allRoofline / judged),
    pct(allTrees / judged),
    ceiling('kernel-retest'),
    ceiling('kernel-retest-late'),
  ]);
}
report.text('## Summary');
report.table(
  [
    'configuration',
    'kernel types',
    'kernels',
    'types given trees',
    'held out within ±10% (kernels)',
    'roofline for every type',
    'trees for every type',
    'ceiling: seconds apart',
    'ceiling: ten minutes apart',
  ],
  summary,
);
report.write();
