// Journey 1 on a board that has Node and nothing of litepred: the coordinator's /install.sh,
// run with sh, installs the standalone agent package it serves (ws and onnxruntime-node its only
// dependencies, nothing compiled), enrols; the installed agent measures a campaign, says its status,
// and uninstalls. Real parts: a coordinator on loopback, npm, sh, the installed agent's process.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '@litepred/coordinator';
import { FAST_PROTOCOL, smallConfigs, tempDir, waitFor } from './helpers/fleet.js';

const CLI = new URL('../cli/bin/litepred.js', import.meta.url).pathname;
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

/**
 * A PATH with what a board that never built anything has: sh, node, npm, curl and the basic file
 * tools, and no compiler, make or python3 (an install that compiles anything fails on it).
 */
function bareBoardPath(): string {
  const bin = join(home, 'board-bin');
  mkdirSync(bin, { recursive: true });
  for (const tool of ['sh', 'node', 'npm', 'curl', 'env', 'mkdir', 'cat', 'dirname', 'id', 'rm', 'chmod', 'ls', 'uname']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (!found) throw new Error(`${tool} is not on this machine`);
    if (!existsSync(join(bin, tool))) symlinkSync(found, join(bin, tool));
  }
  return bin;
}

type Ran = { status: number | null; stdout: string; stderr: string };

/** sh, as a board runs the script; asynchronous, as the coordinator it downloads from runs in this process. */
function sh(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return shell([script, ...args], env);
}

function shell(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const child = spawn('sh', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    // A board's HOME; npm may use its cache of the packages (the same versions the project installs).
    env: { ...boardEnv(), ...env },
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

  it('installs from the line token create prints, on a PATH without compilers: ws and onnxruntime-node only; enrols', async () => {
    const created = await installed(process.execPath, [
      CLI,
      'token',
      'create',
      '--json',
      '--url',
      c.address.http,
      '--admin-token',
      c.newAdminToken!,
    ]);
    expect(created.status, created.stderr).toBe(0);
    const { install } = JSON.parse(created.stdout) as { install: string };
    const path = bareBoardPath();
    expect(spawnSync('sh', ['-c', 'command -v g++ || command -v make || command -v python3'], { env: { PATH: path } }).status).not.toBe(0);
    const r = await shell(['-c', `${install} --dir '${dir}' --no-start`], { PATH: path });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/enrolled as dev_/);
    // The unit's commands below (the service test) run on this machine's PATH: a systemd unit runs node by its absolute path.
    // The commands it prints can be pasted: the paths in them quoted.
    expect(r.stdout).toContain(`start it with: "${join(dir, 'node_modules/.bin/litepred-agent')}" run --coordinator`);
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/litepred-agent/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['onnxruntime-node', 'ws']);
    expect(findFiles(join(dir, 'node_modules'), 'binding.gyp')).toEqual([]);
    expect(readdirSync(join(dir, 'node_modules'))).not.toContain('better-sqlite3');
    const devices = c.store.listDevices().filter((d) => d.origin === 'agent');
    expect(devices).toHaveLength(1);
    expect(devices[0]!.fingerprint.runtime).toEqual({ backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' });
    expect(statSync(join(dir, 'agent.json')).mode & 0o077).toBe(0);
  });

  it('installs as a systemd user service: a unit whose command runs the agent, reloaded and enabled', async () => {
    // No systemd here: a systemctl that records its calls stands in for it, and the test starts the
    // unit's ExecStart itself, as systemd would, to see that command bring the board online.
    const fakeBin = join(home, 'fake-bin');
    mkdirSync(fakeBin);
    const calls = join(home, 'systemctl-calls');
    writeFileSync(join(fakeBin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\n`, { mode: 0o755 });
    const config = join(home, 'config');
    const r = await sh(join(home, 'install.sh'), ['--dir', dir, '--service', 'user'], {
      PATH: `${fakeBin}:${process.env.PATH}`,
      XDG_CONFIG_HOME: config,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const unitFile = join(config, 'systemd/user/litepred-agent.service');
    expect(r.stdout).toContain(`installed as the systemd unit ${unitFile}`);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['--user daemon-reload', '--user enable --now litepred-agent']);
    const unit = readFileSync(unitFile, 'utf8');
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^WantedBy=default\.target$/m);
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!;
    expect(execStart).toContain(`"${join(dir, 'agent.json')}"`);
    const deviceId = c.store.listDevices().find((d) => d.origin === 'agent')!.id;
    const connected = new Promise<void>((resolve) => c.store.events.on('device.connected', (id) => id === deviceId && resolve()));
    const service = spawn('sh', ['-c', `exec ${execStart}`], { stdio: 'ignore', env: boardEnv() });
    const exited = new Promise<number | null>((resolve) => service.on('exit', resolve));
    try {
      await connected;
    } finally {
      service.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'litepred-agent-install.json'), 'utf8'))).toMatchObject({ unit: unitFile, unitScope: 'user' });
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
    expect(gone.stdout).toContain('systemctl --user disable --now litepred-agent'); // the unit is the user's to remove
    expect(existsSync(dir)).toBe(false);
  });
});
