// `litepred-agent`: the agent as a command of its own, for a board that has Node and nothing of the
// monorepo (bundled with its packages into one file by build-standalone.mjs; installed by the
// coordinator's /install.sh). Arguments with node:util parseArgs: the bundle carries no yargs.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent } from './agent.js';
import { runAgent } from './run.js';
import { STANDALONE_VERSION } from './standalone.js';

const USAGE = `litepred-agent ${STANDALONE_VERSION}: puts this machine in a litepred fleet (onnxruntime-node, CPU).

Usage:
  litepred-agent run --coordinator ws://HOST:7420 [--token lpe_...] [options]
      enrol with the token (first time) or re-connect, and profile what the coordinator leases
      --threads N          intra-op threads (default 1)
      --opt-level LEVEL    graph optimization: disabled, basic, extended, all (default all)
      --capacity N         tasks per lease (default 8)
      --state FILE         the device identity (default ~/.litepred/agent.json)
      --quiet              no log lines
  litepred-agent enrol --coordinator ws://HOST:7420 --token lpe_... [--state FILE]
      enrol and exit (the identity is kept in --state; run then needs no token)
  litepred-agent status [--state FILE] [--json]
      which coordinator(s) this machine is enrolled with, as which device, and what the coordinator says of it
  litepred-agent uninstall [--purge]
      remove what /install.sh installed (its directory and its systemd unit); --purge also the identity
  litepred-agent --help | --version
`;

class UsageError extends Error {}

const DEFAULT_STATE = join(homedir(), '.litepred', 'agent.json');

function options(args: string[], spec: Record<string, { type: 'string' | 'boolean' }>) {
  try {
    return parseArgs({ args, options: { ...spec, help: { type: 'boolean' } }, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | undefined
    >;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const positiveInt = (name: string, text: string | boolean | undefined, fallback: number) => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} takes a positive whole number, not '${String(text)}'`);
  return n;
};

async function run(args: string[]): Promise<void> {
  const o = options(args, {
    coordinator: { type: 'string' },
    token: { type: 'string' },
    threads: { type: 'string' },
    'opt-level': { type: 'string' },
    capacity: { type: 'string' },
    state: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (o.help) return void process.stdout.write(USAGE);
  if (typeof o.coordinator !== 'string') throw new UsageError('run needs --coordinator ws://HOST:PORT');
  const level = (o['opt-level'] ?? 'all') as string;
  if (!['disabled', 'basic', 'extended', 'all'].includes(level))
    throw new UsageError(`--opt-level: disabled, basic, extended or all, not '${level}'`);
  await runAgent({
    coordinator: o.coordinator,
    token: o.token as string | undefined,
    stateFile: (o.state as string | undefined) ?? DEFAULT_STATE,
    capacity: positiveInt('capacity', o.capacity, 8),
    runtime: { backend: 'ort-node', threads: positiveInt('threads', o.threads, 1), graphOptimizationLevel: level as 'all' },
    log: o.quiet ? undefined : (line) => console.error(`[agent] ${line}`),
  });
}

/** Enrols and exits: connects with the token until the coordinator has welcomed this machine and its identity is saved. */
async function enrol(args: string[]): Promise<void> {
  const o = options(args, { coordinator: { type: 'string' }, token: { type: 'string' }, state: { type: 'string' } });
  if (o.help) return void process.stdout.write(USAGE);
  if (typeof o.coordinator !== 'string' || typeof o.token !== 'string')
    throw new UsageError('enrol needs --coordinator ws://HOST:PORT and --token lpe_...');
  const agent = new Agent({
    coordinator: o.coordinator,
    token: o.token,
    stateFile: (o.state as string | undefined) ?? DEFAULT_STATE,
    runtime: { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' },
    capacity: 1,
  });
  let failed: Error | undefined;
  agent.done.catch((e: Error) => {
    failed = e;
  });
  await agent.start();
  const deadline = Date.now() + 60_000;
  while (!agent.deviceId && !failed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await agent.stop();
  if (failed) throw failed;
  if (!agent.deviceId) throw new Error(`no answer from ${o.coordinator} within 60 s`);
  console.log(`enrolled as ${agent.deviceId}`);
}

interface DeviceView {
  id: string;
  online: boolean;
  revoked: boolean;
  lastSeenAt: number;
  measurements: number;
  working: { name: string; leased: number }[];
}

async function status(args: string[]): Promise<void> {
  const o = options(args, { state: { type: 'string' }, json: { type: 'boolean' } });
  if (o.help) return void process.stdout.write(USAGE);
  const file = (o.state as string | undefined) ?? DEFAULT_STATE;
  if (!existsSync(file)) throw new Error(`not enrolled: no identity in ${file} (litepred-agent run --coordinator ... --token ... enrols)`);
  const identities = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { deviceId: string }>;
  type Row = { coordinator: string; deviceId: string; error?: string; device?: DeviceView };
  const rows = await Promise.all(
    Object.entries(identities).map(async ([url, { deviceId }]): Promise<Row> => {
      const http = url.replace(/^ws/, 'http').replace(/\/agent$/, '');
      try {
        const res = await fetch(`${http}/api/overview`, { signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const device = ((await res.json()) as { devices: DeviceView[] }).devices.find((d) => d.id === deviceId);
        return { coordinator: http, deviceId, device };
      } catch (e) {
        return { coordinator: http, deviceId, error: (e as Error).message };
      }
    }),
  );
  const described = rows.map(({ coordinator, deviceId, error, device: d }) => ({
    coordinator,
    deviceId,
    reachable: error === undefined,
    error,
    known: d !== undefined,
    state: d && (d.revoked ? 'revoked' : d.online ? 'connected' : 'not connected'),
    lastSeenAt: d && new Date(d.lastSeenAt).toISOString(),
    measurements: d?.measurements,
    working: d?.working,
  }));
  if (o.json) return void console.log(JSON.stringify(described, null, 2));
  for (const r of described) {
    if (!r.reachable) console.log(`${r.deviceId} at ${r.coordinator}: coordinator not reachable (${r.error})`);
    else if (!r.known) console.log(`${r.deviceId} at ${r.coordinator}: the coordinator does not know this device (enrol again)`);
    else {
      const work = r.working?.length ? r.working.map((w) => `${w.leased} task(s) of ${w.name}`).join(', ') : 'none';
      console.log(
        `${r.deviceId} at ${r.coordinator}: ${r.state}, last seen ${r.lastSeenAt}, ${r.measurements} measurements ` +
          `stored, current work: ${work}`,
      );
    }
  }
}

/** What /install.sh left beside the installation: its directory and the systemd unit it wrote, if any. */
interface InstallMarker {
  dir: string;
  unit?: string;
  unitScope?: 'user' | 'system';
  state?: string;
}

function uninstall(args: string[]): void {
  const o = options(args, { purge: { type: 'boolean' } });
  if (o.help) return void process.stdout.write(USAGE);
  // The bundle runs from <dir>/node_modules/litepred-agent/; only a directory install.sh marked is removed.
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const markerFile = join(dir, 'litepred-agent-install.json');
  if (!existsSync(markerFile))
    throw new Error(`${dir} was not installed by install.sh (no litepred-agent-install.json): remove it by hand`);
  const marker = JSON.parse(readFileSync(markerFile, 'utf8')) as InstallMarker;
  if (marker.unit) {
    console.log(
      `the systemd unit ${marker.unit} is left to systemctl: run  ` +
        `systemctl ${marker.unitScope === 'user' ? '--user ' : ''}disable --now litepred-agent && rm ${marker.unit}`,
    );
  }
  if (o.purge && marker.state && existsSync(marker.state)) {
    rmSync(marker.state);
    console.log(`removed the device identity ${marker.state}`);
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`removed ${dir}${o.purge ? '' : ' (the device identity stays; --purge removes it too)'}`);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version') console.log(STANDALONE_VERSION);
    else if (command === undefined || command === '--help' || command === 'help') process.stdout.write(USAGE);
    else if (command === 'run') await run(rest);
    else if (command === 'enrol') await enrol(rest);
    else if (command === 'status') await status(rest);
    else if (command === 'uninstall') uninstall(rest);
    else throw new UsageError(`unknown command '${command}'`);
    return 0;
  } catch (e) {
    console.error(`litepred-agent: ${(e as Error).message}`);
    if (e instanceof UsageError) console.error('Run litepred-agent --help for usage.');
    return e instanceof UsageError ? 2 : 1;
  }
}
