// The Node agent: AgentSession (the protocol loop, shared with the browser agent) over `ws`, with
// its identity in a state file and an `os` fingerprint.
import { WebSocket } from 'ws';
import { AgentFatalError, AgentSession, type AgentSocket, type SocketEvents } from '@litepred/agent-core';
import { PROTOCOL_VERSION, type RuntimeOptions } from '@litepred/protocol';
import { KernelProfiler, type ProfilerOptions } from '@litepred/profiler';
import { nodeFingerprint } from './fingerprint.js';
import { loadIdentity, saveIdentity } from './state.js';
import { readThrottle } from './throttle.js';

export { AgentFatalError };

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
  /** Where Linux's sysfs is (throttle.ts; tests point it at a directory of their own). */
  sysfsRoot?: string;
}

const AGENT_VERSION = '0.1.0';

/** A `ws` connection as an AgentSocket: credential in the Authorization header, refusals read from the 401/426 body. */
function openWs(url: string, secret: string, events: SocketEvents): AgentSocket {
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${secret}`, 'x-litepred-protocol': String(PROTOCOL_VERSION) },
    maxPayload: 1024 * 1024,
  });
  let refused = false;
  ws.on('unexpected-response', (_req, res) => {
    let body = '';
    res.on('data', (d: Buffer) => {
      body += d.toString();
    });
    res.on('end', () => {
      const message = (() => {
        try {
          return JSON.parse(body).error as string;
        } catch {
          return body || res.statusMessage;
        }
      })();
      if (res.statusCode === 401 || res.statusCode === 426) {
        refused = true;
        return events.refused(`coordinator refused the connection (${res.statusCode}): ${message}`);
      }
      events.closed(`coordinator answered ${res.statusCode}: ${message}`);
    });
  });
  ws.on('open', () => events.open());
  ws.on('message', (data) => events.message(data.toString()));
  ws.on('ping', () => events.alive());
  ws.on('close', () => {
    if (!refused) events.closed();
  });
  ws.on('error', (error) => events.closed(`connection: ${error.message}`));
  return {
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    get open() {
      return ws.readyState === WebSocket.OPEN;
    },
  };
}

export class Agent {
  private session: AgentSession | undefined;
  private readonly url: string;
  private stopped = false;
  private settle!: { resolve: () => void; reject: (e: Error) => void };
  readonly done: Promise<void>;

  constructor(private readonly options: AgentOptions) {
    this.url = options.coordinator
      .replace(/^http/, 'ws')
      .replace(/\/+$/, '')
      .replace(/(\/agent)?$/, '/agent');
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  get deviceId(): string | undefined {
    return this.session?.deviceId;
  }

  /** Calibrates the profiler, then connects; resolves once the first connection attempt is under way. */
  async start(): Promise<void> {
    const { url, options } = this;
    if (!loadIdentity(options.stateFile, url) && !options.token)
      throw new AgentFatalError(`no identity for ${url} in ${options.stateFile}: pass --token to enrol`);
    const profiler = await KernelProfiler.create({ ...options.profiler, runtime: options.runtime });
    if (this.stopped) return;
    this.session = new AgentSession(
      {
        url,
        openSocket: (secret, events) => openWs(url, secret, events),
        loadIdentity: () => loadIdentity(options.stateFile, url),
        saveIdentity: (identity) => saveIdentity(options.stateFile, url, identity),
        fingerprint: nodeFingerprint,
        throttle: () => readThrottle(options.sysfsRoot),
      },
      profiler,
      { token: options.token, capacity: options.capacity, backoff: options.backoff, agentVersion: AGENT_VERSION, log: options.log },
    );
    this.session.done.then(this.settle.resolve, this.settle.reject);
    this.session.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.session) this.session.stop();
    else this.settle.resolve();
  }
}
