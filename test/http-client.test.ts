// The one typed client of the HTTP API (packages/protocol/src/http-client.ts) against a real
// coordinator: routes by name, parameters and queries filled in, answers checked, refusals typed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '@litepred/coordinator';
import { ApiClient, ApiError } from '@litepred/protocol';
import { FAST_PROTOCOL, tempDir } from './helpers/fleet.js';

let c: Coordinator;
beforeAll(async () => {
  c = await Coordinator.start({ database: join(tempDir(), 'db.sqlite'), port: 0, protocol: FAST_PROTOCOL });
});
afterAll(async () => {
  await c?.stop();
});

describe('ApiClient', () => {
  it('calls routes by name with typed bodies, parameters and queries, and returns their answers', async () => {
    const admin = new ApiClient(c.address.http, { adminToken: c.newAdminToken });
    expect(await admin.call('health')).toMatchObject({ ok: true, online: 0 });
    const token = await admin.call('createToken', { body: { label: 'client test', maxUses: 2 } });
    expect(token.token).toMatch(/^lpe_/);
    expect((await admin.call('listTokens')).find((t) => t.id === token.id)).toMatchObject({
      label: 'client test',
      maxUses: 2,
      state: 'valid',
    });
    expect(await admin.call('revokeToken', { params: { id: token.id } })).toEqual({ id: token.id, revoked: true });
    expect(await admin.call('listAdaptations', { query: { device: undefined } })).toEqual([]);
    expect(admin.url('getCampaign', { params: { id: 'a/b c' } })).toBe(`${c.address.http}/api/campaigns/a%2Fb%20c`);
    expect(admin.url('listPredictors', { query: { device: 'dev_1', other: '' } })).toBe(`${c.address.http}/api/predictors?device=dev_1`);
  });

  it('refuses a campaign that gives the same kernel twice, however its fields are written', async () => {
    const admin = new ApiClient(c.address.http, { adminToken: c.newAdminToken });
    const { token } = await admin.call('createToken', { body: {} });
    const device = c.store.enrolDevice(token, {
      cpuModel: 'cpu',
      cores: 2,
      arch: 'x64',
      os: 'Linux',
      memoryBytes: 1e9,
      runtime: { backend: 'ort-node', threads: 1, graphOptimizationLevel: 'all' },
      runtimeVersion: '1.30.0',
      executionProvider: 'cpu',
    }).deviceId;
    const configs = [
      { type: 'relu', HW: 8, CIN: 8 },
      { type: 'add', HW: 8, CIN: 8 },
      { type: 'relu', CIN: 8, HW: 8, W: 8 },
    ];
    await expect(admin.call('createCampaign', { body: { name: 'twice', configs, deviceIds: [device] } })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/configs\[2\] is configs\[0\] again/),
    });
    expect(c.store.listCampaigns().filter((x) => x.name === 'twice')).toEqual([]);
  });

  it("turns a refusal into an ApiError with the status and the coordinator's message", async () => {
    const anonymous = new ApiClient(c.address.http);
    await expect(anonymous.call('listTokens')).rejects.toMatchObject({ status: 401, message: expect.stringMatching(/admin token/) });
    await expect(anonymous.call('getCampaign', { params: { id: 'cmp_nope' } })).rejects.toBeInstanceOf(ApiError);
    await expect(anonymous.call('getCampaign', { params: { id: 'cmp_nope' } })).rejects.toMatchObject({ status: 404 });
  });

  it('refuses an answer that does not match the contract (another version of the coordinator)', async () => {
    const old = new ApiClient('http://coordinator', {
      fetch: async () => new Response(JSON.stringify({ ok: true, protocol: '1' }), { status: 200 }),
    });
    await expect(old.call('health')).rejects.toThrow(/answer to health does not match the contract: protocol/);
  });
});
