// The fleet with its real parts: a coordinator on a loopback port, agent processes running real
// ONNX Runtime sessions, a real SQLite file.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Coordinator } from '@litepred/coordinator';
import { agent, client, FAST_PROTOCOL, kill, run, smallConfigs, tempDir, waitFor, type Proc } from './helpers/fleet.js';

const procs: Proc[] = [];
const coordinators: Coordinator[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => kill(p, 'SIGKILL')));
  await Promise.all(coordinators.splice(0).map((c) => c.stop()));
});

async function startCoordinator(dir: string, leaseMs = 60_000) {
  const c = await Coordinator.start({ database: join(dir, 'fleet.sqlite'), port: 0, leaseMs, heartbeatMs: 500 });
  coordinators.push(c);
  return c;
}

/** A coordinator with one agent process enrolled and online. */
async function oneAgentOnline() {
  const dir = tempDir();
  const c = await startCoordinator(dir);
  const { token } = c.store.createEnrolmentToken();
  const state = join(dir, 'agent.json');
  const first = agent(c.address.ws, state, token);
  procs.push(first);
  const deviceId = await waitFor('the device online', () => c.onlineDevices()[0], 60_000);
  return { dir, c, state, first, deviceId };
}

describe('fleet', () => {
  it('runs a campaign across several agent processes: every task gets exactly one measurement', async () => {
    const dir = tempDir();
    const c = await startCoordinator(dir);
    const admin = c.newAdminToken!;
    const { token } = await client(c.address.http, admin).call('createToken', { body: { label: 'lab', maxUses: 3 } });
    procs.push(
      agent(c.address.ws, join(dir, 'a1.json'), token),
      agent(c.address.ws, join(dir, 'a2.json'), token, 'ort-node', 2),
      agent(c.address.ws, join(dir, 'a3.json'), token, 'ort-web'),
    );
    await waitFor('three devices online', () => c.onlineDevices().length === 3, 90_000);
    const devices = await client(c.address.http).call('listDevices');
    expect(devices.map((d) => `${d.fingerprint.runtime.backend}/${d.fingerprint.runtime.threads}`).sort()).toEqual([
      'ort-node/1',
      'ort-node/2',
      'ort-web/1',
    ]);
    expect(devices.every((d) => d.online && d.fingerprint.cores > 0 && d.fingerprint.runtimeVersion === '1.30.0')).toBe(true);

    const campaign = await client(c.address.http, admin).call('createCampaign', {
      body: { name: 'three devices', configs: smallConfigs(10), deviceIds: devices.map((d) => d.id), protocol: FAST_PROTOCOL },
    });
    await waitFor('the campaign to finish', () => c.store.getCampaign(campaign.id).state === 'done', 120_000);
    expect(c.store.taskCounts(campaign.id)).toEqual({ tasks: 30, measurements: 30, distinctMeasuredTasks: 30 });
    const status = await client(c.address.http).call('getCampaign', { params: { id: campaign.id } });
    expect(status.progress.map((p) => p.done)).toEqual([10, 10, 10]);
    // Each device's measurements were taken with its own runtime configuration.
    for (const d of devices) {
      const ms = c.store.measurements({ campaignId: campaign.id, deviceId: d.id }) as {
        measurement: { runtime: { backend: string; threads: number } };
      }[];
      expect(new Set(ms.map((m) => `${m.measurement.runtime.backend}/${m.measurement.runtime.threads}`))).toEqual(
        new Set([`${d.fingerprint.runtime.backend}/${d.fingerprint.runtime.threads}`]),
      );
    }
  });

  it("re-issues a killed agent's leases; the agent comes back as the same device and nothing is duplicated", async () => {
    const { c, state, first, deviceId } = await oneAgentOnline();
    const campaign = c.store.createCampaign({ name: 'kill', configs: smallConfigs(40), deviceIds: [deviceId], protocol: FAST_PROTOCOL });
    await waitFor('some measurements', () => c.store.taskCounts(campaign.id).measurements >= 4, 60_000);
    await kill(first, 'SIGKILL');
    await waitFor('its leases handed back', () => c.store.progress(campaign.id)[0]!.leased === 0, 10_000);
    expect(c.store.getCampaign(campaign.id).state).toBe('running');
    const second = agent(c.address.ws, state); // no token: it re-connects with the identity it kept
    procs.push(second);
    await waitFor('the campaign to finish', () => c.store.getCampaign(campaign.id).state === 'done', 120_000);
    expect(c.store.listDevices().map((d) => d.id)).toEqual([deviceId]);
    expect(c.store.taskCounts(campaign.id)).toEqual({ tasks: 40, measurements: 40, distinctMeasuredTasks: 40 });
  });

  it('survives the coordinator being killed with SIGKILL mid-campaign: restarted, it finishes and loses nothing', async () => {
    const dir = tempDir();
    const db = join(dir, 'fleet.sqlite');
    const port = 20000 + Math.floor(Math.random() * 20000);
    const start = () => run(['coordinator', 'start', '--database', db, '--port', String(port), '--host', '127.0.0.1']);
    let coordinator = start();
    procs.push(coordinator);
    await waitFor('the coordinator to listen', () => coordinator.output().includes('listening'), 30_000);
    const url = `http://127.0.0.1:${port}`;
    const admin = (await import('node:fs')).readFileSync(`${db}.admin-token`, 'utf8').trim();
    const { token } = await client(url, admin).call('createToken', { body: {} });
    procs.push(agent(url, join(dir, 'agent.json'), token));
    const deviceId = await waitFor('the device', async () => (await client(url).call('listDevices')).find((d) => d.online)?.id, 60_000);
    const campaign = await client(url, admin).call('createCampaign', {
      body: { name: 'crash', configs: smallConfigs(40), deviceIds: [deviceId], protocol: FAST_PROTOCOL },
    });
    const done = async () => (await client(url).call('getCampaign', { params: { id: campaign.id } })).progress[0]!.done;
    await waitFor('some results', async () => (await done()) >= 4, 60_000);
    const before = await done();
    await kill(coordinator, 'SIGKILL');
    coordinator = start();
    procs.push(coordinator);
    await waitFor('the restarted coordinator', () => coordinator.output().includes('listening'), 30_000);
    // What was acknowledged before the crash is still there.
    expect(await done()).toBeGreaterThanOrEqual(before);
    await waitFor(
      'the campaign to finish',
      async () => (await client(url).call('getCampaign', { params: { id: campaign.id } })).state === 'done',
      120_000,
    );
    const rows = (await (await fetch(`${url}/api/results?campaign=${campaign.id}&format=jsonl`)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { taskId: number });
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.taskId)).size).toBe(40);
  });

  it('tells a revoked device, or an agent with no identity and no token, why it cannot connect', async () => {
    const { dir, c, state, first, deviceId } = await oneAgentOnline();
    await kill(first);
    c.store.revokeDevice(deviceId);
    const revoked = agent(c.address.ws, state);
    procs.push(revoked);
    expect(await revoked.exited).toBe(2);
    expect(revoked.output()).toMatch(/refused the connection \(401\): UNAUTHORIZED: unknown or revoked device credential/);
    const stranger = agent(c.address.ws, join(dir, 'nobody.json'));
    procs.push(stranger);
    expect(await stranger.exited).toBe(2);
    expect(stranger.output()).toMatch(/no identity for .* pass --token to enrol/);
  });
});
