import { describe, expect, it } from 'vitest';
import { composedLatency, fitComposition, GbdtPredictor, predictDecomposed, typeSums, type Decomposition } from '@litepred/predictor';

describe('composition', () => {
  // A device where convs cost 30% more inside networks than alone and adds cost what they cost alone.
  const models = Array.from({ length: 40 }, (_, i) => {
    const sums = new Map([
      ['conv-bn-relu', 1 + (i % 7)],
      ['add', 0.2 + (i % 3) * 0.1],
    ]);
    return { sums, measuredMs: 0.05 + 1.3 * sums.get('conv-bn-relu')! + sums.get('add')! };
  });

  it('learns per-type in-network factors from whole models', () => {
    const c = fitComposition(models, 0.05, 1e-6);
    expect(c.factors['conv-bn-relu']).toBeCloseTo(1.3, 3);
    expect(c.factors.add).toBeCloseTo(1, 2);
    for (const m of models) expect(composedLatency(m.sums, 0.05, c) / m.measuredMs).toBeCloseTo(1, 3);
  });

  it('stays at 1 where the models say nothing, and without a composition sums plainly', () => {
    const c = fitComposition(
      models.map((m) => ({ ...m, sums: new Map([...m.sums, ['se', 0]]) })),
      0.05,
    );
    expect(c.factors.se).toBeCloseTo(1, 6);
    expect(
      composedLatency(
        new Map([
          ['add', 2],
          ['se', 1],
        ]),
        0.5,
      ),
    ).toBe(3.5);
  });
});

describe('a conv type predicted by its batch-norm twin', () => {
  it('asks the twin about the configs as its own type, in typeSums and in whole-model predictions, where batch norm folds', () => {
    const shape = (i: number) => ({ HW: 8 + i, CIN: 16, COUT: 16 + 8 * (i % 4), KERNEL_SIZE: 3, STRIDES: 1 });
    const samples = Array.from({ length: 24 }, (_, i) => ({ config: { type: 'conv-bn-hswish', ...shape(i) }, latencyMs: 0.01 * (1 + i) }));
    const twin = GbdtPredictor.train('conv-bn-hswish', samples, { trees: 20 });
    const predictors = new Map([['conv-bn-hswish', twin]]);
    const folded = [
      { type: 'conv-hswish', ...shape(3) },
      { type: 'conv-hswish', ...shape(5) },
    ];
    const expected = twin.predict(folded.map((c) => ({ ...c, type: 'conv-bn-hswish' })));
    expect(typeSums(folded, predictors)!.get('conv-hswish')).toBeCloseTo(expected[0]! + expected[1]!, 9);
    const d = { kernels: folded.map((config) => ({ config })), coverage: {}, foldsBatchNorm: true } as unknown as Decomposition;
    expect(predictDecomposed(d, predictors).kernels.map((k) => k.predictedMs)).toEqual(expected);
    // Where batch norm does not fold, the two are different kernels: no prediction.
    expect(predictDecomposed({ ...d, foldsBatchNorm: false }, predictors).missingPredictors).toEqual(['conv-hswish']);
  });
});
