// The HTTP API is its contract (packages/protocol/src/http.ts): published as OpenAPI, the only
// routes served, every answer checked against its schema (LITEPRED_CHECK_RESPONSES=1 in the suite).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator, STARTER_POOL_DIR } from '@litepred/coordinator';
import { HTTP_ROUTES } from '@litepred/protocol';
import { tempDir } from './helpers/fleet.js';

let c: Coordinator;
beforeAll(async () => {
  expect(process.env.LITEPRED_CHECK_RESPONSES).toBe('1');
  c = await Coordinator.start({ database: join(tempDir(), 'db.sqlite'), port: 0, starterPool: STARTER_POOL_DIR.pathname });
});
afterAll(async () => {
  await c?.stop();
});

const get = (path: string, admin = false) =>
  fetch(`${c.address.http}${path}`, { headers: admin ? { authorization: `Bearer ${c.newAdminToken}` } : {} });

describe('the HTTP contract', () => {
  it('is published as OpenAPI 3.1 with every route, its parameters, body and answer', async () => {
    const res = await get('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const r of HTTP_ROUTES) {
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      for (const [, name] of r.path.matchAll(/:(\w+)/g)) expect(op!.parameters?.map((p) => p.name)).toContain(name);
      expect(Object.keys(op!.responses)).toContain(String(r.status ?? 200));
    }
    expect(doc.paths['/api/campaigns']!.post).toMatchObject({
      security: [{ admin: [] }],
      requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
    });
  });

  it('answers every parameterless GET route as its schema says (the checks would turn a mismatch into a 500)', async () => {
    const device = 'pool-node-t1-all';
    for (const r of HTTP_ROUTES.filter((x) => x.method === 'GET')) {
      const path = r.path
        .replace('/api/campaigns/:id', `/api/campaigns/cmp_pool_${device}`)
        .replace(':id', device)
        .replace(':type', 'conv-bn-relu')
        .replace(':file', 'litepred-agent-0.1.0.tgz');
      if (path.includes('/api/adaptations/') || path === '/api/agent-check') continue; // need an adaptation id; an agent's headers
      const res = await get(path, r.admin);
      expect(res.status, `${r.method} ${path}: ${res.status === 500 ? await res.text() : ''}`).toBeLessThan(300);
      await res.arrayBuffer();
    }
  });

  it('serves no route outside the contract, and says where the contract is', async () => {
    const res = await get('/api/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/no route GET \/api\/nope \(GET \/api\/openapi\.json lists them\)/) });
    expect((await fetch(`${c.address.http}/api/health`, { method: 'POST' })).status).toBe(404);
  });
});
