#!/usr/bin/env node
// `npm start` on a fresh clone: install exactly what package-lock.json says (npm ci) when
// node_modules is missing or older than the lock file, build, then run the main job.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const installed = 'node_modules/.package-lock.json';
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync('package-lock.json').mtimeMs) {
  console.error('litepred: installing dependencies (npm ci)...');
  run('npm', ['ci']);
}
run('npm', ['run', 'build']);
run('node', ['cli/bin/litepred.js', 'demo', ...process.argv.slice(2)]);
