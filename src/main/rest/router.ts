// A small router over node:http for Kahuna's REST API: exact paths in a Map (one lookup per
// request), `{name}` segments for the few parameterized routes, JSON bodies up to
// restBodyBytesMax, compact JSON replies. Every failure is a JSON error with a stable code from
// src/errors.ts; nothing a client sends can throw out of handle().
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { assert } from '../../assert.js';
import { HonuError, errors } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import {
  httpHeadersTimeoutMs, httpKeepAliveTimeoutMs, httpRequestTimeoutMs, restBodyBytesMax,
  restLingerBytesMax, restLingerMs,
} from '../../limits.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface RestContext {
  /** Parsed JSON body; undefined when the request has no body. */
  readonly body: unknown;
  readonly query: URLSearchParams;
  /** Values of `{name}` path segments. */
  readonly params: Readonly<Record<string, string>>;
  readonly req: IncomingMessage;
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

function send(res: ServerResponse, status: number, contentType: string, payload: string,
  headers?: Readonly<Record<string, string>>): void {
  if (res.headersSent || res.destroyed) return;
  // writeHead with a flat [name, value, ...] array: no header object per reply.
  const flat: string[] = ['content-type', contentType,
    'content-length', String(Buffer.byteLength(payload))];
  if (headers !== undefined) for (const name in headers) flat.push(name, headers[name] ?? '');
  res.writeHead(status, flat);
  res.end(payload);
}

/** The handler's view of a request; the query is parsed only if a handler reads it. */
class RequestContext implements RestContext {
  #query: URLSearchParams | null = null;
  constructor(readonly req: IncomingMessage, readonly body: unknown,
    readonly params: Readonly<Record<string, string>>, readonly rawQuery: string) {}

  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.rawQuery);
    return this.#query;
  }
}

function errorPayload(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: code, message });
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * After a 413 the rest of the body is read and dropped (never buffered) for at most restLingerMs
 * and restLingerBytesMax, so the client reads the 413 instead of a reset; then the connection
 * closes. A body that ends in time leaves the connection usable for the next request.
 */
function discardRestOfBody(req: IncomingMessage): void {
  const socket = req.socket;
  let discardedBytes = 0;
  const timer = setTimeout(() => socket.destroy(), restLingerMs);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    discardedBytes += chunk.length;
    if (discardedBytes > restLingerBytesMax) socket.destroy();
  });
  req.once('end', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
  req.resume();
}

export class RestRouter {
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
  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
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
    const method = req.method ?? 'GET';
    const handler = route.handlers.get(method) ??
      (method === 'HEAD' ? route.handlers.get('GET') : undefined);
    if (handler === undefined) {
      this.#fail(res, route.path, 'HONU_ERR_METHOD_NOT_ALLOWED',
        `${method} is not allowed on ${route.path}`, { allow: route.allow });
      return;
    }
    const rawQuery = queryAt === -1 ? '' : url.slice(queryAt + 1);
    const found = route;
    if (!hasBody(req)) {
      this.#dispatch(found, handler, new RequestContext(req, undefined, params, rawQuery), res);
      return;
    }
    this.#readBody(req, res, found, (body) => {
      this.#dispatch(found, handler, new RequestContext(req, body, params, rawQuery), res);
    });
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

  #readBody(req: IncomingMessage, res: ServerResponse, route: Route,
    done: (body: unknown) => void): void {
    const bytesMax = this.bodyBytesMax;
    req.on('error', (error) => {
      this.#log?.debug({ err: error, route: route.path }, 'request aborted');
    });
    if (Number(req.headers['content-length']) > bytesMax) {
      this.#tooLarge(req, res, route);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= bytesMax) {
        chunks.push(chunk);
        return;
      }
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      chunks.length = 0;
      this.#tooLarge(req, res, route);
    };
    const onEnd = (): void => {
      if (size === 0) {
        done(undefined);
        return;
      }
      const first = chunks[0];
      const bytes = chunks.length === 1 && first !== undefined
        ? first : Buffer.concat(chunks, size);
      let body: unknown;
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        this.#fail(res, route.path, 'HONU_ERR_BAD_JSON', `malformed JSON body: ${reasonOf(error)}`);
        return;
      }
      done(body);
    };
    req.on('data', onData);
    req.on('end', onEnd);
  }

  #tooLarge(req: IncomingMessage, res: ServerResponse, route: Route): void {
    this.#fail(res, route.path, 'HONU_ERR_BODY_TOO_LARGE',
      `request body exceeds ${this.bodyBytesMax} bytes`);
    discardRestOfBody(req);
  }

  #dispatch(route: Route, handler: RestHandler, ctx: RestContext, res: ServerResponse): void {
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

  #reply(res: ServerResponse, route: Route, reply: RestReply): void {
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
    send(res, status, contentType, payload, reply.headers);
  }

  #handlerFailed(res: ServerResponse, route: Route, error: unknown): void {
    if (error instanceof HonuError) {
      this.#fail(res, route.path, error.code, error.message);
      return;
    }
    this.#log?.error({ err: error, route: route.path }, 'REST handler failed');
    this.#fail(res, route.path, 'HONU_ERR_INTERNAL', errors.HONU_ERR_INTERNAL.message);
  }

  #fail(res: ServerResponse, routeLabel: string, code: ErrorCode, message: string,
    headers?: Readonly<Record<string, string>>): void {
    const status = errors[code].httpStatus;
    this.#metrics?.countRequest(routeLabel, 'error');
    send(res, status, jsonContentType, errorPayload(code, message), headers);
  }
}

/**
 * A node:http server that hands every request to `router`, with Honu's timeouts. It is never
 * listen()ed: startListener() feeds it connections.
 */
export function createHttpServer(router: RestRouter): http.Server {
  const server = http.createServer({
    headersTimeout: httpHeadersTimeoutMs,
    requestTimeout: httpRequestTimeoutMs,
    keepAliveTimeout: httpKeepAliveTimeoutMs,
  }, (req, res) => router.handle(req, res));
  // `Expect: 100-continue`: no 100 for a body that will be refused; the 413 comes at once.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers['content-length']) > router.bodyBytesMax)) res.writeContinue();
    router.handle(req, res);
  });
  return server;
}
