// Transactional point operations (wire.md 4.4): a TrySetKeyValue, TryGetKeyValue, ... carrying a
// non-zero TransactionId runs against that session's working set instead of the store. This
// wraps the KahunaBackend so the gRPC and REST adapters need not know: calls without a
// transaction go straight through.
import { KvState, KvType } from '../../core/api/codes.js';
import {
  hlcZero, type KahunaBackend, type KvDeleteManyRequest, type KvDeleteManyResponse,
  type KvDeleteRequest, type KvExtendRequest, type KvGetByBucketRequest,
  type KvGetByRangeRequest, type KvGetByRangeResponse, type KvGetRequest,
  type KvReadResponse, type KvScanResponse, type KvSetRequest, type KvWriteItem,
  type KvWriteResponse, type TxFields,
} from '../../core/api/types.js';
import type { ScriptResult } from '../../core/script/host.js';
import { isZeroHlc, type SessionTable } from './sessions.js';

function writeOf(r: ScriptResult): KvWriteResponse {
  return { type: r.type, revision: r.row?.revision ?? 0, lastModified: r.row?.lastModified ??
    hlcZero };
}

function readOf(r: ScriptResult): KvReadResponse {
  const row = r.row;
  return { type: r.type, value: row?.value ?? null, revision: row?.revision ?? 0,
    expires: row?.expires ?? hlcZero, lastUsed: hlcZero, lastModified: row?.lastModified ??
    hlcZero, state: row === null ? KvState.Undefined : KvState.Set };
}

const writeFailed = (type: number): KvWriteResponse => ({ type, revision: 0,
  lastModified: hlcZero });
const readFailed = (type: number): KvReadResponse => ({ type, value: null, revision: 0,
  expires: hlcZero, lastUsed: hlcZero, lastModified: hlcZero, state: KvState.Undefined });

/** wire.md 4.4: exactly one of CoordinatorKey / OperationId present is InvalidInput. */
function halfRegistered(f: TxFields): boolean {
  const hasKey = f.coordinatorKey !== '';
  const hasOp = f.operationIdHigh !== 0 || f.operationIdLow !== 0;
  return hasKey !== hasOp;
}

export function withTransactions(inner: KahunaBackend, sessions: SessionTable): KahunaBackend {
  const overrides: Partial<KahunaBackend> = {
    kvSet: (req: KvSetRequest) => {
      if (isZeroHlc(req.txId)) return inner.kvSet(req);
      if (halfRegistered(req)) return Promise.resolve(writeFailed(KvType.InvalidInput));
      return sessions.operate(req.txId, req.operationIdHigh, req.operationIdLow,
        async (tx) => writeOf(await tx.set({ key: req.key, value: req.value,
          flags: req.flags, compareValue: req.compareValue,
          compareRevision: req.compareRevision, expiresMs: req.expiresMs,
          durability: req.durability })), writeFailed);
    },
    kvDelete: (req: KvDeleteRequest) => {
      if (isZeroHlc(req.txId)) return inner.kvDelete(req);
      if (halfRegistered(req)) return Promise.resolve(writeFailed(KvType.InvalidInput));
      return sessions.operate(req.txId, req.operationIdHigh, req.operationIdLow,
        async (tx) => writeOf(await tx.delete(req.key, req.durability)), writeFailed);
    },
    kvExtend: (req: KvExtendRequest) => {
      if (isZeroHlc(req.txId)) return inner.kvExtend(req);
      if (halfRegistered(req)) return Promise.resolve(writeFailed(KvType.InvalidInput));
      if (!Number.isInteger(req.expiresMs) || req.expiresMs < 0) {
        return Promise.resolve(writeFailed(KvType.InvalidInput));
      }
      return sessions.operate(req.txId, req.operationIdHigh, req.operationIdLow,
        async (tx) => writeOf(await tx.extend(req.key, req.expiresMs, req.durability)),
        writeFailed);
    },
    kvGet: (req: KvGetRequest) => transactionalRead(inner, sessions, req, true),
    kvExists: (req: KvGetRequest) => transactionalRead(inner, sessions, req, false),
    kvDeleteMany: async (req: KvDeleteManyRequest): Promise<KvDeleteManyResponse> => {
      const tx = req.items.find((i) => !isZeroHlc(i.txId))?.txId;
      if (tx === undefined || req.coordinatorKey === null || req.operationIdHigh === null ||
        req.operationIdLow === null) return inner.kvDeleteMany(req);
      const fail = (type: number) => ({ type: KvType.Deleted, items: req.items.map(
        (i): KvWriteItem => ({ key: i.key, durability: i.durability, ...writeFailed(type) })) });
      return sessions.operate(tx, req.operationIdHigh, req.operationIdLow, async (t) => {
        const items: KvWriteItem[] = [];
        for (const i of req.items) {
          if (i.key === '') {
            items.push({ key: '', durability: i.durability, ...writeFailed(KvType.InvalidInput) });
            continue;
          }
          items.push({ key: i.key, durability: i.durability,
            ...writeOf(await t.delete(i.key, i.durability)) });
        }
        return { type: KvType.Deleted, items };
      }, fail);
    },
    kvGetByRange: (req: KvGetByRangeRequest): Promise<KvGetByRangeResponse> => {
      if (isZeroHlc(req.txId)) return inner.kvGetByRange(req);
      return sessions.operate<KvGetByRangeResponse>(req.txId, 0, 0,
        (tx) => tx.getByRange(req, (r) => inner.kvGetByRange(r)),
        (type) => ({ type, items: [], nextCursor: null, hasMore: false }));
    },
    kvGetByBucket: (req: KvGetByBucketRequest): Promise<KvScanResponse> => {
      if (isZeroHlc(req.txId)) return inner.kvGetByBucket(req);
      if (req.prefixKey === '') return Promise.resolve({ type: KvType.InvalidInput, items: [] });
      return sessions.operate<KvScanResponse>(req.txId, 0, 0, async (tx) => {
        const rows = await tx.getByBucket(req.prefixKey, req.durability, req.readTimestamp);
        return { type: KvType.Get, items: rows.map((r) => ({ key: r.key, value: r.value,
          revision: r.revision, expires: r.expires, lastUsed: hlcZero,
          lastModified: r.lastModified, state: KvState.Set })) };
      }, (type) => ({ type, items: [] }));
    },
  };
  // Every other method is the inner backend's, bound once (this sits on every request's path:
  // no allocation per call).
  const bound = new Map<string | symbol, unknown>();
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const own = (overrides as Record<string | symbol, unknown>)[prop];
      if (own !== undefined) return own;
      const known = bound.get(prop);
      if (known !== undefined) return known;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(target);
      bound.set(prop, fn);
      return fn;
    },
  });
}

function transactionalRead(inner: KahunaBackend, sessions: SessionTable, req: KvGetRequest,
  withValue: boolean): Promise<KvReadResponse> {
  if (isZeroHlc(req.txId)) return withValue ? inner.kvGet(req) : inner.kvExists(req);
  if (halfRegistered(req)) return Promise.resolve(readFailed(KvType.InvalidInput));
  return sessions.operate(req.txId, req.operationIdHigh, req.operationIdLow,
    async (tx) => readOf(await tx.read({ key: req.key, durability: req.durability,
      revision: req.revision, asOf: req.readTimestamp }, withValue)), readFailed);
}
