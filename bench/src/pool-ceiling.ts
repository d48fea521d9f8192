// The test-retest ceilings of a pool file: how often a kernel measured twice agrees with itself
// within ±10% (kernels of at least 10 µs), for each lag bench:collect retests at, with the raw
// labels and with the drift-corrected ones.
import { correctDrift } from '@litepred/coordinator';

/** Below this (ms), ORT's microsecond profile leaves ±10% a coin toss; the pool's accuracy is judged above it. */
export const CEILING_MIN_MS = 0.01;

export interface Ceiling {
  kind: string;
  pairs: number;
  within10: number;
  within10Corrected: number;
}

/**
 * The retests bench:collect takes: every `every`-th kernel of the plan (from `offset`) measured again
 * `lag` kernels later, keyed `<key><suffix>`. Seconds apart the pair shares the machine's state of the
 * moment; ten minutes apart it does not (the ceiling a held-out kernel of the pool can be predicted to).
 */
export const RETESTS = [
  { kind: 'kernel-retest', suffix: '#2', every: 40, offset: 0, lag: 20 },
  { kind: 'kernel-retest-late', suffix: '#late', every: 40, offset: 20, lag: 2000 },
] as const;

/** A kernel line's key without a retest suffix. */
export const firstKey = (key: string) => RETESTS.reduce((k, r) => (k.endsWith(r.suffix) ? k.slice(0, -r.suffix.length) : k), key);

/**
 * The ceilings of kernels of at least CEILING_MIN_MS (`large`, what accuracy is judged on) or of
 * those under it (`small`: where issue 15 asks that replication make the labels hold too).
 */
export function poolCeilings(lines: readonly Record<string, any>[], size: 'large' | 'small' = 'large'): Ceiling[] {
  const corrected = correctDrift(lines);
  return RETESTS.map(({ kind, suffix }) => {
    const share = (ls: readonly Record<string, any>[]) => {
      const first = new Map(ls.filter((l) => l.kind === 'kernel').map((l) => [l.key, l.latencyMs as number]));
      const pairs = ls
        .filter((l) => l.kind === kind && first.has(String(l.key).slice(0, -suffix.length)))
        .map((l) => [first.get(String(l.key).slice(0, -suffix.length))!, l.latencyMs as number] as const)
        .filter(([a, b]) => Math.max(a, b) >= CEILING_MIN_MS === (size === 'large'));
      return { pairs: pairs.length, within10: pairs.filter(([a, b]) => Math.abs(b / a - 1) <= 0.1).length / Math.max(1, pairs.length) };
    };
    const raw = share(lines);
    return { kind, pairs: raw.pairs, within10: raw.within10, within10Corrected: share(corrected).within10 };
  }).filter((c) => c.pairs > 0);
}
