// npm run bench:collect -- [--runtimes node-t1-all,web-t1] [--kernels 40] [--models 30] [--minutes 60] [--retest] [--rounds 5]
// Measures the data the transfer benchmark and the starter pool are built from, on this machine:
// for each runtime configuration (a "device"), VAE-sampled configs of every kernel type the
// search spaces use, and whole architectures from the spaces, end to end. Appends JSONL to
// coordinator/starter-pool/<runtime>.jsonl (the starter pool) and skips what is there, so it resumes where it stopped.
// Each runtime configuration runs in a process of its own (onnxruntime-web's thread count is
// process-wide) and one after another, so measurements do not disturb each other.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compactConfig, resolveConfig } from '@litepred/kernels';
import { KernelProfiler } from '@litepred/profiler';
import { sampleConfigs } from '@litepred/sampler';
import { buildArchitectureModel, kernelsOf, sampleArchitecture, SEARCH_SPACES, spaceKernelTypes } from '@litepred/spaces';
import { RUNTIMES } from './runtimes.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const KERNELS = Number(arg('kernels', '40'));
const MODELS = Number(arg('models', '30'));
const RETEST = process.argv.includes('--retest');
/**
 * With --rounds R > 1, architectures are timed in R short rounds, round-robin over a chunk of
 * models, instead of once each: a phase of load from the VM's neighbours (seconds long) then slows
 * one round of a model, not its every run, and the minimum of the round medians drops it.
 * Records: kind model-rounds (model-rounds-retest with --retest), latencyMs = that minimum.
 */
const ROUNDS = Number(arg('rounds', '1'));
/** What the starter pool's rounds were timed with (KernelProfiler.timeInRounds: 3 warm-up and 10 timed runs a round). */
const ROUND_PROTOCOL = { maxMs: 1000 };
const CHUNK = 14;
const DIR = new URL('../../coordinator/starter-pool/', import.meta.url);

/** The kernel configs every runtime measures: per kernel type of the spaces, VAE samples (same seeds everywhere). */
export function kernelPlan(perType: number): { key: string; config: ReturnType<typeof compactConfig> }[] {
  return spaceKernelTypes().flatMap((type, t) => sampleConfigs(type, perType, { sampler: 'vae', seed: 1000 + t }).configs
    .map((c) => compactConfig(resolveConfig(c))).map((config) => ({ key: JSON.stringify(config), config })));
}

/**
 * Whole architectures: the same seeds for every runtime, spaces interleaved. `retest` measures
 * them a second time (keys ending in #2), for the test-retest agreement of end-to-end times.
 */
export function modelPlan(perSpace: number, retest = false, rounds = 1): { key: string; space: string; seed: number }[] {
  const suffix = `${rounds > 1 ? `~r${rounds}` : ''}${retest ? '#2' : ''}`;
  return Array.from({ length: perSpace }, (_, i) => SEARCH_SPACES.map((s) => ({ key: `${s.name}-${5000 + i}${suffix}`, space: s.name, seed: 5000 + i }))).flat();
}

const modelOf = (m: { space: string; seed: number }) => sampleArchitecture(SEARCH_SPACES.find((s) => s.name === m.space)!, m.seed);

function done(file: URL): Set<string> {
  if (!existsSync(file)) return new Set();
  return new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { key?: string }).key ?? ''));
}

async function measureRuntime(name: string, deadline: number): Promise<void> {
  const file = new URL(`${name}.jsonl`, DIR);
  const have = done(file);
  const write = (o: object) => appendFileSync(file, JSON.stringify(o) + '\n');
  const profiler = await KernelProfiler.create({ runtime: RUNTIMES[name]! });
  if (!have.has('device')) {
    write({ key: 'device', runtime: profiler.runtime, cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem(), measuredAt: new Date().toISOString() });
  }
  const kernels = RETEST || ROUNDS > 1 ? [] : kernelPlan(KERNELS).filter((k) => !have.has(k.key));
  const models = modelPlan(MODELS, RETEST, ROUNDS).filter((m) => !have.has(m.key));
  let n = 0;
  for (const k of kernels) {
    if (Date.now() > deadline) break;
    const m = await profiler.measure(k.config);
    const { n: runs, median, iqm, p10, p90 } = m.kernel;
    write({ key: k.key, kind: 'kernel', config: k.config, latencyMs: m.latencyMs, kernel: { runs, median, iqm, p10, p90 }, wallMedian: m.wall.median, boundary: m.boundary });
    if (++n % 100 === 0) process.stderr.write(`${name}: ${n}/${kernels.length} kernels\n`);
  }
  if (ROUNDS > 1) return measureInRounds(profiler, models, deadline, write, name);
  n = 0;
  for (const m of models) {
    if (Date.now() > deadline) break;
    const arch = modelOf(m);
    const stats = await profiler.measureModel(buildArchitectureModel(arch));
    write({ key: m.key, kind: m.key.endsWith('#2') ? 'model-retest' : 'model', space: m.space, seed: m.seed, kernels: kernelsOf(arch).length, latencyMs: stats.median, stats: { runs: stats.n, median: stats.median, iqm: stats.iqm, p10: stats.p10, p90: stats.p90 } });
    if (++n % 10 === 0) process.stderr.write(`${name}: ${n}/${models.length} models\n`);
  }
}

async function measureInRounds(profiler: KernelProfiler, models: ReturnType<typeof modelPlan>, deadline: number, write: (o: object) => void, name: string): Promise<void> {
  for (let c = 0; c < models.length && Date.now() < deadline; c += CHUNK) {
    const chunk = models.slice(c, c + CHUNK).map((m) => ({ ...m, arch: modelOf(m) }));
    const timed = await profiler.timeInRounds(chunk.map((m) => () => buildArchitectureModel(m.arch)), ROUNDS, ROUND_PROTOCOL);
    for (const [i, m] of chunk.entries()) {
      const t = timed[i]!;
      if ('error' in t) throw t.error;
      write({ key: m.key, kind: m.key.endsWith('#2') ? 'model-rounds-retest' : 'model-rounds', space: m.space, seed: m.seed, kernels: kernelsOf(m.arch).length, latencyMs: Math.min(...t.roundMedians), roundMedians: t.roundMedians });
    }
    process.stderr.write(`${name}: ${Math.min(c + CHUNK, models.length)}/${models.length} models (${ROUNDS} rounds)\n`);
  }
}

const only = arg('runtime', '');
if (only) {
  mkdirSync(DIR, { recursive: true });
  await measureRuntime(only, Number(arg('deadline', String(Date.now() + 3600_000))));
} else {
  const names = arg('runtimes', Object.keys(RUNTIMES).join(',')).split(',');
  for (const n of names) if (!RUNTIMES[n]) throw new Error(`unknown runtime '${n}'; known: ${Object.keys(RUNTIMES).join(', ')}`);
  const minutes = Number(arg('minutes', '60'));
  const started = Date.now();
  for (const [i, name] of names.entries()) {
    // An equal share of what is left, so a late runtime is not starved by an early one.
    const deadline = Date.now() + (started + minutes * 60_000 - Date.now()) / (names.length - i);
    process.stderr.write(`${name}: until ${new Date(deadline).toISOString()}\n`);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--runtime', name, '--deadline', String(deadline),
      '--kernels', String(KERNELS), '--models', String(MODELS), '--rounds', String(ROUNDS), ...(RETEST ? ['--retest'] : [])], { stdio: 'inherit' });
    if (r.status !== 0) process.stderr.write(`${name}: exited with ${r.status}\n`);
  }
}
