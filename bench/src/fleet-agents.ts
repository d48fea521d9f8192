// bench:fleet's simulated agents through one campaign: each asks for a lease, answers every task
// (after paceMs, the time a real agent would spend measuring), asks again after the ack, and stops
// at 'idle'. What they see is timed here; the campaign itself is fleet.ts's.
import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import { idleRetryDelay } from '@litepred/agent-core';
import { encode, type CoordinatorMessage, type Fingerprint, type WireMeasurement } from '@litepred/protocol';
import { measurementFor } from './fleet-fixtures.js';

/**
 * 'together': every agent's first request in the same instant; 'spread': first requests spread over
 * one pace (agents that started at different times); 'polling': agents already idle and polling as
 * agent-core's do (every retryMs ±50%, idleRetryDelay) before the campaign is created.
 */
export type Start = 'together' | 'spread' | 'polling';

export interface AgentTimings {
  /** Request sent → lease read, in the simulator's process (its own event-loop lag included), ms. */
  dispatchMs: number[];
  /** The same without each agent's first request. */
  laterDispatchMs: number[];
  /** Each agent's first request: sent → lease made, on the coordinator's clock (expiresAt − leaseMs), ms. */
  firstCoordinatorMs: number[];
  acked: Set<number>;
  /** Tasks received in leases. */
  sent: number;
}

export class SimulatedAgents {
  readonly done: Promise<AgentTimings>;
  private readonly asks: (() => void)[] = [];
  /** When the campaign was wholly created: a polling agent told 'idle' for a request sent before then goes on polling. */
  private createdAt = Infinity;
  private readonly encoded = new Map<string, string>();

  /** Starts polling at once with start 'polling'; the others wait for begin(). */
  constructor(
    sockets: readonly WebSocket[],
    private readonly fingerprint: Fingerprint,
    private readonly options: { capacity: number; paceMs: number; start: Start; leaseMs: number },
  ) {
    const t: AgentTimings = { dispatchMs: [], laterDispatchMs: [], firstCoordinatorMs: [], acked: new Set(), sent: 0 };
    this.done = Promise.all(sockets.map((s) => this.agent(s, t))).then(() => t);
    if (options.start === 'polling') for (const ask of this.asks) ask();
  }

  /** The campaign is in: agents that were not polling start now. */
  begin(): void {
    this.createdAt = performance.now();
    if (this.options.start === 'together') for (const ask of this.asks) ask();
    if (this.options.start === 'spread') for (const ask of this.asks) setTimeout(ask, Math.random() * this.options.paceMs);
  }

  private agent(s: WebSocket, t: AgentTimings): Promise<void> {
    const { capacity, paceMs, start, leaseMs } = this.options;
    return new Promise<void>((resolve) => {
      let askedAt = 0;
      let askedWall = 0;
      let leases = 0;
      const ask = () => {
        askedAt = performance.now();
        askedWall = Date.now();
        s.send(encode({ type: 'lease.request', capacity }));
      };
      const onMessage = (d: Buffer) => {
        const m = JSON.parse(d.toString()) as CoordinatorMessage;
        if (m.type === 'lease') {
          const now = performance.now();
          t.dispatchMs.push(now - askedAt);
          if (leases > 0) t.laterDispatchMs.push(now - askedAt);
          else t.firstCoordinatorMs.push(m.expiresAt - leaseMs - askedWall);
          leases++;
          t.sent += m.tasks.length;
          // Frames assembled from pre-encoded measurements: the simulator must not be what limits the rate.
          const answer = () =>
            s.send(
              `{"type":"results","items":[${m.tasks
                .map((task) => `{"taskId":${task.taskId},"leaseId":"${m.leaseId}","measurement":${this.encodedMeasurement(task.config)}}`)
                .join(',')}]}`,
            );
          if (paceMs > 0) setTimeout(answer, paceMs);
          else answer();
        } else if (m.type === 'ack') {
          for (const id of m.taskIds) t.acked.add(id);
          ask();
        } else if (m.type === 'idle') {
          if (start !== 'polling' || (leases > 0 && askedAt > this.createdAt)) {
            s.off('message', onMessage);
            return resolve();
          }
          setTimeout(ask, idleRetryDelay(m.retryMs));
        } else if (m.type === 'error') {
          console.error(`coordinator error: ${m.code}: ${m.message}`);
        }
      };
      s.on('message', onMessage);
      this.asks.push(ask);
    });
  }

  /** A config's measurement as JSON, encoded once (the same JSON.stringify an agent's encode() does). */
  private encodedMeasurement(config: WireMeasurement['config']): string {
    const key = JSON.stringify(config);
    let json = this.encoded.get(key);
    if (!json) this.encoded.set(key, (json = JSON.stringify(measurementFor(config, this.fingerprint))));
    return json;
  }
}
