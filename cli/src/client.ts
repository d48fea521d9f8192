// How CLI commands reach a coordinator: its URL and admin token from the flags, the environment,
// or the fleet config (the token file `coordinator start` writes beside the database).
import { existsSync, readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { loadFleetConfig } from '@litepred/coordinator';
import { ApiClient, ApiError, type CallArgs, type ResponseOf, type RouteName } from '@litepred/protocol';

export interface ClientArgs {
  url?: string;
  'admin-token'?: string;
  config: string;
}

export function withClientOptions<T>(y: Argv<T>) {
  return y
    .option('config', { type: 'string', default: 'fleet.config.json', describe: 'fleet config (for the default URL and admin token)' })
    .option('url', { type: 'string', describe: 'coordinator URL (default: from the fleet config)' })
    .option('admin-token', {
      type: 'string',
      describe: 'admin token (default: $LITEPRED_ADMIN_TOKEN, or the token file beside the database)',
    });
}

export const adminTokenFile = (database: string) => `${database}.admin-token`;

/** The coordinator as the CLI talks to it: the typed client (packages/protocol), with messages for people. */
export class Client {
  readonly api: ApiClient;

  constructor(
    readonly url: string,
    adminToken?: string,
  ) {
    this.api = new ApiClient(url, { adminToken });
  }

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

  /** A route by its name in the contract (ROUTES), its answer typed and checked. */
  // `{} extends CallArgs<K>`: the route has no required argument, so the arguments may be left out.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  async call<K extends RouteName>(name: K, ...rest: {} extends CallArgs<K> ? [CallArgs<K>?] : [CallArgs<K>]): Promise<ResponseOf<K>> {
    try {
      return await this.api.call(name, ...rest);
    } catch (e) {
      throw this.explain(e);
    }
  }

  /**
   * A route whose answer is streamed to `out` as it arrives (an export larger than memory); returns
   * the number of lines written. A transfer the coordinator cut short is an error, not a short file.
   */
  async download<K extends RouteName>(name: K, args: CallArgs<K>, out: NodeJS.WritableStream): Promise<number> {
    let res: Response;
    try {
      res = await this.api.send(name, args);
    } catch (e) {
      throw this.explain(e);
    }
    let lines = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const byte of chunk) if (byte === 10) lines++;
        if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      }
    } catch (e) {
      throw new Error(
        `the coordinator broke off the transfer after ${lines} lines ` +
          `(${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message})`,
        { cause: e },
      );
    }
    return lines;
  }

  private explain(e: unknown): Error {
    if (e instanceof ApiError) return new Error(`coordinator: ${e.message} (HTTP ${e.status})`);
    const err = e as Error & { cause?: Error };
    if (err instanceof TypeError)
      return new Error(
        `cannot reach the coordinator at ${this.url} (${err.cause?.message ?? err.message}); is it running? (litepred coordinator start)`,
      );
    return err;
  }
}
