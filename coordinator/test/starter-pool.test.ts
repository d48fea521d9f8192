// Pool files as bench:collect writes them: JSON lines, plain or as gzip members appended a batch at
// a time, and what a collector stopped mid-write leaves.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { importStarterPool, poolFileName, readPoolFile, Store } from '@litepred/coordinator';

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

  it('import labels as measured, even where the file timed reference kernels around them', () => {
    const pool = mkdtempSync(join(tmpdir(), 'litepred-pool-import-'));
    const runtime = { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all', runtimeVersion: '1.30.0', executionProvider: 'cpu' };
    const ref = (ms: number) => ({ kind: 'reference', key: `r${ms}`, config: { type: 'relu', HW: 56, CIN: 64 }, latencyMs: ms });
    const relu = { type: 'relu', HW: 28, CIN: 32 };
    const file = [
      { key: 'device', runtime, cpu: 'Test CPU', cores: 2, memoryBytes: 1e9, measuredAt: '2026-12-02T00:00:00Z' },
      ref(1),
      { kind: 'kernel', key: 'a', config: relu, latencyMs: 0.5, kernel: {}, boundary: {} },
      ref(2), // the machine ran twice as slow here: the label stays as measured all the same
    ];
    writeFileSync(join(pool, 'node-t1-all.jsonl'), file.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const store = new Store(join(pool, 'db.sqlite'));
    expect(importStarterPool(pool, store)).toEqual(['pool-node-t1-all']);
    expect(store.measurements({ deviceId: 'pool-node-t1-all' }).map((m) => m.latencyMs)).toEqual([0.5]);
    store.close();
  });

  it('name the line that is not JSON', () => {
    writeFileSync(join(dir, 'e.jsonl'), `${lines(0, 1)}not json\n`);
    expect(() => readPoolFile(join(dir, 'e.jsonl'))).toThrow(/e\.jsonl:2: not JSON/);
  });
});
