// The Node agent: enrols or re-connects, takes leases, profiles kernels, streams results, and
// re-sends whatever was not acknowledged after a reconnect. Kill it at any moment: leased tasks
// go back to the pool when its lease expires or its socket drops, and nothing acknowledged is lost.
import { WebSocket } from 'ws';
import {
  encode, isArchitectureTask, parseCoordinatorMessage, PROTOCOL_VERSION, TaskResultSchema, type AgentMessage, type CoordinatorMessage, type RuntimeOptions, type TaskResult,
  type WireMeasurement, type WireModelMeasurement,
} from '@litepred/protocol';
import { measureArchitectures } from './architectures.js';
import { KernelProfiler, measureWithDriftChecks, type ProfilerOptions } from '@litepred/profiler';
import { nodeFingerprint } from './fingerprint.js';
import { loadIdentity, saveIdentity, type Identity } from './state.js';

export interface AgentOptions {
  /** ws://host:port (http:// is accepted too). */
  coordinator: string;
  /** Enrolment token, used when there is no identity for this coordinator yet. */
  token?: string;
  /** Where the device identity is kept. */
  stateFile: string;
  runtime: RuntimeOptions;
  /** Tasks asked for per lease. */
  capacity?: number;
  /** Skip the profiler's start-up calibrations (tests); see ProfilerOptions. */
  profiler?: Omit<ProfilerOptions, 'runtime'>;
  backoff?: { baseMs: number; maxMs: number };
  log?: (line: string) => void;
}

/** A refusal that retrying cannot fix: a revoked credential, a bad token, another protocol version. */
export class AgentFatalError extends Error {}

const AGENT_VERSION = '0.1.0';

export class Agent {
  private ws: WebSocket | undefined;
  private identity: Identity | undefined;
  private profiler!: KernelProfiler;
  private readonly unacked = new Map<number, TaskResult>();
  private working = false;
  private stopped = false;
  private attempt = 0;
  private readonly url: string;
  private readonly log: (line: string) => void;
  private finished!: (error?: Error) => void;
  private idleTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private heartbeatMs = 10_000;
  readonly done: Promise<void>;

  constructor(private readonly options: AgentOptions) {
    this.url = options.coordinator.replace(/^http/, 'ws').replace(/\/+$/, '').replace(/(\/agent)?$/, '/agent');
    this.log = options.log ?? (() => undefined);
    this.done = new Promise<void>((resolve, reject) => {
      this.finished = (error) => (error ? reject(error) : resolve());
    });
  }

  get deviceId(): string | undefined {
    return this.identity?.deviceId;
  }

  /** Calibrates the profiler, then connects; resolves once the first connection attempt is under way. */
  async start(): Promise<void> {
    this.identity = loadIdentity(this.options.stateFile, this.url);
    if (!this.identity && !this.options.token) throw new AgentFatalError(`no identity for ${this.url} in ${this.options.stateFile}: pass --token to enrol`);
    this.profiler = await KernelProfiler.create({ ...this.options.profiler, runtime: this.options.runtime });
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.silenceTimer);
    this.ws?.close(1000, 'agent stopping');
    this.finished();
  }

  private connect(): void {
    if (this.stopped) return;
    const secret = this.identity?.credential ?? this.options.token!;
    const ws = new WebSocket(this.url, { headers: { authorization: `Bearer ${secret}`, 'x-litepred-protocol': String(PROTOCOL_VERSION) }, maxPayload: 1024 * 1024 });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => {
        const message = (() => { try { return JSON.parse(body).error as string; } catch { return body || res.statusMessage; } })();
        if (res.statusCode === 401 || res.statusCode === 426) return this.fatal(new AgentFatalError(`coordinator refused the connection (${res.statusCode}): ${message}`));
        this.log(`coordinator answered ${res.statusCode}: ${message}`);
        this.reconnect();
      });
    });
    ws.on('open', () => {
      this.attempt = 0;
      this.send({ type: 'hello', v: PROTOCOL_VERSION, fingerprint: nodeFingerprint(this.profiler.runtime), agentVersion: AGENT_VERSION });
    });
    ws.on('message', (data) => { this.heard(ws); this.onMessage(data.toString()); });
    ws.on('ping', () => this.heard(ws));
    ws.on('close', () => {
      if (this.ws === ws) this.reconnect();
    });
    ws.on('error', (error) => this.log(`connection: ${error.message}`));
  }

  /**
   * The coordinator pings every heartbeatMs; an agent that hears nothing for three intervals takes
   * the connection for dead (a half-open TCP connection never closes by itself) and reconnects.
   */
  private heard(ws: WebSocket): void {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      if (this.ws !== ws) return;
      this.log(`no word from the coordinator for ${3 * this.heartbeatMs} ms; reconnecting`);
      ws.terminate();
    }, 3 * this.heartbeatMs);
  }

  /** Exponential backoff with full jitter, so a fleet does not reconnect in lockstep. */
  private reconnect(): void {
    if (this.stopped) return;
    this.ws = undefined;
    const { baseMs, maxMs } = this.options.backoff ?? { baseMs: 250, maxMs: 10_000 };
    const delay = Math.random() * Math.min(maxMs, baseMs * 2 ** this.attempt++);
    this.log(`reconnecting in ${delay.toFixed(0)} ms`);
    setTimeout(() => this.connect(), delay);
  }

  private fatal(error: Error): void {
    this.stopped = true;
    clearTimeout(this.silenceTimer);
    this.ws?.terminate();
    this.finished(error);
  }

  private send(message: AgentMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encode(message));
  }

  private onMessage(raw: string): void {
    const parsed = parseCoordinatorMessage(raw);
    if (!parsed.ok) return this.log(`bad message from coordinator: ${parsed.error}`);
    const msg: CoordinatorMessage = parsed.message;
    switch (msg.type) {
      case 'welcome':
        this.heartbeatMs = msg.heartbeatMs;
        if (msg.credential) {
          this.identity = { deviceId: msg.deviceId, credential: msg.credential };
          saveIdentity(this.options.stateFile, this.url, this.identity);
          this.log(`enrolled as ${msg.deviceId}`);
        } else {
          this.log(`connected as ${msg.deviceId}`);
        }
        this.resendUnacked();
        if (!this.working) this.requestLease();
        return;
      case 'lease':
        void this.work(msg);
        return;
      case 'idle':
        this.idleTimer = setTimeout(() => this.requestLease(), msg.retryMs);
        return;
      case 'ack':
        for (const id of msg.taskIds) this.unacked.delete(id);
        return;
      case 'error':
        this.log(`coordinator: ${msg.code}: ${msg.message}`);
        return;
      case 'heartbeat':
        return;
    }
  }

  private requestLease(): void {
    this.send({ type: 'lease.request', capacity: this.options.capacity ?? 8 });
  }

  private resendUnacked(): void {
    const items = [...this.unacked.values()];
    for (let i = 0; i < items.length; i += 256) this.send({ type: 'results', items: items.slice(i, i + 256) });
  }

  private async work(lease: Extract<CoordinatorMessage, { type: 'lease' }>): Promise<void> {
    this.working = true;
    try {
      if (lease.tasks.every((t) => isArchitectureTask(t.config))) {
        const results = await measureArchitectures(this.profiler, lease.tasks.map((t) => t.config), lease.protocol);
        for (const [k, item] of results.entries()) this.report(lease, lease.tasks[k]!, item);
      } else await this.measureKernels(lease);
    } finally {
      this.working = false;
    }
    if (!this.stopped) this.requestLease();
  }

  private async measureKernels(lease: Extract<CoordinatorMessage, { type: 'lease' }>): Promise<void> {
    let i = 0;
    // Reference checks bracket each lease, so a lease measured while the device drifted is
    // flagged; its results are therefore sent when the lease's closing check is done.
    for await (const item of measureWithDriftChecks(this.profiler, lease.tasks.map((t) => t.config), { every: lease.tasks.length, protocol: lease.protocol })) {
      // The profiler's Measurement is the wire measurement (checked field by field by the schema on arrival).
      this.report(lease, lease.tasks[i++]!, { measurement: item.measurement as unknown as WireMeasurement, error: item.error });
      if (this.stopped) return;
    }
  }

  private report(lease: Extract<CoordinatorMessage, { type: 'lease' }>, task: { taskId: number }, item: { measurement?: WireMeasurement | WireModelMeasurement; error?: Error }): void {
    let result: TaskResult = item.measurement
      ? { taskId: task.taskId, leaseId: lease.leaseId, measurement: item.measurement }
      : { taskId: task.taskId, leaseId: lease.leaseId, error: item.error?.message ?? 'unknown error' };
    // Validated here as the coordinator will: a result it would refuse becomes an explicit
    // failure with the reason, rather than a task that stays leased forever.
    const check = TaskResultSchema.safeParse(result);
    if (!check.success) {
      const issue = check.error.issues[0]!;
      result = { taskId: task.taskId, leaseId: lease.leaseId, error: `measurement failed validation: ${issue.path.join('.')}: ${issue.message}` };
    }
    this.unacked.set(task.taskId, result);
    this.send({ type: 'results', items: [result] });
  }
}
