// Seeded randomness, so a (space, seed) pair names an architecture and a sampler's seed names
// its samples.

export type Rng = () => number;

/** mulberry32: small, fast, and good enough for sampling choices. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Integers lo, lo+step, ..., hi. */
export const range = (lo: number, hi: number, step = 1): number[] =>
  Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);

/** MobileNet's make_divisible: round to the nearest multiple of `by`, never more than 10% down. */
export function makeDivisible(v: number, by = 8): number {
  const rounded = Math.max(by, Math.floor(v + by / 2) - (Math.floor(v + by / 2) % by));
  return rounded < 0.9 * v ? rounded + by : rounded;
}
