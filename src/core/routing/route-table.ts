// The `Routes` table of a batch response (wire.md 2.5): the distinct hints of its items, and
// each item's 1-based index into it (0: no hint). Shared by the REST and gRPC adapters. Pure.
import type { RouteHint } from '../api/types.js';

export interface RouteTable {
  readonly routes: readonly RouteHint[];
  /** Per item, in item order: 1-based index into `routes`, 0 when the item has no hint. */
  readonly indexes: readonly number[];
}

export function routeTable(hints: readonly (RouteHint | null)[]): RouteTable {
  const routes: RouteHint[] = [];
  const indexOf = new Map<string, number>();
  const indexes = hints.map((hint) => {
    if (hint === null) return 0;
    const id = `${hint.partitionId}|${hint.endpoint}|${hint.provenance}|${hint.generation}`;
    let index = indexOf.get(id);
    if (index === undefined) {
      routes.push(hint);
      indexOf.set(id, index = routes.length);
    }
    return index;
  });
  return { routes, indexes };
}
