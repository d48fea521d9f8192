// npm run bench:fleet -- --help
// The coordinator as its own process; simulated agents speaking the real protocol over loopback
// (no ONNX Runtime): they enrol, lease, and answer every task at once with a realistic result.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { ApiClient, encode, PROTOCOL_VERSION, type CoordinatorMessage } from '@litepred/protocol';
import { SimulatedAgents, type Start } from './fleet-agents.js';
import { simulatedFingerprint } from './fleet-fixtures.js';
import { benchArgs } from './args.js';
import { median, Report } from './report.js';

const ARGS = benchArgs(
  'npm run bench:fleet --',
  'One coordinator process and many simulated agents speaking the real protocol over loopback.',
  {
    agents: { default: 1000, describe: 'simulated agents' },
    tasks: { default: 100, describe: 'tasks per device' },
    rounds: { default: 3, describe: 'rounds of the three phases' },
    pace: { default: 1600, describe: 'ms a paced agent takes per lease of 8' },
    probes: { default: 4, describe: 'probe agents in a process of their own' },
    'probe-cadence': { default: 25, describe: "ms between a probe agent's tasks" },
  },
);
const AGENTS = ARGS.agents;
const TASKS_PER_DEVICE = ARGS.tasks;
/**
 * The three phases (saturation all at once, saturation from polling, paced), repeated on the same fleet: this VM's speed moves between
 * minutes.
 */
const ROUNDS = ARGS.rounds;
/** How long a simulated agent of the paced phase takes per lease of 8 (ms): 1600 offers about 5,000 results/s from 1,000 agents. */
const PACE_MS = ARGS.pace;
const CAPACITY = 64;
/** Probe agents in a process of their own (fleet-probe.ts), each asking for one task every PROBE_CADENCE_MS. */
const PROBES = ARGS.probes;
const PROBE_CADENCE_MS = ARGS['probe-cadence'];

const CLI = new URL('../../cli/bin/litepred.js', import.meta.url).pathname;
/** The repository's default fleet config, given to the coordinator explicitly: its leaseMs dates each lease (below). */
const FLEET_CONFIG = new URL('../../fleet.config.json', import.meta.url).pathname;
/** A lease's expiresAt is the coordinator's Date.now() when it made the lease plus this. */
const LEASE_MS = (JSON.parse(readFileSync(FLEET_CONFIG, 'utf8')) as { leaseMs?: number }).leaseMs ?? 120_000;
const dir = mkdtempSync(join(tmpdir(), 'litepred-bench-fleet-'));
const db = join(dir, 'fleet.sqlite');

const fingerprint = simulatedFingerprint('simulated');

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

const pct = (xs: number[], q: number) => {
  const o = [...xs].sort((a, b) => a - b);
  return o[Math.min(o.length - 1, Math.floor(q * o.length))]!;
};

async function main(): Promise<void> {
  const coordinator = spawn(
    process.execPath,
    [
      ...(process.env.LITEPRED_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.LITEPRED_BENCH_PROFILE] : []),
      CLI,
      'coordinator',
      'start',
      '--config',
      FLEET_CONFIG,
      '--database',
      db,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const http = await new Promise<string>((resolve, reject) => {
    let out = '';
    coordinator.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    coordinator.on('exit', (code) => reject(new Error(`coordinator exited (${code})`)));
  });
  // Drained: a pipe nobody reads fills up, and the coordinator's next log line would block it.
  coordinator.stderr!.resume();
  const ws = http.replace('http', 'ws') + '/agent';
  const admin = readFileSync(`${db}.admin-token`, 'utf8').trim();
  const api = new ApiClient(http, { adminToken: admin });
  const { token } = await api.call('createToken', { body: { label: 'bench', maxUses: null } });
  const rssBefore = rssKiB(coordinator.pid!);

  // Connect and enrol every simulated agent, a few at a time.
  const sockets: WebSocket[] = [];
  const deviceIds: string[] = [];
  const tConnect = performance.now();
  for (let i = 0; i < AGENTS; i += 50) {
    await Promise.all(
      Array.from(
        { length: Math.min(50, AGENTS - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = new WebSocket(ws, {
              headers: { authorization: `Bearer ${token}`, 'x-litepred-protocol': String(PROTOCOL_VERSION) },
              // An all-zero masking key: ws then skips XOR-ing every byte in JS (no bufferutil here), which
              // for 77 kB results frames was a good share of the simulator's CPU, taken from the coordinator
              // it shares two cores with. Frames stay masked on the wire and the coordinator unmasks them as
              // any other; real agents pay for their masking on their own devices.
              generateMask: (mask: Buffer) => void mask.fill(0),
            });
            s.once('open', () => s.send(encode({ type: 'hello', v: PROTOCOL_VERSION, fingerprint, agentVersion: 'bench' })));
            s.once('message', (d) => {
              const m = JSON.parse(d.toString()) as CoordinatorMessage;
              if (m.type !== 'welcome') return reject(new Error(`expected welcome, got ${d.toString()}`));
              deviceIds.push(m.deviceId);
              sockets.push(s);
              resolve();
            });
            s.once('error', reject);
          }),
      ),
    );
  }
  const connectS = (performance.now() - tConnect) / 1000;
  const rssConnected = rssKiB(coordinator.pid!);

  // The probes: enrolled after the fleet, with a campaign of their own in each phase.
  const probeSamples: { at: number; ms: number }[] = [];
  const probeProcess = fork(new URL('./fleet-probe.js', import.meta.url).pathname, [ws, token, String(PROBES), String(PROBE_CADENCE_MS)]);
  const probeIds = await new Promise<string[]>((resolve, reject) => {
    probeProcess.on('message', (m: { deviceIds?: string[]; at?: number; ms?: number }) => {
      if (m.deviceIds) resolve(m.deviceIds);
      else probeSamples.push({ at: m.at!, ms: m.ms! });
    });
    probeProcess.once('exit', (code) => reject(new Error(`probe process exited (${code})`)));
  });
  const probeConfigs = Array.from({ length: 1500 }, (_, i) => ({
    type: 'conv-bn-relu',
    HW: 7 + (i % 50),
    CIN: 8 + Math.floor(i / 50),
    COUT: 32,
    KERNEL_SIZE: 3,
    STRIDES: 1,
  }));

  const configs = Array.from({ length: TASKS_PER_DEVICE }, (_, i) => ({
    type: 'conv-bn-relu',
    HW: 7 + (i % 50),
    CIN: 16 + Math.floor(i / 50), // distinct: a campaign measures each kernel once per device
    COUT: 32,
    KERNEL_SIZE: 3,
    STRIDES: 1,
  }));
  const fast = { warmupRuns: 1, warmupMs: 0, minRuns: 1, maxRuns: 1, maxMs: 1, targetPrecision: 1 };

  /** One campaign over every agent (fleet-agents.ts says how they behave), with the probes' campaign beside it. */
  async function phase(name: string, tasksPerDevice: number, capacity: number, paceMs: number, start: Start) {
    const agents = new SimulatedAgents(sockets, fingerprint, { capacity, paceMs, start, leaseMs: LEASE_MS });
    // Polling agents: two retry periods, so that every agent is in its own phase of the retry cycle.
    if (start === 'polling') await new Promise((r) => setTimeout(r, 2_000));
    const probeCampaign = await api.call('createCampaign', {
      body: { name: `${name} (probes)`, configs: probeConfigs, deviceIds: probeIds, protocol: fast },
    });
    const tCreate = performance.now();
    const createWallStart = Date.now();
    const campaign = await api.call('createCampaign', {
      body: { name, configs: configs.slice(0, tasksPerDevice), deviceIds, protocol: fast },
    });
    const createS = (performance.now() - tCreate) / 1000;
    // The probes keep asking while the campaign is created: what a fleet at work sees meanwhile
    // (read at the end of the phase: a probe reports a request once it is answered).
    const createWallEnd = Date.now();
    const duringCreate = () => probeSamples.filter((x) => x.at + x.ms >= createWallStart && x.at <= createWallEnd).map((x) => x.ms);
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const wallStart = Date.now();
    // Polling agents start on the first tasks in while the campaign is still being created.
    const t0 = start === 'polling' ? tCreate : performance.now();
    agents.begin();
    const timings = await agents.done;
    const seconds = (performance.now() - t0) / 1000;
    loopDelay.disable();
    const wallEnd = Date.now();
    await api.call('cancelCampaign', { params: { id: probeCampaign.id } });
    const probeMs = probeSamples.filter((x) => x.at >= wallStart && x.at <= wallEnd).map((x) => x.ms);
    const simulatorLagP99Ms = loopDelay.percentile(99) / 1e6;
    const status = await api.call('getCampaign', { params: { id: campaign.id } });
    const stored = status.progress.reduce((sum, p) => sum + p.done, 0);
    return {
      ...timings,
      acked: timings.acked.size,
      createS,
      duringCreateMs: duringCreate(),
      probeMs,
      simulatorLagP99Ms,
      stored,
      seconds,
      tasks: tasksPerDevice * AGENTS,
    };
  }

  /** Seconds until the coordinator has built the full-data predictors a finished campaign asks for (in its worker). */
  async function buildsSettled(): Promise<number> {
    const t = performance.now();
    for (;;) {
      const h = await api.call('health');
      if (h.pendingBuilds === 0) return (performance.now() - t) / 1000;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const buildSeconds: number[] = [];

  const saturatedRounds: Awaited<ReturnType<typeof phase>>[] = [];
  const pollingRounds: Awaited<ReturnType<typeof phase>>[] = [];
  const pacedRounds: Awaited<ReturnType<typeof phase>>[] = [];
  let rssAfter = 0;
  for (let r = 1; r <= ROUNDS; r++) {
    saturatedRounds.push(await phase(`saturation ${r}`, TASKS_PER_DEVICE, CAPACITY, 0, 'together'));
    if (r === 1) rssAfter = rssKiB(coordinator.pid!);
    buildSeconds.push(await buildsSettled());
    pollingRounds.push(await phase(`saturation, polling ${r}`, TASKS_PER_DEVICE, CAPACITY, 0, 'polling'));
    buildSeconds.push(await buildsSettled());
    pacedRounds.push(await phase(`paced ${r}`, 40, 8, PACE_MS, 'spread'));
    buildSeconds.push(await buildsSettled());
    console.error(
      `round ${r}/${ROUNDS}: saturation ${Math.round(saturatedRounds.at(-1)!.acked / saturatedRounds.at(-1)!.seconds)} ` +
        `results/s, p99 dispatch ${pct(saturatedRounds.at(-1)!.dispatchMs, 0.99).toFixed(1)} ms (from ` +
        `polling ${pct(pollingRounds.at(-1)!.dispatchMs, 0.99).toFixed(1)} ms); paced p99 ` +
        `dispatch ${pct(pacedRounds.at(-1)!.dispatchMs, 0.99).toFixed(1)} ms`,
    );
  }
  // What an open dashboard costs the coordinator (it polls this every 2 s), on the store the rounds left
  // (a bare fetch: the time is the coordinator's, not the client's checking of a large answer).
  const overviewMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const res = await fetch(`${http}/api/overview`);
    if (!res.ok) throw new Error(`/api/overview: ${res.status}`);
    await res.arrayBuffer();
    overviewMs.push(performance.now() - t);
  }
  const storedTotal = [...saturatedRounds, ...pollingRounds, ...pacedRounds].reduce((a, p) => a + p.stored, 0);
  for (const s of sockets) s.close();
  probeProcess.send('stop');
  coordinator.kill('SIGTERM');
  await new Promise((r) => coordinator.once('exit', r));

  const report = new Report(
    'fleet',
    'Fleet benchmark: one coordinator, many agents',
    `npm run bench:fleet -- ${process.argv.slice(2).join(' ')}`.trim(),
  );
  report.text(
    `The coordinator runs as its own process (\`litepred coordinator start\`, SQLite in WAL mode on local ` +
      `disk). ${AGENTS} simulated agents ` +
      'in one other process speak the real protocol over loopback: each enrols with a token, asks for a lease, answers ' +
      'every task with a realistic ' +
      'measurement (~1.2 kB of JSON, validated by the coordinator like any other), and asks again after the ack. No ONNX ' +
      'Runtime: this measures the ' +
      "coordinator, not the kernels. Both processes share the machine's 2 cores.",
  );
  report.text(
    `**Saturation**: ${TASKS_PER_DEVICE} tasks per device, leases of ${CAPACITY}, answered at once: the most the ` +
      `coordinator can ingest; every ` +
      "lease request waits behind the whole fleet's backlog. It starts two ways: **all at once**, every agent's first " +
      'request sent in the same instant ' +
      '(the worst case: nothing in a real fleet synchronises its agents like that), and **from polling**, the agents ' +
      'already idle and asking every ' +
      "second ±50% as agent-core's agents do (`idleRetryDelay`) when the campaign is created, which is how a campaign " +
      'starts on a real fleet. ' +
      "Ingest is counted from the end of the campaign's creation, or from its start when the agents poll (they start on its first tasks " +
      'while the rest are inserted, and the last of them only asks up to 1.5 s later), to the last result acknowledged. ' +
      `**Paced**: 40 tasks per device, leases of 8, each answered ${(PACE_MS / 1000).toFixed(1)} s later (as an agent ` +
      `measuring 8 kernels of ${(PACE_MS / 8).toFixed(0)} ms would): ` +
      `about ${Math.round((AGENTS * 8) / (PACE_MS / 1000)).toLocaleString('en')} results/s offered.`,
  );
  report.text(
    `Dispatch latency is timed three ways: by the simulated agents (request sent to lease read, in the simulator's ` +
      `process, so its own event-loop lag is in it: ` +
      `1,000 agents that would each have a device of their own share one loop here); for each agent's first request also ` +
      `on the coordinator's clock ` +
      `(request sent to lease made, from the lease's expiry time; to the millisecond), which leaves the simulator's lag ` +
      `out; and by ${PROBES} probe agents in a process of their own that ask for one ` +
      `task ${PROBE_CADENCE_MS} ms after their previous lease arrived (from a campaign of their own, running through ` +
      `every phase) and answer it at once: what the coordinator itself takes to answer a lease request under that load. ` +
      `Started all at once, about half of a saturation phase's lease requests are the ${AGENTS.toLocaleString('en')} first ones, ` +
      "answered one after the other, so the last waits for all the others; the row without each agent's first request is " +
      'the steady state after that herd.',
  );
  type Phase = (typeof saturatedRounds)[number];
  const columns = [saturatedRounds, pollingRounds, pacedRounds];
  /** The median over rounds, with the range when there is more than one round. */
  const over = (rounds: Phase[], f: (p: Phase) => number, fmt: (x: number) => string) => {
    const xs = rounds.map(f);
    return xs.length > 1 ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : fmt(xs[0]!);
  };
  const row = (label: string, f: (p: Phase) => number, fmt: (x: number) => string, target = '') => [
    label,
    ...columns.map((rounds) => over(rounds, f, fmt)),
    target,
  ];
  const total = (rounds: Phase[], f: (p: Phase) => number) => rounds.reduce((a, p) => a + f(p), 0);
  if (ROUNDS > 1)
    report.text(
      `${ROUNDS} rounds (the three phases in turn) on the same connected fleet; each cell is the median over rounds with ` +
        `the range in brackets. Each finished campaign makes the coordinator build full-data predictors for ` +
        `all ${AGENTS} devices (what a finished profiling campaign does; planned in a worker thread, saved by the ` +
        `coordinator); each phase starts once those are done, and how long they took is its own row.`,
    );
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  report.table(
    ['measure', 'saturation, all at once', 'saturation, from polling', 'paced', 'target'],
    [
      ['concurrent agents held', ...columns.map(() => `${sockets.length}`), '≥ 1,000'],
      row(
        'campaign creation, s',
        (p) => p.createS,
        (x) => x.toFixed(2),
      ),
      row(
        'probe lease dispatch, longest of the requests out while the campaign was being created',
        (p) => Math.max(0, ...p.duringCreateMs),
        ms,
      ),
      ['tasks per campaign', ...columns.map((r) => r[0]!.tasks.toLocaleString('en')), ''],
      row(
        'results ingested per second (stored and acknowledged)',
        (p) => p.acked / p.seconds,
        (x) => Math.round(x).toLocaleString('en'),
        '≥ 20,000',
      ),
      row('lease dispatch latency p50', (p) => median(p.dispatchMs), ms),
      row('lease dispatch latency p99', (p) => pct(p.dispatchMs, 0.99), ms, '< 50 ms'),
      row("lease dispatch latency p99, each agent's first request left out", (p) => pct(p.laterDispatchMs, 0.99), ms),
      row("each agent's first request, sent → lease made (coordinator's clock), p50", (p) => median(p.firstCoordinatorMs), ms),
      row("each agent's first request, sent → lease made (coordinator's clock), p99", (p) => pct(p.firstCoordinatorMs, 0.99), ms),
      row("simulator's own event-loop delay p99 (part of the simulated agents' rows)", (p) => p.simulatorLagP99Ms, ms),
      row(`lease dispatch latency p50, ${PROBES} probe agents in their own process`, (p) => median(p.probeMs), ms),
      row(`lease dispatch latency p99, ${PROBES} probe agents in their own process`, (p) => pct(p.probeMs, 0.99), ms, '< 50 ms'),
      row(
        'probe lease requests timed',
        (p) => p.probeMs.length,
        (x) => String(Math.round(x)),
      ),
      [
        'results sent / acknowledged / stored (all rounds)',
        ...columns.map((r) => `${total(r, (p) => p.sent)} / ${total(r, (p) => p.acked)} / ${total(r, (p) => p.stored)}`),
        '',
      ],
      ['results lost (acknowledged but not stored)', ...columns.map((r) => `${total(r, (p) => p.acked - p.stored)}`), '0'],
      [
        'full-data predictor builds for every device after the campaign, s',
        ...columns.map((_, k) => {
          const xs = buildSeconds.filter((_, i) => i % columns.length === k);
          return xs.length > 1
            ? `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`
            : xs[0]!.toFixed(1);
        }),
        '',
      ],
    ],
  );
  report.table(
    ['coordinator memory', 'value'],
    [
      [
        'RSS idle → all agents connected → after the first saturation phase',
        `${(rssBefore / 1024).toFixed(0)} → ${(rssConnected / 1024).toFixed(0)} → ${(rssAfter / 1024).toFixed(0)} MiB`,
      ],
      ['per connection (connected − idle) / agents', `${((rssConnected - rssBefore) / AGENTS).toFixed(1)} KiB`],
      ['connect + enrol all agents', `${connectS.toFixed(1)} s`],
      [
        `GET /api/overview (the dashboard's poll) with ${storedTotal.toLocaleString('en')} measurements stored, median of 5`,
        `${median(overviewMs).toFixed(1)} ms`,
      ],
    ],
  );
  report.write();
  for (const p of [...saturatedRounds, ...pollingRounds, ...pacedRounds])
    if (p.acked !== p.stored || p.stored !== p.tasks) process.exitCode = 1;
}

await main();
