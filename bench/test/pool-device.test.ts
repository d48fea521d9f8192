// bench:collect adds to a pool file only on the machine that began it.
import { describe, expect, it } from 'vitest';
import { machineMismatch } from '../src/pool-device.js';

describe('a pool file is one device', () => {
  const here = { cpu: 'Intel(R) Xeon(R) Processor', cores: 2 };
  it('lets the same machine add to its file, and anyone start a new one', () => {
    expect(machineMismatch({ cpu: 'Intel(R) Xeon(R) Processor', cores: 2 }, here, 'a.jsonl.gz')).toBeUndefined();
    expect(machineMismatch(undefined, here, 'a.jsonl.gz')).toBeUndefined();
  });
  it('refuses another CPU or core count, naming both', () => {
    expect(machineMismatch({ cpu: 'AMD EPYC', cores: 2 }, here, 'node-t1-disabled.jsonl.gz')).toMatch(
      /node-t1-disabled\.jsonl\.gz was measured on AMD EPYC \(2 cores\) and this machine is Intel\(R\) Xeon\(R\) Processor \(2 cores\)/,
    );
    expect(machineMismatch({ cpu: 'Intel(R) Xeon(R) Processor', cores: 4 }, here, 'x')).toMatch(/a pool file is one device/);
  });
});
