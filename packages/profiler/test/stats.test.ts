import { describe, expect, it } from 'vitest';
import { median, medianRelativePrecision, percentile, summarize } from '@litepred/profiler';

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
