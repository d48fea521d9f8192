// Choices for sampling architectures: a (space, seed) pair names an architecture.

import { seededRng, type Rng } from '@litepred/nn';

export type { Rng };
/** A seeded generator (mulberry32, from @litepred/nn). */
export const rng = seededRng;

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Integers lo, lo+step, ..., hi. */
export const range = (lo: number, hi: number, step = 1): number[] =>
  Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);

/** MobileNet's make_divisible: round to the nearest multiple of `by`, never more than 10% down. */
export function makeDivisible(v: number, by = 8): number {
  const rounded = Math.max(by, Math.floor(v + by / 2) - (Math.floor(v + by / 2) % by));
  return rounded < 0.9 * v ? rounded + by : rounded;
}
