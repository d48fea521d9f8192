// npm run bench:collect -- --help
// Every 40th kernel of the plan is measured a second time 20 kernels later (kind kernel-retest) and
// another 2,000 kernels later, about ten minutes (kernel-retest-late): the test-retest ceilings the
// predictors' accuracy is judged against. Every 50 kernels (and between chunks of architectures) a
// fixed set of reference kernels is timed (kind reference): the machine's drift, which the pool's
// readers divide out (coordinator/src/pool-drift.ts).
// Measures a pool on this machine: for each runtime configuration (a "device"), VAE-sampled
// configs of every kernel type as that runtime runs it (collect-plan.ts: 1,000 each of the 12
// types with the most FLOPs in the search spaces, 300 of every other type; --scale shrinks them),
// then whole architectures from the spaces, end to end. Appends to <out>/<runtime>.jsonl.gz (one
// gzip member per batch of lines) and skips what is there, so it resumes where it stopped. Each
// runtime configuration runs in a process of its own (onnxruntime-web's thread count is
// process-wide) and one after another, so measurements do not disturb each other. Shows progress,
// rate and ETA; writes the throughput to docs/benchmarks/collect.md.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { driftFactors, readPoolFile, referenceTimes, type ReferenceTimes } from '@litepred/coordinator';
import type { KernelConfig } from '@litepred/kernels';
import { bytesPerCopy, KernelProfiler, MAX_REPLICA_BYTES } from '@litepred/profiler';
import { buildArchitectureModel, kernelsOf, sampleArchitecture, SEARCH_SPACES } from '@litepred/spaces';
import { collectionPlan } from './collect-plan.js';
import { benchArgs } from './args.js';
import { firstKey, poolCeilings, RETESTS, type Ceiling } from './pool-ceiling.js';
import { pct, Report } from './report.js';
import { RUNTIMES } from './runtimes.js';
import { machineMismatch } from './pool-device.js';

const ARGS = benchArgs(
  'npm run bench:collect --',
  'Measures a pool of kernel latencies on this machine, one runtime configuration after another; resumes where it stopped.',
  {
    runtimes: {
      default: 'node-t1-all,node-t2-all,node-t1-disabled,web-t1',
      describe: `runtime configurations, comma-separated (${Object.keys(RUNTIMES).join(', ')})`,
    },
    minutes: { default: 600, describe: 'wall-time budget, shared out equally over the runtimes' },
    scale: { default: 1, describe: 'multiplies the kernels planned per type' },
    models: { default: 30, describe: 'whole architectures per search space, timed end to end' },
    rounds: { default: 3, describe: 'rounds each architecture is timed in (round-robin over a chunk)' },
    retest: { default: false, describe: 'time the architectures a second time (kind model-rounds-retest)' },
    'redo-drifted': { default: 0, describe: 'measure again the kernels timed while the machine drifted over this fraction (0: never)' },
    'redo-replicas': { default: false, describe: 'measure again the kernels timed as more copies than the profiler now allows' },
    out: { default: 'coordinator/starter-pool-next', describe: 'directory of the <runtime>.jsonl.gz files' },
    runtime: { default: '', describe: '(internal) measure this one runtime in this process' },
    deadline: { default: 0, describe: '(internal) with --runtime: stop at this epoch millisecond' },
  },
);
const SCALE = ARGS.scale;
const MODELS = ARGS.models;
const RETEST = ARGS.retest;
/**
 * --redo-drifted 0.15: kernels measured while the reference of their intensity ran more than 15%
 * off its typical time are measured again (their lines move to <out>/drifted/, kept, not lost;
 * their retests go with them and are not taken again).
 */
const REDO_DRIFTED = ARGS['redo-drifted'];
/**
 * --redo-replicas: kernels measured as more copies than the profiler now allows (the copies' own
 * weights and inputs within MAX_REPLICA_BYTES) are measured again, their lines kept in drifted/.
 */
const REDO_REPLICAS = ARGS['redo-replicas'];
/**
 * With --rounds R > 1, architectures are timed in R short rounds, round-robin over a chunk of
 * models, instead of once each: a phase of load from the VM's neighbours (seconds long) then slows
 * one round of a model, not its every run, and the minimum of the round medians drops it.
 * Records: kind model-rounds (model-rounds-retest with --retest), latencyMs = that minimum.
 */
const ROUNDS = ARGS.rounds;
/** What the starter pool's rounds were timed with (KernelProfiler.timeInRounds: 3 warm-up and 10 timed runs a round). */
const ROUND_PROTOCOL = { maxMs: 1000 };
const CHUNK = 14;
const ROOT = new URL('../../', import.meta.url);
const OUT = resolve(fileURLToPath(ROOT), ARGS.out);
/** Kernels between two reference checks. */
const REFERENCE_EVERY = 50;
/**
 * The reference kernels, timed together at every check: compute-bound, depthwise and memory-bound,
 * as a slower machine does not slow every kind of kernel alike.
 */
const REFERENCES: KernelConfig[] = [
  { type: 'conv-bn-relu', HW: 28, CIN: 32, COUT: 64, KERNEL_SIZE: 3, STRIDES: 1 },
  { type: 'dwconv-bn-relu', HW: 56, CIN: 96, KERNEL_SIZE: 3, STRIDES: 1 },
  { type: 'add', HW: 56, CIN: 64 },
];
/** Lines per gzip member: small enough that a stop loses little, large enough to compress. */
const BATCH = 50;

/**
 * Whole architectures: the same seeds for every runtime, spaces interleaved. `retest` measures
 * them a second time (keys ending in #2), for the test-retest agreement of end-to-end times.
 */
export function modelPlan(perSpace: number, retest = false, rounds = 1): { key: string; space: string; seed: number }[] {
  const suffix = `${rounds > 1 ? `~r${rounds}` : ''}${retest ? '#2' : ''}`;
  return Array.from({ length: perSpace }, (_, i) =>
    SEARCH_SPACES.map((s) => ({ key: `${s.name}-${5000 + i}${suffix}`, space: s.name, seed: 5000 + i })),
  ).flat();
}

const modelOf = (m: { space: string; seed: number }) =>
  sampleArchitecture(
    SEARCH_SPACES.find((s) => s.name === m.space)!,
    m.seed,
  );

/** Appends JSON lines to a .jsonl.gz file a batch at a time. */
class GzLines {
  private pending: string[] = [];
  constructor(private readonly file: string) {}
  write(o: object): void {
    this.pending.push(JSON.stringify(o));
    if (this.pending.length >= BATCH) this.flush();
  }
  flush(): void {
    if (this.pending.length === 0) return;
    appendFileSync(this.file, gzipSync(this.pending.join('\n') + '\n'));
    this.pending = [];
  }
}

/** A progress line on stderr: count, rate, share of the wall time spent in timed runs, ETA. */
function progress(name: string, what: string, done: number, total: number, started: number, timedMs: number): void {
  const s = (performance.now() - started) / 1000;
  const rate = done / s;
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  const line =
    `${name}: ${done}/${total} ${what} (${pct(done / total)}), ${rate.toFixed(1)}/s, timed ` +
    `runs ${pct(timedMs / 1000 / s)} of the wall time, ` +
    `ETA ${Number.isFinite(eta) ? `${Math.floor(eta / 60)} min ${Math.round(eta % 60)} s` : '-'}`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}   ` : `${line}\n`);
}

interface Throughput {
  runtime: string;
  kernels: number;
  seconds: number;
  timedSeconds: number;
  replicated: number;
  ceilings: Ceiling[];
  /** The same for kernels under 10 µs. */
  smallCeilings: Ceiling[];
}

/** A run this file or machine must not make (said in one line, exit 2), as opposed to a fault. */
class Refusal extends Error {}

async function measureRuntime(name: string, deadline: number): Promise<Throughput> {
  mkdirSync(OUT, { recursive: true });
  const file = resolve(OUT, `${name}.jsonl.gz`);
  let existing = existsSync(file) ? readPoolFile(file) : [];
  // A run stopped mid-write left a member cut short: write the complete lines again, so what is appended next is readable.
  if (existing.truncated) writeFileSync(file, gzipSync(existing.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  const otherMachine = machineMismatch(
    existing.find((l) => l.key === 'device'),
    { cpu: cpus()[0]?.model, cores: cpus().length },
    file,
  );
  if (otherMachine) throw new Refusal(otherMachine);
  const drifted = new Set<string>();
  for (const [rule, reason] of [
    [
      REDO_DRIFTED > 0 ? driftedBeyond(name, existing, REDO_DRIFTED) : undefined,
      `were measured while the machine ran more than ${pct(REDO_DRIFTED)} off its typical speed`,
    ],
    [REDO_REPLICAS ? overReplicated : undefined, 'were measured as more copies than fit in the cache budget'],
  ] as const) {
    if (!rule) continue;
    const moved = setAside(name, file, existing, rule, reason);
    for (const key of moved) drifted.add(key);
    if (moved.size) existing = readPoolFile(file);
  }
  const have = new Set(existing.map((l) => String(l.key ?? '')));
  const out = new GzLines(file);
  // Stopped from outside (Ctrl-C, a kill): what is measured goes to the file first.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      out.flush();
      process.exit(130);
    });
  const profiler = await KernelProfiler.create({ runtime: RUNTIMES[name]! });
  if (!have.has('device')) {
    out.write({
      key: 'device',
      runtime: profiler.runtime,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      memoryBytes: totalmem(),
      measuredAt: new Date().toISOString(),
    });
  }
  const plan = RETEST ? [] : collectionPlan(RUNTIMES[name]!, SCALE);
  const kernels = plan.filter((k) => !have.has(k.key));
  const index = new Map(plan.map((k, i) => [k.key, i]));
  type Retest = { key: string; config: KernelConfig; kind: (typeof RETESTS)[number]['kind']; suffix: string; after: string };
  const retests: Retest[] = RETESTS.flatMap((r) =>
    plan
      .filter((_, i) => i % r.every === r.offset)
      .map((k) => ({ ...k, kind: r.kind, suffix: r.suffix, after: plan[Math.min(plan.length - 1, index.get(k.key)! + r.lag)]!.key })),
  ).filter((k) => !have.has(`${k.key}${k.suffix}`) && !drifted.has(k.key));
  const retestAfter = new Map<string, Retest[]>();
  for (const r of retests) retestAfter.set(r.after, [...(retestAfter.get(r.after) ?? []), r]); // at most two per kernel
  const models = modelPlan(MODELS, RETEST, ROUNDS).filter((m) => !have.has(m.key));
  const started = performance.now();
  let [n, timedMs, replicated, lastShown, checks] = [0, 0, 0, 0, 0];
  const runId = Date.now().toString(36);
  const referenceCheck = async () => {
    for (const [i, config] of REFERENCES.entries()) {
      const m = await profiler.measure(config);
      out.write({
        key: `reference:${runId}:${checks}:${i}`,
        kind: 'reference',
        config,
        latencyMs: m.latencyMs,
        method: m.method,
        ...(m.copies ? { copies: m.copies } : {}),
      });
    }
    checks++;
  };
  const measureKernel = async (k: { key: string; config: KernelConfig }, kind: 'kernel' | Retest['kind'], suffix = '') => {
    const m = await profiler.measure(k.config);
    // A zero is not a measurement: left out of the pool (and said), so a rerun measures it again.
    if (!(m.latencyMs > 0)) {
      process.stderr.write(`${name}: ${k.key} came out ${m.latencyMs} ms (${m.method}, ${m.copies ?? 1} copies); not stored\n`);
      return;
    }
    const { n: runs, median, iqm, p10, p90 } = m.kernel;
    out.write({
      key: `${k.key}${suffix}`,
      kind,
      config: k.config,
      latencyMs: m.latencyMs,
      kernel: { runs, median, iqm, p10, p90 },
      wallMedian: m.wall.median,
      boundary: m.boundary,
      method: m.method,
      ...(m.copies ? { copies: m.copies } : {}),
    });
    timedMs += m.wall.n * m.wall.median;
    if (m.copies) replicated++;
  };
  const done = new Set<string>();
  try {
    if (kernels.length || retests.length || models.length) await referenceCheck();
    for (const k of kernels) {
      if (Date.now() > deadline) break;
      await measureKernel(k, 'kernel');
      done.add(k.key);
      n++;
      for (const again of retestAfter.get(k.key) ?? []) {
        if (!have.has(again.key) && !done.has(again.key)) continue;
        await measureKernel(again, again.kind, again.suffix);
        retests.splice(retests.indexOf(again), 1);
      }
      if (n % REFERENCE_EVERY === 0) await referenceCheck();
      if (performance.now() - lastShown > 2000 || n === kernels.length) {
        progress(name, 'kernels', n, kernels.length, started, timedMs);
        lastShown = performance.now();
      }
    }
    // Retests whose lag fell in an earlier run (or whose kernel did): measured now, against that run's label.
    for (const k of retests) {
      if (Date.now() < deadline && (have.has(k.key) || done.has(k.key))) await measureKernel(k, k.kind, k.suffix);
    }
    await referenceCheck();
    const seconds = (performance.now() - started) / 1000;
    if (ROUNDS > 1) await measureInRounds(profiler, models, deadline, out, name, referenceCheck);
    else await measureOnce(profiler, models, deadline, out, name);
    out.flush();
    const all = readPoolFile(file);
    return {
      runtime: name,
      kernels: n,
      seconds,
      timedSeconds: timedMs / 1000,
      replicated,
      ceilings: poolCeilings(all),
      smallCeilings: poolCeilings(all, 'small'),
    };
  } finally {
    out.flush();
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}

/**
 * Kernel lines measured while the reference of their intensity ran more than `share` off its
 * typical time. The typical times are pinned in <out>/drifted/<name>.references.json the first
 * time a file is judged: judged against the file's median instead, every resumption in a quieter
 * hour moved the median and set aside thousands of kernels that an earlier run had kept.
 */
function driftedBeyond(name: string, lines: readonly Record<string, any>[], share: number): (l: Record<string, any>, i: number) => boolean {
  const pinnedFile = resolve(OUT, 'drifted', `${name}.references.json`);
  let typical: ReferenceTimes;
  if (existsSync(pinnedFile)) typical = JSON.parse(readFileSync(pinnedFile, 'utf8')) as ReferenceTimes;
  else {
    typical = referenceTimes(lines);
    if (Object.keys(typical).length === 0) return () => false;
    mkdirSync(dirname(pinnedFile), { recursive: true });
    writeFileSync(pinnedFile, JSON.stringify(typical, null, 1) + '\n');
  }
  const factors = driftFactors(lines, typical);
  return (_l, i) => Math.abs(Math.log(factors[i]!)) > Math.log(1 + share);
}

/** Kernel lines measured as more copies than MAX_REPLICA_BYTES of their own inputs and weights allow (the profiler before that cap). */
function overReplicated(l: Record<string, any>): boolean {
  return l.copies > 1 && l.copies * bytesPerCopy(l.config as KernelConfig) > MAX_REPLICA_BYTES;
}

/**
 * Moves the kernel lines `rule` picks (and their retests) from the file to <out>/drifted/<name>.jsonl.gz,
 * so this run measures them again; returns their keys.
 */
function setAside(
  name: string,
  file: string,
  lines: readonly Record<string, any>[],
  rule: (l: Record<string, any>, i: number) => boolean,
  reason: string,
): Set<string> {
  const keys = new Set(lines.filter((l, i) => l.kind === 'kernel' && rule(l, i)).map((l) => String(l.key)));
  if (keys.size === 0) return keys;
  const base = (l: Record<string, any>) => firstKey(String(l.key));
  const moved = lines.filter((l) => String(l.kind).startsWith('kernel') && keys.has(base(l)));
  mkdirSync(resolve(OUT, 'drifted'), { recursive: true });
  appendFileSync(resolve(OUT, 'drifted', `${name}.jsonl.gz`), gzipSync(moved.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  const kept = lines.filter((l) => !(String(l.kind).startsWith('kernel') && keys.has(base(l))));
  writeFileSync(file, gzipSync(kept.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  process.stderr.write(
    `${name}: ${keys.size} kernels ${reason}: measured again (their first labels and ${moved.length - keys.size} retests ` +
      `are in drifted/${name}.jsonl.gz)\n`,
  );
  return keys;
}

async function measureOnce(
  profiler: KernelProfiler,
  models: ReturnType<typeof modelPlan>,
  deadline: number,
  out: GzLines,
  name: string,
): Promise<void> {
  for (const [i, m] of models.entries()) {
    if (Date.now() > deadline) break;
    const arch = modelOf(m);
    const stats = await profiler.measureModel(buildArchitectureModel(arch));
    out.write({
      key: m.key,
      kind: m.key.endsWith('#2') ? 'model-retest' : 'model',
      space: m.space,
      seed: m.seed,
      kernels: kernelsOf(arch).length,
      latencyMs: stats.median,
      stats: { runs: stats.n, median: stats.median, iqm: stats.iqm, p10: stats.p10, p90: stats.p90 },
    });
    if ((i + 1) % 10 === 0) process.stderr.write(`${name}: ${i + 1}/${models.length} models\n`);
  }
}

async function measureInRounds(
  profiler: KernelProfiler,
  models: ReturnType<typeof modelPlan>,
  deadline: number,
  out: GzLines,
  name: string,
  referenceCheck: () => Promise<void>,
): Promise<void> {
  for (let c = 0; c < models.length && Date.now() < deadline; c += CHUNK) {
    const chunk = models.slice(c, c + CHUNK).map((m) => ({ ...m, arch: modelOf(m) }));
    const timed = await profiler.timeInRounds(
      chunk.map((m) => () => buildArchitectureModel(m.arch)),
      ROUNDS,
      ROUND_PROTOCOL,
    );
    for (const [i, m] of chunk.entries()) {
      const t = timed[i]!;
      if ('error' in t) throw t.error;
      out.write({
        key: m.key,
        kind: m.key.endsWith('#2') ? 'model-rounds-retest' : 'model-rounds',
        space: m.space,
        seed: m.seed,
        kernels: kernelsOf(m.arch).length,
        latencyMs: Math.min(...t.roundMedians),
        roundMedians: t.roundMedians,
      });
    }
    await referenceCheck();
    process.stderr.write(`${name}: ${Math.min(c + CHUNK, models.length)}/${models.length} models (${ROUNDS} rounds)\n`);
  }
}

const only = ARGS.runtime;
if (only) {
  try {
    const t = await measureRuntime(only, ARGS.deadline || Date.now() + 3600_000);
    console.log(JSON.stringify(t));
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    process.stderr.write(`${only}: ${error.message}\n`);
    process.exit(2);
  }
} else {
  const names = ARGS.runtimes.split(',');
  for (const n of names) if (!RUNTIMES[n]) throw new Error(`unknown runtime '${n}'; known: ${Object.keys(RUNTIMES).join(', ')}`);
  const minutes = ARGS.minutes;
  const started = Date.now();
  const results: Throughput[] = [];
  for (const [i, name] of names.entries()) {
    // An equal share of what is left, so a late runtime is not starved by an early one.
    const deadline = Date.now() + (started + minutes * 60_000 - Date.now()) / (names.length - i);
    process.stderr.write(`${name}: until ${new Date(deadline).toISOString()}\n`);
    const r = spawnSync(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        '--runtime',
        name,
        '--deadline',
        String(deadline),
        '--out',
        OUT,
        '--scale',
        String(SCALE),
        '--models',
        String(MODELS),
        '--rounds',
        String(ROUNDS),
        '--redo-drifted',
        String(REDO_DRIFTED),
        ...(REDO_REPLICAS ? ['--redo-replicas'] : []),
        ...(RETEST ? ['--retest'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (r.status !== 0) {
      process.stderr.write(`${name}: exited with ${r.status}\n`);
      process.exitCode = 1;
    }
    const last = r.stdout.toString().trim().split('\n').at(-1);
    if (last?.startsWith('{')) results.push(JSON.parse(last) as Throughput);
  }
  if (results.length === 0) {
    process.stderr.write('nothing was measured: no report written\n');
    process.exit(1);
  }
  const report = new Report('collect', 'Pool collection throughput', `npm run bench:collect -- ${process.argv.slice(2).join(' ')}`.trim());
  report.text(
    `Into ${OUT}. Kernels per second over this run's kernel measurements (each: validation, model build, session, ` +
      `warm-up, timed runs, profile read; a kernel under 100 µs is measured a second time as copies of itself), ` +
      'and the share of that wall time spent inside the timed session.run calls (timed runs × their median wall time): the physical floor.',
  );
  report.table(
    ['runtime', 'kernels measured', 'wall s', 'kernels/s', 'timed runs, share of wall', 'replicated (under 100 µs)'],
    results.map((t) => [
      t.runtime,
      t.kernels,
      t.seconds.toFixed(0),
      (t.kernels / t.seconds).toFixed(2),
      pct(t.timedSeconds / t.seconds),
      pct(t.replicated / Math.max(1, t.kernels)),
    ]),
  );
  report.text(
    'Test-retest ceilings of each file as it stands (kernels measured twice, share within ±10%): a ' +
      'second measurement 20 kernels later (seconds) and 2,000 kernels later (about ten minutes), with the raw labels and ' +
      'divided by the drift the reference kernels show around each; for kernels of at least 10 µs (what accuracy is judged ' +
      'on) and under 10 µs (labelled from copies of themselves; target: 80% within ±10%).',
  );
  report.table(
    ['runtime', 'kernels', 'retest', 'pairs', 'within ±10%, raw', 'within ±10%, drift-corrected'],
    results.flatMap((t) =>
      (['large', 'small'] as const).flatMap((size) =>
        (size === 'large' ? t.ceilings : t.smallCeilings).map((c) => [
          t.runtime,
          size === 'large' ? '≥ 10 µs' : '< 10 µs',
          c.kind === 'kernel-retest' ? '20 kernels later' : '2,000 kernels later',
          c.pairs,
          pct(c.within10),
          pct(c.within10Corrected),
        ]),
      ),
    ),
  );
  report.write();
}
