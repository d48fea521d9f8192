// The coordinator: HTTP API and the agents' WebSocket endpoint over one listening socket.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CloseCode,
  encode,
  encodeLease,
  ErrorCode,
  MAX_FRAME_BYTES,
  parseAgentMessage,
  PROTOCOL_VERSION,
  readSubprotocols,
  subprotocolVersion,
  type CoordinatorMessage,
  type Fingerprint,
  type WireMeasurementProtocol,
} from '@litepred/protocol';
import { isStalePredictor, type PredictorData } from '@litepred/predictor';
import { DEFAULT_PROTOCOL } from '@litepred/profiler';
import { AdaptationRunner } from './adaptation.js';
import { PredictorBuilds } from './build-worker.js';
import type { ApiContext, Peer } from './api-context.js';
import { handleApi } from './api.js';
import { Checkpointer } from './checkpointer.js';
import { Ingest } from './ingest.js';
import { PredictorService } from './predictor-service.js';
import { ReadWorker } from './read-worker.js';
import { PredictorStore } from './predictor-store.js';
import { importStarterPool } from './starter-pool.js';
import { serveInstall } from './install-script.js';
import { serveStatic } from './static.js';
import { Store } from './store.js';

export interface CoordinatorOptions {
  host?: string;
  port?: number;
  database: string;
  /** How long a lease lasts before its tasks go to the next request. */
  leaseMs?: number;
  /** Ping interval; a peer silent for two intervals is dropped. */
  heartbeatMs?: number;
  log?: (line: string) => void;
  /** A directory of starter-pool measurements (JSONL) to import on start; what is imported already is skipped. */
  starterPool?: string;
  /** How adaptation campaigns measure (default: the campaign default). */
  protocol?: WireMeasurementProtocol;
  /** Adapt every newly enrolled device at once with these settings. */
  autoAdapt?: { budget: number; target: number };
  /** Models with more nodes than this are refused by predict (413) before they are parsed. */
  maxModelNodes?: number;
}

/** The default node cap: the corpus's largest model (DenseNet-121) has under 1,000 nodes, a 16,000-node model is answered. */
export const DEFAULT_MAX_MODEL_NODES = 100_000;

interface Connection {
  ws: WebSocket;
  peer: Peer;
  deviceId?: string;
  alive: boolean;
}

/** How results frames are recognised without parsing them (encode() writes `type` first). */
const RESULTS_PREFIX = '{"type":"results"';
const RESULTS_PREFIX_BYTES = Buffer.from(RESULTS_PREFIX);
/**
 * Results frames handled per event-loop turn (a frame holds at most 256 results): a lease request
 * waits at most about this many. Chosen with ingest batches (ingest.ts) and campaign creation steps
 * (store.ts) in three A/Bs in bench:fleet, saturation started from polling agents, 2 runs of 2
 * rounds each way, p99 dispatch: batches 256 and steps 2,000 against the former 1,024 and 5,000
 * (4 frames a turn), 49.5/54.8 vs 79.2/77.3 ms; then 128, 1,000 and 2 frames a turn against that,
 * 38.4/43.4 vs 70.4/53.0 ms (probe agents 12.9/15.7 vs 29.8/36.8); batches of 256 with the rest as
 * now did no better than 128. Ingest stayed within the runs' noise.
 */
const FRAMES_PER_TURN = 2;
/** Beyond this many waiting frames, results are handled as they are read: the queue stays bounded. */
const MAX_DEFERRED_FRAMES = 4096;

function reject(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ` +
      `application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export class Coordinator implements ApiContext {
  readonly store: Store;
  readonly predictors: PredictorStore;
  readonly service: PredictorService;
  /** Whole-model predictions, off this thread. */
  readonly reads: ReadWorker;
  readonly maxModelNodes: number;
  /** How campaigns measure when their request does not say (the fleet config's protocol). */
  readonly campaignProtocol: WireMeasurementProtocol;
  readonly adaptations: AdaptationRunner;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly ingest: Ingest;
  private readonly checkpointer: Checkpointer;
  private readonly connections = new Map<string, Connection>();
  private readonly sockets = new Set<Connection>();
  private readonly deferred: { conn: Connection; raw: Buffer }[] = [];
  private deferredScheduled = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly log: (line: string) => void;
  private readonly autoAdapt: CoordinatorOptions['autoAdapt'];
  private stopping = false;
  private readonly builds: PredictorBuilds;
  /** Set on first start: the admin token, shown once. */
  readonly newAdminToken: string | undefined;

  private constructor(options: CoordinatorOptions) {
    this.log = options.log ?? (() => undefined);
    this.store = new Store(options.database, { autoCheckpoint: false });
    this.checkpointer = new Checkpointer(options.database, 1000, (l) => this.log(l));
    this.newAdminToken = this.store.ensureAdminToken();
    this.predictors = new PredictorStore(this.store);
    this.service = new PredictorService(this.store, this.predictors, this.log);
    this.reads = new ReadWorker(options.database, this.log);
    this.maxModelNodes = options.maxModelNodes ?? DEFAULT_MAX_MODEL_NODES;
    this.campaignProtocol = options.protocol ?? DEFAULT_PROTOCOL;
    this.builds = new PredictorBuilds(options.database, this.service, this.log, this.store.events);
    this.adaptations = new AdaptationRunner(this.store, this.predictors, this.service, {
      protocol: options.protocol ?? DEFAULT_PROTOCOL,
      log: this.log,
      isOnline: (deviceId) => this.connections.has(deviceId),
    });
    // A finished profiling campaign gives its devices full-data predictors: they join the pool.
    this.store.events.on('campaign.done', (campaignId) => setImmediate(() => this.buildAfterCampaign(campaignId)));
    this.store.events.on('adaptation.phase', (id, phase) => this.log(`adaptation ${id}: ${phase}`));
    this.ingest = new Ingest(this.store);
    this.leaseMs = options.leaseMs ?? 120_000;
    this.autoAdapt = options.autoAdapt;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.http = createServer((req, res) => {
      if (serveInstall(req, res) || serveStatic(req, res)) return;
      handleApi(this, req, res).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: error.message }));
      });
    });
    // A browser that offered subprotocols needs one selected back, or it drops the connection.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_FRAME_BYTES,
      handleProtocols: (offered) => (offered.has(subprotocolVersion()) ? subprotocolVersion() : false),
    });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const c = new Coordinator(options);
    for (const id of c.store.interruptedCreations)
      c.log(`campaign ${id} was still being created when the coordinator stopped; cancelled (what it measured stays)`);
    // Leases live in memory, so a new process starts with none. An agent that reconnects with finished
    // work still has it accepted (results are taken for pending tasks too, first one wins).
    if (options.starterPool) {
      const imported = importStarterPool(options.starterPool, c.store);
      if (imported.length) c.log(`starter pool: imported ${imported.join(', ')}`);
      for (const d of c.store.listDevices().filter((x) => x.origin === 'starter-pool')) c.service.buildFullData(d.id);
    }
    // Full-data predictors trained on a feature vector the kernel library has since extended are rebuilt from their measurements.
    for (const d of c.store.listDevices().filter((x) => x.origin !== 'starter-pool')) {
      if (c.predictors.latestPredictors(d.id).some((p) => p.provenance.method === 'full-data' && isStalePredictor(p.data as PredictorData)))
        c.service.buildFullData(d.id);
    }
    c.adaptations.resumeAll();
    await new Promise<void>((resolve, reject) => {
      c.http.once('error', reject);
      c.http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    c.timers.push(setInterval(() => c.heartbeat(), c.heartbeatMs));
    c.timers.push(setInterval(() => c.store.expireLeases(), Math.min(c.leaseMs, 5_000)));
    return c;
  }

  get address(): { host: string; port: number; http: string; ws: string } {
    const a = this.http.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, http: `http://${host}:${a.port}`, ws: `ws://${host}:${a.port}/agent` };
  }

  /** A finished profiling campaign: its devices' full-data predictors are built in a worker, one batch at a time. */
  private buildAfterCampaign(campaignId: string): void {
    if (this.stopping) return;
    const campaign = this.store.getCampaign(campaignId);
    if (campaign.purpose !== 'profile') return;
    this.builds.add(this.store.progress(campaignId).map((p) => p.deviceId));
  }

  /** Devices whose full-data predictors are being built or wait to be (GET /api/health). */
  get pendingBuilds(): number {
    return this.builds.pending;
  }

  /** Revokes a device (store.revokeDevice) and closes its open connection at once. */
  revokeDevice(deviceId: string): void {
    this.store.revokeDevice(deviceId);
    const conn = this.connections.get(deviceId);
    if (conn) {
      this.log(`${deviceId} revoked; its connection is closed`);
      conn.ws.close(CloseCode.UNAUTHORIZED, 'device revoked');
    }
  }

  /** Devices with a live connection right now. */
  onlineDevices(): string[] {
    return [...this.connections.keys()];
  }

  /**
   * Who an agent's request is from: its headers, Authorization and X-Litepred-Protocol (Node
   * agent) or the subprotocols it offers (a browser cannot set the others: readSubprotocols).
   * Never the URL. Also answers GET /api/agent-check, so a browser can learn why an upgrade failed.
   */
  authenticateAgent(req: IncomingMessage): Peer | { status: number; reason: string; message: string } {
    const offered = readSubprotocols(req.headers['sec-websocket-protocol']);
    const version = Number(req.headers['x-litepred-protocol'] ?? offered.version);
    if (version !== PROTOCOL_VERSION) {
      return {
        status: 426,
        reason: 'Upgrade Required',
        message:
          `${ErrorCode.VERSION_MISMATCH}: this coordinator speaks protocol ${PROTOCOL_VERSION}, the agent asked ` +
          `for ${Number.isNaN(version) ? 'none' : version}`,
      };
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const credential = bearer?.startsWith('lpd_') ? bearer : offered.credential;
    const token = bearer?.startsWith('lpe_') ? bearer : offered.token;
    if (credential) {
      const device = this.store.authenticateDevice(credential);
      if (device) return { kind: 'device', deviceId: device.id };
      return { status: 401, reason: 'Unauthorized', message: `${ErrorCode.UNAUTHORIZED}: unknown or revoked device credential` };
    }
    if (token && this.store.checkEnrolmentToken(token)) return { kind: 'enrol', token };
    return {
      status: 401,
      reason: 'Unauthorized',
      message: `${ErrorCode.UNAUTHORIZED}: ${token ? 'unknown, expired, revoked or used-up enrolment token' : 'no credential'}`,
    };
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.stopping) return reject(socket, 503, 'Service Unavailable', `${ErrorCode.SHUTTING_DOWN}: the coordinator is stopping`);
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/agent') return reject(socket, 404, 'Not Found', 'agents connect to /agent');
    const peer = this.authenticateAgent(req);
    if ('status' in peer) return reject(socket, peer.status, peer.reason, peer.message);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, peer));
  }

  private accept(ws: WebSocket, peer: Peer): void {
    const conn: Connection = { ws, peer, alive: true };
    this.sockets.add(conn);
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      conn.alive = true;
      const buffer = data as Buffer;
      // Recognised from its first bytes and kept as bytes: decoding waits for the turn that stores it.
      if (
        !isBinary &&
        this.deferred.length < MAX_DEFERRED_FRAMES &&
        buffer.length >= RESULTS_PREFIX.length &&
        RESULTS_PREFIX_BYTES.equals(buffer.subarray(0, RESULTS_PREFIX.length))
      ) {
        return this.defer(conn, buffer);
      }
      this.handle(conn, isBinary ? Buffer.from(buffer) : buffer.toString());
    });
    ws.on('close', () => this.onClose(conn));
    // An oversized frame or a protocol violation: ws closes the socket; nothing else to do.
    ws.on('error', (error) => this.log(`connection error: ${error.message}`));
  }

  private handle(conn: Connection, raw: string | Buffer): void {
    try {
      this.onMessage(conn, raw);
    } catch (error) {
      this.send(conn.ws, { type: 'error', code: ErrorCode.INTERNAL, message: (error as Error).message });
    }
  }

  /**
   * Results frames wait for the check phase and are stored a batch at a time, while every other
   * message (lease requests above all) is answered as soon as it is read: at saturation a lease
   * request no longer waits behind every results frame that arrived in the same turn of the event
   * loop (bench:fleet saturation p99 dispatch was 1.4–3.1 s).
   */
  private defer(conn: Connection, raw: Buffer): void {
    this.deferred.push({ conn, raw });
    if (!this.deferredScheduled) {
      this.deferredScheduled = true;
      setImmediate(() => this.processDeferred());
    }
  }

  private processDeferred(all = false): void {
    this.deferredScheduled = false;
    let frames = 0;
    while (this.deferred.length > 0 && (all || frames < FRAMES_PER_TURN)) {
      const { conn, raw } = this.deferred.shift()!;
      this.handle(conn, raw.toString());
      frames++;
    }
    if (this.deferred.length > 0 && !this.deferredScheduled) {
      this.deferredScheduled = true;
      setImmediate(() => this.processDeferred());
    }
  }

  /** A message, or a frame already encoded (leases: encodeLease). */
  private send(ws: WebSocket, message: CoordinatorMessage | string): void {
    if (ws.readyState === ws.OPEN) ws.send(typeof message === 'string' ? message : encode(message));
  }

  private fail(conn: Connection, code: string, message: string): void {
    this.send(conn.ws, { type: 'error', code, message });
  }

  private onMessage(conn: Connection, raw: string | Buffer): void {
    const parsed = parseAgentMessage(raw);
    if (!parsed.ok) return this.fail(conn, parsed.code, parsed.error);
    const msg = parsed.message;
    if (msg.type === 'heartbeat') return this.send(conn.ws, { type: 'heartbeat', t: Date.now() });
    if (msg.type === 'hello') return this.hello(conn, msg.v, msg.fingerprint);
    const deviceId = conn.deviceId;
    if (!deviceId) return this.fail(conn, ErrorCode.NOT_ENROLLED, `send hello before ${msg.type}`);
    if (msg.type === 'lease.request') {
      if (this.stopping) return this.fail(conn, ErrorCode.SHUTTING_DOWN, 'the coordinator is stopping');
      const lease = this.store.leaseTasks(deviceId, msg.capacity, this.leaseMs);
      if (!lease) return this.send(conn.ws, { type: 'idle', retryMs: 1000 });
      return this.send(conn.ws, encodeLease(lease, lease.tasks));
    }
    if (msg.type === 'results') {
      this.ingest.add(deviceId, msg.items, ({ acked, rejected }) => {
        if (acked.length > 0) this.send(conn.ws, { type: 'ack', taskIds: acked });
        if (rejected.length > 0) this.fail(conn, ErrorCode.UNKNOWN_LEASE, rejected.map((r) => `task ${r.taskId}: ${r.reason}`).join('; '));
      });
    }
  }

  private hello(conn: Connection, v: number, fingerprint: Fingerprint): void {
    if (v !== PROTOCOL_VERSION) {
      this.fail(conn, ErrorCode.VERSION_MISMATCH, `this coordinator speaks protocol ${PROTOCOL_VERSION}, not ${v}`);
      return void conn.ws.close(CloseCode.PROTOCOL_ERROR, 'protocol version');
    }
    let credential: string | undefined;
    if (conn.deviceId) {
      this.store.updateFingerprint(conn.deviceId, fingerprint);
    } else if (conn.peer.kind === 'device') {
      conn.deviceId = conn.peer.deviceId;
      this.store.updateFingerprint(conn.deviceId, fingerprint);
    } else {
      try {
        ({ deviceId: conn.deviceId, credential } = this.store.enrolDevice(conn.peer.token, fingerprint));
        this.log(
          `enrolled ${conn.deviceId} (${fingerprint.cpuModel}, ${fingerprint.runtime.backend}, ${fingerprint.runtime.threads} thread(s))`,
        );
      } catch (error) {
        this.fail(conn, ErrorCode.UNAUTHORIZED, (error as Error).message);
        return void conn.ws.close(CloseCode.UNAUTHORIZED, 'enrolment refused');
      }
    }
    // One live connection per device: a reconnecting agent replaces its stale socket.
    const previous = this.connections.get(conn.deviceId!);
    if (previous && previous !== conn) {
      previous.deviceId = undefined;
      previous.ws.close(CloseCode.REPLACED, 'replaced by a newer connection');
    }
    this.connections.set(conn.deviceId!, conn);
    this.store.events.emit('device.connected', conn.deviceId!);
    this.send(conn.ws, { type: 'welcome', v: PROTOCOL_VERSION, deviceId: conn.deviceId!, credential, heartbeatMs: this.heartbeatMs });
    if (credential && this.autoAdapt) {
      try {
        this.log(`adapting ${conn.deviceId} on enrolment: ${this.adaptations.start(conn.deviceId!, this.autoAdapt).id}`);
      } catch (error) {
        this.log(`${conn.deviceId}: no adaptation on enrolment: ${(error as Error).message}`);
      }
    }
  }

  private onClose(conn: Connection): void {
    this.sockets.delete(conn);
    const id = conn.deviceId;
    if (!id || this.connections.get(id) !== conn) return;
    this.connections.delete(id);
    this.store.events.emit('device.disconnected', id);
    // While stopping, sockets close after the store does; their leases are freed on the next start.
    if (this.stopping) return;
    this.store.touchDevice(id);
    // Whatever it held goes to the next lease; a late result for it is still accepted (idempotent).
    const released = this.store.releaseLeases(id);
    if (released > 0) this.log(`${id} dropped; ${released} leased task(s) handed back`);
  }

  private heartbeat(): void {
    for (const conn of this.sockets) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  /** Stops accepting, commits and acknowledges what has arrived, closes every socket, closes the store. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.adaptations.stop();
    await this.builds.stop();
    await this.reads.stop();
    this.processDeferred(true);
    this.ingest.flush();
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the acks leave
    for (const c of this.wss.clients) c.close(CloseCode.GOING_AWAY, 'coordinator stopping');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.store.close();
    await this.checkpointer.stop();
  }
}
