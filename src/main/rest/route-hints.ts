// Route hints on REST replies (wire.md 2.5 and 3.2, ★ newer servers): a `route` object on the
// point lock, key/value and sequence replies, and a `routes` table plus per-item `routeIndex`
// (1-based) on the batch replies. kahuna-ts's `learned` routing caches them; a backend that
// has no hint (null) leaves the replies exactly as before.
import type { KahunaBackend, RouteDomain, RouteHint } from '../../core/api/types.js';
import { routeTable } from '../../core/routing/route-table.js';
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
    if (hint === null) return reply;
    const json = reply.json as Record<string, unknown>;
    // A reply built for this request gets its route in place (no copy on the hot path); a
    // shared constant reply (sharedReply(), frozen) is copied first.
    if (Object.isFrozen(json)) return { ...reply, json: { ...json, route: hintJson(hint) } };
    json['route'] = hintJson(hint);
    return reply;
  };
}

/** `handler` whose reply items get `routeIndex` into a `routes` table of distinct hints. */
export function routedItems(backend: KahunaBackend, handler: Handler): Handler {
  return async (fields) => {
    const reply = await handler(fields);
    const json = reply.json;
    if (!isObject(json) || !Array.isArray(json['items'])) return reply;
    const rows = json['items'] as unknown[];
    const table = routeTable(rows.map((item) => (isObject(item) && typeof item['key'] === 'string'
      ? backend.routeHint('keyValue', item['key']) : null)));
    if (table.routes.length === 0) return reply;
    const items = rows.map((item, i) => (table.indexes[i] === 0 || !isObject(item) ? item
      : { ...item, routeIndex: table.indexes[i] }));
    return { ...reply, json: { ...json, items, routes: table.routes.map(hintJson) } };
  };
}
