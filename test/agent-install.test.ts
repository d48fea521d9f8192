// Journey 1 on a board that has Node and nothing of litepred: the coordinator's /install.sh,
// run with sh, installs the standalone agent package it serves (ws and onnxruntime-node its only
// dependencies, nothing compiled), enrols; the installed agent measures a campaign, says its status,
// and uninstalls. Real parts: a coordinator on loopback, npm, sh, the installed agent's process.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '@litepred/coordinator';
import { FAST_PROTOCOL, smallConfigs, tempDir, waitFor } from './helpers/fleet.js';

let c: Coordinator;
let home: string;
let dir: string;

beforeAll(async () => {
  c = await Coordinator.start({ database: join(tempDir(), 'db.sqlite'), port: 0, heartbeatMs: 500, protocol: FAST_PROTOCOL });
  home = tempDir();
  dir = join(home, 'agent here');
});
afterAll(async () => {
  await c?.stop();
});

/** Every file named `name` under root (node_modules trees). */
function findFiles(root: string, name: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(root)) {
    const path = join(root, entry);
    if (statSync(path).isDirectory()) found.push(...findFiles(path, name));
    else if (entry === name) found.push(path);
  }
  return found;
}

/**
 * A board's environment: its own HOME, none of the npm settings `npm test` put in this one; npm may
 * use this machine's cache of the packages (the versions the project installs).
 */
function boardEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  return {
    ...env,
    HOME: home,
    LITEPRED_NPM_FLAGS: '--prefer-offline',
    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '', '.npm'),
  };
}

/** sh, as a board runs the script; asynchronous, as the coordinator it downloads from runs in this process. */
function sh(script: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn('sh', [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // A board's HOME; npm may use its cache of the packages (the same versions the project installs).
    env: boardEnv(),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  return new Promise((resolve) =>
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}

/** A command of the installed agent, asynchronously (it talks to the coordinator in this process). */
const installed = (bin: string, args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });

describe('install.sh and the standalone agent', () => {
  it('serves the package and a script for the address it was reached at; refuses other downloads', async () => {
    const script = await fetch(`${c.address.http}/install.sh`);
    expect(script.status).toBe(200);
    const text = await script.text();
    expect(text).toMatch(/^#!\/bin\/sh/);
    expect(text).toContain(`COORDINATOR_HTTP='${c.address.http}'`);
    writeFileSync(join(home, 'install.sh'), text);
    const tgz = await fetch(`${c.address.http}/downloads/litepred-agent-0.1.0.tgz`);
    expect(tgz.status).toBe(200);
    expect(tgz.headers.get('content-type')).toBe('application/gzip');
    expect((await tgz.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    expect((await fetch(`${c.address.http}/downloads/litepred-agent-9.9.9.tgz`)).status).toBe(404);
    expect((await fetch(`${c.address.http}/downloads/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it('refuses bad options with a clear line and installs nothing', async () => {
    const r = await sh(join(home, 'install.sh'), ['--token', 'nope', '--dir', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--token: an enrolment token starts with lpe_/);
    expect((await sh(join(home, 'install.sh'), ['--threads', 'two'])).stderr).toMatch(/--threads takes a positive whole number/);
    expect((await sh(join(home, 'install.sh'), ['--frobnicate'])).stderr).toMatch(/unknown option --frobnicate/);
    expect(existsSync(dir)).toBe(false);
  });

  it('installs with ws and onnxruntime-node only, nothing to compile, and enrols the board', async () => {
    const { token } = c.store.createEnrolmentToken();
    const r = await sh(join(home, 'install.sh'), ['--token', token, '--dir', dir, '--no-start']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/enrolled as dev_/);
    // The commands it prints can be pasted: the paths in them quoted.
    expect(r.stdout).toContain(`start it with: "${join(dir, 'node_modules/.bin/litepred-agent')}" run --coordinator`);
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules/litepred-agent/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(installed.dependencies).sort()).toEqual(['onnxruntime-node', 'ws']);
    expect(findFiles(join(dir, 'node_modules'), 'binding.gyp')).toEqual([]);
    expect(readdirSync(join(dir, 'node_modules'))).not.toContain('better-sqlite3');
    const devices = c.store.listDevices().filter((d) => d.origin === 'agent');
    expect(devices).toHaveLength(1);
    expect(devices[0]!.fingerprint.runtime).toEqual({ backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' });
    expect(statSync(join(dir, 'agent.json')).mode & 0o077).toBe(0);
  });

  it('runs from the installation: measures a campaign, says its status, stops on SIGTERM, uninstalls', async () => {
    const bin = join(dir, 'node_modules/.bin/litepred-agent');
    const state = join(dir, 'agent.json');
    const deviceId = c.store.listDevices().find((d) => d.origin === 'agent')!.id;
    const agent = spawn(bin, ['run', '--coordinator', c.address.ws, '--state', state, '--capacity', '4'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    agent.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => agent.on('exit', resolve));
    try {
      const campaign = c.store.createCampaign({ name: 'board', configs: smallConfigs(4), deviceIds: [deviceId], protocol: FAST_PROTOCOL });
      await waitFor(
        `the installed agent to measure the campaign (log: ${log})`,
        () => c.store.getCampaign(campaign.id).state === 'done',
        120_000,
      );
      expect(c.store.campaignResults(campaign.id).every((r) => r.state === 'done' && r.latencyMs! > 0)).toBe(true);
      const status = await installed(bin, ['status', '--state', state]);
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toContain(`${deviceId} at ${c.address.http}: connected`);
      expect(status.stdout).toMatch(/4 measurements stored/);
    } finally {
      agent.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const bad = await installed(bin, ['run', '--threads', '0', '--coordinator', c.address.ws]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--threads takes a positive whole number/);
    const gone = await installed(bin, ['uninstall']);
    expect(gone.status, gone.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });
});
