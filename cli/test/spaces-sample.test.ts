// litepred spaces and litepred sample, as a user runs them (the compiled CLI).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { litepred } from './run-cli.js';
import { resolveConfig } from '@litepred/kernels';

describe('litepred spaces', () => {
  it('lists the seven spaces as JSON', () => {
    const r = litepred('spaces', 'list', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((s: { name: string }) => s.name)).toContain('nasbench201');
  });

  it('samples ONNX models with a manifest of their kernels', () => {
    const dir = mkdtempSync(join(tmpdir(), 'litepred-spaces-'));
    const r = litepred('spaces', 'sample', '--space', 'nasbench201', '--n', '2', '--seed', '5', '--out', dir, '--json');
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.architectures.map((a: { id: string }) => a.id)).toEqual(['nasbench201-5', 'nasbench201-6']);
    for (const a of manifest.architectures) {
      expect(existsSync(join(dir, a.file))).toBe(true);
      for (const k of a.kernels) expect(() => resolveConfig(k)).not.toThrow();
    }
  });

  it('decomposes a sampled model back into the kernels its manifest lists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'litepred-decompose-'));
    expect(litepred('spaces', 'sample', '--space', 'fbnet', '--n', '1', '--out', dir).code).toBe(0);
    const [arch] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).architectures;
    const r = litepred('decompose', join(dir, arch.file), '--json');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.kernels.length).toBe(arch.kernels.length);
    expect(d.coverage.flopsShare).toBe(1);
    expect(litepred('decompose', join(dir, arch.file)).stdout).toMatch(/kernels covering 100.0% of the FLOPs/);
    expect(litepred('decompose', join(dir, arch.file), '--input-shape', '1x3xbig').stderr).toMatch(
      /--input-shape must be positive integers/,
    );
    expect(litepred('decompose', join(dir, 'missing.onnx')).stderr).toMatch(/cannot read .*missing.onnx: ENOENT/);
  });

  it("writes a space's kernel distribution with counts and frequencies", () => {
    const out = join(mkdtempSync(join(tmpdir(), 'litepred-dist-')), 'dist.csv');
    const r = litepred('spaces', 'distribution', '--space', 'fbnet', '--n', '5', '--out', out);
    expect(r.code).toBe(0);
    const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    expect(header).toMatch(/^type,HW,CIN,COUT,KERNEL_SIZE,STRIDES,GROUPS,.*COUNT,FREQ$/);
    expect(rows.length).toBeGreaterThan(20);
  });

  it('refuses an unknown space and a missing --out with a clear line', () => {
    const r = litepred('spaces', 'sample', '--space', 'darts', '--out', '/tmp/x');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown search space 'darts'; known: proxylessnas/);
    const noOut = litepred('spaces', 'sample', '--space', 'fbnet');
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/Missing required argument: out/);
  });
});

describe('litepred sample', () => {
  it('gives the same valid configs for the same seed, and writes a CSV that litepred profile reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'litepred-sample-'));
    const a = JSON.parse(litepred('sample', '--kernel', 'dwconv-bn-relu6', '--n', '20', '--seed', '3', '--json').stdout);
    const b = JSON.parse(litepred('sample', '--kernel', 'dwconv-bn-relu6', '--n', '20', '--seed', '3', '--json').stdout);
    expect(a).toHaveLength(20);
    expect(b).toEqual(a);
    const out = join(dir, 'conv.csv');
    expect(litepred('sample', '--kernel', 'conv-bn-relu', '--n', '3', '--sampler', 'prior', '--out', out).code).toBe(0);
    const r = litepred('profile', '--file', out, '--json', '--min-runs', '3', '--max-runs', '5', '--max-ms', '50', '--warmup-runs', '1');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(3);
  });

  it(
    'prints a table of configs whose optional fields differ (W, BCAST from the broad sampler), and writes them as a CSV ' + 'profile reads',
    () => {
      const table = litepred('sample', '--kernel', 'mul', '--n', '6', '--sampler', 'broad', '--seed', '2');
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/HW +CIN +W +BCAST/);
      expect(table.stdout).toMatch(/ -/);
      const out = join(mkdtempSync(join(tmpdir(), 'litepred-sample-')), 'mul.csv');
      expect(litepred('sample', '--kernel', 'mul', '--n', '6', '--sampler', 'broad', '--seed', '2', '--out', out).code).toBe(0);
      const r = litepred('profile', '--file', out, '--json', '--min-runs', '3', '--max-runs', '5', '--max-ms', '50', '--warmup-runs', '1');
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as { config: { W?: number } }[]).some((m) => m.config.W !== undefined)).toBe(true);
    },
  );

  it('refuses an unknown kernel, a bad n, and prior sampling of transformer kernels', () => {
    expect(litepred('sample', '--kernel', 'conv-bn-gelu').stderr).toMatch(/unknown kernel type 'conv-bn-gelu'/);
    expect(litepred('sample', '--kernel', 'fc', '--n', '0').stderr).toMatch(/n must be a positive integer/);
    const r = litepred('sample', '--kernel', 'mhsa', '--sampler', 'prior');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nn-Meter's prior has no transformer kernels/);
  });
});
