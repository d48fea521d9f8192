import { describe, expect, it } from 'vitest';
import { composedLatency, fitComposition } from '@litepred/predictor';

describe('composition', () => {
  // A device where convs cost 30% more inside networks than alone and adds cost what they cost alone.
  const models = Array.from({ length: 40 }, (_, i) => {
    const sums = new Map([['conv-bn-relu', 1 + (i % 7)], ['add', 0.2 + (i % 3) * 0.1]]);
    return { sums, measuredMs: 0.05 + 1.3 * sums.get('conv-bn-relu')! + sums.get('add')! };
  });

  it('learns per-type in-network factors from whole models', () => {
    const c = fitComposition(models, 0.05, 1e-6);
    expect(c.factors['conv-bn-relu']).toBeCloseTo(1.3, 3);
    expect(c.factors.add).toBeCloseTo(1, 2);
    for (const m of models) expect(composedLatency(m.sums, 0.05, c) / m.measuredMs).toBeCloseTo(1, 3);
  });

  it('stays at 1 where the models say nothing, and without a composition sums plainly', () => {
    const c = fitComposition(models.map((m) => ({ ...m, sums: new Map([...m.sums, ['se', 0]]) })), 0.05);
    expect(c.factors.se).toBeCloseTo(1, 6);
    expect(composedLatency(new Map([['add', 2], ['se', 1]]), 0.5)).toBe(3.5);
  });
});
