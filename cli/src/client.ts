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
    const res = await this.send(method, path, body);
    const text = await res.text();
    // application/json only: a JSON-lines body (application/x-ndjson) is text to the caller.
    return (res.headers.get('content-type')?.split(';')[0]?.trim() === 'application/json' ? JSON.parse(text) : text) as T;
  }

  /**
   * A GET whose body is streamed to `out` as it arrives (an export larger than memory); returns the
   * number of lines written. A transfer the coordinator cut short is an error, not a short file.
   */
  async download(path: string, out: NodeJS.WritableStream): Promise<number> {
    const res = await this.send('GET', path);
    let lines = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const byte of chunk) if (byte === 10) lines++;
        if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      }
    } catch (e) {
      throw new Error(`the coordinator broke off the transfer after ${lines} lines (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message})`);
    }
    return lines;
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
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
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try { message = JSON.parse(text).error; } catch { /* not JSON */ }
      throw new Error(`coordinator: ${message} (HTTP ${res.status})`);
    }
    return res;
  }
}
