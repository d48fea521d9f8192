// The one client of the coordinator's HTTP API: a route is called by its name in ROUTES, with its
// path parameters, query and body typed from the contract, and its answer checked against the
// route's response schema before the caller sees it. Runs wherever fetch does (Node 20, browsers).
import type { z } from 'zod';
import { ROUTES, type RouteName } from './http.js';

type Route<K extends RouteName> = (typeof ROUTES)[K];
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;
/** The answer of a route: its response schema's type (undefined for routes that do not answer JSON). */
export type ResponseOf<K extends RouteName> = Route<K> extends { response: infer S extends z.ZodType } ? z.infer<S> : undefined;
type BodyOf<K extends RouteName> =
  Route<K> extends { body: infer S extends z.ZodType } ? z.input<S> : Route<K> extends { accepts: string } ? Uint8Array : undefined;

export type CallArgs<K extends RouteName> = ([ParamNames<Route<K>['path']>] extends [never]
  ? { params?: undefined }
  : { params: Record<ParamNames<Route<K>['path']>, string> }) &
  (BodyOf<K> extends undefined ? { body?: undefined } : { body: BodyOf<K> }) & { query?: Record<string, string | undefined> };

/** A refusal by the coordinator: its HTTP status and its message ({ error }). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly options: { adminToken?: string; fetch?: typeof fetch } = {},
  ) {}

  /** The route's URL with its parameters and query filled in. */
  url<K extends RouteName>(name: K, args: { params?: Record<string, string>; query?: Record<string, string | undefined> } = {}): string {
    const path = ROUTES[name].path.replace(/:(\w+)/g, (_, p: string) => {
      const v = args.params?.[p];
      if (v === undefined) throw new Error(`${name}: the path parameter ${p} is missing`);
      return encodeURIComponent(v);
    });
    const query = new URLSearchParams(
      Object.entries(args.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
    );
    return `${this.baseUrl}${path}${query.size ? `?${query}` : ''}`;
  }

  /** Sends the request; a refusal is an ApiError. The Response, for routes whose answer is not JSON (an export, a download). */
  async send<K extends RouteName>(name: K, args: CallArgs<K>): Promise<Response> {
    const route = ROUTES[name];
    const body = (args as { body?: unknown }).body;
    const raw = body instanceof Uint8Array;
    const res = await (this.options.fetch ?? fetch)(this.url(name, args as { params?: Record<string, string> }), {
      method: route.method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': raw ? 'application/octet-stream' : 'application/json' }),
        ...(this.options.adminToken ? { authorization: `Bearer ${this.options.adminToken}` } : {}),
      },
      body: body === undefined ? undefined : raw ? new Blob([body as Uint8Array<ArrayBuffer>]) : JSON.stringify(body),
    });
    if (!res.ok) {
      const text = await res.text();
      let message = text || res.statusText;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        /* not JSON */
      }
      throw new ApiError(res.status, message);
    }
    return res;
  }

  /** Calls a route and returns its answer, checked against the route's response schema. */
  // `{} extends CallArgs<K>`: the route has no required argument, so the arguments may be left out.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  async call<K extends RouteName>(name: K, ...[args]: {} extends CallArgs<K> ? [CallArgs<K>?] : [CallArgs<K>]): Promise<ResponseOf<K>> {
    const res = await this.send(name, (args ?? {}) as CallArgs<K>);
    const schema = (ROUTES[name] as { response?: z.ZodType }).response;
    if (!schema) return undefined as ResponseOf<K>;
    const answer: unknown = await res.json();
    const parsed = schema.safeParse(answer);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(
        `the coordinator's answer to ${name} does not match the ` +
          `contract: ${issue.path.join('.') || '(body)'}: ${issue.message} (is it another version of litepred?)`,
      );
    }
    // The answer as sent (a schema names the fields a caller may rely on; parsing would drop the rest).
    return answer as ResponseOf<K>;
  }
}
