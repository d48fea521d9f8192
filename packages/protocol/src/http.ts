// The coordinator's HTTP API as data: every route with its method, path, whether it needs the admin
// token, its request body and its response, as zod schemas (like the WebSocket messages). The
// coordinator serves only these routes, validates bodies with these schemas, publishes them as
// OpenAPI at GET /api/openapi.json, and, under LITEPRED_CHECK_RESPONSES=1 (the test suite), checks
// every JSON answer it gives against its route's response schema.
import { z } from 'zod';
import { FingerprintSchema, KernelConfigSchema, MeasurementProtocolSchema } from './messages.js';

const id = z.string().min(1);
const time = z.number();

export const ErrorBodySchema = z.object({ error: z.string() });

export const CreateTokenSchema = z.object({
  label: z.string().max(200).optional(),
  /** null: never expires. Absent: 24 h. */
  ttlMs: z.number().int().positive().nullable().optional(),
  /** null: any number of devices. Absent: one. */
  maxUses: z.number().int().positive().nullable().optional(),
});

export const CreateCampaignSchema = z.object({
  name: z.string().min(1).max(200),
  configs: z.array(KernelConfigSchema).min(1).max(1_000_000),
  deviceIds: z.array(z.string()).min(1).max(10_000),
  protocol: MeasurementProtocolSchema.optional(),
});

export const StartAdaptationSchema = z
  .object({
    budget: z.number().int().positive().max(1_000_000).optional(),
    target: z.number().gt(0).max(1).optional(),
    seed: z.number().int().optional(),
    models: z.number().int().min(0).max(1000).optional(),
  })
  .strict();

const EnrolmentTokenSchema = z.object({
  id,
  label: z.string(),
  createdAt: time,
  expiresAt: time.nullable(),
  maxUses: z.number().nullable(),
  uses: z.number(),
  state: z.enum(['valid', 'expired', 'used up', 'revoked']),
});
const DeviceSchema = z.object({
  id,
  fingerprint: FingerprintSchema,
  enrolledAt: time,
  lastSeenAt: time,
  revoked: z.boolean(),
  origin: z.enum(['agent', 'starter-pool']),
});
const CampaignSchema = z.object({
  id,
  name: z.string(),
  protocol: MeasurementProtocolSchema,
  state: z.enum(['creating', 'running', 'done', 'cancelled']),
  createdAt: time,
  finishedAt: time.nullable(),
  purpose: z.enum(['profile', 'adaptation', 'starter-pool', 'check']),
});
const DeviceProgressSchema = z.object({
  deviceId: id,
  pending: z.number(),
  leased: z.number(),
  done: z.number(),
  failed: z.number(),
  cancelled: z.number(),
});
/** An adaptation's latest progress event (adaptation.ts): which phase, how far, how accurate, from which source and why. */
const AdaptationProgressSchema = z.looseObject({
  phase: z.string().optional(),
  measured: z.number().optional(),
  budget: z.number().optional(),
  round: z.number().optional(),
  heldOutWithin10: z.number().optional(),
  heldOutJudged: z.number().optional(),
  source: z.string().optional(),
  why: z.string().optional(),
  waiting: z.string().nullable().optional(),
});
const AdaptationSchema = z.object({
  id,
  deviceId: id,
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  options: z.object({ budget: z.number(), target: z.number(), seed: z.number(), models: z.number() }),
  progress: AdaptationProgressSchema,
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  createdAt: time,
  finishedAt: time.nullable(),
});
const PredictorSummarySchema = z.object({
  deviceId: id,
  kernelType: z.string(),
  version: z.number().int(),
  kind: z.string(),
  trainingSamples: z.number(),
  within10: z.number().nullable(),
  heldOut: z.number().nullable(),
  provenance: z.looseObject({ method: z.string(), sourceDevice: z.string().optional() }),
  createdAt: time,
});
const PredictionSchema = z.object({
  deviceId: id,
  latencyMs: z.number(),
  overheadMs: z.number(),
  versions: z.record(z.string(), z.number()),
  kernels: z.array(z.object({ config: KernelConfigSchema, predictedMs: z.number().nullable() })),
  reorders: z.object({ count: z.number(), ms: z.number() }),
  copies: z.object({ count: z.number(), ms: z.number() }),
  missingPredictors: z.array(z.string()),
  composition: z.object({ factors: z.record(z.string(), z.number()), shared: z.number(), models: z.number() }).optional(),
  coverage: z.object({
    flopsShare: z.number(),
    nodeShare: z.number(),
    unsupported: z.array(z.object({ op: z.string(), count: z.number(), flops: z.number(), reasons: z.array(z.string()) })),
  }),
});
const Revoked = z.object({ id, revoked: z.literal(true) });
const OverviewSchema = z.object({
  generatedAt: time,
  rateWindowS: z.number(),
  devices: z.array(
    DeviceSchema.extend({
      online: z.boolean(),
      working: z.array(z.object({ campaignId: id, name: z.string(), leased: z.number() })),
      measurements: z.number(),
      driftFlagged: z.number(),
      predictorTypes: z.number(),
    }),
  ),
  campaigns: z.array(
    CampaignSchema.omit({ protocol: true }).extend({
      total: z.number(),
      done: z.number(),
      failed: z.number(),
      leased: z.number(),
      pending: z.number(),
      cancelled: z.number(),
      ratePerS: z.number(),
      etaS: z.number().nullable(),
    }),
  ),
  adaptations: z.array(AdaptationSchema.extend({ online: z.boolean() })),
});
const AccuracySchema = z.object({
  deviceId: id,
  types: z.array(
    z.object({
      type: z.string(),
      version: z.number(),
      kind: z.string(),
      trainingSamples: z.number(),
      measured: z.number(),
      metrics: z.record(z.string(), z.number()).nullable(),
      method: z.string().nullable(),
    }),
  ),
  points: z.array(z.object({ type: z.string(), predictedMs: z.number(), measuredMs: z.number() })),
});

export interface RouteSpec {
  method: 'GET' | 'POST';
  /** With :params, e.g. /api/campaigns/:id/cancel. */
  path: string;
  summary: string;
  /** Needs Authorization: Bearer <admin token>. */
  admin?: boolean;
  /** A JSON body (else: none, or the raw bytes `accepts` says). */
  body?: z.ZodType;
  accepts?: 'application/octet-stream';
  /** The JSON answer of a success; absent where the answer is not JSON (`produces`). */
  response?: z.ZodType;
  produces?: string;
  status?: number;
  query?: Record<string, string>;
}

/** Every route of the coordinator's HTTP API (pages and assets aside), by the name the typed client calls it. */
export const ROUTES = {
  health: {
    method: 'GET',
    path: '/api/health',
    summary: 'liveness, protocol version, agents online, predictor builds waiting',
    response: z.object({ ok: z.literal(true), protocol: z.number(), online: z.number(), pendingBuilds: z.number() }),
  },
  openapi: {
    method: 'GET',
    path: '/api/openapi.json',
    summary: 'this API as an OpenAPI 3.1 document',
    response: z.object({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }),
  },
  adminCheck: {
    method: 'GET',
    path: '/api/admin-check',
    summary: 'whether the Authorization header holds the admin token',
    admin: true,
    response: z.object({ ok: z.literal(true) }),
  },
  agentCheck: {
    method: 'GET',
    path: '/api/agent-check',
    summary: 'whether an agent with these headers would be let in (a browser cannot see why an upgrade failed)',
    response: z.object({ ok: z.literal(true), as: z.enum(['device', 'enrol']) }),
  },
  createToken: {
    method: 'POST',
    path: '/api/tokens',
    summary: 'a new enrolment token',
    admin: true,
    body: CreateTokenSchema,
    status: 201,
    response: z.object({ id, token: z.string(), expiresAt: time.nullable() }),
  },
  listTokens: {
    method: 'GET',
    path: '/api/tokens',
    summary: 'every enrolment token and its state',
    admin: true,
    response: z.array(EnrolmentTokenSchema),
  },
  revokeToken: {
    method: 'POST',
    path: '/api/tokens/:id/revoke',
    summary: 'stop a token enrolling anything more',
    admin: true,
    response: Revoked,
  },
  overview: {
    method: 'GET',
    path: '/api/overview',
    summary: 'the dashboard: devices with current work, campaigns with rate and ETA, adaptations',
    response: OverviewSchema,
  },
  similarity: {
    method: 'GET',
    path: '/api/similarity',
    summary: "how well each device's predictors rank each device's kernels",
    response: z.object({
      devices: z.array(id),
      cells: z.array(z.array(z.object({ spearman: z.number(), logLinear: z.number(), kernels: z.number() }).nullable())),
    }),
  },
  listDevices: {
    method: 'GET',
    path: '/api/devices',
    summary: 'enrolled and starter-pool devices, online or not',
    response: z.array(DeviceSchema.extend({ online: z.boolean() })),
  },
  revokeDevice: {
    method: 'POST',
    path: '/api/devices/:id/revoke',
    summary: 'revoke a device: its socket is closed, its open tasks fail',
    admin: true,
    response: Revoked,
  },
  accuracy: {
    method: 'GET',
    path: '/api/devices/:id/accuracy',
    summary: "a device's newest predictors against its own measured kernels",
    response: AccuracySchema,
  },
  devicePredictors: {
    method: 'GET',
    path: '/api/devices/:id/predictors',
    summary: "a device's newest predictors, run overhead and composition",
    response: z.object({
      deviceId: id,
      overheadMs: z.number(),
      composition: z.object({ version: z.number(), data: z.unknown() }).nullable(),
      predictors: z.array(PredictorSummarySchema),
    }),
  },
  exportPredictor: {
    method: 'GET',
    path: '/api/devices/:id/predictors/:type',
    summary: 'one predictor as ONNX (base64) and metadata',
    query: { version: 'a version (default: the newest)' },
    response: z.object({ metadata: z.looseObject({ version: z.number().optional() }), overheadMs: z.number(), onnx: z.string() }),
  },
  predict: {
    method: 'POST',
    path: '/api/devices/:id/predict',
    summary: 'predict an ONNX model (the raw bytes) on the device',
    accepts: 'application/octet-stream',
    query: { inputShape: 'e.g. 1,3,224,224 where the model leaves dims dynamic' },
    response: PredictionSchema,
  },
  adapt: {
    method: 'POST',
    path: '/api/devices/:id/adapt',
    summary: 'start adapting predictors for the device',
    admin: true,
    body: StartAdaptationSchema,
    status: 202,
    response: AdaptationSchema,
  },
  listCampaigns: { method: 'GET', path: '/api/campaigns', summary: 'every campaign', response: z.array(CampaignSchema) },
  createCampaign: {
    method: 'POST',
    path: '/api/campaigns',
    summary: 'measure kernel configs on devices',
    admin: true,
    body: CreateCampaignSchema,
    status: 201,
    response: CampaignSchema,
  },
  getCampaign: {
    method: 'GET',
    path: '/api/campaigns/:id',
    summary: 'a campaign with per-device progress',
    response: CampaignSchema.extend({ progress: z.array(DeviceProgressSchema) }),
  },
  cancelCampaign: {
    method: 'POST',
    path: '/api/campaigns/:id/cancel',
    summary: 'cancel a running campaign',
    admin: true,
    response: CampaignSchema,
  },
  results: {
    method: 'GET',
    path: '/api/results',
    summary: 'measurements, streamed',
    query: { format: 'csv or jsonl (default)', campaign: 'only this campaign', device: 'only this device' },
    produces: 'text/csv or application/jsonl',
  },
  listPredictors: {
    method: 'GET',
    path: '/api/predictors',
    summary: 'the newest predictor of every device and kernel type',
    query: { device: 'only this device' },
    response: z.array(PredictorSummarySchema),
  },
  listAdaptations: {
    method: 'GET',
    path: '/api/adaptations',
    summary: 'adaptations',
    query: { device: 'only this device' },
    response: z.array(AdaptationSchema),
  },
  getAdaptation: { method: 'GET', path: '/api/adaptations/:id', summary: 'one adaptation with its progress', response: AdaptationSchema },
  installScript: {
    method: 'GET',
    path: '/install.sh',
    summary: 'the shell script that installs and enrols an agent on a board',
    produces: 'text/x-shellscript',
  },
  download: {
    method: 'GET',
    path: '/downloads/:file',
    summary: 'the standalone agent package (litepred-agent-<version>.tgz)',
    produces: 'application/gzip',
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;
export const HTTP_ROUTES: readonly RouteSpec[] = Object.values(ROUTES);

/** The route a request is for, with its path parameters; undefined where none matches. */
export function matchRoute(method: string, pathname: string): { route: RouteSpec; params: Record<string, string> } | undefined {
  const parts = pathname.split('/').filter(Boolean);
  for (const route of HTTP_ROUTES) {
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (pattern.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = parts[i]!), true) : p === parts[i]))) return { route, params };
  }
  return undefined;
}

/** The routes as an OpenAPI 3.1 document (schemas by zod's JSON Schema conversion). */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of HTTP_ROUTES) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const parameters = [
      ...[...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(r.query ?? {}).map(([name, description]) => ({
        name,
        in: 'query',
        required: false,
        description,
        schema: { type: 'string' },
      })),
    ];
    const ok = r.response
      ? { content: { 'application/json': { schema: z.toJSONSchema(r.response, { unrepresentable: 'any' }) } } }
      : { content: { [r.produces ?? 'application/octet-stream']: {} } };
    paths[path] = {
      ...paths[path],
      [r.method.toLowerCase()]: {
        summary: r.summary,
        ...(r.admin ? { security: [{ admin: [] }] } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(r.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: z.toJSONSchema(r.body, { unrepresentable: 'any' }) } },
              },
            }
          : r.accepts
            ? { requestBody: { required: true, content: { [r.accepts]: {} } } }
            : {}),
        responses: {
          [String(r.status ?? 200)]: { description: 'success', ...ok },
          default: {
            description: "an error: 4xx for the request's fault, 503 when busy",
            content: { 'application/json': { schema: z.toJSONSchema(ErrorBodySchema) } },
          },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'litepred coordinator', version },
    components: {
      securitySchemes: {
        admin: { type: 'http', scheme: 'bearer', description: 'the admin token (lpa_...), written beside the database on first start' },
      },
    },
    paths,
  };
}
