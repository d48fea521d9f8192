// The JSON HTTP API: everything the CLI does. Reads are open (the dashboard is read-only without a
// credential); anything that changes the store needs the admin token.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelError, StalePredictorError } from '@litepred/predictor';
import { compactConfig, resolveConfig } from '@litepred/kernels';
import {
  CreateCampaignSchema,
  CreateTokenSchema,
  matchRoute,
  openApiDocument,
  PROTOCOL_VERSION,
  type WireKernelConfig,
} from '@litepred/protocol';
import { handlePredictorRoutes } from './api-predictors.js';
import { overview } from './dashboard-data.js';
import { expectResponse, HttpError, json, readBody } from './http.js';
import type { ApiContext } from './api-context.js';
import { StoreError } from './store.js';
import { streamExport } from './export.js';

/** What a token is when the request does not say: one device, within a day. null asks for no limit. */
export const TOKEN_DEFAULTS = { ttlMs: 24 * 3_600_000, maxUses: 1 };

/**
 * Every config is checked by the kernel library before a campaign exists; the error names the
 * config and field. A config given twice (the same kernel, however its fields are written) is
 * refused: a campaign measures each kernel once per device, and a repeat would only be a second
 * task of the same thing.
 */
function validateConfigs(configs: WireKernelConfig[]): WireKernelConfig[] {
  const seen = new Map<string, number>();
  return configs.map((c, i) => {
    let canonical: WireKernelConfig;
    try {
      canonical = compactConfig(resolveConfig(c)) as WireKernelConfig;
    } catch (e) {
      throw new HttpError(400, `configs[${i}]: ${(e as Error).message}`);
    }
    const key = JSON.stringify(canonical);
    const first = seen.get(key);
    if (first !== undefined)
      throw new HttpError(400, `configs[${i}] is configs[${first}] again (${key}); a campaign measures each kernel once per device`);
    seen.set(key, i);
    return canonical;
  });
}

/** A campaign's devices: each once, each an enrolled agent (not revoked, not a starter-pool device, which has no agent to measure on). */
function campaignDevices(c: ApiContext, ids: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new HttpError(400, `deviceIds: ${id} is listed twice`);
    seen.add(id);
    const d = c.store.getDevice(id);
    if (d.revoked) throw new HttpError(400, `deviceIds: ${id} is revoked`);
    if (d.origin === 'starter-pool')
      throw new HttpError(400, `deviceIds: ${id} is a starter-pool device (measurements shipped with litepred); no agent measures for it`);
  }
  return [...seen];
}

export async function handleApi(c: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  let parts: string[];
  try {
    parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return json(res, 400, { error: `the path ${url.pathname} is not valid percent-encoding` });
  }
  const method = req.method ?? 'GET';
  const admin = () => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!c.store.isAdmin(token)) throw new HttpError(401, 'this needs the admin token (Authorization: Bearer lpa_...)');
  };
  try {
    // Only the routes of the contract (HTTP_ROUTES) are served: one missing from it is unreachable.
    const match = matchRoute(method, url.pathname);
    if (!match || parts[0] !== 'api') throw new HttpError(404, `no route ${method} ${url.pathname} (GET /api/openapi.json lists them)`);
    expectResponse(res, `${match.route.method} ${match.route.path}`, match.route.response);
    const [, resource, id, action] = parts;
    if (resource === 'openapi.json' && method === 'GET') return json(res, 200, openApiDocument(String(PROTOCOL_VERSION)));
    if (resource === 'health' && method === 'GET')
      return json(res, 200, { ok: true, protocol: PROTOCOL_VERSION, online: c.onlineDevices().length, pendingBuilds: c.pendingBuilds });
    if (resource === 'admin-check' && method === 'GET') {
      admin();
      return json(res, 200, { ok: true });
    }
    if (resource === 'agent-check' && method === 'GET') {
      const peer = c.authenticateAgent(req);
      return 'status' in peer ? json(res, peer.status, { error: peer.message }) : json(res, 200, { ok: true, as: peer.kind });
    }
    if (resource === 'tokens') {
      admin();
      if (method === 'POST' && !id) {
        const body = await readBody(req, CreateTokenSchema);
        return json(
          res,
          201,
          c.store.createEnrolmentToken({
            label: body.label,
            ttlMs: body.ttlMs === undefined ? TOKEN_DEFAULTS.ttlMs : (body.ttlMs ?? undefined),
            maxUses: body.maxUses === undefined ? TOKEN_DEFAULTS.maxUses : (body.maxUses ?? undefined),
          }),
        );
      }
      if (method === 'GET' && !id) return json(res, 200, c.store.listEnrolmentTokens());
      if (method === 'POST' && id && action === 'revoke') {
        c.store.revokeEnrolmentToken(id);
        return json(res, 200, { id, revoked: true });
      }
    }
    // The dashboard's reads (dashboard-data.ts).
    if (resource === 'overview' && method === 'GET') return json(res, 200, overview(c));
    if (resource === 'similarity' && method === 'GET') return json(res, 200, await c.reads.similarity());
    if (resource === 'devices' && id && action === 'accuracy' && method === 'GET') return json(res, 200, await c.reads.accuracy(id));
    if (resource === 'devices') {
      if (method === 'GET' && !id) {
        const online = new Set(c.onlineDevices());
        return json(
          res,
          200,
          c.store.listDevices().map((d) => ({ ...d, online: online.has(d.id) })),
        );
      }
      if (method === 'POST' && id && action === 'revoke') {
        admin();
        c.revokeDevice(id);
        return json(res, 200, { id, revoked: true });
      }
    }
    if (resource === 'campaigns') {
      if (method === 'GET' && !id) return json(res, 200, c.store.listCampaigns());
      if (method === 'POST' && !id) {
        admin();
        const body = await readBody(req, CreateCampaignSchema);
        const campaign = await c.store.createCampaignInSteps({
          name: body.name,
          configs: validateConfigs(body.configs),
          deviceIds: campaignDevices(c, body.deviceIds),
          protocol: body.protocol ?? c.campaignProtocol, // the store checks it (and that minRuns <= maxRuns)
        });
        return json(res, 201, campaign);
      }
      if (method === 'GET' && id && !action) return json(res, 200, { ...c.store.getCampaign(id), progress: c.store.progress(id) });
      if (method === 'POST' && id && action === 'cancel') {
        admin();
        return json(res, 200, c.store.cancelCampaign(id));
      }
    }
    if (resource === 'results' && method === 'GET') {
      // Everything that can be wrong is checked before the headers go out (streamExport).
      const format = url.searchParams.get('format') ?? 'jsonl';
      if (format !== 'csv' && format !== 'jsonl') throw new HttpError(400, `format: csv or jsonl, not ${format}`);
      const campaignId = url.searchParams.get('campaign') || undefined;
      const deviceId = url.searchParams.get('device') || undefined;
      if (campaignId) c.store.getCampaign(campaignId);
      if (deviceId) c.store.getDevice(deviceId);
      const fingerprints = new Map(c.store.listDevices().map((d) => [d.id, d.fingerprint]));
      return streamExport(res, format, c.store.measurementPages({ campaignId, deviceId }), fingerprints);
    }
    if (await handlePredictorRoutes(c, req, res, { resource, id, action, rest: parts.slice(4), url, method, admin })) return;
    throw new HttpError(404, `no route ${method} ${url.pathname}`);
  } catch (error) {
    if (error instanceof HttpError) {
      if (error.status === 503) res.setHeader('Retry-After', '2');
      return json(res, error.status, { error: error.message });
    }
    if (error instanceof ModelError) return json(res, 400, { error: `model: ${error.message}` });
    if (error instanceof StalePredictorError) return json(res, 409, { error: error.message });
    if (error instanceof StoreError)
      return json(res, error.code === 'NOT_FOUND' ? 404 : error.code === 'UNAUTHORIZED' ? 401 : 400, { error: error.message });
    throw error;
  }
}
