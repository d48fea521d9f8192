#!/usr/bin/env node
// Run before the tests (npm's pretest) and bench:browser: the browser tests need a Chromium, and a
// test tool's own browser download does not work here. Installs Debian's chromium package when it
// is missing and we are root with apt-get (as in CI); otherwise says what to do and leaves the
// browser tests to fail with the same message.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromiumExecutable, MISSING_CHROMIUM } from './chromium.mjs';

if (chromiumExecutable()) process.exit(0);
const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
if (!canInstall) {
  console.error(`ensure-chromium: ${MISSING_CHROMIUM}`);
  process.exit(0);
}
const apt = (...args) =>
  spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    .status === 0;
console.error("ensure-chromium: installing Debian's chromium package for the browser tests...");
const installed =
  apt('install', '-y', '--no-install-recommends', 'chromium') ||
  (apt('update') && apt('install', '-y', '--no-install-recommends', 'chromium'));
console.error(
  installed && chromiumExecutable()
    ? `ensure-chromium: ${chromiumExecutable()} installed`
    : `ensure-chromium: the install failed. ${MISSING_CHROMIUM}`,
);
