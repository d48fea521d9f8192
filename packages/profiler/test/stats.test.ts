import { describe, expect, it } from 'vitest';
import { median, medianRelativePrecision, percentile, quantizedMedian, summarize } from '@litepred/profiler';

describe('summarize', () => {
  it('gives the textbook statistics of a known sample', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ n: 5, median: 3, min: 1, max: 5, mean: 3 });
    expect(s.std).toBeCloseTo(Math.sqrt(2.5), 12); // sample std, n - 1
    expect(s.p10).toBeCloseTo(1.4, 12); // numpy.percentile([1..5], 10)
    expect(s.p90).toBeCloseTo(4.6, 12);
  });

  it('uses the mean of the middle half as IQM, robust to outliers', () => {
    const s = summarize([1, 2, 3, 4, 5, 6, 7, 1000]);
    expect(s.iqm).toBe((3 + 4 + 5 + 6) / 4);
    expect(s.mean).toBeGreaterThan(100);
  });

  it('gives the mean of the fastest quarter as q1mean', () => {
    expect(summarize([8, 1, 7, 2, 6, 3, 5, 4]).q1mean).toBe(1.5);
    expect(summarize([3]).q1mean).toBe(3);
    expect(summarize([5, 1, 4, 2, 3]).q1mean).toBe(1); // a quarter of 5 rounds down to 1 sample
  });

  it('interpolates percentiles like numpy and takes the middle pair for even n', () => {
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(percentile([10, 20, 30, 40], 0.25)).toBe(17.5);
    expect(summarize([2, 1]).median).toBe(1.5);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('refuses an empty sample', () => {
    expect(() => summarize([])).toThrow(/no samples/);
  });
});

describe('medianRelativePrecision', () => {
  it('is infinite for tiny samples and shrinks as a tight sample grows', () => {
    expect(medianRelativePrecision([1, 1, 1])).toBe(Infinity);
    const tight = Array.from({ length: 100 }, (_, i) => 1 + (i % 10) * 0.001);
    const loose = Array.from({ length: 100 }, (_, i) => 1 + (i % 10) * 0.1);
    expect(medianRelativePrecision(tight)).toBeLessThan(0.01);
    expect(medianRelativePrecision(loose)).toBeGreaterThan(medianRelativePrecision(tight));
  });
});

describe('quantizedMedian', () => {
  const ticks = (counts: Record<number, number>) =>
    Object.entries(counts)
      .flatMap(([v, c]) => Array<number>(c).fill(Number(v)))
      .sort((a, b) => a - b);

  it('gives the value itself when every sample sits on one tick', () => {
    expect(quantizedMedian(ticks({ 13: 30 }), 1)).toBeCloseTo(13, 12);
  });

  it('moves in proportion as samples cross a tick, where the plain median jumps a whole step', () => {
    // 13 and 14 in shares 60/40, then 40/60: the plain median goes 13 -> 14 (7%), this one moves a fifth of a step.
    const a = quantizedMedian(ticks({ 13: 18, 14: 12 }), 1);
    const b = quantizedMedian(ticks({ 13: 12, 14: 18 }), 1);
    expect(percentile(ticks({ 13: 18, 14: 12 }), 0.5)).toBe(13);
    expect(percentile(ticks({ 13: 12, 14: 18 }), 0.5)).toBe(14);
    expect(a).toBeCloseTo(12.5 + 15 / 18, 12);
    expect(b).toBeCloseTo(13.5 + 3 / 18, 12);
    expect(b - a).toBeLessThan(0.4);
  });

  it('works on lattices with an offset and a step in milliseconds', () => {
    const s = ticks({ 0.0049: 10, 0.0059: 10, 0.0069: 10 }); // whole µs minus a calibrated 0.1 µs, in ms
    expect(quantizedMedian(s, 0.001)).toBeCloseTo(0.0059, 9);
    expect(summarize(s, 0.001).median).toBeCloseTo(0.0059, 9);
    expect(summarize(s).median).toBeCloseTo(0.0059, 9);
  });

  it('falls back to the plain median off the lattice and on no step', () => {
    expect(quantizedMedian([1, 2.5, 7], 0)).toBe(2.5);
    expect(quantizedMedian([1, 2.5, 7], 1)).toBeCloseTo(2.5, 12); // one sample in its step, one below: 2 + (1.5 - 1) / 1
  });
});
