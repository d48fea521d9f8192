// The agent's protocol loop, the same for the Node agent and the browser agent: enrols or
// re-connects, takes leases, profiles them, streams results, and re-sends whatever was not
// acknowledged after a reconnect. Stateless but for the device identity its host keeps: kill it at
// any moment and leased tasks go back to the pool when the lease expires or the socket drops.
import {
  encode,
  isArchitectureTask,
  parseCoordinatorMessage,
  PROTOCOL_VERSION,
  TaskResultSchema,
  type AgentMessage,
  type CoordinatorMessage,
  type Fingerprint,
  type TaskResult,
  type WireMeasurement,
  type WireModelMeasurement,
} from '@litepred/protocol';
import { measureWithDriftChecks, type KernelProfiler, type RuntimeInfo, type ThrottleInfo } from '@litepred/profiler';
import { measureArchitectures } from './architectures.js';

export interface Identity {
  deviceId: string;
  credential: string;
}

/** An open (or opening) connection to the coordinator, whatever carries it. */
export interface AgentSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Drop the connection at once (a peer that went silent). */
  terminate(): void;
  readonly open: boolean;
}

export interface SocketEvents {
  open(): void;
  message(text: string): void;
  /** A transport-level sign of life (a WebSocket ping, where the platform shows them). */
  alive(): void;
  /** The connection closed or could not be made; the session backs off and reconnects. */
  closed(reason?: string): void;
  /** The coordinator refused in a way retrying cannot fix: bad credential, other protocol version. */
  refused(message: string): void;
}

/** What a platform supplies: a socket, a place for the identity, a description of the device. */
export interface AgentHost {
  /** The coordinator's agent endpoint (ws://host:port/agent). */
  readonly url: string;
  /** Connect presenting `secret` (a device credential or an enrolment token) and PROTOCOL_VERSION. */
  openSocket(secret: string, events: SocketEvents): AgentSocket;
  loadIdentity(): Identity | undefined;
  saveIdentity(identity: Identity): void;
  fingerprint(runtime: RuntimeInfo): Fingerprint;
  /** The device's clock and temperature now, where it can tell (a board's sysfs); absent in a browser. */
  throttle?(): ThrottleInfo | undefined;
}

export interface SessionOptions {
  /** Enrolment token, used when the host has no identity yet. */
  token?: string;
  /** Tasks asked for per lease. */
  capacity?: number;
  backoff?: { baseMs: number; maxMs: number };
  agentVersion: string;
  log?: (line: string) => void;
  /** Called with every state change, for a page or a progress line. */
  onStatus?: (status: SessionStatus) => void;
  /**
   * Why the device should not take work now (a browser tab in the background is throttled, and so
   * would its measurements be), or undefined. Asked before every lease request; the lease in hand
   * is finished.
   */
  pausedBecause?: () => string | undefined;
}

export interface SessionStatus {
  state: 'connecting' | 'connected' | 'measuring' | 'idle' | 'paused' | 'waiting' | 'stopped' | 'refused';
  deviceId?: string;
  measured: number;
  acknowledged: number;
  lastKernel?: string;
  message?: string;
}

/**
 * When an idle agent asks again: the coordinator's retryMs, spread by ±50%. Agents that went idle
 * together (a campaign ended) would otherwise poll in lockstep and all arrive in the same instant
 * when the next campaign starts; bench:fleet shows what 1,000 simultaneous requests cost the last one.
 */
export function idleRetryDelay(retryMs: number, random: () => number = Math.random): number {
  return Math.round(retryMs * (0.5 + random()));
}

/** A refusal that retrying cannot fix: a revoked credential, a bad token, another protocol version. */
export class AgentFatalError extends Error {}

type Lease = Extract<CoordinatorMessage, { type: 'lease' }>;

/** How often a paused session asks again whether it may work. */
const PAUSE_RECHECK_MS = 1000;

export class AgentSession {
  private socket: AgentSocket | undefined;
  private identity: Identity | undefined;
  private readonly unacked = new Map<number, TaskResult>();
  /** Tasks of the lease in hand already reported (work() fails the rest if measuring throws). */
  private readonly reported = new Set<number>();
  private working = false;
  private stopped = false;
  /** Whether the log has said this device throttles (said again after a lease that did not). */
  private throttleSaid = false;
  private attempt = 0;
  private readonly log: (line: string) => void;
  private finished!: (error?: Error) => void;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private silenceTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private heartbeatMs = 10_000;
  private readonly status: SessionStatus = { state: 'connecting', measured: 0, acknowledged: 0 };
  readonly done: Promise<void>;

  constructor(
    private readonly host: AgentHost,
    private readonly profiler: KernelProfiler,
    private readonly options: SessionOptions,
  ) {
    this.log = options.log ?? (() => undefined);
    this.done = new Promise<void>((resolve, reject) => {
      this.finished = (error) => (error ? reject(error) : resolve());
    });
    this.identity = host.loadIdentity();
    if (!this.identity && !options.token) throw new AgentFatalError(`no device identity for ${host.url}: an enrolment token is needed`);
  }

  get deviceId(): string | undefined {
    return this.identity?.deviceId;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.socket?.close(1000, 'agent stopping');
    this.setStatus({ state: 'stopped' });
    this.finished();
  }

  private setStatus(change: Partial<SessionStatus>): void {
    Object.assign(this.status, change, { deviceId: this.identity?.deviceId });
    this.options.onStatus?.({ ...this.status });
  }

  private clearTimers(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.silenceTimer);
    clearInterval(this.heartbeatTimer);
  }

  private connect(): void {
    if (this.stopped) return;
    this.setStatus({ state: 'connecting' });
    const secret = this.identity?.credential ?? this.options.token!;
    let socket: AgentSocket | undefined = undefined;
    const current = () => socket !== undefined && this.socket === socket;
    socket = this.host.openSocket(secret, {
      open: () => {
        if (!current()) return;
        this.attempt = 0;
        this.heard();
        this.send({
          type: 'hello',
          v: PROTOCOL_VERSION,
          fingerprint: this.host.fingerprint(this.profiler.runtime),
          agentVersion: this.options.agentVersion,
        });
      },
      message: (text) => {
        if (!current()) return;
        this.heard();
        this.onMessage(text);
      },
      alive: () => {
        if (current()) this.heard();
      },
      closed: (reason) => {
        if (!current()) return;
        if (reason) this.log(reason);
        this.reconnect();
      },
      refused: (message) => {
        if (current()) this.fatal(new AgentFatalError(message));
      },
    });
    this.socket = socket;
  }

  /**
   * Both sides heartbeat: the coordinator pings (where the platform shows pings) and answers the
   * agent's application-level heartbeat, which browsers need because they cannot ping. Hearing
   * nothing for three intervals means the connection is dead (a half-open TCP connection never
   * closes by itself): drop it and reconnect.
   */
  private heard(): void {
    clearTimeout(this.silenceTimer);
    const socket = this.socket;
    this.silenceTimer = setTimeout(() => {
      if (this.socket !== socket || !socket) return;
      this.log(`no word from the coordinator for ${3 * this.heartbeatMs} ms; reconnecting`);
      socket.terminate();
      this.reconnect();
    }, 3 * this.heartbeatMs);
  }

  /** Exponential backoff with full jitter, so a fleet does not reconnect in lockstep. */
  private reconnect(): void {
    if (this.stopped) return;
    this.socket = undefined;
    this.clearTimers();
    const { baseMs, maxMs } = this.options.backoff ?? { baseMs: 250, maxMs: 10_000 };
    const delay = Math.random() * Math.min(maxMs, baseMs * 2 ** this.attempt++);
    this.log(`reconnecting in ${delay.toFixed(0)} ms`);
    this.setStatus({ state: 'waiting', message: `reconnecting in ${(delay / 1000).toFixed(1)} s` });
    setTimeout(() => this.connect(), delay);
  }

  private fatal(error: Error): void {
    this.stopped = true;
    this.clearTimers();
    this.socket?.terminate();
    this.setStatus({ state: 'refused', message: error.message });
    this.finished(error);
  }

  private send(message: AgentMessage): void {
    if (this.socket?.open) this.socket.send(encode(message));
  }

  private onMessage(raw: string): void {
    const parsed = parseCoordinatorMessage(raw);
    if (!parsed.ok) return this.log(`bad message from coordinator: ${parsed.error}`);
    const msg: CoordinatorMessage = parsed.message;
    switch (msg.type) {
      case 'welcome':
        this.heartbeatMs = msg.heartbeatMs;
        clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = setInterval(() => this.send({ type: 'heartbeat', t: Date.now() }), this.heartbeatMs);
        if (msg.credential) {
          this.identity = { deviceId: msg.deviceId, credential: msg.credential };
          this.host.saveIdentity(this.identity);
          this.log(`enrolled as ${msg.deviceId}`);
        } else {
          this.log(`connected as ${msg.deviceId}`);
        }
        this.setStatus({ state: 'connected', message: undefined });
        this.resendUnacked();
        if (!this.working) this.requestLease();
        return;
      case 'lease':
        void this.work(msg);
        return;
      case 'idle':
        this.setStatus({ state: 'idle' });
        this.idleTimer = setTimeout(() => this.requestLease(), idleRetryDelay(msg.retryMs));
        return;
      case 'ack':
        for (const id of msg.taskIds) this.unacked.delete(id);
        this.setStatus({ acknowledged: this.status.acknowledged + msg.taskIds.length });
        return;
      case 'error':
        this.log(`coordinator: ${msg.code}: ${msg.message}`);
        return;
      case 'heartbeat':
        return;
    }
  }

  private requestLease(): void {
    const paused = this.options.pausedBecause?.();
    if (paused) {
      this.setStatus({ state: 'paused', message: paused });
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.requestLease(), PAUSE_RECHECK_MS);
      return;
    }
    this.send({ type: 'lease.request', capacity: this.options.capacity ?? 8 });
  }

  private resendUnacked(): void {
    const items = [...this.unacked.values()];
    for (let i = 0; i < items.length; i += 256) this.send({ type: 'results', items: items.slice(i, i + 256) });
  }

  /**
   * Measures a lease and asks for the next. Whatever goes wrong in the measurement path (a drift
   * check that throws, a runtime that fails to open a session) fails the lease's tasks not yet
   * reported, with the reason, and the session goes on: an agent is never left measuring nothing.
   */
  private async work(lease: Lease): Promise<void> {
    this.working = true;
    this.reported.clear();
    this.log(`lease ${lease.leaseId}: ${lease.tasks.length} task(s) of campaign ${lease.campaignId}`);
    this.setStatus({ state: 'measuring' });
    try {
      if (lease.tasks.every((t) => isArchitectureTask(t.config))) {
        const results = await measureArchitectures(
          this.profiler,
          lease.tasks.map((t) => t.config),
          lease.protocol,
        );
        for (const [k, item] of results.entries()) this.report(lease, lease.tasks[k]!, item);
      } else await this.measureKernels(lease);
    } catch (error) {
      const reason = `the agent's measurement failed: ${(error as Error).message}`;
      this.log(`lease ${lease.leaseId}: ${reason}`);
      if (!this.stopped)
        for (const task of lease.tasks) if (!this.reported.has(task.taskId)) this.report(lease, task, { error: new Error(reason) });
    } finally {
      this.working = false;
    }
    if (!this.stopped) this.requestLease();
  }

  private async measureKernels(lease: Lease): Promise<void> {
    let i = 0;
    const before = this.host.throttle?.();
    let throttle: ThrottleInfo | undefined;
    // Reference checks bracket each lease, so a lease measured while the device drifted is
    // flagged; its results are therefore sent when the lease's closing check is done.
    for await (const item of measureWithDriftChecks(
      this.profiler,
      lease.tasks.map((t) => t.config),
      { every: lease.tasks.length, protocol: lease.protocol },
    )) {
      // Results come once the lease's closing drift check is done: the clock read now is the one under load.
      if (i === 0) throttle = this.throttleAround(before, this.host.throttle?.());
      // The profiler's Measurement is the wire measurement (checked field by field by the schema on arrival).
      this.report(lease, lease.tasks[i++]!, {
        measurement: item.measurement && throttle ? { ...item.measurement, throttle } : item.measurement,
        error: item.error,
      });
      if (this.stopped) return;
    }
  }

  /** The lease's throttle reading: the clock after it, the hotter temperature; said once in the log when it flags. */
  private throttleAround(before: ThrottleInfo | undefined, after: ThrottleInfo | undefined): ThrottleInfo | undefined {
    if (!before && !after) return undefined;
    const temps = [before?.maxTempC, after?.maxTempC].filter((t): t is number => t !== undefined);
    const info: ThrottleInfo = {
      ...(after?.minFreqRatio !== undefined ? { minFreqRatio: after.minFreqRatio } : {}),
      ...(temps.length ? { maxTempC: Math.max(...temps) } : {}),
      flagged: Boolean(before?.flagged || after?.flagged),
    };
    if (info.flagged && !this.throttleSaid) {
      this.throttleSaid = true;
      const clock = info.minFreqRatio !== undefined ? `CPU clock at ${(100 * info.minFreqRatio).toFixed(0)}% of its maximum` : undefined;
      const heat = info.maxTempC !== undefined ? `${info.maxTempC.toFixed(0)} °C` : undefined;
      this.log(
        `this device is throttling (${[clock, heat].filter(Boolean).join(', ')}): its measurements are flagged; ` +
          'cool it or give it a steady power supply',
      );
    }
    if (!info.flagged) this.throttleSaid = false;
    return info;
  }

  private report(
    lease: Lease,
    task: Lease['tasks'][number],
    item: { measurement?: WireMeasurement | WireModelMeasurement; error?: Error },
  ): void {
    let result: TaskResult = item.measurement
      ? { taskId: task.taskId, leaseId: lease.leaseId, measurement: item.measurement }
      : { taskId: task.taskId, leaseId: lease.leaseId, error: item.error?.message ?? 'unknown error' };
    // Validated here as the coordinator will: a result it would refuse becomes an explicit
    // failure with the reason, rather than a task that stays leased forever.
    const check = TaskResultSchema.safeParse(result);
    if (!check.success) {
      const issue = check.error.issues[0]!;
      result = {
        taskId: task.taskId,
        leaseId: lease.leaseId,
        error: `measurement failed validation: ${issue.path.join('.')}: ${issue.message}`,
      };
    }
    this.reported.add(task.taskId);
    this.unacked.set(task.taskId, result);
    this.setStatus({ measured: this.status.measured + 1, lastKernel: task.config.type });
    this.send({ type: 'results', items: [result] });
  }
}
