// Route hints on gRPC responses (wire.md 2.5, ★ newer servers): `Route` on the point lock,
// key/value and sequence responses, `Routes` plus per-item `RouteIndex` (1-based) on the
// batch responses. A backend without a hint (null) leaves the responses unchanged.
import type { KahunaBackend, RouteDomain, RouteHint } from '../../core/api/types.js';
import { routeTable } from '../../core/routing/route-table.js';
import type { GrpcRouteHint } from './generated/routing.js';

export function routeTo(hint: RouteHint): GrpcRouteHint {
  return { PartitionId: hint.partitionId, Endpoint: hint.endpoint,
    Provenance: hint.provenance, Generation: BigInt(hint.generation) };
}

/** `op` with `Route` set for the resource `nameOf(request)` names. */
export function hinted<M, R extends object>(backend: KahunaBackend, domain: RouteDomain,
  nameOf: (m: M) => string, op: (m: M) => Promise<R>): (m: M) => Promise<R> {
  return async (m) => {
    const res = await op(m);
    const hint = backend.routeHint(domain, nameOf(m));
    if (hint === null) return res;
    // A response built for this call gets its Route in place; a frozen shared one is copied.
    if (Object.isFrozen(res)) return { ...res, Route: routeTo(hint) };
    (res as { Route?: GrpcRouteHint }).Route = routeTo(hint);
    return res;
  };
}

interface ItemsResponse {
  readonly Items: readonly { readonly Key: string }[];
}

/** `op` whose response items get `RouteIndex` into a `Routes` table of distinct hints. */
export function hintedItems<M, R extends ItemsResponse>(backend: KahunaBackend,
  op: (m: M) => Promise<R>): (m: M) => Promise<R> {
  return async (m) => {
    const res = await op(m);
    const table = routeTable(res.Items.map((item) => backend.routeHint('keyValue', item.Key)));
    if (table.routes.length === 0) return res;
    const items = res.Items.map((item, i) => (table.indexes[i] === 0 ? item
      : { ...item, RouteIndex: table.indexes[i] }));
    return { ...res, Items: items, Routes: table.routes.map(routeTo) };
  };
}
