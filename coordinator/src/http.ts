// Small HTTP helpers the API routes share: JSON replies, bodies read with a size cap and
// validated, errors that carry their status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Under LITEPRED_CHECK_RESPONSES=1 (the test suite), every success is checked against its route's response schema. */
const CHECK_RESPONSES = process.env.LITEPRED_CHECK_RESPONSES === '1';
const contracts = new WeakMap<ServerResponse, { path: string; schema: z.ZodType }>();

/** The response schema json() checks this response against (with CHECK_RESPONSES). */
export function expectResponse(res: ServerResponse, path: string, schema: z.ZodType | undefined): void {
  if (CHECK_RESPONSES && schema) contracts.set(res, { path, schema });
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const contract = status < 300 ? contracts.get(res) : undefined;
  if (contract) {
    const check = contract.schema.safeParse(body);
    if (!check.success) {
      const issue = check.error.issues[0]!;
      status = 500;
      body = {
        error:
          `the answer to ${contract.path} does not match its schema ` +
          `(packages/protocol/src/http.ts): ${issue.path.join('.') || '(body)'}: ${issue.message}`,
      };
    }
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function readRaw(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `request body over ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readBody<T>(req: IncomingMessage, schema: z.ZodType<T>, maxBytes = 32 * 1024 * 1024): Promise<T> {
  let value: unknown;
  try {
    value = JSON.parse((await readRaw(req, maxBytes)).toString() || '{}');
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}
