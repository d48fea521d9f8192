// What bench:collect measures per runtime configuration.
import { describe, expect, it } from 'vitest';
import { foldedConvType, kernelTypes, resolveConfig } from '@litepred/kernels';
import {
  collectionCounts,
  collectionPlan,
  GROUPED_COUNT,
  GROUPED_TYPES,
  LATE_TYPES,
  MAJOR_COUNT,
  MAJOR_TYPES,
  MINOR_COUNT,
  spaceFlopsByType,
} from '../src/collect-plan.js';

describe('the collection plan', () => {
  it('has every kernel type as the runtime runs it: -bn conv types only where batch norm folds, both forms at disabled', () => {
    const folding = collectionCounts({ graphOptimizationLevel: 'all' });
    const disabled = collectionCounts({ graphOptimizationLevel: 'disabled' });
    expect(disabled.size).toBe(kernelTypes().length);
    expect([...folding.keys()].every((t) => foldedConvType(t) === t)).toBe(true);
    expect(folding.has('conv-relu')).toBe(false);
    expect(disabled.has('conv-relu')).toBe(true);
  });

  it('gives the types with the most FLOPs in the search spaces the large count, every other type the small one', () => {
    const counts = collectionCounts({ graphOptimizationLevel: 'all' });
    const major = spaceFlopsByType()
      .slice(0, MAJOR_TYPES)
      .map(([t]) => t);
    expect(major).toContain('conv-bn-relu');
    for (const [t, n] of counts) expect(n).toBe(major.includes(t) ? MAJOR_COUNT : MINOR_COUNT);
  });

  it('draws that many distinct valid configs per type, the same on every runtime configuration, interleaved across types', () => {
    const scale = 0.04;
    const plan = collectionPlan({ graphOptimizationLevel: 'all' }, scale);
    const counts = collectionCounts({ graphOptimizationLevel: 'all' });
    const base = plan.slice(
      0,
      [...counts.values()].reduce((s, n) => s + Math.max(2, Math.round(n * scale)), 0),
    );
    const byType = new Map<string, Set<string>>();
    for (const k of base) {
      expect(() => resolveConfig(k.config)).not.toThrow();
      byType.set(k.config.type, (byType.get(k.config.type) ?? new Set()).add(k.key));
    }
    for (const [t, n] of counts) expect(byType.get(t)?.size, t).toBe(Math.max(2, Math.round(n * scale)));
    // The first kernels measured already span the types: a run cut short has some of every one.
    const early = counts.size - LATE_TYPES.filter((t) => counts.has(t)).length;
    expect(new Set(plan.slice(0, early).map((k) => k.config.type)).size).toBe(early);
    // Types added after a collection began come after all the others: a resumed collection's positions stay.
    const firstLate = base.findIndex((k) => LATE_TYPES.includes(k.config.type));
    expect(firstLate).toBe(base.length - LATE_TYPES.reduce((s, t) => s + (byType.get(t)?.size ?? 0), 0));
    const again = collectionPlan({ graphOptimizationLevel: 'all' }, scale).map((k) => k.key);
    expect(again).toEqual(plan.map((k) => k.key));
  });

  it('ends with grouped convs of the plain conv types, valid, new, and with a group width real networks use', () => {
    for (const level of ['all', 'disabled'] as const) {
      const scale = 0.05;
      const plan = collectionPlan({ graphOptimizationLevel: level }, scale);
      const counts = collectionCounts({ graphOptimizationLevel: level });
      const baseLength = [...counts.values()].reduce((s, n) => s + Math.max(2, Math.round(n * scale)), 0);
      const grouped = plan.slice(baseLength);
      const types = [...counts.keys()].filter((t) => GROUPED_TYPES.includes(foldedConvType(t)));
      expect(grouped).toHaveLength(types.length * Math.round(GROUPED_COUNT * scale));
      expect(new Set(plan.map((k) => k.key)).size).toBe(plan.length);
      for (const k of grouped) {
        expect(types).toContain(k.config.type);
        const c = resolveConfig(k.config);
        expect(c.GROUPS).toBeGreaterThan(1);
        expect([8, 16, 24, 32, 48, 64]).toContain(c.CIN / c.GROUPS);
      }
    }
  });
});
