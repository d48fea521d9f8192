// The real litepred command, as a user runs it (the compiled CLI; `npm test` builds it first).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { litepred } from './run-cli.js';
import { kernelTypes } from '@litepred/kernels';

const QUICK = ['--min-runs', '5', '--max-runs', '10', '--max-ms', '100', '--warmup-runs', '2'];

describe('litepred CLI', () => {
  it('lists the kernel types as JSON', () => {
    const r = litepred('kernels', 'list', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { type: string; features: string[] }[];
    expect(rows).toHaveLength(kernelTypes().length);
    expect(rows.find((x) => x.type === 'conv-bn-relu')!.features).toEqual(['HW', 'CIN', 'COUT', 'KERNEL_SIZE', 'STRIDES', 'FLOPS', 'PARAMS', 'GROUPS', 'W', 'DILATION']);
  });

  it('has --help on every command', () => {
    for (const cmd of [[], ['kernels'], ['profile'], ['demo'], ['spaces'], ['sample'], ['decompose']]) {
      const r = litepred(...cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/--help/);
    }
  });

  it('profiles one config and prints the measurement as JSON', () => {
    const r = litepred('profile', '--kernel', 'relu', '--set', 'HW=14', '--set', 'CIN=16', '--json', ...QUICK);
    expect(r.code).toBe(0);
    const [result] = JSON.parse(r.stdout);
    expect(result.measurement.config).toEqual({ type: 'relu', HW: 14, CIN: 16 });
    expect(result.measurement.runtime.backend).toBe('ort-node');
    expect(result.measurement.latencyMs).toBeGreaterThanOrEqual(0);
    // In rounds: the fastest of two measurements, with both rounds' latencies.
    const rounds = JSON.parse(litepred('profile', '--kernel', 'relu', '--set', 'HW=14', '--set', 'CIN=16', '--json', '--rounds', '2', ...QUICK).stdout)[0].measurement;
    expect(rounds.roundLatenciesMs).toHaveLength(2);
    expect(rounds.latencyMs).toBe(Math.min(...rounds.roundLatenciesMs));
  });

  it('refuses bad input with one clear line and exit code 2', () => {
    const missing = litepred('profile', '--kernel', 'conv-bn-relu', '--set', 'HW=56');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/litepred: CIN: is required for conv-bn-relu/);
    expect(missing.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(litepred('profile', '--kernel', 'conv-bn-gelu').stderr).toMatch(/unknown kernel type 'conv-bn-gelu'/);
    expect(litepred('profile', '--kernel', 'relu', '--set', 'HW=abc').stderr).toMatch(/expected FIELD=NUMBER/);
    expect(litepred('profile', '--kernel', 'relu', '--set', 'HW=8', '--set', 'CIN=8', '--set', 'FOO=1').stderr).toMatch(/unknown field\(s\) FOO/);
    expect(litepred('profile').stderr).toMatch(/give --kernel TYPE/);
    expect(litepred('profile', '--kernel', 'relu', '--set', 'HW=8', '--set', 'CIN=8', '--max-runs', '2', '--min-runs', '5').stderr).toMatch(/--max-runs \(2\) is below --min-runs \(5\)/);
    expect(litepred('profile', '--kernel', 'relu', '--set', 'HW=8', '--set', 'CIN=8', '--rounds', '0').stderr).toMatch(/--rounds: must be a positive integer \(got 0\)/);
    expect(litepred('frobnicate').code).toBe(2);
  });

  it("profiles a LitePred-style CSV, naming the columns it ignores, and appends JSONL as it goes", () => {
    const dir = mkdtempSync(join(tmpdir(), 'litepred-cli-'));
    const csv = join(dir, 'dw.csv');
    writeFileSync(csv, 'HW,CHANNELS,KERNEL_SIZE,STRIDES,FREQ,CAT\n14,32,3,1,5,train\n7,64,5,2,1,test\n');
    const out = join(dir, 'out.jsonl');
    const r = litepred('profile', '--file', csv, '--kernel', 'dwconv-bn-relu', '--out', out, ...QUICK);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ignoring columns that are not kernel fields: FREQ, CAT/);
    expect(r.stdout).toMatch(/dwconv-bn-relu\s+HW=14 CIN=32 KERNEL_SIZE=3 STRIDES=1/);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.measurement.config)).toEqual([
      { type: 'dwconv-bn-relu', HW: 14, CIN: 32, KERNEL_SIZE: 3, STRIDES: 1 },
      { type: 'dwconv-bn-relu', HW: 7, CIN: 64, KERNEL_SIZE: 5, STRIDES: 2 },
    ]);
  });

  it('points at the file and line of a bad row, and measures nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'litepred-cli-'));
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'type,HW,CIN\nrelu,8,8\nrelu,8,-3\n');
    const r = litepred('profile', '--file', csv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.csv:3: CIN: must be positive \(got -3\)/);
  });

  it('profiles on onnxruntime-web too', () => {
    const r = litepred('profile', '--backend', 'ort-web', '--kernel', 'add', '--set', 'HW=8', '--set', 'CIN=8', '--json', ...QUICK);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0].measurement.method).toBe('paired-null-difference');
  });
});
