// A coordinator stopped in a script of its own: stop() resolves, its last checkpoint done, and what
// follows it runs (the checkpointer's worker once let the process exit, code 13, in the middle).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('stops and lets the script go on', () => {
  const database = join(mkdtempSync(join(tmpdir(), 'litepred-stop-')), 'db.sqlite');
  const script = `
    const { Coordinator } = await import('@litepred/coordinator');
    const c = await Coordinator.start({ database: ${JSON.stringify(database)}, port: 0 });
    await c.stop();
    console.log('after stop');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url).pathname,
    encoding: 'utf8',
  });
  expect(r.stdout + r.stderr).toContain('after stop');
  expect(r.status).toBe(0);
});
