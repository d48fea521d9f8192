// How CLI commands reach a coordinator: its URL and admin token from the flags, the environment,
// or the fleet config (the token file `coordinator start` writes beside the database).
import { existsSync, readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { loadFleetConfig } from '@litepred/coordinator';

export interface ClientArgs { url?: string; 'admin-token'?: string; config: string }

export function withClientOptions<T>(y: Argv<T>) {
  return y
    .option('config', { type: 'string', default: 'fleet.config.json', describe: 'fleet config (for the default URL and admin token)' })
    .option('url', { type: 'string', describe: 'coordinator URL (default: from the fleet config)' })
    .option('admin-token', { type: 'string', describe: 'admin token (default: $LITEPRED_ADMIN_TOKEN, or the token file beside the database)' });
}

export const adminTokenFile = (database: string) => `${database}.admin-token`;

export class Client {
  constructor(readonly url: string, private readonly adminToken?: string) {}

  static from(args: ClientArgs): Client {
    let url = args.url;
    let token = args['admin-token'] ?? process.env.LITEPRED_ADMIN_TOKEN;
    if (!url || !token) {
      if (!existsSync(args.config)) {
        if (!url) throw new Error(`no --url and no fleet config at ${args.config}`);
      } else {
        const config = loadFleetConfig(args.config);
        url ??= `http://${config.listen.host}:${config.listen.port}`;
        const file = adminTokenFile(config.database);
        if (!token && existsSync(file)) token = readFileSync(file, 'utf8').trim();
      }
    }
    return new Client(url!.replace(/\/+$/, ''), token);
  }

  /** A JSON request; a Uint8Array body goes as raw bytes (an ONNX model). */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    const raw = body instanceof Uint8Array;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { 'content-type': raw ? 'application/octet-stream' : 'application/json', ...(this.adminToken ? { authorization: `Bearer ${this.adminToken}` } : {}) },
        body: body === undefined ? undefined : raw ? new Blob([body as Uint8Array<ArrayBuffer>]) : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error(`cannot reach the coordinator at ${this.url} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}); is it running? (litepred coordinator start)`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try { message = JSON.parse(text).error; } catch { /* not JSON */ }
      throw new Error(`coordinator: ${message} (HTTP ${res.status})`);
    }
    return (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
  }
}
