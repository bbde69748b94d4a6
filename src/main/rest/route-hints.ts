// Route hints on REST replies (wire.md 2.5 and 3.2, ★ newer servers): a `route` object on the
// point lock, key/value and sequence replies, and a `routes` table plus per-item `routeIndex`
// (1-based) on the batch replies. kahuna-ts's `learned` routing caches them; a backend that
// has no hint (null) leaves the replies exactly as before.
import type { KahunaBackend, RouteDomain, RouteHint } from '../../core/api/types.js';
import type { JsonFields } from './json-fields.js';
import type { RestReply } from './router.js';

type Handler = (fields: JsonFields) => Promise<RestReply>;

function hintJson(h: RouteHint): object {
  return { partitionId: h.partitionId, endpoint: h.endpoint, provenance: h.provenance,
    generation: h.generation };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `handler` with `route` appended for the resource named by the request member `member`. */
export function routed(backend: KahunaBackend, domain: RouteDomain, member: string,
  handler: Handler): Handler {
  return async (fields) => {
    const reply = await handler(fields);
    const name = fields.raw(member);
    if (!isObject(reply.json) || typeof name !== 'string') return reply;
    const hint = backend.routeHint(domain, name);
    return hint === null ? reply : { ...reply, json: { ...reply.json, route: hintJson(hint) } };
  };
}

/** `handler` whose reply items get `routeIndex` into a `routes` table of distinct hints. */
export function routedItems(backend: KahunaBackend, handler: Handler): Handler {
  return async (fields) => {
    const reply = await handler(fields);
    const json = reply.json;
    if (!isObject(json) || !Array.isArray(json['items'])) return reply;
    const routes: object[] = [];
    const indexOf = new Map<string, number>();
    const items = (json['items'] as unknown[]).map((item) => {
      if (!isObject(item) || typeof item['key'] !== 'string') return item;
      const hint = backend.routeHint('keyValue', item['key']);
      if (hint === null) return item;
      const id = `${hint.partitionId}|${hint.endpoint}|${hint.generation}`;
      let index = indexOf.get(id);
      if (index === undefined) {
        routes.push(hintJson(hint));
        indexOf.set(id, index = routes.length);
      }
      return { ...item, routeIndex: index };
    });
    if (routes.length === 0) return reply;
    return { ...reply, json: { ...json, items, routes } };
  };
}
