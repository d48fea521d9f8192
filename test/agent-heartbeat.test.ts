// The application-level heartbeat (what lets a browser agent notice a dead coordinator, since a page
// cannot ping): a real Node agent against a scripted WebSocket coordinator on loopback that either
// answers the agent's heartbeats or goes silent.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Agent } from '@litepred/agent';
import { waitFor } from './helpers/fleet.js';

const HEARTBEAT_MS = 200;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A coordinator that welcomes, has no work, and answers heartbeats only while `answering`. */
async function scriptedCoordinator() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const state = { answering: true, connections: [] as { auth: string; received: { type: string; at: number }[] }[] };
  wss.on('connection', (ws: WebSocket, req) => {
    const conn = { auth: req.headers.authorization ?? '', received: [] as { type: string; at: number }[] };
    state.connections.push(conn);
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { type: string };
      conn.received.push({ type: msg.type, at: Date.now() });
      if (msg.type === 'hello') {
        const first = state.connections.length === 1;
        ws.send(
          JSON.stringify({
            type: 'welcome',
            v: 2,
            deviceId: 'dev_heartbeat',
            heartbeatMs: HEARTBEAT_MS,
            ...(first ? { credential: 'lpd_kept' } : {}),
          }),
        );
      }
      if (msg.type === 'lease.request') ws.send(JSON.stringify({ type: 'idle', retryMs: 60_000 }));
      if (msg.type === 'heartbeat' && state.answering) ws.send(JSON.stringify({ type: 'heartbeat', t: Date.now() }));
    });
  });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  );
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, state };
}

async function startAgent(url: string): Promise<Agent> {
  const agent = new Agent({
    coordinator: url,
    token: 'lpe_test',
    stateFile: join(mkdtempSync(join(tmpdir(), 'litepred-hb-')), 'agent.json'),
    runtime: { backend: 'ort-web', threads: 1, graphOptimizationLevel: 'all' },
    profiler: { coldWeightMsPerByte: 0 },
    backoff: { baseMs: 10, maxMs: 50 },
  });
  await agent.start();
  cleanups.push(() => agent.stop());
  return agent;
}

describe('agent heartbeat', () => {
  it('sends a heartbeat every interval and keeps a coordinator that answers', async () => {
    const { url, state } = await scriptedCoordinator();
    await startAgent(url);
    await new Promise((r) => setTimeout(r, 8 * HEARTBEAT_MS));
    expect(state.connections).toHaveLength(1);
    const beats = state.connections[0]!.received.filter((m) => m.type === 'heartbeat');
    expect(beats.length).toBeGreaterThanOrEqual(4);
  });

  it('takes a coordinator silent for three intervals for dead, reconnects, and presents the credential it was given', async () => {
    const { url, state } = await scriptedCoordinator();
    await startAgent(url);
    await waitFor('the first welcome', () => state.connections[0]?.received.some((m) => m.type === 'lease.request'), 30_000);
    state.answering = false;
    const silentSince = Date.now();
    await waitFor('a second connection', () => state.connections.length >= 2, 10_000);
    // Not before three heartbeat intervals of silence (the agent's last word was a heartbeat nobody answered).
    expect(Date.now() - silentSince).toBeGreaterThanOrEqual(2 * HEARTBEAT_MS);
    expect(state.connections[0]!.auth).toBe('Bearer lpe_test');
    expect(state.connections[1]!.auth).toBe('Bearer lpd_kept');
  });
});
