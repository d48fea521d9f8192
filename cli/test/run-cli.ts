// Runs the real litepred command (the compiled CLI; `npm test` builds it first), as a user does.
import { spawnSync } from 'node:child_process';

export const BIN = new URL('../bin/litepred.js', import.meta.url).pathname;

export function litepred(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
