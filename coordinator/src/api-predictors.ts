// The predictor side of the HTTP API: list, pull (ONNX + metadata), predict a whole model, and
// adaptations (start, follow). Predictions and reads are open; starting an adaptation needs the
// admin token.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StartAdaptationSchema } from '@litepred/protocol';
import { countGraphNodes } from '@litepred/predictor';
import { HttpError, json, readBody, readRaw } from './http.js';
import type { StoredPredictor } from './predictor-store.js';
import type { ApiContext } from './api-context.js';

/** Models are sent as raw ONNX bytes; large CNNs run to a few hundred MB. */
const MAX_MODEL_BYTES = 512 * 1024 * 1024;

export interface Route {
  resource?: string;
  id?: string;
  action?: string;
  rest: string[];
  url: URL;
  method: string;
  admin(): void;
}

/** A predictor without its weights: what `predictor list` shows. */
export const summary = (p: StoredPredictor) => ({
  deviceId: p.deviceId,
  kernelType: p.kernelType,
  version: p.version,
  kind: p.kind,
  trainingSamples: p.trainingSamples,
  within10: p.metrics?.within10 ?? null,
  heldOut: p.metrics?.n ?? null,
  provenance: p.provenance,
  createdAt: p.createdAt,
});

function parseShape(text: string | null): number[] | undefined {
  if (text === null || text === '') return undefined;
  const dims = text.split(/[,x]/).map((d) => Number(d.trim()));
  if (dims.some((d) => !Number.isInteger(d) || d < 1))
    throw new HttpError(400, `inputShape: positive whole numbers separated by commas (e.g. 1,3,224,224), not '${text}'`);
  return dims;
}

export async function handlePredictorRoutes(c: ApiContext, req: IncomingMessage, res: ServerResponse, r: Route): Promise<boolean> {
  const { resource, id, action, rest, url, method } = r;
  if (resource === 'predictors' && method === 'GET' && !id) {
    const device = url.searchParams.get('device') ?? undefined;
    if (device) c.store.getDevice(device);
    json(res, 200, c.predictors.latestPredictors(device).map(summary));
    return true;
  }
  if (resource === 'devices' && id && action === 'predictors' && method === 'GET') {
    const type = rest[0];
    if (!type) {
      json(res, 200, {
        deviceId: id,
        overheadMs: c.predictors.runOverheadMs(id),
        composition: c.predictors.latestComposition(id) ?? null,
        predictors: c.service.storedFor(id).map(summary),
      });
      return true;
    }
    const v = url.searchParams.get('version');
    const version = v === null ? undefined : Number(v);
    if (version !== undefined && !(Number.isInteger(version) && version > 0))
      throw new HttpError(400, `version: a positive whole number, not '${v}'`);
    const { onnx, metadata } = c.service.exportOne(id, type, version);
    json(res, 200, { metadata, overheadMs: c.predictors.runOverheadMs(id), onnx: Buffer.from(onnx).toString('base64') });
    return true;
  }
  if (resource === 'devices' && id && action === 'predict' && method === 'POST') {
    const shape = parseShape(url.searchParams.get('inputShape'));
    c.store.getDevice(id);
    const body = await readRaw(req, MAX_MODEL_BYTES);
    if (body.length === 0) throw new HttpError(400, 'send the ONNX model as the request body (Content-Type: application/octet-stream)');
    const nodes = countGraphNodes(body);
    if (nodes !== undefined && nodes > c.maxModelNodes) {
      throw new HttpError(
        413,
        `model: ${nodes} nodes, over this coordinator's cap of ${c.maxModelNodes} (maxModelNodes in fleet.config.json)`,
      );
    }
    // A copy of its own (a small Buffer can share Node's pool, which must not move to the worker).
    json(res, 200, await c.reads.predict(id, new Uint8Array(body), shape));
    return true;
  }
  if (resource === 'devices' && id && action === 'adapt' && method === 'POST') {
    r.admin();
    json(res, 202, c.adaptations.start(id, await readBody(req, StartAdaptationSchema)));
    return true;
  }
  if (resource === 'adaptations' && method === 'GET') {
    json(
      res,
      200,
      id ? c.predictors.adaptations.get(id) : c.predictors.adaptations.list({ deviceId: url.searchParams.get('device') ?? undefined }),
    );
    return true;
  }
  return false;
}
