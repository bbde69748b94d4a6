// Kahuna's key/value routes (wire.md 3.4): point operations, batches and scans under /v1/kv/.
// Always HTTP 200; the outcome is `type` (KvType). The semantics (wire.md 4.2, 4.3) are the
// backend's; this file maps JSON to the plain requests and back, and adds the two checks that
// only REST has: try-extend needs expiresMs > 0, and a batch without `items` is an envelope 100.
// Route hints (`route`, `routes`, ★ newer servers) come from the backend (route-hints.ts).
import type {
  KahunaBackend, KvGetManyRequest, KvGetManyResponse, KvGetRequest, KvReadItem, KvReadResponse,
  KvScanItem, KvSetRequest, KvWriteItem, KvWriteResponse,
} from '../../core/api/types.js';
import { hlcZero } from '../../core/api/types.js';
import { KvType } from '../../core/api/codes.js';
import type { RestReply, RestRouter } from './router.js';
import { routed, routedItems } from './route-hints.js';
import { addJsonPost, base64OrNull, hlcJson, sharedReply, type JsonFields } from './json-fields.js';

export interface KvRouteDeps {
  readonly backend: KahunaBackend;
}

const invalid = KvType.InvalidInput;

// ------------------------------------------------------------------ requests

// The request objects are written out as one literal each, never spread from a shared
// transaction-fields object: a spread here made the REST get path 1.8x slower (the runtime's
// object-spread path and the shapes it leaves; bench/RESULTS.md, "REST path").
function setRequest(f: JsonFields): KvSetRequest {
  return {
    txId: f.hlc('transactionId'),
    coordinatorKey: f.string('coordinatorKey'),
    operationIdHigh: f.uint64('operationIdHigh'),
    operationIdLow: f.uint64('operationIdLow'),
    key: f.string('key'),
    value: f.bytes('value'),
    compareValue: f.bytes('compareValue'),
    compareRevision: f.int64('compareRevision'),
    flags: f.int32('flags'),
    expiresMs: f.int32('expiresMs'),
    durability: f.int32('durability'),
  };
}

/** try-get and try-exists: an absent revision is 0, which reads revision 0 (wire.md 4.2). */
function getRequest(f: JsonFields): KvGetRequest {
  return {
    txId: f.hlc('transactionId'),
    coordinatorKey: f.string('coordinatorKey'),
    operationIdHigh: f.uint64('operationIdHigh'),
    operationIdLow: f.uint64('operationIdLow'),
    key: f.string('key'),
    revision: f.int64('revision'),
    readTimestamp: f.hlc('readTimestamp'),
    durability: f.int32('durability'),
  };
}

/** try-get-many and try-exists-many; null when `items` is missing or a member is wrong. */
function getManyRequest(f: JsonFields): KvGetManyRequest | null {
  const txId = f.hlc('transactionId');
  const readTimestamp = f.hlc('readTimestamp');
  const rows = f.objects('items');
  if (rows === null) return null;
  // Kahuna's item defaults its revision to -1 (latest), unlike the point get.
  const items = rows.map((item) => ({ key: item.string('key'),
    revision: item.int64('revision', -1), durability: item.int32('durability') }));
  f.absorb(rows);
  return f.problem === null ? { txId, readTimestamp, items } : null;
}

// ------------------------------------------------------------------ replies

function writeReply(res: KvWriteResponse): RestReply {
  return { json: { servedFrom: '', type: res.type, revision: res.revision,
    lastModified: hlcJson(res.lastModified) } };
}

function getReply(res: KvReadResponse): RestReply {
  return { json: { servedFrom: '', type: res.type, value: base64OrNull(res.value),
    revision: res.revision, expires: hlcJson(res.expires),
    lastModified: hlcJson(res.lastModified) } };
}

function existsReply(res: KvReadResponse): RestReply {
  return { json: { servedFrom: '', type: res.type, revision: res.revision,
    expires: hlcJson(res.expires), lastModified: hlcJson(res.lastModified) } };
}

const invalidWrite = sharedReply(writeReply({ type: invalid, revision: 0,
  lastModified: hlcZero }));
const invalidRead = { type: invalid, value: null, revision: 0, expires: hlcZero,
  lastUsed: hlcZero, lastModified: hlcZero, state: 0 };

function writeItemJson(item: KvWriteItem): object {
  return { servedFrom: '', key: item.key, type: item.type, revision: item.revision,
    lastModified: hlcJson(item.lastModified), durability: item.durability, routeIndex: 0 };
}

/** Set-many and delete-many: the envelope has no servedFrom, each item has one. */
function writeManyReply(type: number, items: readonly KvWriteItem[], startedMs: number):
  RestReply {
  return { json: { type, items: items.map(writeItemJson), timeElapsedMs: elapsedMs(startedMs) } };
}

function readItemJson(item: KvReadItem, withValue: boolean): object {
  return { key: item.key, type: item.type, value: withValue ? base64OrNull(item.value) : null,
    revision: item.revision, lastModified: hlcJson(item.lastModified),
    durability: item.durability, routeIndex: 0 };
}

function readManyReply(res: KvGetManyResponse, withValue: boolean, startedMs: number):
  RestReply {
  return { json: { type: res.type, servedFrom: '',
    items: res.items.map((item) => readItemJson(item, withValue)),
    timeElapsedMs: elapsedMs(startedMs) } };
}

function scanItemJson(item: KvScanItem): object {
  return { key: item.key, value: base64OrNull(item.value), revision: item.revision,
    lastModified: hlcJson(item.lastModified) };
}

function scanReply(type: number, items: readonly KvScanItem[]): RestReply {
  return { json: { servedFrom: '', type, items: items.map(scanItemJson) } };
}

function elapsedMs(startedMs: number): number {
  return Math.round(performance.now() - startedMs);
}

// ------------------------------------------------------------------ routes

function registerPointRoutes(router: RestRouter, backend: KahunaBackend): void {
  const must = KvType.MustRetry;
  const hinted = (h: Parameters<typeof routed>[3]) => routed(backend, 'keyValue', 'key', h);
  addJsonPost(router, '/v1/kv/try-set', must, hinted(async (f) => {
    const req = setRequest(f);
    return f.problem !== null ? invalidWrite : writeReply(await backend.kvSet(req));
  }));
  addJsonPost(router, '/v1/kv/try-extend', must, hinted(async (f) => {
    const req = { txId: f.hlc('transactionId'), coordinatorKey: f.string('coordinatorKey'),
      operationIdHigh: f.uint64('operationIdHigh'), operationIdLow: f.uint64('operationIdLow'),
      key: f.string('key'), expiresMs: f.int32('expiresMs'), durability: f.int32('durability') };
    // REST alone refuses 0: gRPC reads it as "no expiry" (wire.md 4.2).
    if (f.problem !== null || req.expiresMs <= 0) return invalidWrite;
    return writeReply(await backend.kvExtend(req));
  }));
  addJsonPost(router, '/v1/kv/try-delete', must, hinted(async (f) => {
    const req = { txId: f.hlc('transactionId'), coordinatorKey: f.string('coordinatorKey'),
      operationIdHigh: f.uint64('operationIdHigh'), operationIdLow: f.uint64('operationIdLow'),
      key: f.string('key'), durability: f.int32('durability') };
    return f.problem !== null ? invalidWrite : writeReply(await backend.kvDelete(req));
  }));
  addJsonPost(router, '/v1/kv/try-get', must, hinted(async (f) => {
    const req = getRequest(f);
    return getReply(f.problem !== null ? invalidRead : await backend.kvGet(req));
  }));
  addJsonPost(router, '/v1/kv/try-exists', must, hinted(async (f) => {
    const req = getRequest(f);
    return existsReply(f.problem !== null ? invalidRead : await backend.kvExists(req));
  }));
}

function registerBatchRoutes(router: RestRouter, backend: KahunaBackend): void {
  const must = KvType.MustRetry;
  addJsonPost(router, '/v1/kv/try-set-many', must, routedItems(backend, async (f) => {
    const startedMs = performance.now();
    const rows = f.objects('items');
    const items = rows?.map(setRequest) ?? [];
    f.absorb(rows ?? []);
    if (rows === null || f.problem !== null) return writeManyReply(invalid, [], startedMs);
    const res = await backend.kvSetMany({ items });
    return writeManyReply(res.type, res.items, startedMs);
  }));
  addJsonPost(router, '/v1/kv/try-delete-many', must, routedItems(backend, async (f) => {
    const startedMs = performance.now();
    const rows = f.objects('items');
    const items = rows?.map((item) => ({ txId: item.hlc('transactionId'),
      key: item.string('key'), durability: item.int32('durability') })) ?? [];
    // The session group is only sent inside a session; absent stays null (types.ts).
    const coordinatorKey = f.stringOrNull('coordinatorKey');
    const operationIdHigh = f.uint64OrNull('operationIdHigh');
    const operationIdLow = f.uint64OrNull('operationIdLow');
    f.absorb(rows ?? []);
    if (rows === null || f.problem !== null) return writeManyReply(invalid, [], startedMs);
    const res = await backend.kvDeleteMany({ items, coordinatorKey, operationIdHigh,
      operationIdLow });
    return writeManyReply(res.type, res.items, startedMs);
  }));
  const readMany = (path: string, withValue: boolean,
    call: (req: KvGetManyRequest) => Promise<KvGetManyResponse>): void => {
    addJsonPost(router, path, must, routedItems(backend, async (f) => {
      const startedMs = performance.now();
      const req = getManyRequest(f);
      const res = req === null ? { type: invalid, items: [] } : await call(req);
      return readManyReply(res, withValue, startedMs);
    }));
  };
  readMany('/v1/kv/try-get-many', true, (req) => backend.kvGetMany(req));
  // Exists-many never carries a value (wire.md 3.4), whatever the backend returns.
  readMany('/v1/kv/try-exists-many', false, (req) => backend.kvExistsMany(req));
}

function registerScanRoutes(router: RestRouter, backend: KahunaBackend): void {
  const must = KvType.MustRetry;
  addJsonPost(router, '/v1/kv/get-by-bucket', must, async (f) => {
    const req = { txId: f.hlc('transactionId'), prefixKey: f.string('prefixKey'),
      readTimestamp: f.hlc('readTimestamp'), durability: f.int32('durability') };
    if (f.problem !== null) return scanReply(invalid, []);
    const res = await backend.kvGetByBucket(req);
    return scanReply(res.type, res.items);
  });
  addJsonPost(router, '/v1/kv/scan-all-by-prefix', must, async (f) => {
    const req = { prefixKey: f.string('prefixKey'), readTimestamp: f.hlc('readTimestamp'),
      durability: f.int32('durability') };
    if (f.problem !== null) return scanReply(invalid, []);
    const res = await backend.kvScanAllByPrefix(req);
    return scanReply(res.type, res.items);
  });
  addJsonPost(router, '/v1/kv/get-by-range', must, async (f) => {
    const req = { txId: f.hlc('transactionId'), prefix: f.string('prefix'),
      startKey: f.stringOrNull('startKey'), startInclusive: f.bool('startInclusive'),
      endKey: f.stringOrNull('endKey'), endInclusive: f.bool('endInclusive'),
      limit: f.int32('limit'), readTimestamp: f.hlc('readTimestamp'),
      durability: f.int32('durability'), cursor: f.stringOrNull('cursor') };
    const res = f.problem !== null
      ? { type: invalid, items: [], nextCursor: null, hasMore: false }
      : await backend.kvGetByRange(req);
    const page = scanReply(res.type, res.items).json as object;
    return { json: { ...page, nextCursor: res.nextCursor, hasMore: res.hasMore } };
  });
}

export function registerKvRoutes(router: RestRouter, deps: KvRouteDeps): void {
  registerPointRoutes(router, deps.backend);
  registerBatchRoutes(router, deps.backend);
  registerScanRoutes(router, deps.backend);
}
