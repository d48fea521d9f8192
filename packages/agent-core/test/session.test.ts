// AgentSession against a scripted coordinator and a scripted profiler: every branch of the loop
// (enrol, lease, results, errors in measuring, ack, disconnect mid-lease, idle, refusal).
import { describe, expect, it, vi } from 'vitest';
import { AgentSession, AgentFatalError, type AgentHost, type AgentSocket, type Identity, type SocketEvents } from '@litepred/agent-core';
import { PROTOCOL_VERSION } from '@litepred/protocol';
import type { KernelProfiler } from '@litepred/profiler';

const runtime = {
  backend: 'ort-node',
  threads: 1,
  graphOptimizationLevel: 'all',
  runtimeVersion: '1.30.0',
  executionProvider: 'cpu',
} as const;

function measurementOf(config: Record<string, unknown>) {
  const s = { n: 5, median: 0.1, p10: 0.1, p90: 0.1, min: 0.1, max: 0.1, mean: 0.1, std: 0, iqm: 0.1, q1mean: 0.1 };
  return {
    config,
    latencyMs: 0.1,
    statistic: 'median',
    kernel: s,
    wall: s,
    boundary: { reorderInMs: 0, reorderOutMs: 0, sinkMs: 0, runOverheadMs: 0, coldWeightsMs: 0 },
    method: 'node-profile',
    warmupRuns: 1,
    converged: true,
    sessionCreateMs: 1,
    runtime,
    measuredAt: new Date().toISOString(),
  };
}

/** A profiler that measures instantly, throwing where `fails` says (the drift reference is a conv-bn-relu of HW 28). */
function fakeProfiler(fails: (config: { type: string; HW?: number }) => boolean = () => false): KernelProfiler {
  return {
    runtime,
    protocol: { rounds: 1 },
    measure: async (config: { type: string; HW?: number }) => {
      await new Promise((r) => setImmediate(r));
      if (fails(config)) throw new Error(`cannot measure ${config.type}`);
      return measurementOf(config);
    },
  } as unknown as KernelProfiler;
}

/** The coordinator's side of the socket, scripted by the test. */
class Script {
  sent: Record<string, any>[] = [];
  events!: SocketEvents;
  sockets = 0;
  identity: Identity | undefined;
  readonly host: AgentHost = {
    url: 'ws://test/agent',
    openSocket: (_secret, events): AgentSocket => {
      this.events = events;
      this.sockets++;
      setImmediate(() => events.open());
      return { open: true, send: (text) => this.sent.push(JSON.parse(text)), close: () => undefined, terminate: () => undefined };
    },
    loadIdentity: () => this.identity,
    saveIdentity: (identity) => {
      this.identity = identity;
    },
    fingerprint: () => ({
      cpuModel: 'cpu',
      cores: 2,
      arch: 'x64',
      os: 'Linux',
      memoryBytes: 1e9,
      runtime: { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' },
      runtimeVersion: '1.30.0',
      executionProvider: 'cpu',
    }),
  };

  say(message: Record<string, unknown>): void {
    this.events.message(JSON.stringify(message));
  }

  async next(type: string, after = 0): Promise<Record<string, any>> {
    await vi.waitFor(() => expect(this.sent.slice(after).some((m) => m.type === type)).toBe(true), { timeout: 5000 });
    return this.sent.slice(after).find((m) => m.type === type)!;
  }

  results(): Record<string, any>[] {
    return this.sent.filter((m) => m.type === 'results').flatMap((m) => m.items);
  }

  async welcome(): Promise<void> {
    await this.next('hello');
    this.say({ type: 'welcome', v: PROTOCOL_VERSION, deviceId: 'dev_1', credential: 'lpd_secret', heartbeatMs: 60_000 });
  }
}

const lease = (id: string, configs: Record<string, unknown>[], first = 1) => ({
  type: 'lease',
  leaseId: id,
  campaignId: 'cmp_1',
  expiresAt: Date.now() + 60_000,
  protocol: { warmupRuns: 1, warmupMs: 0, minRuns: 1, maxRuns: 2, maxMs: 10, targetPrecision: 0.5 },
  tasks: configs.map((config, i) => ({ taskId: first + i, config })),
});
const relu = (CIN: number) => ({ type: 'relu', HW: 4, CIN });

function start(profiler = fakeProfiler()) {
  const script = new Script();
  const log: string[] = [];
  const session = new AgentSession(script.host, profiler, {
    token: 'lpe_token',
    agentVersion: 'test',
    capacity: 2,
    backoff: { baseMs: 1, maxMs: 2 },
    log: (l) => log.push(l),
  });
  session.start();
  return { script, session, log };
}

describe('AgentSession', () => {
  it('enrols, keeps its identity, measures a lease, reports every task and asks for more', async () => {
    const { script, session } = start();
    await script.welcome();
    expect(script.identity).toEqual({ deviceId: 'dev_1', credential: 'lpd_secret' });
    const request = await script.next('lease.request');
    expect(request.capacity).toBe(2);
    const before = script.sent.length;
    script.say(lease('l1', [relu(8), relu(16)]));
    await script.next('lease.request', before);
    expect(script.results().map((r) => [r.taskId, r.measurement?.config.CIN])).toEqual([
      [1, 8],
      [2, 16],
    ]);
    session.stop();
    await session.done;
  });

  it('flags the measurements of a lease the device was throttling through, and says so once in its log', async () => {
    const { script, session, log } = start();
    const readings = [
      { maxTempC: 70, flagged: false },
      { minFreqRatio: 0.5, maxTempC: 84, flagged: true },
      { minFreqRatio: 0.5, maxTempC: 85, flagged: true },
      { minFreqRatio: 0.5, maxTempC: 86, flagged: true },
    ];
    (script.host as { throttle?: () => unknown }).throttle = () => readings.shift();
    await script.welcome();
    await script.next('lease.request');
    let before = script.sent.length;
    script.say(lease('l1', [relu(8), relu(16)]));
    await script.next('lease.request', before);
    expect(script.results().map((r) => r.measurement.throttle)).toEqual([
      { minFreqRatio: 0.5, maxTempC: 84, flagged: true },
      { minFreqRatio: 0.5, maxTempC: 84, flagged: true },
    ]);
    before = script.sent.length;
    script.say(lease('l2', [relu(24)]));
    await script.next('lease.request', before);
    expect(script.results().at(-1)!.measurement.throttle).toEqual({ minFreqRatio: 0.5, maxTempC: 86, flagged: true });
    expect(log.filter((l) => /throttling/.test(l))).toHaveLength(1);
    session.stop();
  });

  it('fails a task its kernel cannot be measured for, with the reason, and measures the others', async () => {
    const { script, session } = start(fakeProfiler((c) => c.type === 'relu' && (c as { CIN?: number }).CIN === 16));
    await script.welcome();
    await script.next('lease.request');
    script.say(lease('l1', [relu(8), relu(16)]));
    await vi.waitFor(() => expect(script.results()).toHaveLength(2));
    expect(script.results()[1]).toMatchObject({ taskId: 2, error: 'cannot measure relu' });
    expect(script.results()[0].measurement).toBeDefined();
    session.stop();
  });

  it(
    'survives a measurement path that throws (the drift reference): the lease fails with the reason and it asks for ' + 'more work',
    async () => {
      const { script, session } = start(fakeProfiler((c) => c.type === 'conv-bn-relu'));
      await script.welcome();
      await script.next('lease.request');
      const before = script.sent.length;
      script.say(lease('l1', [relu(8), relu(16)]));
      await script.next('lease.request', before);
      expect(script.results().map((r) => [r.taskId, r.error])).toEqual([
        [1, "the agent's measurement failed: cannot measure conv-bn-relu"],
        [2, "the agent's measurement failed: cannot measure conv-bn-relu"],
      ]);
      session.stop();
    },
  );

  it('re-sends what was not acknowledged after a reconnect, and nothing that was', async () => {
    const { script, session } = start();
    await script.welcome();
    await script.next('lease.request');
    const before = script.sent.length;
    script.say(lease('l1', [relu(8), relu(16)]));
    await script.next('lease.request', before);
    script.say({ type: 'ack', taskIds: [1] });
    // The connection drops; the session reconnects with its credential and says hello again.
    const mark = script.sent.length;
    script.events.closed('dropped');
    await vi.waitFor(() => expect(script.sockets).toBe(2));
    await script.next('hello', mark);
    script.say({ type: 'welcome', v: PROTOCOL_VERSION, deviceId: 'dev_1', heartbeatMs: 60_000 });
    const resent = await script.next('results', mark);
    expect(resent.items.map((r: { taskId: number }) => r.taskId)).toEqual([2]);
    session.stop();
  });

  it('asks again after the idle retry, and stops for good on a refusal', async () => {
    const { script, session } = start();
    await script.welcome();
    await script.next('lease.request');
    const before = script.sent.length;
    script.say({ type: 'idle', retryMs: 5 });
    await script.next('lease.request', before);
    script.events.refused('device revoked');
    await expect(session.done).rejects.toBeInstanceOf(AgentFatalError);
  });
});
