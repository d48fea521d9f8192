// The shape of the code (.dependency-cruiser.cjs): no import circles, type-only ones included, and
// the layers pointing one way. Runs what `npm run check:deps` runs, on the built tree.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

it('has no import circles and no import against the layers', () => {
  const r = spawnSync(
    process.execPath,
    [
      'node_modules/dependency-cruiser/bin/dependency-cruise.mjs',
      'packages/*/src',
      'agent/src',
      'web/src',
      'coordinator/src',
      'cli/src',
      'bench/src',
      '--config',
      '.dependency-cruiser.cjs',
    ],
    { cwd: ROOT, encoding: 'utf8', shell: false },
  );
  expect(r.stdout + r.stderr).toMatch(/no dependency violations found \(\d{3,} modules/);
  expect(r.status).toBe(0);
});
