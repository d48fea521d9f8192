// npm run bench:fleet -- [--agents 1000] [--tasks 100]
// The coordinator as its own process; simulated agents speaking the real protocol over loopback
// (no ONNX Runtime): they enrol, lease, and answer every task at once with a realistic result.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { encode, PROTOCOL_VERSION, type CoordinatorMessage, type Fingerprint, type WireMeasurement } from '@litepred/protocol';
import { median, Report } from './report.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const AGENTS = arg('agents', 1000);
const TASKS_PER_DEVICE = arg('tasks', 100);
const CAPACITY = 64;

const CLI = new URL('../../cli/bin/litepred.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'litepred-bench-fleet-'));
const db = join(dir, 'fleet.sqlite');

const fingerprint: Fingerprint = {
  cpuModel: 'simulated', cores: 4, arch: 'arm64', os: 'Linux', memoryBytes: 4e9,
  runtime: { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' }, runtimeVersion: '1.30.0', executionProvider: 'cpu',
};
const stats = { n: 30, median: 0.5, p10: 0.48, p90: 0.55, min: 0.47, max: 0.7, mean: 0.51, std: 0.02, iqm: 0.5, q1mean: 0.48 };
const measurementFor = (config: WireMeasurement['config']): WireMeasurement => ({
  config, latencyMs: 0.5, statistic: 'median', kernel: stats, wall: stats,
  boundary: { reorderInMs: 0.01, reorderOutMs: 0.01, sinkMs: 0.004, runOverheadMs: 0.05, coldWeightsMs: 0.01 }, method: 'node-profile',
  profileNodeOverheadUs: 3, warmupRuns: 10, converged: true, sessionCreateMs: 2, measuredAt: new Date().toISOString(),
  runtime: { ...fingerprint.runtime, runtimeVersion: '1.30.0', executionProvider: 'cpu' }, drift: { ratioBefore: 1, ratioAfter: 1.01, flagged: false },
});

const encoded = new Map<string, string>();
/** A config's measurement as JSON, encoded once (the same JSON.stringify an agent's encode() does). */
function encodedMeasurement(config: WireMeasurement['config']): string {
  const key = JSON.stringify(config);
  let json = encoded.get(key);
  if (!json) encoded.set(key, (json = JSON.stringify(measurementFor(config))));
  return json;
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

async function main(): Promise<void> {
  const coordinator = spawn(process.execPath, [...(process.env.LITEPRED_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.LITEPRED_BENCH_PROFILE] : []), CLI, 'coordinator', 'start', '--database', db, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const http = await new Promise<string>((resolve, reject) => {
    let out = '';
    coordinator.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    coordinator.on('exit', (code) => reject(new Error(`coordinator exited (${code})`)));
  });
  const ws = http.replace('http', 'ws') + '/agent';
  const admin = readFileSync(`${db}.admin-token`, 'utf8').trim();
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${http}${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const { token } = await post('/api/tokens', { label: 'bench' }) as { token: string };
  const rssBefore = rssKiB(coordinator.pid!);

  // Connect and enrol every simulated agent, a few at a time.
  const sockets: WebSocket[] = [];
  const deviceIds: string[] = [];
  const tConnect = performance.now();
  for (let i = 0; i < AGENTS; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, AGENTS - i) }, () => new Promise<void>((resolve, reject) => {
      const s = new WebSocket(ws, { headers: { authorization: `Bearer ${token}`, 'x-litepred-protocol': String(PROTOCOL_VERSION) } });
      s.once('open', () => s.send(encode({ type: 'hello', v: PROTOCOL_VERSION, fingerprint, agentVersion: 'bench' })));
      s.once('message', (d) => {
        const m = JSON.parse(d.toString()) as CoordinatorMessage;
        if (m.type !== 'welcome') return reject(new Error(`expected welcome, got ${d.toString()}`));
        deviceIds.push(m.deviceId);
        sockets.push(s);
        resolve();
      });
      s.once('error', reject);
    })));
  }
  const connectS = (performance.now() - tConnect) / 1000;
  const rssConnected = rssKiB(coordinator.pid!);

  const configs = Array.from({ length: TASKS_PER_DEVICE }, (_, i) => ({ type: 'conv-bn-relu', HW: 7 + (i % 50), CIN: 16, COUT: 32, KERNEL_SIZE: 3, STRIDES: 1 }));
  const fast = { warmupRuns: 1, warmupMs: 0, minRuns: 1, maxRuns: 1, maxMs: 1, targetPrecision: 1 };

  /**
   * One campaign over every agent. Each agent asks for a lease of `capacity`, waits `paceMs` (the
   * time a real agent spends measuring), answers every task, and asks again after the ack.
   */
  async function phase(name: string, tasksPerDevice: number, capacity: number, paceMs: number) {
    const tCreate = performance.now();
    const campaign = await post('/api/campaigns', { name, configs: configs.slice(0, tasksPerDevice), deviceIds, protocol: fast }) as { id: string };
    const createS = (performance.now() - tCreate) / 1000;
    const dispatchMs: number[] = [];
    const acked = new Set<number>();
    let sent = 0;
    const t0 = performance.now();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
      let askedAt = 0;
      const ask = () => { askedAt = performance.now(); s.send(encode({ type: 'lease.request', capacity })); };
      const onMessage = (d: Buffer) => {
        const m = JSON.parse(d.toString()) as CoordinatorMessage;
        if (m.type === 'lease') {
          dispatchMs.push(performance.now() - askedAt);
          sent += m.tasks.length;
          // Frames assembled from pre-encoded measurements: the simulator must not be what limits the rate.
          const answer = () => s.send(`{"type":"results","items":[${m.tasks.map((t) =>
            `{"taskId":${t.taskId},"leaseId":"${m.leaseId}","measurement":${encodedMeasurement(t.config)}}`).join(',')}]}`);
          if (paceMs > 0) setTimeout(answer, paceMs); else answer();
        } else if (m.type === 'ack') {
          for (const id of m.taskIds) acked.add(id);
          ask();
        } else if (m.type === 'idle') {
          s.off('message', onMessage);
          resolve();
        } else if (m.type === 'error') {
          console.error(`coordinator error: ${m.code}: ${m.message}`);
        }
      };
      s.on('message', onMessage);
      // Spread the first requests of a paced phase over one pace, as agents that started at different times would.
      setTimeout(ask, paceMs > 0 ? Math.random() * paceMs : 0);
    })));
    const seconds = (performance.now() - t0) / 1000;
    const status = await (await fetch(`${http}/api/campaigns/${campaign.id}`)).json() as { progress: { done: number }[] };
    const stored = status.progress.reduce((sum, p) => sum + p.done, 0);
    return { createS, dispatchMs, acked: acked.size, sent, stored, seconds, tasks: tasksPerDevice * AGENTS };
  }

  const saturated = await phase('saturation', TASKS_PER_DEVICE, CAPACITY, 0);
  const rssAfter = rssKiB(coordinator.pid!);
  const paced = await phase('paced', 40, 8, 1600);
  for (const s of sockets) s.close();
  coordinator.kill('SIGTERM');
  await new Promise((r) => coordinator.once('exit', r));

  const pct = (xs: number[], q: number) => { const o = [...xs].sort((a, b) => a - b); return o[Math.min(o.length - 1, Math.floor(q * o.length))]!; };
  const report = new Report('fleet', 'Fleet benchmark: one coordinator, many agents', `npm run bench:fleet -- ${args.join(' ')}`.trim());
  report.text(`The coordinator runs as its own process (\`litepred coordinator start\`, SQLite in WAL mode on local disk). ${AGENTS} simulated agents ` +
    'in one other process speak the real protocol over loopback: each enrols with a token, asks for a lease, answers every task with a realistic ' +
    'measurement (~1.2 kB of JSON, validated by the coordinator like any other), and asks again after the ack. No ONNX Runtime: this measures the ' +
    'coordinator, not the kernels. Both processes share the machine\'s 2 cores.');
  report.text(`**Saturation**: ${TASKS_PER_DEVICE} tasks per device, leases of ${CAPACITY}, answered at once: the most the coordinator can ingest; every ` +
    `lease request waits behind the whole fleet\'s backlog. **Paced**: 40 tasks per device, leases of 8, each answered 1.6 s later (as an agent ` +
    `measuring 8 kernels of 200 ms would): about ${Math.round((AGENTS * 8) / 1.6).toLocaleString('en')} results/s offered.`);
  const row = (label: string, f: (p: typeof saturated) => string, target = '') => [label, f(saturated), f(paced), target];
  report.table(['measure', 'saturation', 'paced', 'target'], [
    row('concurrent agents held', () => `${sockets.length}`, '≥ 1,000'),
    row('campaign creation', (p) => `${p.tasks.toLocaleString('en')} tasks in ${p.createS.toFixed(2)} s`),
    row('results ingested per second (stored and acknowledged)', (p) => Math.round(p.acked / p.seconds).toLocaleString('en'), '≥ 20,000'),
    row('lease dispatch latency p50', (p) => `${median(p.dispatchMs).toFixed(1)} ms`),
    row('lease dispatch latency p99', (p) => `${pct(p.dispatchMs, 0.99).toFixed(1)} ms`, '< 50 ms'),
    row('results sent / acknowledged / stored', (p) => `${p.sent} / ${p.acked} / ${p.stored}`),
    row('results lost (acknowledged but not stored)', (p) => `${p.acked - p.stored}`, '0'),
  ]);
  report.table(['coordinator memory', 'value'], [
    ['RSS idle → all agents connected → after the saturation phase', `${(rssBefore / 1024).toFixed(0)} → ${(rssConnected / 1024).toFixed(0)} → ${(rssAfter / 1024).toFixed(0)} MiB`],
    ['per connection (connected − idle) / agents', `${((rssConnected - rssBefore) / AGENTS).toFixed(1)} KiB`],
    ['connect + enrol all agents', `${connectS.toFixed(1)} s`],
  ]);
  report.write();
  for (const p of [saturated, paced]) if (p.acked !== p.stored || p.stored !== p.tasks) process.exitCode = 1;
}

await main();
