// A small router for Kahuna's REST API over Honu's HTTP/1.1 server (../http/http1-server.ts):
// exact paths in a Map (one lookup per request), `{name}` segments for the few parameterized
// routes, JSON bodies up to restBodyBytesMax, compact JSON replies. Every failure is a JSON
// error with a stable code from src/errors.ts; nothing a client sends can throw out of handle().
import { assert } from '../../assert.js';
import { HonuError, errors } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import { restBodyBytesMax } from '../../limits.js';
import { Http1Server } from '../http/http1-server.js';
import type { Http1Options, HttpHandler, HttpRequest, Respond } from '../http/http1-server.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface RestContext {
  /** Parsed JSON body; undefined when the request has no body. */
  readonly body: unknown;
  readonly query: URLSearchParams;
  /** Values of `{name}` path segments. */
  readonly params: Readonly<Record<string, string>>;
  readonly req: HttpRequest;
}

export interface RestReply {
  status?: number; // default 200
  json?: unknown; // compact JSON, application/json
  text?: string; // when json is absent; contentType defaults to text/plain
  contentType?: string;
  headers?: Readonly<Record<string, string>>;
}

export type RestHandler = (ctx: RestContext) => RestReply | Promise<RestReply>;

export interface RestRouterOptions {
  readonly metrics?: Metrics;
  readonly log?: Logger;
  /** Defaults to restBodyBytesMax (tests may lower it). */
  readonly bodyBytesMax?: number;
}

interface Route {
  readonly path: string; // the pattern, also the metrics label
  readonly segments: readonly string[] | null; // null for exact paths
  readonly handlers: Map<string, RestHandler>;
  allow: string; // the Allow header of a 405
}

const jsonContentType = 'application/json; charset=utf-8';
const textContentType = 'text/plain; charset=utf-8';
const unmatchedRoute = '<unmatched>';
const noParams: Readonly<Record<string, string>> = Object.freeze({});

function isParam(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

/** The reply's Kahuna `type` as a metrics label. */
function typeLabel(status: number, json: unknown): string {
  if (typeof json === 'object' && json !== null) {
    const type = (json as { type?: unknown }).type;
    if (typeof type === 'number' && Number.isInteger(type) && type >= 0 && type < 1000) {
      return String(type);
    }
  }
  return status >= 400 ? 'error' : 'none';
}

/** The handler's view of a request; the query is parsed only if a handler reads it. */
class RequestContext implements RestContext {
  #query: URLSearchParams | null = null;
  constructor(readonly req: HttpRequest, readonly body: unknown,
    readonly params: Readonly<Record<string, string>>, readonly rawQuery: string) {}

  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.rawQuery);
    return this.#query;
  }
}

function errorPayload(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: code, message });
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RestRouter implements HttpHandler {
  readonly bodyBytesMax: number;
  readonly #exact = new Map<string, Route>();
  readonly #patterns: Route[] = [];
  readonly #metrics: Metrics | undefined;
  readonly #log: Logger | undefined;

  constructor(options: RestRouterOptions = {}) {
    this.bodyBytesMax = options.bodyBytesMax ?? restBodyBytesMax;
    this.#metrics = options.metrics;
    this.#log = options.log;
    assert(this.bodyBytesMax > 0 && this.bodyBytesMax <= restBodyBytesMax, 'bad bodyBytesMax');
  }

  /** Registers a handler; `{name}` segments match one path segment each. */
  add(method: HttpMethod, path: string, handler: RestHandler): this {
    assert(path.startsWith('/'), `route path must start with '/': ${path}`);
    assert(path === '/' || !path.endsWith('/'), `route path must not end with '/': ${path}`);
    const segments = path.split('/');
    const patterned = segments.some(isParam);
    let route = patterned ? this.#patterns.find((r) => r.path === path) : this.#exact.get(path);
    if (route === undefined) {
      route = { path, segments: patterned ? segments : null, handlers: new Map(), allow: '' };
      if (patterned) this.#patterns.push(route);
      else this.#exact.set(path, route);
    }
    assert(!route.handlers.has(method), `route ${method} ${path} added twice`);
    route.handlers.set(method, handler);
    route.allow = [...route.handlers.keys()].join(', ');
    return this;
  }

  /** Serves one request; never throws. */
  handle(req: HttpRequest, res: Respond): void {
    const url = req.url;
    const queryAt = url.indexOf('?');
    let path = queryAt === -1 ? url : url.slice(0, queryAt);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    let route = this.#exact.get(path);
    let params = noParams;
    if (route === undefined && this.#patterns.length > 0) {
      const matched = this.#matchPattern(path);
      if (matched === 'bad-escape') {
        this.#fail(res, unmatchedRoute, 'HONU_ERR_INVALID_INPUT', 'bad percent-escape in path');
        return;
      }
      if (matched !== null) ({ route, params } = matched);
    }
    if (route === undefined) {
      this.#fail(res, unmatchedRoute, 'HONU_ERR_ROUTE_NOT_FOUND', `no route ${path}`);
      return;
    }
    const method = req.method;
    const handler = route.handlers.get(method) ??
      (method === 'HEAD' ? route.handlers.get('GET') : undefined);
    if (handler === undefined) {
      this.#fail(res, route.path, 'HONU_ERR_METHOD_NOT_ALLOWED',
        `${method} is not allowed on ${route.path}`, { allow: route.allow });
      return;
    }
    const rawQuery = queryAt === -1 ? '' : url.slice(queryAt + 1);
    if (req.bodyTooLarge) {
      this.#fail(res, route.path, 'HONU_ERR_BODY_TOO_LARGE',
        `request body exceeds ${this.bodyBytesMax} bytes`);
      return;
    }
    let body: unknown;
    if (req.body !== null && req.body.length > 0) {
      try {
        body = JSON.parse(req.body.toString('utf8'));
      } catch (error) {
        this.#fail(res, route.path, 'HONU_ERR_BAD_JSON', `malformed JSON body: ${reasonOf(error)}`);
        return;
      }
    }
    this.#dispatch(route, handler, new RequestContext(req, body, params, rawQuery), res);
  }

  #matchPattern(path: string):
    { route: Route; params: Record<string, string> } | null | 'bad-escape' {
    const parts = path.split('/');
    for (const route of this.#patterns) {
      const segments = route.segments;
      assert(segments !== null, 'pattern route without segments');
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const segment = segments[i] ?? '';
        const part = parts[i] ?? '';
        if (!isParam(segment)) {
          ok = segment === part;
        } else if (part === '') {
          ok = false;
        } else {
          try {
            params[segment.slice(1, -1)] = decodeURIComponent(part);
          } catch {
            return 'bad-escape';
          }
        }
      }
      if (ok) return { route, params };
    }
    return null;
  }

  #dispatch(route: Route, handler: RestHandler, ctx: RestContext, res: Respond): void {
    let result: RestReply | Promise<RestReply>;
    try {
      result = handler(ctx);
    } catch (error) {
      this.#handlerFailed(res, route, error);
      return;
    }
    if (result instanceof Promise) {
      result.then((reply) => this.#reply(res, route, reply),
        (error: unknown) => this.#handlerFailed(res, route, error));
    } else {
      this.#reply(res, route, result);
    }
  }

  #reply(res: Respond, route: Route, reply: RestReply): void {
    const status = reply.status ?? 200;
    let payload: string | undefined;
    let contentType: string;
    if (reply.json !== undefined) {
      try {
        payload = JSON.stringify(reply.json);
      } catch (error) {
        this.#handlerFailed(res, route, error);
        return;
      }
      contentType = reply.contentType ?? jsonContentType;
    } else {
      payload = reply.text ?? '';
      contentType = reply.contentType ?? textContentType;
    }
    if (typeof payload !== 'string') {
      this.#handlerFailed(res, route, new TypeError('reply.json is not JSON-serializable'));
      return;
    }
    this.#metrics?.countRequest(route.path, typeLabel(status, reply.json));
    res(status, contentType, payload, reply.headers);
  }

  #handlerFailed(res: Respond, route: Route, error: unknown): void {
    if (error instanceof HonuError) {
      this.#fail(res, route.path, error.code, error.message);
      return;
    }
    this.#log?.error({ err: error, route: route.path }, 'REST handler failed');
    this.#fail(res, route.path, 'HONU_ERR_INTERNAL', errors.HONU_ERR_INTERNAL.message);
  }

  #fail(res: Respond, routeLabel: string, code: ErrorCode, message: string,
    headers?: Readonly<Record<string, string>>): void {
    const status = errors[code].httpStatus;
    this.#metrics?.countRequest(routeLabel, 'error');
    res(status, jsonContentType, errorPayload(code, message), headers);
  }
}

/** Honu's HTTP/1.1 server, serving `router`; the listener (or listen(), in tests) feeds it. */
export function createHttpServer(router: RestRouter, options: Http1Options = {}): Http1Server {
  return new Http1Server(router, options);
}
