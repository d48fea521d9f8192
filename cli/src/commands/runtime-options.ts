// Options shared by every command that measures: the runtime configuration and the protocol.
import type { Argv } from 'yargs';
import { DEFAULT_PROTOCOL, DEFAULT_STATISTIC, type ProfilerOptions, type Statistic } from '@litepred/profiler';

export function withRuntimeOptions<T>(y: Argv<T>) {
  return y
    .option('backend', {
      choices: ['ort-node', 'ort-web'] as const,
      default: 'ort-node' as const,
      describe: 'runtime: onnxruntime-node (CPU EP) or onnxruntime-web (wasm)',
    })
    .option('threads', { type: 'number', default: 1, describe: 'intra-op threads' })
    .option('opt-level', {
      choices: ['disabled', 'basic', 'extended', 'all'] as const,
      default: 'all' as const,
      describe: 'ORT graph optimization level',
    })
    .option('min-runs', { type: 'number', default: DEFAULT_PROTOCOL.minRuns, describe: 'timed runs at least' })
    .option('max-runs', { type: 'number', default: DEFAULT_PROTOCOL.maxRuns, describe: 'timed runs at most' })
    .option('max-ms', { type: 'number', default: DEFAULT_PROTOCOL.maxMs, describe: 'time cap per kernel (ms)' })
    .option('precision', {
      type: 'number',
      default: DEFAULT_PROTOCOL.targetPrecision,
      describe: "stop when the median's ~95% CI half-width is within this fraction",
    })
    .option('warmup-runs', { type: 'number', default: DEFAULT_PROTOCOL.warmupRuns, describe: 'warm-up runs at least' })
    .option('rounds', {
      type: 'number',
      default: DEFAULT_PROTOCOL.rounds,
      describe: 'measure each kernel this many times, in rounds across the kernels of a drift window, and keep its fastest round',
    })
    .option('statistic', {
      choices: ['q1mean', 'iqm', 'median', 'min'] as const,
      default: DEFAULT_STATISTIC,
      describe: 'statistic of the per-run kernel times reported as the latency (q1mean: mean of the fastest quarter)',
    });
}

export interface RuntimeArgs {
  backend: 'ort-node' | 'ort-web';
  threads: number;
  'opt-level': 'disabled' | 'basic' | 'extended' | 'all';
  'min-runs': number;
  'max-runs': number;
  'max-ms': number;
  precision: number;
  'warmup-runs': number;
  rounds: number;
  statistic: Statistic;
}

export function profilerOptions(a: RuntimeArgs): ProfilerOptions {
  for (const [name, v] of [
    ['min-runs', a['min-runs']],
    ['max-runs', a['max-runs']],
    ['warmup-runs', a['warmup-runs']],
    ['rounds', a.rounds],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name}: must be a positive integer (got ${v})`);
  }
  if (a['max-runs'] < a['min-runs']) throw new Error(`--max-runs (${a['max-runs']}) is below --min-runs (${a['min-runs']})`);
  if (!(a.precision > 0)) throw new Error(`--precision: must be above 0 (got ${a.precision})`);
  return {
    runtime: { backend: a.backend, threads: a.threads, graphOptimizationLevel: a['opt-level'] },
    protocol: {
      minRuns: a['min-runs'],
      maxRuns: a['max-runs'],
      maxMs: a['max-ms'],
      targetPrecision: a.precision,
      warmupRuns: a['warmup-runs'],
      rounds: a.rounds,
    },
    statistic: a.statistic,
  };
}
