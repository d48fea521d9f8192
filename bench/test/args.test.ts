import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BenchArgsError, parseBenchArgs, usage } from '../src/args.js';

const FLAGS = {
  pool: { default: 'coordinator/starter-pool-next', describe: 'pool directory' },
  'held-out': { default: 0.2, describe: 'share held out' },
  raw: { default: false, describe: 'labels as measured' },
};

describe('parseBenchArgs', () => {
  it('gives the defaults, typed, when nothing is passed', () => {
    expect(parseBenchArgs(FLAGS, [])).toEqual({
      help: false,
      values: { pool: 'coordinator/starter-pool-next', 'held-out': 0.2, raw: false },
    });
  });

  it('reads strings, numbers and switches in either form', () => {
    const { values } = parseBenchArgs(FLAGS, ['--pool', 'x', '--held-out=0.5', '--raw']);
    expect(values).toEqual({ pool: 'x', 'held-out': 0.5, raw: true });
  });

  it('refuses an unknown flag, a positional and a number that is not one', () => {
    expect(() => parseBenchArgs(FLAGS, ['--budgets', '1'])).toThrow(BenchArgsError);
    expect(() => parseBenchArgs(FLAGS, ['stray'])).toThrow(BenchArgsError);
    expect(() => parseBenchArgs(FLAGS, ['--held-out', 'lots'])).toThrow(/--held-out takes a number, not 'lots'/);
    expect(() => parseBenchArgs(FLAGS, ['--held-out', ''])).toThrow(/takes a number/);
  });

  it('says --help was asked for, and the usage names every flag with its default', () => {
    expect(parseBenchArgs(FLAGS, ['--help']).help).toBe(true);
    const text = usage('npm run bench:x --', 'What x does.', FLAGS);
    expect(text).toContain('--pool <value>');
    expect(text).toContain('(default: 0.2)');
    expect(text).toMatch(/--raw\s+labels as measured\n/);
  });
});

// Every bench, built, as a person runs it: --help prints its options and exits 0 without starting
// (bench:collect once started a 10-hour collection on --help); an unknown flag exits 2.
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const ENTRY_POINTS = [
  'browser',
  'chaos',
  'collect',
  'demo',
  'fleet',
  'install',
  'full-data',
  'predict',
  'real-models',
  'sampler',
  'timing',
  'transfer',
];

describe('the benches on the command line', () => {
  it('has an entry point here for every bench script of package.json', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { scripts: Record<string, string> };
    const benches = Object.keys(pkg.scripts)
      .filter((s) => s.startsWith('bench:'))
      .map((s) => s.slice('bench:'.length));
    expect(benches.sort()).toEqual([...ENTRY_POINTS].sort());
    expect(readdirSync(DIST).filter((f) => f.endsWith('.js'))).toEqual(expect.arrayContaining(ENTRY_POINTS.map((e) => `${e}.js`)));
  });

  it.each(ENTRY_POINTS)('bench:%s --help prints its options and starts nothing; an unknown flag exits 2', (name) => {
    const help = spawnSync(process.execPath, [`${DIST}${name}.js`, '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain(`npm run bench:${name} --`);
    expect(help.stdout).toContain('Options:');
    expect(help.stderr).toBe('');
    const bad = spawnSync(process.execPath, [`${DIST}${name}.js`, '--no-such-flag'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--no-such-flag'/);
  });
});
