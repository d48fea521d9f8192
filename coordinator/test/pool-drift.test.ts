// Drift correction of pool files: labels divided by how much slower the reference kernels ran around them.
import { describe, expect, it } from 'vitest';
import { correctDrift, driftFactors } from '@litepred/coordinator';

const ref = (type: string, ms: number) => ({ kind: 'reference', key: `r-${type}-${ms}`, config: { type }, latencyMs: ms });
const kernel = (key: string, ms: number) => ({ kind: 'kernel', key, config: { type: 'relu' }, latencyMs: ms });

describe('drift correction', () => {
  it('divides each label by the geometric mean of the checks around it, relative to the typical reference time', () => {
    const lines = [
      { key: 'device' },
      ref('conv', 1), ref('add', 2), // typical speed
      kernel('a', 10),
      ref('conv', 1), ref('add', 2),
      kernel('b', 12), // between a typical check and one 1.44x slower: drift 1.2
      ref('conv', 1.44), ref('add', 2.88),
      kernel('c', 14.4), // after the last check: its drift, 1.44
    ];
    const f = driftFactors(lines);
    expect(f[0]).toBeCloseTo(1);
    expect(f[3]).toBeCloseTo(1);
    expect(f[6]).toBeCloseTo(1.2);
    expect(f[9]).toBeCloseTo(1.44);
    const corrected = correctDrift(lines);
    expect(corrected.filter((l) => l.kind === 'kernel').map((l) => l.latencyMs)).toEqual([10, 10, 10].map((v) => expect.closeTo(v, 9)));
    // The raw label and the factor stay with the line; references and the device line are left as they are.
    expect(corrected[6]).toMatchObject({ rawLatencyMs: 12, drift: expect.closeTo(1.2, 9) });
    expect(corrected[1]).toEqual(lines[1]);
    expect(corrected[0]).toEqual(lines[0]);
  });

  it('leaves a file without reference kernels as it is', () => {
    const lines = [{ key: 'device' }, kernel('a', 10), kernel('b', 20)];
    expect(correctDrift(lines)).toEqual(lines);
    expect(driftFactors(lines)).toEqual([1, 1, 1]);
  });
});
