// Real fleet parts for tests: a coordinator on a loopback port, agents as real processes.
import { ApiClient } from '@litepred/protocol';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = new URL('../../cli/bin/litepred.js', import.meta.url).pathname;
export const FAST_PROTOCOL = { warmupRuns: 2, warmupMs: 0, minRuns: 5, maxRuns: 10, maxMs: 50, targetPrecision: 0.05 };

export const tempDir = () => mkdtempSync(join(tmpdir(), 'litepred-fleet-'));

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function run(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export function agent(url: string, stateFile: string, token?: string, backend = 'ort-node', threads = 1, optLevel = 'all'): Proc {
  return run([
    'agent',
    '--coordinator',
    url,
    '--state',
    stateFile,
    '--backend',
    backend,
    '--threads',
    String(threads),
    '--opt-level',
    optLevel,
    '--capacity',
    '4',
    ...(token ? ['--token', token] : []),
  ]);
}

/** The coordinator through the one typed client (packages/protocol), as the CLI and the dashboard reach it. */
export const client = (base: string, adminToken?: string) => new ApiClient(base, { adminToken });

export function kill(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

/** Small kernels so a campaign finishes in seconds. */
export function smallConfigs(n: number): { type: string; HW: number; CIN: number }[] {
  return Array.from({ length: n }, (_, i) => ({ type: i % 2 ? 'relu' : 'add', HW: 4 + i, CIN: 8 }));
}
