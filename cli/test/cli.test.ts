// The real litepred command, as a user runs it (the compiled CLI; `npm test` builds it first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    expect(rows.find((x) => x.type === 'conv-bn-relu')!.features).toEqual([
      'HW',
      'CIN',
      'COUT',
      'KERNEL_SIZE',
      'STRIDES',
      'FLOPS',
      'PARAMS',
      'GROUPS',
      'W',
      'DILATION',
    ]);
  });

  it('has --help on every command and subcommand, found from the help itself', () => {
    const commandsIn = (help: string, prefix: string[]) =>
      [...help.matchAll(new RegExp(`^  litepred ${prefix.map((p) => `${p} `).join('')}([a-z-]+)`, 'gm'))].map((m) => [...prefix, m[1]!]);
    const top = litepred('--help');
    expect(top.code).toBe(0);
    const seen: string[] = [];
    for (const cmd of commandsIn(top.stdout, [])) {
      const r = litepred(...cmd, '--help');
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/--help/);
      seen.push(cmd.join(' '));
      for (const sub of commandsIn(r.stdout, cmd)) {
        const s = litepred(...sub, '--help');
        expect(s.code, sub.join(' ')).toBe(0);
        expect(s.stdout).toContain(`litepred ${sub.join(' ')}`);
        seen.push(sub.join(' '));
      }
    }
    expect(seen).toEqual(
      expect.arrayContaining([
        'profile',
        'decompose',
        'predict',
        'agent',
        'token create',
        'token revoke',
        'device list',
        'campaign create',
        'campaign status',
        'results export',
        'predictor pull',
        'adaptation status',
        'spaces sample',
        'kernels list',
        'coordinator start',
      ]),
    );
  });

  it('prints nothing of npm in front of its output when run with npx', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const r = spawnSync('npx', ['litepred', 'kernels', 'list', '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/npm (warn|notice|error)/i);
    expect(JSON.parse(r.stdout)).toHaveLength(kernelTypes().length);
  });

  it("shows a subcommand's own options only, and its usage when its argument is missing", () => {
    const status = litepred('campaign', 'status', '--help').stdout;
    expect(status).toContain('--watch');
    expect(status).not.toContain('--sample');
    expect(status).not.toContain('--all-devices');
    const create = litepred('campaign', 'create', '--help').stdout;
    expect(create).toContain('--sample');
    expect(create).not.toContain('--watch');
    const missing = litepred('campaign', 'status');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('litepred campaign status <id>');
    expect(missing.stderr).toMatch(/an argument is missing/);
    const noVerb = litepred('campaign');
    expect(noVerb.code).toBe(2);
    expect(noVerb.stderr).toMatch(/name a campaign command: create, list, status, cancel/);
  });

  it('profiles one config and prints the measurement as JSON', () => {
    const r = litepred('profile', '--kernel', 'relu', '--set', 'HW=14', '--set', 'CIN=16', '--json', ...QUICK);
    expect(r.code).toBe(0);
    const [result] = JSON.parse(r.stdout);
    expect(result.measurement.config).toEqual({ type: 'relu', HW: 14, CIN: 16 });
    expect(result.measurement.runtime.backend).toBe('ort-node');
    expect(result.measurement.latencyMs).toBeGreaterThanOrEqual(0);
    // In rounds: the fastest of two measurements, with both rounds' latencies.
    const rounds = JSON.parse(
      litepred('profile', '--kernel', 'relu', '--set', 'HW=14', '--set', 'CIN=16', '--json', '--rounds', '2', ...QUICK).stdout,
    )[0].measurement;
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
    expect(litepred('profile', '--kernel', 'relu', '--set', 'HW=8', '--set', 'CIN=8', '--set', 'FOO=1').stderr).toMatch(
      /unknown field\(s\) FOO/,
    );
    expect(litepred('profile').stderr).toMatch(/give --kernel TYPE/);
    expect(litepred('profile', '--kernel', 'relu', '--set', 'HW=8', '--set', 'CIN=8', '--max-runs', '2', '--min-runs', '5').stderr).toMatch(
      /--max-runs \(2\) is below --min-runs \(5\)/,
    );
    expect(litepred('profile', '--kernel', 'relu', '--set', 'HW=8', '--set', 'CIN=8', '--rounds', '0').stderr).toMatch(
      /--rounds: must be a positive integer \(got 0\)/,
    );
    expect(litepred('frobnicate').code).toBe(2);
  });

  it('profiles a LitePred-style CSV, naming the columns it ignores, and appends JSONL as it goes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'litepred-cli-'));
    const csv = join(dir, 'dw.csv');
    writeFileSync(csv, 'HW,CHANNELS,KERNEL_SIZE,STRIDES,FREQ,CAT\n14,32,3,1,5,train\n7,64,5,2,1,test\n');
    const out = join(dir, 'out.jsonl');
    const r = litepred('profile', '--file', csv, '--kernel', 'dwconv-bn-relu', '--out', out, ...QUICK);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ignoring columns that are not kernel fields: FREQ, CAT/);
    expect(r.stdout).toMatch(/dwconv-bn-relu\s+HW=14 CIN=32 KERNEL_SIZE=3 STRIDES=1/);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
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
