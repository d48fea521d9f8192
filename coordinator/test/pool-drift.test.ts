// Drift correction of pool files: labels divided by how much slower the reference kernels of their
// arithmetic intensity ran around them.
import { describe, expect, it } from 'vitest';
import { correctDrift, driftFactors, referenceTimes } from '@litepred/coordinator';

const CONV = { type: 'conv-bn-relu', HW: 28, CIN: 32, COUT: 64, KERNEL_SIZE: 3, STRIDES: 1 };
const ADD = { type: 'add', HW: 56, CIN: 64 };
const ref = (config: object, ms: number) => ({ kind: 'reference', key: `r-${JSON.stringify(config)}-${ms}`, config, latencyMs: ms });
const kernel = (key: string, config: object, ms: number) => ({ kind: 'kernel', key, config, latencyMs: ms });

describe('drift correction', () => {
  const lines = [
    { key: 'device' },
    ref(CONV, 1),
    ref(ADD, 2), // the typical speed (the median over the file)
    kernel('a', { type: 'add', HW: 28, CIN: 32 }, 10),
    ref(CONV, 1),
    ref(ADD, 2),
    // Between a typical check and one where the convolution ran 1.21x slower and the add 2.25x:
    kernel('b', { type: 'add', HW: 28, CIN: 32 }, 15), // an add of another size: the add's drift, halfway, 1.5
    kernel('c', CONV, 1.1), // the convolution: 1.1
    ref(CONV, 1.21),
    ref(ADD, 4.5),
    { kind: 'model-rounds', key: 'space-1', latencyMs: 3 }, // after the last check: the mean of its references, sqrt(1.21 * 2.25)
  ];

  it("reads each kernel's drift off the references of its intensity, between the checks around it", () => {
    const f = driftFactors(lines);
    expect(f[0]).toBe(1);
    expect(f[3]).toBeCloseTo(1);
    expect(f[6]).toBeCloseTo(1.5);
    expect(f[7]).toBeCloseTo(1.1);
    expect(f[10]).toBeCloseTo(Math.sqrt(1.21 * 2.25));
  });

  it('keeps the raw label and the factor, and leaves references and other lines alone', () => {
    const corrected = correctDrift(lines);
    expect(corrected[6]).toMatchObject({ latencyMs: expect.closeTo(10, 9), rawLatencyMs: 15, drift: expect.closeTo(1.5, 9) });
    expect(corrected[7]!.latencyMs).toBeCloseTo(1);
    expect(corrected[1]).toEqual(lines[1]);
    expect(corrected[0]).toEqual(lines[0]);
  });

  it('judges against pinned reference times where given, so a file that grows does not move them', () => {
    const typical = referenceTimes(lines);
    expect(typical[JSON.stringify(CONV)]).toBeCloseTo(1);
    // The same file resumed in a quieter hour: its median reference speed moves, the pinned one does not.
    const grown = [...lines, ...Array.from({ length: 6 }, () => [ref(CONV, 0.8), ref(ADD, 1.6), kernel('q', CONV, 0.8)]).flat()];
    expect(driftFactors(grown)[7]).toBeCloseTo(1.1 / 0.8);
    expect(driftFactors(grown, typical)[7]).toBeCloseTo(1.1);
    expect(driftFactors(grown, { [JSON.stringify(CONV)]: 0.5 })[7]).toBeCloseTo(2.2); // only the conv pinned
  });

  it('leaves a file without reference kernels as it is', () => {
    const plain = [{ key: 'device' }, kernel('a', CONV, 10)];
    expect(correctDrift(plain)).toEqual(plain);
    expect(driftFactors(plain)).toEqual([1, 1]);
  });
});
