// The measurement protocol: warm up, then time runs until the median is known to the target
// precision or a cap is hit.
import type { TimedSession } from './backends/backend.js';
import { medianRelativePrecision } from './stats.js';
import type { MeasurementProtocol } from './types.js';

export interface TimedRuns {
  /** Wall time of each timed session.run (ms), in order. */
  samples: number[];
  /** With a baseline session: its wall time in the run right after each sample (ms). */
  baseline?: number[];
  warmupRuns: number;
  converged: boolean;
}

/**
 * Runs `session` (and `baseline` after each run) until both the protocol's warm-up run count and
 * time are reached; a slow kernel is capped at a quarter of maxMs so one huge config cannot stall a
 * campaign. Returns the number of runs.
 */
export async function warmUp(session: TimedSession, p: MeasurementProtocol, baseline?: TimedSession): Promise<number> {
  const warmCap = Math.max(p.warmupMs, p.maxMs / 4);
  const warmStart = performance.now();
  let runs = 0;
  for (;;) {
    await session.run();
    await baseline?.run();
    runs++;
    const elapsed = performance.now() - warmStart;
    if ((runs >= p.warmupRuns && elapsed >= p.warmupMs) || elapsed >= warmCap) return runs;
  }
}

/**
 * Times `session`. With a `baseline` session, every timed run is paired with a baseline run right
 * after it, and convergence is judged on the paired differences: noise that both share cancels.
 */
export async function timeRuns(session: TimedSession, p: MeasurementProtocol, baseline?: TimedSession): Promise<TimedRuns> {
  const warmupRuns = await warmUp(session, p, baseline);
  const samples: number[] = [];
  const base: number[] = [];
  const judged = baseline ? ([] as number[]) : samples;
  const start = performance.now();
  let converged = false;
  while (samples.length < p.maxRuns) {
    const t0 = performance.now();
    await session.run();
    let t1 = performance.now();
    samples.push(t1 - t0);
    if (baseline) {
      await baseline.run();
      const t2 = performance.now();
      base.push(t2 - t1);
      judged.push(samples[samples.length - 1]! - base[base.length - 1]!);
      t1 = t2;
    }
    if (samples.length >= p.minRuns && samples.length % 10 === 0 && medianRelativePrecision(judged) <= p.targetPrecision) {
      converged = true;
      break;
    }
    if (t1 - start >= p.maxMs && samples.length >= Math.min(p.minRuns, 5)) break;
  }
  return { samples, baseline: baseline ? base : undefined, warmupRuns, converged };
}
