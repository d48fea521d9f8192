// npm run bench:chaos -- --help
// A real coordinator (its own process, `litepred coordinator start`) and real agents (`litepred
// agent`, onnxruntime-node) on loopback through one campaign, while a driver SIGKILLs the
// coordinator and restarts it, SIGKILLs and SIGSTOPs random agents, puts poison configs in the
// campaign (kernels far over the time budget), sends malformed and forged frames, and fires the
// open endpoints' heavy requests (predict, accuracy, similarity). At the end, from the store: every
// task ended exactly once (done with one measurement, or failed with a reason), nothing stuck; and
// the longest /api/health stall while the coordinator was up, the longest any online agent sat
// without work while its tasks were pending. Writes docs/benchmarks/chaos.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { Store } from '@litepred/coordinator';
import { ApiClient, PROTOCOL_VERSION } from '@litepred/protocol';
import { stripWeights } from '@litepred/predictor';
import { benchArgs } from './args.js';
import { median, Report } from './report.js';

const ARGS = benchArgs(
  'npm run bench:chaos --',
  'A coordinator and real agents through one campaign while a driver kills, stops, forges and floods; checks every task ' +
    'ended exactly once.',
  {
    agents: { default: 8, describe: 'real agents (onnxruntime-node, 1 thread each)' },
    configs: { default: 120, describe: 'kernel configs per device in the campaign (small kernels), besides the poison ones' },
    poison: { default: 2, describe: 'configs per device far over the time budget (each must fail, not stall)' },
    'every-ms': { default: 2500, describe: "time between two of the driver's actions" },
    'coordinator-every': { default: 6, describe: 'every n-th action kills and restarts the coordinator' },
    'timeout-minutes': { default: 15, describe: 'give up after this long' },
  },
);

const CLI = new URL('../../cli/bin/litepred.js', import.meta.url).pathname;
const CORPUS_MODEL = new URL('../../test/model-corpus/resnet18-224x224.onnx.gz', import.meta.url);
const STARTER_POOL = new URL('../../coordinator/starter-pool/', import.meta.url).pathname;
/** The pool device the heavy requests predict with and read the accuracy of: it has predictors for every type. */
const POOL_DEVICE = 'pool-node-t1-all';
const PROTOCOL = { warmupRuns: 2, warmupMs: 0, minRuns: 5, maxRuns: 10, maxMs: 50, targetPrecision: 0.05 };
const dir = mkdtempSync(join(tmpdir(), 'litepred-bench-chaos-'));
const database = join(dir, 'chaos.sqlite');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const port = await freePort();
const http = `http://127.0.0.1:${port}`;
const ws = `ws://127.0.0.1:${port}/agent`;
const configFile = join(dir, 'fleet.config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    listen: { host: '127.0.0.1', port },
    database,
    starterPool: STARTER_POOL,
    leaseMs: 10_000,
    heartbeatMs: 1000,
    protocol: PROTOCOL,
  }),
);

/** The coordinator process, started again after every kill on the same store and port. */
let coordinator: ChildProcess | undefined;
let coordinatorUp = false;
async function startCoordinator(): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'coordinator', 'start', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  coordinator = child;
  child.stderr!.resume();
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`coordinator exited (${code}) before listening: ${out}`)));
  });
  coordinatorUp = true;
}
await startCoordinator();
const admin = readFileSync(`${database}.admin-token`, 'utf8').trim();
// The one typed client, with a timeout: a request to a coordinator being killed must not hang the driver.
const api = new ApiClient(http, { adminToken: admin, fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }) });
// The starter pool's predictors, so that the heavy requests do the work they would on a real coordinator.
const poolDeadline = Date.now() + 10 * 60_000;
while ((await api.call('listPredictors', { query: { device: POOL_DEVICE } }).catch(() => [])).length === 0) {
  if (Date.now() > poolDeadline) throw new Error(`no predictors for ${POOL_DEVICE} after 10 minutes`);
  await sleep(1000);
}
say(`the starter pool's predictors are built`);
const { token } = await api.call('createToken', { body: { label: 'chaos', maxUses: null, ttlMs: null } });

/** The agents: each with its own identity file, so a restarted one is the same device. */
const agents: { state: string; child?: ChildProcess; stopped?: boolean }[] = Array.from({ length: ARGS.agents }, (_, i) => ({
  state: join(dir, `agent-${i}.json`),
}));
function startAgent(a: (typeof agents)[number]): void {
  a.child = spawn(
    process.execPath,
    [CLI, 'agent', '--coordinator', ws, '--token', token, '--state', a.state, '--capacity', '4', '--quiet'],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  a.stopped = false;
}
agents.forEach(startAgent);
const deadline = Date.now() + ARGS['timeout-minutes'] * 60_000;
let devices: { id: string; online: boolean }[];
while ((devices = (await api.call('listDevices')).filter((d) => d.origin === 'agent')).length < ARGS.agents) {
  if (Date.now() > deadline) throw new Error('the agents did not enrol');
  await sleep(500);
}
say(`${devices.length} agents enrolled`);

// Distinct small kernels (a campaign refuses a config given twice).
const small = Array.from(
  { length: ARGS.configs },
  (_, i) =>
    [
      { type: 'relu', HW: 8 + Math.floor(i / 3), CIN: 16 },
      { type: 'add', HW: 8 + Math.floor(i / 3), CIN: 8 },
      { type: 'conv-bn-relu', HW: 8 + (Math.floor(i / 3) % 24), CIN: 8 + 8 * Math.floor(i / 72), COUT: 16, KERNEL_SIZE: 3, STRIDES: 1 },
    ][i % 3]!,
);
// Far over the budget: one run takes seconds at any speed this machine has (maxMs is 50 ms).
const poison = Array.from({ length: ARGS.poison }, (_, i) => ({
  type: 'conv-bn-relu',
  HW: 224,
  CIN: 256,
  COUT: 256 - i,
  KERNEL_SIZE: 7,
  STRIDES: 1,
}));
const campaign = await api.call('createCampaign', {
  body: {
    name: 'chaos',
    configs: [...small.slice(0, ARGS.configs >> 1), ...poison, ...small.slice(ARGS.configs >> 1)],
    deviceIds: devices.map((d) => d.id),
  },
});
say(`campaign ${campaign.id}: ${(ARGS.configs + ARGS.poison) * devices.length} tasks`);

// --- observers ------------------------------------------------------------------------------
const health: number[] = [];
let healthFailures = 0;
const healthProbe = setInterval(() => {
  if (!coordinatorUp) return;
  const t = performance.now();
  fetch(`${http}/api/health`, { signal: AbortSignal.timeout(5000) })
    .then((r) => {
      if (!coordinatorUp) return;
      if (r.ok) health.push(performance.now() - t);
      else healthFailures++;
    })
    .catch(() => {
      if (coordinatorUp) healthFailures++;
    });
}, 100);

/** Per device: since when it has been online with pending tasks and nothing leased. */
const idleSince = new Map<string, number>();
let maxIdleMs = 0;
const idleProbe = setInterval(async () => {
  if (!coordinatorUp) return idleSince.clear();
  try {
    const [c, ds] = await Promise.all([api.call('getCampaign', { params: { id: campaign.id } }), api.call('listDevices')]);
    const online = new Set(ds.filter((d) => d.online).map((d) => d.id));
    for (const p of c.progress) {
      const idle = online.has(p.deviceId) && p.pending > 0 && p.leased === 0;
      if (!idle) idleSince.delete(p.deviceId);
      else if (!idleSince.has(p.deviceId)) idleSince.set(p.deviceId, Date.now());
      else maxIdleMs = Math.max(maxIdleMs, Date.now() - idleSince.get(p.deviceId)!);
    }
  } catch {
    /* a restart in progress */
  }
}, 1000);

// --- the driver ------------------------------------------------------------------------------
const counts = {
  coordinatorKills: 0,
  agentKills: 0,
  agentStops: 0,
  forgedSockets: 0,
  malformedFrames: 0,
  heavyRequests: 0,
  heavyStatuses: new Map<number, number>(),
};
const model = Buffer.from(stripWeights(new Uint8Array(gunzipSync(readFileSync(CORPUS_MODEL)))));
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;

async function forge(): Promise<void> {
  // A credential nobody was given: refused in the upgrade.
  await new Promise<void>((resolve) => {
    const s = new WebSocket(ws, { headers: { authorization: 'Bearer lpd_forged', 'x-litepred-protocol': String(PROTOCOL_VERSION) } });
    s.on('unexpected-response', () => resolve())
      .on('error', () => resolve())
      .on('open', () => {
        s.close();
        resolve();
      });
  });
  counts.forgedSockets++;
  // An enrolled newcomer that sends garbage, a forged result and an oversized lease request.
  await new Promise<void>((resolve) => {
    const s = new WebSocket(ws, { headers: { authorization: `Bearer ${token}`, 'x-litepred-protocol': String(PROTOCOL_VERSION) } });
    s.on('error', () => resolve());
    s.on('open', () => {
      s.send('{not json');
      s.send(
        JSON.stringify({
          type: 'results',
          items: [{ taskId: 1, leaseId: 'forged', measurement: { kind: 'model', config: { type: 'arch:x', SEED: 1 }, latencyMs: 1e308 } }],
        }),
      );
      s.send(JSON.stringify({ type: 'lease.request', capacity: 1_000_000 }));
      counts.malformedFrames += 3;
      setTimeout(() => {
        s.terminate();
        resolve();
      }, 300);
    });
  });
}

async function heavy(): Promise<void> {
  const requests = [
    fetch(`${http}/api/devices/${POOL_DEVICE}/predict`, {
      method: 'POST',
      body: model,
      headers: { 'content-type': 'application/octet-stream' },
      signal: AbortSignal.timeout(30_000),
    }),
    fetch(`${http}/api/similarity`, { signal: AbortSignal.timeout(30_000) }),
    fetch(`${http}/api/devices/${POOL_DEVICE}/accuracy`, { signal: AbortSignal.timeout(30_000) }),
  ];
  for (const r of await Promise.allSettled(requests)) {
    counts.heavyRequests++;
    const status = r.status === 'fulfilled' ? r.value.status : 0;
    counts.heavyStatuses.set(status, (counts.heavyStatuses.get(status) ?? 0) + 1);
  }
}

let step = 0;
const started = Date.now();
for (;;) {
  const state = await api
    .call('getCampaign', { params: { id: campaign.id } })
    .then((c) => c.state)
    .catch(() => 'unknown');
  if (state === 'done' || state === 'cancelled') break;
  if (Date.now() > deadline) {
    say('timed out');
    break;
  }
  step++;
  if (step % ARGS['coordinator-every'] === 0) {
    coordinatorUp = false;
    coordinator!.kill('SIGKILL');
    counts.coordinatorKills++;
    await sleep(500);
    await startCoordinator();
    say(`step ${step}: coordinator killed and restarted`);
  } else {
    const a = pick(agents);
    if (a.stopped) {
      a.child!.kill('SIGCONT');
      a.stopped = false;
    }
    if (Math.random() < 0.5) {
      a.child!.kill('SIGKILL');
      counts.agentKills++;
      setTimeout(() => startAgent(a), 1000);
    } else {
      a.child!.kill('SIGSTOP');
      a.stopped = true;
      counts.agentStops++;
      setTimeout(() => {
        if (a.stopped) {
          a.child!.kill('SIGCONT');
          a.stopped = false;
        }
      }, 5000);
    }
    await Promise.all([forge(), heavy()]);
  }
  const done = await api
    .call('getCampaign', { params: { id: campaign.id } })
    .then((c) => c.progress.reduce((s, p) => s + p.done + p.failed, 0))
    .catch(() => NaN);
  say(`step ${step}: ${done} tasks ended, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  await sleep(ARGS['every-ms']);
}
const wallS = (Date.now() - started) / 1000;
clearInterval(healthProbe);
clearInterval(idleProbe);
for (const a of agents) {
  if (a.stopped) a.child!.kill('SIGCONT');
  a.child!.kill('SIGTERM');
}
coordinatorUp = false;
coordinator!.kill('SIGTERM');
await new Promise((r) => coordinator!.once('exit', r));

// --- the verdict, from the store --------------------------------------------------------------
const store = new Store(database, { readonly: true });
// A task has at most one measurement (the store keys them by task), so a latency means measured.
const rows = store
  .campaignResults(campaign.id)
  .map((r) => ({ ...r, hw: (r.config as { HW?: number }).HW, measured: r.latencyMs === null ? 0 : 1 }));
const stored = store.taskCounts(campaign.id);
store.close();
const poisonRows = rows.filter((r) => r.hw === 224);
const verdict = {
  tasks: rows.length,
  done: rows.filter((r) => r.state === 'done').length,
  failed: rows.filter((r) => r.state === 'failed').length,
  stuck: rows.filter((r) => r.state === 'pending' || r.state === 'leased').length,
  doneWithoutMeasurement:
    rows.filter((r) => r.state === 'done' && r.measured !== 1).length + stored.measurements - stored.distinctMeasuredTasks,
  measuredButNotDone: rows.filter((r) => r.state !== 'done' && r.measured > 0).length,
  poisonFailed: poisonRows.filter((r) => r.state === 'failed').length,
  smallFailed: rows.filter((r) => r.hw !== 224 && r.state === 'failed'),
};
const sorted = [...health].sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

const report = new Report(
  'chaos',
  'Chaos: a campaign through kills, stops, forgeries and floods',
  `npm run bench:chaos -- ${process.argv.slice(2).join(' ')}`.trim(),
);
report.text(
  `A coordinator process and ${ARGS.agents} real agents (onnxruntime-node, 1 thread) on loopback, one campaign ` +
    `of ${ARGS.configs} small kernel configs and ${ARGS.poison} poison ones (a 7x7 conv on 224x224x256, seconds a run, ` +
    `against a 50 ms budget) per device. ` +
    `Every ${ARGS['every-ms']} ms the driver acted: every ${ARGS['coordinator-every']}th action a SIGKILL of the ` +
    `coordinator and a restart on the same store; otherwise a SIGKILL (restarted 1 s later) or a 5 s SIGSTOP of a random ` +
    `agent, plus a forged credential, a socket sending garbage, a forged result and an oversized lease request, and ` +
    `three heavy requests at the open endpoints (predict with resnet18, similarity, accuracy; the coordinator imported ` +
    `the starter pool and built its predictors before the campaign, and ${POOL_DEVICE} answers predict and accuracy). ` +
    `/api/health probed every ` +
    `100 ms while the coordinator was up.`,
);
report.table(
  ['what', 'count'],
  [
    ['wall time (s)', wallS.toFixed(0)],
    ['coordinator SIGKILLs', counts.coordinatorKills],
    ['agent SIGKILLs', counts.agentKills],
    ['agent SIGSTOPs (5 s)', counts.agentStops],
    ['forged credentials', counts.forgedSockets],
    ['malformed or forged frames', counts.malformedFrames],
    [
      'heavy requests (status: count)',
      `${counts.heavyRequests} (${[...counts.heavyStatuses].map(([s, n]) => `${s || 'no answer'}: ${n}`).join(', ')})`,
    ],
  ],
);
report.text('From the store at the end (target: 0 lost, 0 duplicates, 0 stuck; every poison task failed, no small one):');
report.table(
  [
    'tasks',
    'done',
    'failed',
    'stuck (pending or leased)',
    'done without exactly one measurement',
    'measured but not done',
    'poison failed',
    'small kernels failed',
  ],
  [
    [
      verdict.tasks,
      verdict.done,
      verdict.failed,
      verdict.stuck,
      verdict.doneWithoutMeasurement,
      verdict.measuredButNotDone,
      `${verdict.poisonFailed} of ${poisonRows.length}`,
      verdict.smallFailed.length,
    ],
  ],
);
if (verdict.smallFailed.length)
  report.text(`Small kernels that failed, and why: ${[...new Set(verdict.smallFailed.map((r) => r.error))].slice(0, 5).join(' | ')}`);
report.text('Responsiveness (targets: /api/health p99 < 100 ms and max < 500 ms; no agent idle > 30 s while its tasks were pending):');
report.table(
  ['health probes', 'failed or timed out', 'median ms', 'p99 ms', 'max ms', 'longest idle with pending tasks (s)'],
  [
    [
      health.length,
      healthFailures,
      median(health).toFixed(1),
      q(0.99).toFixed(1),
      (sorted.at(-1) ?? NaN).toFixed(1),
      (maxIdleMs / 1000).toFixed(1),
    ],
  ],
);
report.write();
process.exit(verdict.stuck || verdict.doneWithoutMeasurement || verdict.measuredButNotDone ? 1 : 0);
