// npm run bench:transfer -- --help
// Leave one device out in turn: the other runtime configurations form the pool; the held-out one
// is the "new board". For each adaptation budget: transfer (pick the most similar pool device per
// kernel type by the log-linear measure on the adaptation kernels, recalibrate its predictor),
// from scratch (the same kernels, no pool), and full data (all of the device's non-held-out
// kernels). Kernel level: share of held-out kernels within ±10%. Model level: share of the
// measured architectures whose end-to-end time the kernel sum (+ run overhead) gets within ±10%.
// Then: which similarity measure picks the pool device that transfers best.
// Reads coordinator/starter-pool/ (or --pool DIR: npm run bench:collect), labels as measured.
// Full-data and pool predictors: trainFullData, as the
// coordinator builds them (a roofline, or boosted trees where they do better held out); adaptation
// recalibrates the chosen source's. The ceiling beside them: kernels measured twice, seconds and
// about ten minutes apart.
import { readdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { poolFileName, readPoolFile } from '@litepred/coordinator';
import type { KernelConfig } from '@litepred/kernels';
import { seededRng } from '@litepred/nn';
import {
  chooseByCrossValidation,
  composedLatency,
  DEFAULT_COMPOSITION_RIDGE,
  decomposeModel,
  relevance,
  fitComposition,
  metrics,
  typeSums,
  type Composition,
  rankPoolDevices,
  rankSources,
  recalibrate,
  recalibrateDevice,
  RooflinePredictor,
  SIMILARITY_MEASURES,
  trainFullData,
  type Decomposition,
  type KernelLatencyPredictor,
  type Sample,
} from '@litepred/predictor';
import { buildArchitectureModel, getSpace, sampleArchitecture } from '@litepred/spaces';
import { poolCeilings, type Ceiling } from './pool-ceiling.js';
import { benchArgs } from './args.js';
import { median, pct, Report } from './report.js';

const ARGS = benchArgs(
  'npm run bench:transfer --',
  'Leave one runtime configuration out in turn and adapt a predictor for it from the others: kernel and model accuracy per budget.',
  {
    budgets: { default: '50,100,300,1000', describe: 'adaptation budgets, comma-separated' },
    'held-out': { default: 20, describe: 'held-out kernels per type' },
    'composition-models': { default: 28, describe: 'architectures the composition is fitted on' },
    'composition-ridge': { default: DEFAULT_COMPOSITION_RIDGE, describe: 'ridge of the composition fit' },
    shrink: { default: '', describe: 'recalibration shrinkage to compare: intercept,slope' },
    unweighted: { default: false, describe: 'unweighted similarity' },
    'transfer-only': { default: false, describe: 'no from-scratch predictors in the adaptation' },
    pool: { default: '', describe: 'pool directory (default: the shipped starter pool)' },
  },
);
const BUDGETS = ARGS.budgets.split(',').map(Number);
const HELD_OUT = ARGS['held-out'];
const SHRINK = ARGS.shrink;
const WEIGHTED = !ARGS.unweighted;
const HYBRID = !ARGS['transfer-only'];
/** Held-out kernels of at least 10 µs: below that, ORT's microsecond profile makes ±10% a coin toss. */
const MIN_MS = 0.01;
// --pool DIR: another pool (bench:collect --out), .jsonl or .jsonl.gz files.
const DIR = ARGS.pool ? new URL(`file://${resolve(ARGS.pool)}/`) : new URL('../../coordinator/starter-pool/', import.meta.url);

interface Device {
  name: string;
  runtime: unknown;
  kernels: Map<string, Sample[]>;
  overheadMs: number;
  models: { key: string; space: string; seed: number; latencyMs: number }[];
  /** Second end-to-end measurements of the same models (bench:collect --retest), by key. */
  retest: Map<string, number>;
  /** How the end-to-end times were taken: in interleaved rounds (bench:collect --rounds) or once each. */
  modelMethod: string;
  /** Kernels measured twice in the collection, seconds and minutes apart (bench:collect): the share of pairs within ±10%. */
  ceilings: Ceiling[];
}

/** End-to-end records of one method, keyed by architecture (space-seed). */
function modelRecords(lines: { kind: string; key: string; space: string; seed: number; latencyMs: number }[], kind: string) {
  return lines.filter((x) => x.kind === kind).map((x) => ({ ...x, key: x.key.replace(/(~r\d+)?(#2)?$/, '') }));
}

function load(): Device[] {
  return readdirSync(DIR)
    .filter((f) => poolFileName(f) !== undefined)
    .sort()
    .map((file) => {
      const raw = readPoolFile(fileURLToPath(new URL(file, DIR)));
      // Labels as measured, as the coordinator imports them (the drift correction made retests agree less: docs/decisions.md).
      const lines = raw as {
        kind: string;
        key: string;
        config: KernelConfig;
        latencyMs: number;
        space: string;
        seed: number;
        boundary?: { runOverheadMs?: number };
        runtime?: unknown;
      }[];
      const kernels = new Map<string, Sample[]>();
      const overheads: number[] = [];
      for (const l of lines.filter((x) => x.kind === 'kernel')) {
        // A kernel the profiler timed at 0 (below ORT's microsecond profile resolution) is kept at
        // 1 µs, so its type still gets a predictor; relative errors below ~10 µs are noise anyway.
        const list = kernels.get(l.config.type) ?? [];
        list.push({ config: l.config as KernelConfig, latencyMs: Math.max(l.latencyMs, 1e-3) });
        kernels.set(l.config.type, list);
        if (l.boundary?.runOverheadMs !== undefined) overheads.push(l.boundary.runOverheadMs);
      }
      // Interleaved rounds where a device has them for (nearly) every architecture: they repeat better.
      const rounds = modelRecords(lines, 'model-rounds');
      const once = modelRecords(lines, 'model');
      const useRounds = rounds.length >= 0.95 * once.length && rounds.length > 0;
      const retest = modelRecords(lines, useRounds ? 'model-rounds-retest' : 'model-retest');
      return {
        name: poolFileName(file)!,
        runtime: lines.find((x) => x.key === 'device')?.runtime,
        kernels,
        ceilings: poolCeilings(raw),
        overheadMs: overheads.length ? median(overheads) : 0,
        models: useRounds ? rounds : once,
        retest: new Map(retest.map((x) => [x.key, x.latencyMs])),
        modelMethod: useRounds ? 'rounds' : 'once',
      };
    });
}

const devices = load();
const types = [...new Set(devices.flatMap((d) => [...d.kernels.keys()]))].sort();
const common = types.filter((t) => devices.every((d) => (d.kernels.get(t)?.length ?? 0) >= HELD_OUT + 2));

/** Deterministic split of a device's kernels of one type: held-out, then the adaptation pool in a fixed shuffled order. */
function split(samples: Sample[]): { held: Sample[]; rest: Sample[] } {
  const r = seededRng(7);
  const order = samples.map((s) => s).sort((a, b) => JSON.stringify(a.config).localeCompare(JSON.stringify(b.config)));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return { held: order.slice(0, HELD_OUT), rest: order.slice(HELD_OUT) };
}

/**
 * Each device's full-data predictors, chosen as the coordinator chooses them (trainFullData: a roofline, or boosted trees where they do
 * better).
 */
const full = new Map(
  devices.map((d) => {
    const built = new Map(common.map((t) => [t, trainFullData(t, split(d.kernels.get(t)!).rest)]));
    const trees = [...built.values()].filter((b) => b.kind === 'gbdt').length;
    process.stderr.write(`${d.name}: full-data predictors built (boosted trees for ${trees} of ${built.size} types)\n`);
    return [d.name, new Map([...built].map(([t, b]) => [t, b.predictor as KernelLatencyPredictor]))];
  }),
);

type Method = 'transfer' | 'transfer-per-type' | 'scratch' | 'full';

function predictorsFor(target: Device, budget: number, method: Method): Map<string, KernelLatencyPredictor> {
  const perType = Math.max(2, Math.floor(budget / common.length));
  return new Map(
    common.map((t): [string, KernelLatencyPredictor] => {
      const { rest } = split(target.kernels.get(t)!);
      if (method === 'full') return [t, full.get(target.name)!.get(t)!];
      const adapt = rest.slice(0, perType);
      if (method === 'scratch') return [t, RooflinePredictor.train(t, adapt)];
      if (method === 'transfer') return [t, deviceTransfer(target, perType).get(t)!];
      const pool = devices.filter((d) => d !== target).map((d) => ({ source: d.name, predictor: full.get(d.name)!.get(t)! }));
      const ranked = rankSources(
        pool.map((p) => ({ source: p.source, predicted: p.predictor.predict(adapt.map((s) => s.config)) })),
        adapt.map((s) => s.latencyMs),
        'log-linear',
      );
      return [t, recalibrate(pool.find((p) => p.source === ranked[0]!.source)!.predictor, adapt)];
    }),
  );
}

/** One source device for all types and shrunk per-type lines (adaptDevice's transfer), memoised per target and budget. */
const deviceTransfers = new Map<string, Map<string, KernelLatencyPredictor>>();
function deviceTransfer(target: Device, perType: number): Map<string, KernelLatencyPredictor> {
  const key = `${target.name}/${perType}`;
  let out = deviceTransfers.get(key);
  if (!out) {
    const adapt = common.flatMap((t) => split(target.kernels.get(t)!).rest.slice(0, perType));
    const pool = devices.filter((d) => d !== target).map((d) => ({ source: d.name, predictors: full.get(d.name)! }));
    const weightOf = WEIGHTED ? relevance(MIN_MS) : () => 1;
    const chosen = pool.find((p) => p.source === rankPoolDevices(pool, adapt, 'log-linear', weightOf)[0]!.source)!;
    const [intercept, slope] = SHRINK ? SHRINK.split(',').map(Number) : [];
    const shrinkage = SHRINK ? { intercept: intercept!, slope: slope! } : undefined;
    out = HYBRID
      ? chooseByCrossValidation(chosen, adapt, (t, s) => RooflinePredictor.train(t, s), { shrinkage, weightOf })
      : recalibrateDevice(chosen, adapt, shrinkage, weightOf);
    deviceTransfers.set(key, out);
  }
  return out;
}

function kernelShare(target: Device, predictors: Map<string, KernelLatencyPredictor>): number {
  const held = common.flatMap((t) => split(target.kernels.get(t)!).held).filter((s) => s.latencyMs >= MIN_MS);
  const predicted = held.map((s) => predictors.get(s.config.type)!.predict([s.config])[0]!);
  return metrics(
    predicted,
    held.map((s) => s.latencyMs),
  ).within10;
}

const decompositions = new Map<string, Decomposition>();
const decompose = (m: { key: string; space: string; seed: number }) => {
  let d = decompositions.get(m.key);
  if (!d) decompositions.set(m.key, (d = decomposeModel(buildArchitectureModel(sampleArchitecture(getSpace(m.space), m.seed)).bytes)));
  return d;
};

/**
 * Models alternate between a fitting half (a device's own composition is fitted on it) and a
 * test half (every model-level share is over it), in the order they were measured.
 */
const testModels = (d: Device) => d.models.filter((_, i) => i % 2 === 1);

/** As `litepred adapt` does: a composition fitted on COMPOSITION_MODELS of the device's fitting-half models, with these predictors. */
const COMPOSITION_MODELS = ARGS['composition-models'];
const COMPOSITION_RIDGE = ARGS['composition-ridge'];
function composition(d: Device, predictors: ReadonlyMap<string, KernelLatencyPredictor>, count = COMPOSITION_MODELS): Composition {
  const fit = d.models
    .filter((_, i) => i % 2 === 0)
    .slice(0, count)
    .map((m) => ({ sums: typeSums(decompose(m), predictors)!, measuredMs: m.latencyMs }))
    .filter((m) => m.sums);
  return fitComposition(fit, d.overheadMs, COMPOSITION_RIDGE);
}

function modelShare(
  target: Device,
  predictors: Map<string, KernelLatencyPredictor>,
  composition?: Composition,
): { share: number; covered: number } {
  const predicted: number[] = [];
  const measured: number[] = [];
  for (const m of testModels(target)) {
    const sums = typeSums(decompose(m), predictors);
    if (!sums) continue;
    predicted.push(composedLatency(sums, target.overheadMs, composition));
    measured.push(m.latencyMs);
  }
  return { share: predicted.length ? metrics(predicted, measured).within10 : NaN, covered: predicted.length };
}

// Another pool's report goes beside the shipped pool's (docs/benchmarks/transfer-<dir>.md).
const report = new Report(
  ARGS.pool ? `transfer-${basename(resolve(ARGS.pool))}` : 'transfer',
  `Transfer benchmark: a new device from a pool of runtime configurations${ARGS.pool ? ` (pool: ${basename(resolve(ARGS.pool))})` : ''}`,
  `npm run bench:transfer -- --budgets ${BUDGETS.join(',')} --held-out ${HELD_OUT}${ARGS.pool ? ` --pool ${ARGS.pool}` : ''}`,
);
report.text(
  `${devices.length} devices (runtime configurations; the pool files say of which machine), leave one out in turn. ` +
    `${common.length} kernel ` +
    `types measured on every device; per type ${HELD_OUT} held-out kernels, the rest for adaptation (a budget of B ` +
    `spreads B / ${common.length} kernels over the types). ` +
    `Predictor: roofline + ridge residual. Transfer (what \`litepred adapt\` does): one pool device for all kernel ` +
    `types, the one whose full-data predictors best fit all the adaptation kernels (log-linear residual, kernels under ` +
    `10 µs weighted down), each type's predictor recalibrated with a line shrunk toward the line all types share; where ` +
    `a type has 6 or more adaptation kernels, a roofline trained on them alone replaces the transferred line if it ` +
    `predicts them better left-one-out. Transfer per type: per kernel type, the pool device whose predictor best fits ` +
    `that type's adaptation kernels, recalibrated on them alone. Model latency: sum of kernel predictions + the median ` +
    `run overhead of the device's kernel measurements. ` +
    `Composition: one in-network factor per kernel type, fitted (relative error, ridge toward 1) on whole models the ` +
    `held-out device measured end to end, with the method's own kernel predictors: ${COMPOSITION_MODELS} models for ` +
    `transfer and scratch (what \`litepred adapt\` measures after the kernels), the whole fitting half for full data. ` +
    `Model-level shares are over the test half of each device's architectures (every other ` +
    `one, ${Math.floor(devices[0]!.models.length / 2)} of ${devices[0]!.models.length}), which no fit sees.`,
);
report.text(
  `Kernel-level shares count held-out kernels of at least ${MIN_MS * 1000} µs only: ` +
    devices
      .map((d) => {
        const held = common.flatMap((t) => split(d.kernels.get(t)!).held);
        return `${d.name} ${held.filter((s) => s.latencyMs >= MIN_MS).length} of ${held.length}`;
      })
      .join(', ') +
    '.',
);
const retests = devices
  .filter((d) => d.retest.size)
  .map((d) => {
    const pairs = d.models.filter((m) => d.retest.has(m.key));
    const ratios = pairs.map((m) => d.retest.get(m.key)! / m.latencyMs);
    return (
      `${d.name}: ${pct(
        metrics(
          pairs.map((m) => d.retest.get(m.key)!),
          pairs.map((m) => m.latencyMs),
        ).within10,
      )} of ${pairs.length} models ` +
      `(${d.modelMethod === 'rounds' ? 'fastest of 3 interleaved round medians' : 'one median each'}; the second pass's ` +
      `median model took ${median(ratios).toFixed(2)}x the first's)`
    );
  });
report.text(
  `The ceiling noise allows: end-to-end times measured twice agree within ±10% ` +
    `for ${retests.length ? retests.join('; ') : 'no device (no retest data; run bench:collect --retest)'}. ` +
    "The second pass ran about half an hour after the first, and the VM's neighbours had changed: whole models measured " +
    'at different times on this machine do not repeat within ±10%. The model-level shares below compare predictions with ' +
    'one pass (the fitting and test halves were timed in the same pass, interleaved), so they can and do exceed this ' +
    'ceiling; they say how well the predictor tracks the machine as it was during that pass.',
);
const rows: (string | number)[][] = [];
/** Per held-out device and budget: kernel share, model share (sum), model share with composition, by method. */
const results: { device: string; budget: number; by: Record<string, { kernels: number; models?: number; composed?: number }> }[] = [];
for (const target of devices) {
  for (const budget of BUDGETS) {
    const ceilingOf = (kind: string) => {
      const c = target.ceilings.find((x) => x.kind === kind);
      return c ? `${pct(c.within10)} (${c.pairs})` : '-';
    };
    const ceiling = `${ceilingOf('kernel-retest')} / ${ceilingOf('kernel-retest-late')}`;
    const cells: (string | number)[] = [target.name, budget, ceiling];
    const by: (typeof results)[number]['by'] = {};
    for (const method of ['transfer', 'transfer-per-type', 'scratch', 'full'] as Method[]) {
      const p = predictorsFor(target, budget, method);
      const r: (typeof by)[string] = (by[method] = { kernels: kernelShare(target, p) });
      cells.push(pct(r.kernels));
      if (method === 'transfer-per-type') continue;
      // A device whose collection has not reached its architectures yet is judged on kernels only.
      r.models = modelShare(target, p).share;
      r.composed = target.models.length
        ? modelShare(target, p, composition(target, p, method === 'full' ? Infinity : COMPOSITION_MODELS)).share
        : NaN;
      cells.push(pct(r.models), pct(r.composed));
    }
    rows.push(cells);
    results.push({ device: target.name, budget, by });
  }
  process.stderr.write(`${target.name} done\n`);
}
report.table(
  [
    'held-out device',
    'budget',
    'kernel test-retest within ±10%, seconds / ten minutes apart (pairs)',
    'transfer: kernels ±10%',
    'transfer: models ±10%',
    `+ composition (${COMPOSITION_MODELS} models)`,
    'per type: kernels',
    'scratch: kernels',
    'scratch: models',
    `+ composition (${COMPOSITION_MODELS})`,
    'full: kernels',
    'full: models',
    '+ composition (all fitting half)',
  ],
  rows,
);

// Against the targets and the published figures.
const small = results.filter((r) => r.budget <= 300);
const beats = (key: 'kernels' | 'composed') => small.filter((r) => r.by.transfer![key]! > r.by.scratch![key]!).length;
const range = (all: number[]) => {
  const xs = all.filter((x) => !Number.isNaN(x)); // devices without whole models have no model share
  return xs.length
    ? `${pct(Math.min(...xs))}–${pct(Math.max(...xs))} (median ${pct(median(xs))}, ${xs.length} devices)`
    : '- (no device has whole models)';
};
report.text(
  '**Against the targets.** ' +
    BUDGETS.map((b) => {
      const at = results.filter((r) => r.budget === b);
      return (
        `At ${b} kernels, transfer + composition gets ${range(at.map((r) => r.by.transfer!.composed!))} of the ` +
        `held-out devices' test models within ±10% and ${range(at.map((r) => r.by.transfer!.kernels))} of their held-out kernels`
      );
    }).join('; ') +
    `. Target: ≥ 99% of models at ≤ 300 kernels on every held-out configuration. Transfer beats scratch ` +
    `in ${beats('kernels')} of ${small.length} (device, budget ≤ 300) cases at kernel level and in ${beats('composed')} ` +
    `of ${small.length} at model level (with composition); target: all. ` +
    `For scale: LitePred reports 98.6–100% of models within ±10% with 1,400–18,500 adaptation kernels per device, ` +
    `nn-Meter builds each device's predictors from about 57,000 kernel measurements; here a device is adapted with ` +
    `50–1,000 kernels plus ${COMPOSITION_MODELS} whole models, and the full-data predictors know ` +
    `about ${Math.round(median(devices.map((d) => [...d.kernels.values()].reduce((s, v) => s + v.length, 0))))} kernels per device.`,
);

// Which similarity measure picks the source that transfers best: for every held-out device and
// kernel type, each measure ranks the pool on the adaptation kernels; every pool device's
// predictor is recalibrated on the same kernels and scored on the held-out ones (MAPE). A
// measure's pick is judged by how often it is the best source and by the MAPE it leads to.
const measureRows: (string | number)[][] = [];
for (const budget of BUDGETS) {
  const perType = Math.max(2, Math.floor(budget / common.length));
  const picks = new Map(SIMILARITY_MEASURES.map((m) => [m, { best: 0, mape: [] as number[] }]));
  const bestMape: number[] = [];
  let cases = 0;
  for (const target of devices) {
    for (const t of common) {
      const { held, rest } = split(target.kernels.get(t)!);
      const adapt = rest.slice(0, perType);
      const pool = devices.filter((d) => d !== target).map((d) => ({ source: d.name, predictor: full.get(d.name)!.get(t)! }));
      const heldOut = held.filter((h) => h.latencyMs >= MIN_MS);
      if (heldOut.length === 0) continue;
      const mape = new Map(
        pool.map((p) => [
          p.source,
          metrics(
            recalibrate(p.predictor, adapt).predict(heldOut.map((h) => h.config)),
            heldOut.map((h) => h.latencyMs),
          ).mape,
        ]),
      );
      const best = Math.min(...mape.values());
      bestMape.push(best);
      cases++;
      for (const m of SIMILARITY_MEASURES) {
        const ranked = rankSources(
          pool.map((p) => ({ source: p.source, predicted: p.predictor.predict(adapt.map((x) => x.config)) })),
          adapt.map((x) => x.latencyMs),
          m,
        );
        const picked = mape.get(ranked[0]!.source)!;
        const e = picks.get(m)!;
        if (picked === best) e.best++;
        e.mape.push(picked);
      }
    }
  }
  measureRows.push([
    budget,
    cases,
    ...SIMILARITY_MEASURES.map((m) => `${pct(picks.get(m)!.best / cases)}, ${pct(median(picks.get(m)!.mape))}`),
    pct(median(bestMape)),
  ]);
}
report.text(
  `Similarity measures: over every held-out device and kernel type (kernels of at least ${MIN_MS * 1000} µs), how often ` +
    `each measure picks the pool device that transfers best (recalibrated on the adaptation kernels, scored on the ` +
    `held-out ones), and the median MAPE its pick gives.`,
);
report.table(
  ['budget', 'cases', ...SIMILARITY_MEASURES.map((m) => `${m}: best pick, median MAPE`), 'best possible median MAPE'],
  measureRows,
);
report.write();
