// Hostile and broken peers against a real coordinator: each is answered with an error or refused,
// the server stays up, and the store is intact.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Coordinator } from '@litepred/coordinator';
import { PROTOCOL_VERSION, subprotocolSecret, subprotocolVersion, type Fingerprint } from '@litepred/protocol';
import { FAST_PROTOCOL, smallConfigs, tempDir } from './helpers/fleet.js';

const fingerprint: Fingerprint = {
  cpuModel: 'Test CPU',
  cores: 2,
  arch: 'x64',
  os: 'Linux',
  memoryBytes: 1e9,
  runtime: { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' },
  runtimeVersion: '1.30.0',
  executionProvider: 'cpu',
};

/** The fleet config's protocol: what a campaign created without one measures with. */
const FLEET_PROTOCOL = { warmupRuns: 3, warmupMs: 5, minRuns: 7, maxRuns: 70, maxMs: 700, targetPrecision: 0.07 };
let c: Coordinator;
let credential: string;
let deviceId: string;
let campaignId: string;

/** Opens a socket with these headers; resolves with it, or with the HTTP status of a refusal. */
function open(headers: Record<string, string>, query = ''): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${c.address.ws}${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
    ws.once('error', () => undefined);
  });
}

/** As a browser opens it: subprotocols offered, no headers of its own. */
function openOffering(protocols: string[]): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(c.address.ws, protocols);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
    ws.once('error', () => undefined);
  });
}

const auth = (secret: string) => ({ authorization: `Bearer ${secret}`, 'x-litepred-protocol': String(PROTOCOL_VERSION) });

function next(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
}

async function hello(ws: WebSocket): Promise<Record<string, unknown>> {
  ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, fingerprint, agentVersion: 'test' }));
  return next(ws);
}

beforeAll(async () => {
  c = await Coordinator.start({ database: join(tempDir(), 'fleet.sqlite'), port: 0, heartbeatMs: 1000, protocol: FLEET_PROTOCOL });
  const { token } = c.store.createEnrolmentToken();
  const ws = (await open(auth(token))) as WebSocket;
  const welcome = await hello(ws);
  credential = welcome.credential as string;
  deviceId = welcome.deviceId as string;
  ws.close();
  campaignId = c.store.createCampaign({ name: 'c', configs: smallConfigs(4), deviceIds: [deviceId], protocol: FAST_PROTOCOL }).id;
});
afterAll(() => c.stop());

const storeIntact = () => {
  expect(c.store.taskCounts(campaignId)).toEqual({ tasks: 4, measurements: 0, distinctMeasuredTasks: 0 });
  expect(c.store.authenticateDevice(credential)?.id).toBe(deviceId);
};

describe('refusals at the upgrade', () => {
  it('answers a missing, forged or revoked credential with 401 and no socket', async () => {
    expect(await open({ 'x-litepred-protocol': String(PROTOCOL_VERSION) })).toBe(401);
    expect(await open(auth('lpd_forged'))).toBe(401);
    expect(await open(auth('lpe_forged'))).toBe(401);
    const { token } = c.store.createEnrolmentToken();
    const ws = (await open(auth(token))) as WebSocket;
    const other = await hello(ws);
    ws.close();
    c.store.revokeDevice(other.deviceId as string);
    expect(await open(auth(other.credential as string))).toBe(401);
    expect(c.store.authenticateDevice(credential)!.id).toBe(deviceId);
  });

  it('answers another protocol version, or none, with 426', async () => {
    expect(await open({ authorization: `Bearer ${credential}`, 'x-litepred-protocol': '99' })).toBe(426);
    expect(await open({ authorization: `Bearer ${credential}` })).toBe(426);
  });

  it(
    'takes the credential as an offered subprotocol (browsers cannot set headers) and selects the version back; never ' + 'from the URL',
    async () => {
      const ws = await openOffering([subprotocolVersion(), subprotocolSecret(credential)]);
      expect(ws).toBeInstanceOf(WebSocket);
      expect((ws as WebSocket).protocol).toBe(`litepred.${PROTOCOL_VERSION}`);
      (ws as WebSocket).close();
      expect(await openOffering([subprotocolVersion(99), subprotocolSecret(credential)])).toBe(426);
      expect(await openOffering([subprotocolVersion(), subprotocolSecret('lpd_forged')])).toBe(401);
      // The query string of the earlier browser agent carries nothing any more.
      expect(await open({}, `?protocol=${PROTOCOL_VERSION}&credential=${encodeURIComponent(credential)}`)).toBe(426);
      expect(await open({ 'x-litepred-protocol': String(PROTOCOL_VERSION) }, `?credential=${encodeURIComponent(credential)}`)).toBe(401);
    },
  );
});

describe('bad frames on an open socket', () => {
  it('answers malformed JSON, unknown types and invalid messages with an error and stays up', async () => {
    const ws = (await open(auth(credential))) as WebSocket;
    await hello(ws);
    ws.send('{not json');
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'BAD_JSON' });
    ws.send(JSON.stringify({ type: 'launch.missiles' }));
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'UNKNOWN_TYPE' });
    ws.send(JSON.stringify({ type: 'lease.request', capacity: -3 }));
    const invalid = await next(ws);
    expect(invalid).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE' });
    expect(invalid.message).toMatch(/capacity/);
    ws.send(JSON.stringify({ type: 'results', items: [{ taskId: 1, leaseId: 'x' }] }));
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE' });
    // Still serving on the same socket.
    ws.send(JSON.stringify({ type: 'heartbeat', t: 1 }));
    expect(await next(ws)).toMatchObject({ type: 'heartbeat' });
    ws.close();
    storeIntact();
  });

  it('refuses work before hello', async () => {
    const ws = (await open(auth(credential))) as WebSocket;
    ws.send(JSON.stringify({ type: 'lease.request', capacity: 1 }));
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'NOT_ENROLLED' });
    ws.close();
  });

  it('closes a socket that sends an oversized frame; the server stays up', async () => {
    const ws = (await open(auth(credential))) as WebSocket;
    await hello(ws);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(2 * 1024 * 1024));
    expect(await closed).toBe(1009); // message too big
    expect((await (await fetch(`${c.address.http}/api/health`)).json()).ok).toBe(true);
    storeIntact();
  });

  it("does not store results for tasks that are not the device's", async () => {
    const { token } = c.store.createEnrolmentToken();
    const ws = (await open(auth(token))) as WebSocket;
    await hello(ws);
    const stats = { n: 1, median: 1, p10: 1, p90: 1, min: 1, max: 1, mean: 1, std: 0, iqm: 1, q1mean: 1 };
    const measurement = {
      config: { type: 'relu', HW: 4, CIN: 8 },
      latencyMs: 1,
      statistic: 'median',
      kernel: stats,
      wall: stats,
      boundary: { reorderInMs: 0, reorderOutMs: 0, sinkMs: 0, runOverheadMs: 0, coldWeightsMs: 0 },
      method: 'node-profile',
      warmupRuns: 1,
      converged: true,
      sessionCreateMs: 1,
      runtime: { ...fingerprint.runtime, runtimeVersion: '1.30.0', executionProvider: 'cpu' },
      measuredAt: 'now',
    };
    const taskId = c.store.campaignResults(campaignId)[0]!.taskId;
    ws.send(JSON.stringify({ type: 'results', items: [{ taskId, leaseId: 'forged', measurement }] }));
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'UNKNOWN_LEASE' });
    ws.close();
    storeIntact();
  });
});

/** A device of its own with a campaign of `configs` leased to its open socket. */
async function leasedDevice(configs: { type: string; [field: string]: number | string }[]) {
  const { token } = c.store.createEnrolmentToken();
  const ws = (await open(auth(token))) as WebSocket;
  const welcome = await hello(ws);
  const id = welcome.deviceId as string;
  const campaign = c.store.createCampaign({ name: 'mine', configs: configs as never, deviceIds: [id], protocol: FAST_PROTOCOL }).id;
  ws.send(JSON.stringify({ type: 'lease.request', capacity: configs.length }));
  const lease = (await next(ws)) as { type: string; leaseId: string; tasks: { taskId: number; config: Record<string, unknown> }[] };
  expect(lease.type).toBe('lease');
  return { ws, id, campaign, lease };
}

const measurementOf = (config: Record<string, unknown>, latencyMs: number) => {
  const stats = {
    n: 1,
    median: latencyMs,
    p10: latencyMs,
    p90: latencyMs,
    min: latencyMs,
    max: latencyMs,
    mean: latencyMs,
    std: 0,
    iqm: latencyMs,
    q1mean: latencyMs,
  };
  return {
    config,
    latencyMs,
    statistic: 'median',
    kernel: stats,
    wall: stats,
    boundary: { reorderInMs: 0, reorderOutMs: 0, sinkMs: 0, runOverheadMs: 0, coldWeightsMs: 0 },
    method: 'node-profile',
    warmupRuns: 1,
    converged: true,
    sessionCreateMs: 1,
    runtime: { ...fingerprint.runtime, runtimeVersion: '1.30.0', executionProvider: 'cpu' },
    measuredAt: 'now',
  };
};

describe('results checked against their task', () => {
  it('fails a task whose result measured another kernel or an impossible latency, and stores the rest', async () => {
    const relu = { type: 'relu', HW: 4, CIN: 8 };
    const { ws, campaign, lease } = await leasedDevice([relu, { ...relu, CIN: 16 }, { ...relu, CIN: 24 }, { ...relu, CIN: 32 }]);
    const [wrongType, huge, zero, good] = lease.tasks;
    ws.send(
      JSON.stringify({
        type: 'results',
        items: [
          { taskId: wrongType!.taskId, leaseId: lease.leaseId, measurement: measurementOf({ type: 'mhsa', L: 4, CIN: 8, HEADS: 1 }, 0.01) },
          { taskId: huge!.taskId, leaseId: lease.leaseId, measurement: measurementOf(huge!.config, 1e308) },
          { taskId: zero!.taskId, leaseId: lease.leaseId, measurement: measurementOf(zero!.config, 0) },
          { taskId: good!.taskId, leaseId: lease.leaseId, measurement: measurementOf(good!.config, 0.01) },
        ],
      }),
    );
    expect(await next(ws)).toMatchObject({ type: 'ack', taskIds: lease.tasks.map((t) => t.taskId) });
    const results = c.store.campaignResults(campaign);
    expect(results.map((r) => [r.state, r.error?.replace(/:.*/, '')])).toEqual([
      ['failed', 'result refused'],
      ['failed', 'result refused'],
      ['failed', 'result refused'],
      ['done', undefined],
    ]);
    expect(results[0]!.error).toMatch(/measured \{"type":"mhsa".*the task was \{"type":"relu"/);
    expect(results[1]!.error).toMatch(/latency 1e\+308 ms is over/);
    expect(c.store.measurements({ campaignId: campaign }).map((m) => m.kernelType)).toEqual(['relu']);
    ws.close();
  });
});

describe('revocation', () => {
  it('closes the open socket at once, hands back its lease and fails its open tasks', async () => {
    const relu = { type: 'relu', HW: 4, CIN: 8 };
    const { ws, id, campaign } = await leasedDevice([relu, { ...relu, CIN: 16 }]);
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    const res = await fetch(`${c.address.http}/api/devices/${id}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.newAdminToken}` },
    });
    expect(res.status).toBe(200);
    expect((await closed)[1]).toBe('device revoked');
    expect(c.store.taskStates(campaign)).toMatchObject({ failed: 2 });
    expect(c.store.getCampaign(campaign).state).toBe('done');
    expect(c.store.outstandingLeases().filter((l) => l.deviceId === id)).toEqual([]);
  });
});

describe('HTTP API', () => {
  it('needs the admin token to change anything, and says so', async () => {
    const res = await fetch(`${c.address.http}/api/tokens`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toMatch(/admin token/);
    expect((await fetch(`${c.address.http}/api/devices`)).status).toBe(200);
  });

  it('answers a path that is not valid percent-encoding with 400, and decodes one that is', async () => {
    const bad = await fetch(`${c.address.http}/api/devices/${deviceId}/predictors/%ff`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/not valid percent-encoding/);
    const encoded = await fetch(`${c.address.http}/api/devices/${encodeURIComponent(deviceId)}/predictors/conv%2Dbn`);
    expect(encoded.status).toBe(404);
    expect((await encoded.json()).error).toMatch(/conv-bn/);
  });

  it(
    'refuses a campaign on a device listed twice, a revoked or starter-pool device, or with minRuns over maxRuns; takes ' +
      "the coordinator's protocol by default",
    async () => {
      const post = (body: object) =>
        fetch(`${c.address.http}/api/campaigns`, {
          method: 'POST',
          headers: { authorization: `Bearer ${c.newAdminToken}` },
          body: JSON.stringify({ name: 'x', configs: [{ type: 'relu', HW: 4, CIN: 8 }], ...body }),
        });
      const refused = async (body: object, error: RegExp) => {
        const res = await post(body);
        expect(res.status).toBe(400);
        expect((await res.json()).error).toMatch(error);
      };
      await refused({ deviceIds: [deviceId, deviceId] }, new RegExp(`deviceIds: ${deviceId} is listed twice`));
      c.store.importStarterDevice(
        'pool-test',
        fingerprint,
        [{ config: { type: 'relu', HW: 4, CIN: 8 }, latencyMs: 0.01, measurement: {} }],
        Date.now(),
      );
      await refused({ deviceIds: ['pool-test'] }, /pool-test is a starter-pool device/);
      const { token } = c.store.createEnrolmentToken();
      const revoked = c.store.enrolDevice(token, fingerprint).deviceId;
      c.store.revokeDevice(revoked);
      await refused({ deviceIds: [revoked] }, new RegExp(`${revoked} is revoked`));
      await refused(
        { deviceIds: [deviceId], protocol: { ...FAST_PROTOCOL, minRuns: 50, maxRuns: 10 } },
        /minRuns \(50\) is more than maxRuns \(10\)/,
      );
      const created = await post({ deviceIds: [deviceId] });
      expect(created.status).toBe(201);
      const campaign = (await created.json()) as { id: string; protocol: unknown };
      expect(campaign.protocol).toEqual(FLEET_PROTOCOL);
      c.store.cancelCampaign(campaign.id);
    },
  );

  it('rejects a campaign with a bad kernel config, naming it', async () => {
    const campaigns = c.store.listCampaigns().length;
    const res = await fetch(`${c.address.http}/api/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.newAdminToken}` },
      body: JSON.stringify({
        name: 'bad',
        deviceIds: [deviceId],
        configs: [
          { type: 'relu', HW: 4, CIN: 8 },
          { type: 'conv-bn', HW: 4, CIN: 8, COUT: 8, KERNEL_SIZE: 6, STRIDES: 1 },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/configs\[1\]: KERNEL_SIZE: 6 is larger than the padded input/);
    expect(c.store.listCampaigns()).toHaveLength(campaigns);
  });
});

describe('graceful shutdown', () => {
  it('commits and acknowledges results that arrived before stop', async () => {
    const database = join(tempDir(), 'fleet.sqlite');
    const d = await Coordinator.start({ database, port: 0 });
    const { token } = d.store.createEnrolmentToken();
    const ws = await new Promise<WebSocket>((resolve) => {
      const s = new WebSocket(d.address.ws, { headers: auth(token) });
      s.once('open', () => resolve(s));
    });
    const welcome = await hello(ws);
    const camp = d.store.createCampaign({
      name: 's',
      configs: smallConfigs(3),
      deviceIds: [welcome.deviceId as string],
      protocol: FAST_PROTOCOL,
    });
    ws.send(JSON.stringify({ type: 'lease.request', capacity: 3 }));
    const lease = (await next(ws)) as { leaseId: string; tasks: { taskId: number; config: Record<string, unknown> }[] };
    const stats = { n: 1, median: 1, p10: 1, p90: 1, min: 1, max: 1, mean: 1, std: 0, iqm: 1, q1mean: 1 };
    const items = lease.tasks.map((t) => ({
      taskId: t.taskId,
      leaseId: lease.leaseId,
      measurement: {
        config: t.config,
        latencyMs: 1,
        statistic: 'median',
        kernel: stats,
        wall: stats,
        boundary: { reorderInMs: 0, reorderOutMs: 0, sinkMs: 0, runOverheadMs: 0, coldWeightsMs: 0 },
        method: 'node-profile',
        warmupRuns: 1,
        converged: true,
        sessionCreateMs: 1,
        runtime: { ...fingerprint.runtime, runtimeVersion: '1.30.0', executionProvider: 'cpu' },
        measuredAt: 'now',
      },
    }));
    const acked = next(ws);
    ws.send(JSON.stringify({ type: 'results', items }));
    // Stop as soon as the frame is on its way: what arrived is committed before the sockets close.
    await new Promise((r) => setTimeout(r, 1));
    const stopping = d.stop();
    expect(await acked).toEqual({ type: 'ack', taskIds: lease.tasks.map((t) => t.taskId) });
    await stopping;
    const { Store } = await import('@litepred/coordinator');
    const reopened = new Store(database);
    expect(reopened.taskCounts(camp.id)).toEqual({ tasks: 3, measurements: 3, distinctMeasuredTasks: 3 });
    reopened.close();
  });
});
