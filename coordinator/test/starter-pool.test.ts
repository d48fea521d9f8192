// Pool files as bench:collect writes them: JSON lines, plain or as gzip members appended a batch at
// a time, and what a collector stopped mid-write leaves.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { poolFileName, readPoolFile } from '@litepred/coordinator';

const dir = mkdtempSync(join(tmpdir(), 'litepred-pool-'));
const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => JSON.stringify({ key: `k${from + i}` })).join('\n') + '\n';

describe('pool files', () => {
  it('name a device by the file, plain or gzipped', () => {
    expect(poolFileName('node-t1-all.jsonl')).toBe('node-t1-all');
    expect(poolFileName('node-t1-all.jsonl.gz')).toBe('node-t1-all');
    expect(poolFileName('README.md')).toBeUndefined();
  });

  it('read plain JSON lines, and gzip members appended one after another as one file', () => {
    writeFileSync(join(dir, 'a.jsonl'), lines(0, 3));
    expect(readPoolFile(join(dir, 'a.jsonl')).map((l) => l.key)).toEqual(['k0', 'k1', 'k2']);
    const gz = join(dir, 'b.jsonl.gz');
    writeFileSync(gz, gzipSync(lines(0, 50)));
    appendFileSync(gz, gzipSync(lines(50, 60)));
    const read = readPoolFile(gz);
    expect(read).toHaveLength(60);
    expect(read.truncated).toBeUndefined();
  });

  it('keep every complete line of a file whose last member or line was cut short, and say so', () => {
    const gz = join(dir, 'c.jsonl.gz');
    writeFileSync(gz, gzipSync(lines(0, 50)));
    const member = gzipSync(lines(50, 100));
    appendFileSync(gz, member.subarray(0, Math.floor(member.length / 2)));
    const read = readPoolFile(gz);
    expect(read.truncated).toBe(true);
    expect(read.length).toBeGreaterThanOrEqual(50);
    expect(read.length).toBeLessThan(100);
    expect(read.map((l) => l.key).slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`));
    writeFileSync(join(dir, 'd.jsonl'), lines(0, 2) + '{"key":"k2"');
    const plain = readPoolFile(join(dir, 'd.jsonl'));
    expect(plain.map((l) => l.key)).toEqual(['k0', 'k1']);
    expect(plain.truncated).toBe(true);
  });

  it('name the line that is not JSON', () => {
    writeFileSync(join(dir, 'e.jsonl'), `${lines(0, 1)}not json\n`);
    expect(() => readPoolFile(join(dir, 'e.jsonl'))).toThrow(/e\.jsonl:2: not JSON/);
  });
});
