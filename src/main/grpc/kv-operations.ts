// KeyValuer RPCs as functions (wire.md 2.2): generated request -> plain request -> backend ->
// plain response -> generated response. Shared by the unary handlers and the
// BatchClientKeyValueRequests stream, which must behave exactly like the unary RPC of the same
// name (wire.md 2.7). Every response that has ServedFrom sends "" (wire.md 1.3).
import { hlcZero } from '../../core/api/types.js';
import type {
  KahunaBackend, KvGetByRangeRequest, KvGetRequest, KvReadItem, KvReadResponse, KvScanItem,
  KvSetRequest, KvWriteItem, KvWriteResponse,
} from '../../core/api/types.js';
import type {
  GrpcGetByBucketRequest, GrpcGetByBucketResponse, GrpcGetByRangePageResponse,
  GrpcGetByRangeRequest, GrpcGetByRangeResponse, GrpcKeyValueByPrefixItemResponse,
  GrpcScanAllByPrefixRequest, GrpcScanAllByPrefixResponse, GrpcScanByPrefixRequest,
  GrpcScanByPrefixResponse, GrpcTryDeleteKeyValueRequest, GrpcTryDeleteKeyValueResponse,
  GrpcTryDeleteManyKeyValueRequest, GrpcTryDeleteManyKeyValueResponse,
  GrpcTryDeleteManyKeyValueResponseItem, GrpcTryExistsKeyValueRequest,
  GrpcTryExistsKeyValueResponse, GrpcTryExistsManyValuesRequest, GrpcTryExistsManyValuesResponse,
  GrpcTryExtendKeyValueRequest, GrpcTryExtendKeyValueResponse, GrpcTryGetKeyValueRequest,
  GrpcTryGetKeyValueResponse, GrpcTryGetManyValuesRequest, GrpcTryGetManyValuesResponse,
  GrpcTrySetKeyValueRequest, GrpcTrySetKeyValueResponse, GrpcTrySetManyKeyValueRequest,
  GrpcTrySetManyKeyValueRequestItem, GrpcTrySetManyKeyValueResponse,
} from './generated/keyvalues.js';
import {
  bytesFrom, bytesTo, elapsedMsSince, hlcFrom, hlcTo, long, nowMs, num, optNum, txFrom,
} from './convert.js';
import { hinted, hintedItems } from './route-hints.js';

// ------------------------------------------------------------------ requests

type SetMessage = GrpcTrySetKeyValueRequest | GrpcTrySetManyKeyValueRequestItem;

// The hot requests and responses are written out as one object literal each, without spreads
// or computed member names: those cost more than the rest of the conversion (see the REST
// body readers, bench/RESULTS.md "REST path").

function setFrom(m: SetMessage): KvSetRequest {
  // Set-many items carry a transaction id but no registration group (wire.md 2.2.6).
  const single = 'CoordinatorKey' in m;
  return {
    txId: { n: m.TransactionIdNode, l: Number(m.TransactionIdPhysical),
      c: m.TransactionIdCounter },
    coordinatorKey: single ? m.CoordinatorKey : '',
    operationIdHigh: single ? Number(m.OperationIdHigh) : 0,
    operationIdLow: single ? Number(m.OperationIdLow) : 0,
    key: m.Key, value: bytesFrom(m.Value), compareValue: bytesFrom(m.CompareValue),
    compareRevision: num(m.CompareRevision), flags: m.Flags, expiresMs: m.ExpiresMs,
    durability: m.Durability,
  };
}

/** Get and exists share one request shape. Revision -1 is "latest" (wire.md 2.2.4). */
function readFrom(m: GrpcTryGetKeyValueRequest | GrpcTryExistsKeyValueRequest): KvGetRequest {
  return {
    txId: { n: m.TransactionIdNode, l: Number(m.TransactionIdPhysical),
      c: m.TransactionIdCounter },
    coordinatorKey: m.CoordinatorKey, operationIdHigh: Number(m.OperationIdHigh),
    operationIdLow: Number(m.OperationIdLow), key: m.Key, revision: num(m.Revision),
    readTimestamp: { n: m.ReadTimestampNode, l: Number(m.ReadTimestampPhysical),
      c: m.ReadTimestampCounter },
    durability: m.Durability,
  };
}

/** Unary GetByRange has no cursor field: the REST route echoes NextCursor, gRPC streams. */
export function rangeFrom(m: GrpcGetByRangeRequest): KvGetByRangeRequest {
  return {
    txId: hlcFrom(m, 'TransactionId'), prefix: m.Prefix, startKey: m.StartKey ?? null,
    startInclusive: m.StartInclusive, endKey: m.EndKey ?? null, endInclusive: m.EndInclusive,
    limit: m.Limit, readTimestamp: hlcFrom(m, 'ReadTimestamp'), durability: m.Durability,
    cursor: null,
  };
}

// ------------------------------------------------------------------ responses

function writeTo(res: KvWriteResponse, startedMs: number): GrpcTrySetKeyValueResponse {
  const modified = res.lastModified;
  return {
    ServedFrom: '', Type: res.type, Revision: long(res.revision),
    LastModifiedNode: modified.n, LastModifiedPhysical: BigInt(modified.l),
    LastModifiedCounter: modified.c, TimeElapsedMs: elapsedMsSince(startedMs),
  };
}

type Meta = Pick<KvReadResponse, 'revision' | 'expires' | 'lastUsed' | 'lastModified' | 'state'>;

/** The "meta" group every read row carries. */
function metaTo(res: Meta) {
  return {
    Revision: long(res.revision), ...hlcTo('Expires', res.expires),
    ...hlcTo('LastUsed', res.lastUsed), ...hlcTo('LastModified', res.lastModified),
    State: res.state,
  };
}

function existsTo(res: KvReadResponse, startedMs: number): GrpcTryExistsKeyValueResponse {
  const { expires, lastUsed, lastModified } = res;
  return {
    ServedFrom: '', Type: res.type, Revision: long(res.revision),
    ExpiresNode: expires.n, ExpiresPhysical: BigInt(expires.l), ExpiresCounter: expires.c,
    LastUsedNode: lastUsed.n, LastUsedPhysical: BigInt(lastUsed.l), LastUsedCounter: lastUsed.c,
    LastModifiedNode: lastModified.n, LastModifiedPhysical: BigInt(lastModified.l),
    LastModifiedCounter: lastModified.c, State: res.state,
    TimeElapsedMs: elapsedMsSince(startedMs),
  };
}

function getTo(res: KvReadResponse, startedMs: number): GrpcTryGetKeyValueResponse {
  const { expires, lastUsed, lastModified } = res;
  return {
    ServedFrom: '', Type: res.type, Value: bytesTo(res.value), Revision: long(res.revision),
    ExpiresNode: expires.n, ExpiresPhysical: BigInt(expires.l), ExpiresCounter: expires.c,
    LastUsedNode: lastUsed.n, LastUsedPhysical: BigInt(lastUsed.l), LastUsedCounter: lastUsed.c,
    LastModifiedNode: lastModified.n, LastModifiedPhysical: BigInt(lastModified.l),
    LastModifiedCounter: lastModified.c, State: res.state,
    TimeElapsedMs: elapsedMsSince(startedMs),
  };
}

/** Set-many and delete-many rows; RouteIndex 0 = no route hint (wire.md 2.5). */
function writeItemTo(item: KvWriteItem): GrpcTryDeleteManyKeyValueResponseItem {
  return {
    ServedFrom: '', Type: item.type, Key: item.key, Revision: long(item.revision),
    ...hlcTo('LastModified', item.lastModified), Durability: item.durability, RouteIndex: 0,
  };
}

function manyWritesTo(items: readonly KvWriteItem[], startedMs: number) {
  return { Items: items.map(writeItemTo), Routes: [], TimeElapsedMs: elapsedMsSince(startedMs) };
}

function existsItemTo(item: KvReadItem) {
  return { Type: item.type, Key: item.key, Durability: item.durability, ...metaTo(item),
    RouteIndex: 0 };
}

export function scanItemTo(item: KvScanItem): GrpcKeyValueByPrefixItemResponse {
  return { Key: item.key, Value: bytesTo(item.value), ...metaTo(item) };
}

export function pageTo(res: {
  type: number; items: readonly KvScanItem[]; nextCursor: string | null; hasMore: boolean;
}): GrpcGetByRangePageResponse {
  return {
    Type: res.type, Items: res.items.map(scanItemTo), NextCursor: res.nextCursor ?? undefined,
    HasMore: res.hasMore,
  };
}

// ------------------------------------------------------------------ operations

/** One function per implemented RPC; each takes the generated request, returns the response. */
export function kvOperations(backend: KahunaBackend) {
  const point = pointOperations(backend);
  const many = manyOperations(backend);
  const byKey = (m: { Key: string }): string => m.Key;
  return {
    trySet: hinted(backend, 'keyValue', byKey, point.trySet),
    tryExtend: hinted(backend, 'keyValue', byKey, point.tryExtend),
    tryDelete: hinted(backend, 'keyValue', byKey, point.tryDelete),
    tryGet: hinted(backend, 'keyValue', byKey, point.tryGet),
    tryExists: hinted(backend, 'keyValue', byKey, point.tryExists),
    trySetMany: hintedItems(backend, many.trySetMany),
    tryDeleteMany: hintedItems(backend, many.tryDeleteMany),
    tryGetMany: hintedItems(backend, many.tryGetMany),
    tryExistsMany: hintedItems(backend, many.tryExistsMany),
    ...scanOperations(backend),
  };
}

export type KvOperations = ReturnType<typeof kvOperations>;

function pointOperations(backend: KahunaBackend) {
  return {
    trySet: async (m: GrpcTrySetKeyValueRequest): Promise<GrpcTrySetKeyValueResponse> => {
      const startedMs = nowMs();
      return writeTo(await backend.kvSet(setFrom(m)), startedMs);
    },
    tryExtend: async (m: GrpcTryExtendKeyValueRequest): Promise<GrpcTryExtendKeyValueResponse> => {
      const startedMs = nowMs();
      const res = await backend.kvExtend({
        ...txFrom(m), key: m.Key, expiresMs: m.ExpiresMs, durability: m.Durability,
      });
      return writeTo(res, startedMs);
    },
    tryDelete: async (m: GrpcTryDeleteKeyValueRequest): Promise<GrpcTryDeleteKeyValueResponse> => {
      const startedMs = nowMs();
      const res = await backend.kvDelete({ ...txFrom(m), key: m.Key, durability: m.Durability });
      return writeTo(res, startedMs);
    },
    tryGet: async (m: GrpcTryGetKeyValueRequest): Promise<GrpcTryGetKeyValueResponse> => {
      const startedMs = nowMs();
      return getTo(await backend.kvGet(readFrom(m)), startedMs);
    },
    tryExists: async (m: GrpcTryExistsKeyValueRequest): Promise<GrpcTryExistsKeyValueResponse> => {
      const startedMs = nowMs();
      return existsTo(await backend.kvExists(readFrom(m)), startedMs);
    },
  };
}

function manyOperations(backend: KahunaBackend) {
  return {
    trySetMany: async (
      m: GrpcTrySetManyKeyValueRequest,
    ): Promise<GrpcTrySetManyKeyValueResponse> => {
      const startedMs = nowMs();
      const res = await backend.kvSetMany({ items: m.Items.map(setFrom) });
      // No top-level Type on gRPC: each item carries its own (wire.md 2.2.6).
      return manyWritesTo(res.items, startedMs);
    },
    tryDeleteMany: async (
      m: GrpcTryDeleteManyKeyValueRequest,
    ): Promise<GrpcTryDeleteManyKeyValueResponse> => {
      const startedMs = nowMs();
      const res = await backend.kvDeleteMany({
        items: m.Items.map((i) => ({
          txId: hlcFrom(i, 'TransactionId'), key: i.Key, durability: i.Durability,
        })),
        coordinatorKey: m.CoordinatorKey ?? null,
        operationIdHigh: optNum(m.OperationIdHigh), operationIdLow: optNum(m.OperationIdLow),
      });
      return manyWritesTo(res.items, startedMs);
    },
    tryGetMany: async (m: GrpcTryGetManyValuesRequest): Promise<GrpcTryGetManyValuesResponse> => {
      const res = await backend.kvGetMany(manyFrom(m));
      const items = res.items.map((i) => ({ ...existsItemTo(i), Value: bytesTo(i.value) }));
      return { ServedFrom: '', Items: items, Routes: [] };
    },
    tryExistsMany: async (
      m: GrpcTryExistsManyValuesRequest,
    ): Promise<GrpcTryExistsManyValuesResponse> => {
      const res = await backend.kvExistsMany(manyFrom(m));
      return { ServedFrom: '', Items: res.items.map(existsItemTo), Routes: [] };
    },
  };
}

function scanOperations(backend: KahunaBackend) {
  return {
    // IncludeTombstones has no field in KvScanByPrefixRequest yet: the backend decides.
    scanByPrefix: async (m: GrpcScanByPrefixRequest): Promise<GrpcScanByPrefixResponse> => {
      const res = await backend.kvScanByPrefix(prefixFrom(m));
      return { ServedFrom: '', Type: res.type, Items: res.items.map(scanItemTo) };
    },
    scanAllByPrefix: async (
      m: GrpcScanAllByPrefixRequest,
    ): Promise<GrpcScanAllByPrefixResponse> => {
      const res = await backend.kvScanAllByPrefix(prefixFrom(m));
      return { Type: res.type, Items: res.items.map(scanItemTo) }; // no ServedFrom here
    },
    getByBucket: async (m: GrpcGetByBucketRequest): Promise<GrpcGetByBucketResponse> => {
      const res = await backend.kvGetByBucket({
        txId: hlcFrom(m, 'TransactionId'), prefixKey: m.PrefixKey,
        readTimestamp: hlcFrom(m, 'ReadTimestamp'), durability: m.Durability,
      });
      return { ServedFrom: '', Type: res.type, Items: res.items.map(scanItemTo) };
    },
    getByRange: async (m: GrpcGetByRangeRequest): Promise<GrpcGetByRangeResponse> => {
      const page = pageTo(await backend.kvGetByRange(rangeFrom(m)));
      return { ServedFrom: '', ...page };
    },
  };
}

function manyFrom(m: GrpcTryGetManyValuesRequest | GrpcTryExistsManyValuesRequest) {
  return {
    txId: hlcFrom(m, 'TransactionId'),
    items: m.Items.map((i) => ({
      key: i.Key, revision: num(i.Revision), durability: i.Durability,
    })),
    readTimestamp: hlcFrom(m, 'ReadTimestamp'),
  };
}

function prefixFrom(m: GrpcScanByPrefixRequest | GrpcScanAllByPrefixRequest) {
  return { prefixKey: m.PrefixKey, readTimestamp: hlcFrom(m, 'ReadTimestamp'),
    durability: m.Durability };
}

/** The stream ignores the transaction and registration fields (wire.md 2.2.14). */
export function streamRangeFrom(m: GrpcGetByRangeRequest): KvGetByRangeRequest {
  return { ...rangeFrom(m), txId: hlcZero };
}

/** The rows of a set-many or delete-many that failed as a whole: every key gets `code`. */
export function failedWriteItems(code: number,
  items: readonly { Key: string; Durability: number }[]): GrpcTrySetManyKeyValueResponse {
  const rows = items.map((i) => writeItemTo({
    type: code, key: i.Key, revision: 0, lastModified: hlcZero, durability: i.Durability,
  }));
  return { Items: rows, Routes: [], TimeElapsedMs: 0 };
}
