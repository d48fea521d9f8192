// Where Chromium is and how to start it headless on a machine with a closed network. Shared by the
// browser tests, bench:browser and ensure-chromium.mjs.
import { existsSync } from 'node:fs';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** $CHROMIUM_PATH, else the first system Chromium found, else undefined. */
export function chromiumExecutable() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

/**
 * --no-sandbox: CI runs as root. The background-networking flags stop Chromium's own connections,
 * which a closed network refuses many at a time. No --disable-gpu: WebGPU is used where there is a
 * GPU; headless without one simply has no adapter.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-default-apps',
  '--disable-extensions',
];

export const MISSING_CHROMIUM =
  'Chromium not found (looked at $CHROMIUM_PATH and ' +
  CHROMIUM_CANDIDATES.join(', ') +
  '). ' +
  "`npm test` installs Debian's chromium package when run as root (scripts/ensure-chromium.mjs); otherwise install it " +
  '(apt-get install chromium) or set CHROMIUM_PATH.';
