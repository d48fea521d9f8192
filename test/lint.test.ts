// The code as ESLint (eslint.config.mjs: typescript-eslint with types, no-floating-promises) and
// Prettier (.prettierrc.json: lines up to 140 characters) want it: `npm run lint`, in the suite.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const run = (bin: string, args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8', shell: false });

it('passes ESLint', () => {
  const r = run('node_modules/eslint/bin/eslint.js', ['.', '--max-warnings', '0']);
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

it('is formatted by Prettier', () => {
  const r = run('node_modules/prettier/bin/prettier.cjs', ['--check', '--log-level', 'warn', '**/*.{ts,mjs,cjs}']);
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

it('has no line over 140 characters in its code', () => {
  const files = spawnSync('git', ['ls-files', '*.ts', '*.mjs', '*.cjs'], { cwd: ROOT, encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);
  expect(files.length).toBeGreaterThan(100);
  const long = files.flatMap((f) =>
    readFileSync(join(ROOT, f), 'utf8')
      .split('\n')
      .flatMap((line, i) => (line.length > 140 ? [`${f}:${i + 1} (${line.length})`] : [])),
  );
  expect(long).toEqual([]);
});
