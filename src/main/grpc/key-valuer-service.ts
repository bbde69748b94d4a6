// The KeyValuer service (wire.md 2.2): the point, batch and scan RPCs of the KahunaBackend, the
// scripts, sessions and exclusive locks of the TxBackend (wire.md 2.2.10, 2.2.15-2.2.23), the
// GetByRangeStream server stream, and the BatchClientKeyValueRequests stream (wire.md 2.7),
// whose script, start, commit, rollback and exclusive-lock kinds run the same TxBackend calls as
// the unary RPCs. Range locks, key ranges, snapshot holds and the inter-node RPCs of wire.md
// 2.2.25 answer UNIMPLEMENTED.
import { KvType } from '../../core/api/codes.js';
import type { KahunaBackend, KvGetByRangeRequest } from '../../core/api/types.js';
import type { TxBackend } from '../../core/api/tx-types.js';
import {
  GrpcClientBatchType as T, GrpcCommitTransactionResponse, GrpcGetByBucketResponse,
  GrpcGetByRangeResponse, GrpcRollbackTransactionResponse, GrpcScanAllByPrefixResponse,
  GrpcScanByPrefixResponse, GrpcStartTransactionResponse, GrpcTryAcquireExclusiveLockResponse,
  GrpcTryAcquireExclusivePrefixLockResponse, GrpcTryDeleteKeyValueResponse,
  GrpcTryExecuteTransactionScriptResponse, GrpcTryExistsKeyValueResponse,
  GrpcTryExtendKeyValueResponse, GrpcTryGetKeyValueResponse, GrpcTryReleaseExclusiveLockResponse,
  GrpcTryReleaseExclusivePrefixLockResponse, GrpcTrySetKeyValueResponse,
  type GrpcBatchClientKeyValueRequest, type GrpcBatchClientKeyValueResponse,
  type GrpcGetByRangeRequest, type GrpcGetByRangePageResponse, type KeyValuerServer,
} from './generated/keyvalues.js';
import {
  failedWriteItems, kvOperations, pageTo, streamRangeFrom, type KvOperations,
} from './kv-operations.js';
import {
  failedAcquireMany, failedReleaseMany, txOperations, type TxOperations,
} from './tx-operations.js';
import { unavailableTxBackend } from './tx-unavailable.js';
import {
  answerOrFail, serveBatch, unary, unimplementedBidi, unimplementedUnary, writeMessage,
  type HandlerContext,
} from './handlers.js';
import type * as grpc from '@grpc/grpc-js';

type Req = GrpcBatchClientKeyValueRequest;
type Res = GrpcBatchClientKeyValueResponse;
type Key = Exclude<keyof Req & keyof Res, 'Type' | 'RequestId' | 'Frame'>;
type Payload = Omit<Res, 'Type' | 'RequestId'>;
type Operations = KvOperations & TxOperations;

interface BatchKind {
  readonly answer: (ops: Operations, r: Req) => Promise<Payload>;
  /** The payload that carries only an outcome code (MustRetry, Errored). */
  readonly withType: (code: number, r: Req) => Payload;
}

/** A response message whose outcome-only form is {ServedFrom: "", Type}. */
interface Typed<M> {
  fromPartial(object: { ServedFrom: string; Type: number }): M;
}
const typed = <M>(message: Typed<M>) => (code: number): M =>
  message.fromPartial({ ServedFrom: '', Type: code });
/** The MustRetry answer of a unary handler whose backend call threw (handlers.ts). */
const mustRetry = <M>(message: Typed<M>) => (): M => typed(message)(KvType.MustRetry);

/** Batch `key` runs `run` on its payload. */
function kind<K extends Key>(key: K,
  run: (ops: Operations, m: NonNullable<Req[K]>) => Promise<NonNullable<Res[K]>>,
  withType: (code: number, r: Req) => NonNullable<Res[K]>): BatchKind {
  const wrap = (payload: NonNullable<Res[K]>): Payload => ({ [key]: payload }) as Payload;
  return {
    answer: async (ops, r) => {
      const m = r[key];
      if (m === undefined) throw new Error(`batch request of type ${r.Type} has no ${key}`);
      return wrap(await run(ops, m as NonNullable<Req[K]>));
    },
    withType: (code, r) => wrap(withType(code, r)),
  };
}

/** Type -> payload field (wire.md 2.7). TRY_SCAN_BY_PREFIX carries the ScanAllByPrefix
 *  messages and runs ScanAllByPrefix. CLIENT_BATCH_FRAME is unpacked before dispatch. */
const batchKinds: Partial<Record<number, BatchKind>> = {
  [T.TRY_SET_KEY_VALUE]: kind('TrySetKeyValue', (o, m) => o.trySet(m),
    typed(GrpcTrySetKeyValueResponse)),
  [T.TRY_SET_MANY_KEY_VALUE]: kind('TrySetManyKeyValue', (o, m) => o.trySetMany(m),
    (code, r) => failedWriteItems(code, r.TrySetManyKeyValue?.Items ?? [])),
  [T.TRY_EXTEND_KEY_VALUE]: kind('TryExtendKeyValue', (o, m) => o.tryExtend(m),
    typed(GrpcTryExtendKeyValueResponse)),
  [T.TRY_DELETE_KEY_VALUE]: kind('TryDeleteKeyValue', (o, m) => o.tryDelete(m),
    typed(GrpcTryDeleteKeyValueResponse)),
  [T.TRY_GET_KEY_VALUE]: kind('TryGetKeyValue', (o, m) => o.tryGet(m),
    typed(GrpcTryGetKeyValueResponse)),
  [T.TRY_EXISTS_KEY_VALUE]: kind('TryExistsKeyValue', (o, m) => o.tryExists(m),
    typed(GrpcTryExistsKeyValueResponse)),
  [T.TRY_EXECUTE_TRANSACTION_SCRIPT]: kind('TryExecuteTransactionScript',
    (o, m) => o.executeScript(m), typed(GrpcTryExecuteTransactionScriptResponse)),
  [T.TRY_ACQUIRE_EXCLUSIVE_LOCK]: kind('TryAcquireExclusiveLock',
    (o, m) => o.acquireExclusiveLock(m), typed(GrpcTryAcquireExclusiveLockResponse)),
  [T.TRY_GET_BY_BUCKET]: kind('GetByBucket', (o, m) => o.getByBucket(m),
    typed(GrpcGetByBucketResponse)),
  [T.TRY_SCAN_BY_PREFIX]: kind('ScanByPrefix', (o, m) => o.scanAllByPrefix(m),
    (code) => GrpcScanAllByPrefixResponse.fromPartial({ Type: code })), // no ServedFrom
  [T.TRY_START_TRANSACTION]: kind('StartTransaction', (o, m) => o.startTransaction(m),
    typed(GrpcStartTransactionResponse)),
  [T.TRY_COMMIT_TRANSACTION]: kind('CommitTransaction', (o, m) => o.commitTransaction(m),
    typed(GrpcCommitTransactionResponse)),
  [T.TRY_ROLLBACK_TRANSACTION]: kind('RollbackTransaction', (o, m) => o.rollbackTransaction(m),
    typed(GrpcRollbackTransactionResponse)),
  [T.TRY_DELETE_MANY_KEY_VALUE]: kind('TryDeleteManyKeyValue', (o, m) => o.tryDeleteMany(m),
    (code, r) => failedWriteItems(code, r.TryDeleteManyKeyValue?.Items ?? [])),
};

/** An unknown Type (TYPE_NONE, a future kind) still gets its one response: the echo of Type
 *  and RequestId with no payload, which no client can mistake for an outcome. */
async function answerBatch(ops: Operations, r: Req): Promise<Res> {
  const payload = (await batchKinds[r.Type]?.answer(ops, r)) ?? {};
  return { Type: r.Type, RequestId: r.RequestId, ...payload };
}

function failBatch(r: Req): Res {
  const payload = batchKinds[r.Type]?.withType(KvType.MustRetry, r);
  return { Type: r.Type, RequestId: r.RequestId, ...payload };
}

/** A frame is answered request by request, which wire.md 2.7 always allows. Frames never
 *  nest; a nested one is treated as one more request of unknown kind (echoed, no payload). */
function unpackFrame(r: Req): readonly Req[] {
  return r.Type === T.CLIENT_BATCH_FRAME ? r.Frame?.Items ?? [] : [r];
}

/**
 * GetByRangeStream (wire.md 2.2.14): one page per backend call, following the returned cursor
 * until HasMore is false; an empty Prefix ends the stream with no page. The snapshot of the
 * first page is the backend's to keep through the cursor. A repeated cursor ends the stream
 * rather than loop. A failing backend call sends one MustRetry page, then the stream ends.
 */
async function streamRange(backend: KahunaBackend, ctx: HandlerContext,
  call: grpc.ServerWritableStream<GrpcGetByRangeRequest, GrpcGetByRangePageResponse>,
): Promise<void> {
  const first = streamRangeFrom(call.request);
  let cursor: string | null = null;
  while (first.prefix !== '' && !call.cancelled) {
    const request: KvGetByRangeRequest = { ...first, cursor };
    const page: GrpcGetByRangePageResponse = await answerOrFail(ctx, 'GetByRangeStream',
      async () => pageTo(await backend.kvGetByRange(request)),
      () => pageTo({ type: KvType.MustRetry, items: [], nextCursor: null, hasMore: false }));
    if (call.cancelled) break;
    await writeMessage(call, page);
    const next: string | null = page.NextCursor ?? null;
    if (!page.HasMore || next === null || next === cursor) break;
    cursor = next;
  }
  call.end();
}

/** `tx` serves scripts, sessions and exclusive locks; without one they answer Errored (99). */
export function createKeyValuerService(backend: KahunaBackend, ctx: HandlerContext,
  tx: TxBackend = unavailableTxBackend): KeyValuerServer {
  const ops: Operations = { ...kvOperations(backend), ...txOperations(tx) };
  return {
    trySetKeyValue: unary(ctx, 'TrySetKeyValue', ops.trySet,
      mustRetry(GrpcTrySetKeyValueResponse)),
    tryExtendKeyValue: unary(ctx, 'TryExtendKeyValue', ops.tryExtend,
      mustRetry(GrpcTryExtendKeyValueResponse)),
    tryDeleteKeyValue: unary(ctx, 'TryDeleteKeyValue', ops.tryDelete,
      mustRetry(GrpcTryDeleteKeyValueResponse)),
    tryGetKeyValue: unary(ctx, 'TryGetKeyValue', ops.tryGet,
      mustRetry(GrpcTryGetKeyValueResponse)),
    tryExistsKeyValue: unary(ctx, 'TryExistsKeyValue', ops.tryExists,
      mustRetry(GrpcTryExistsKeyValueResponse)),
    trySetManyKeyValue: unary(ctx, 'TrySetManyKeyValue', ops.trySetMany,
      (m) => failedWriteItems(KvType.MustRetry, m.Items)),
    tryDeleteManyKeyValue: unary(ctx, 'TryDeleteManyKeyValue', ops.tryDeleteMany,
      (m) => failedWriteItems(KvType.MustRetry, m.Items)),
    tryGetManyValues: unary(ctx, 'TryGetManyValues', ops.tryGetMany,
      () => ({ ServedFrom: '', Items: [], Routes: [] })),
    tryExistsManyValues: unary(ctx, 'TryExistsManyValues', ops.tryExistsMany,
      () => ({ ServedFrom: '', Items: [], Routes: [] })),
    scanByPrefix: unary(ctx, 'ScanByPrefix', ops.scanByPrefix,
      mustRetry(GrpcScanByPrefixResponse)),
    scanAllByPrefix: unary(ctx, 'ScanAllByPrefix', ops.scanAllByPrefix,
      () => GrpcScanAllByPrefixResponse.fromPartial({ Type: KvType.MustRetry })),
    getByBucket: unary(ctx, 'GetByBucket', ops.getByBucket, mustRetry(GrpcGetByBucketResponse)),
    getByRange: unary(ctx, 'GetByRange', ops.getByRange, mustRetry(GrpcGetByRangeResponse)),
    getByRangeStream: (call) => {
      streamRange(backend, ctx, call).catch((error: unknown) => {
        ctx.log?.error({ err: error, rpc: 'GetByRangeStream' }, 'range stream failed');
        call.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    },
    batchClientKeyValueRequests: (call) => serveBatch(ctx, 'BatchClientKeyValueRequests', call, {
      answer: (r) => answerBatch(ops, r), failed: failBatch, unpack: unpackFrame,
    }),
    ...txHandlers(ops, ctx),
    ...notInBackendYet,
  };
}

/** The TxBackend RPCs; a throwing backend answers MustRetry like every other handler. */
function txHandlers(ops: TxOperations, ctx: HandlerContext) {
  return {
    tryExecuteTransactionScript: unary(ctx, 'TryExecuteTransactionScript', ops.executeScript,
      mustRetry(GrpcTryExecuteTransactionScriptResponse)),
    startTransaction: unary(ctx, 'StartTransaction', ops.startTransaction,
      mustRetry(GrpcStartTransactionResponse)),
    commitTransaction: unary(ctx, 'CommitTransaction', ops.commitTransaction,
      mustRetry(GrpcCommitTransactionResponse)),
    rollbackTransaction: unary(ctx, 'RollbackTransaction', ops.rollbackTransaction,
      mustRetry(GrpcRollbackTransactionResponse)),
    tryAcquireExclusiveLock: unary(ctx, 'TryAcquireExclusiveLock', ops.acquireExclusiveLock,
      mustRetry(GrpcTryAcquireExclusiveLockResponse)),
    tryAcquireManyExclusiveLocks: unary(ctx, 'TryAcquireManyExclusiveLocks',
      ops.acquireManyExclusiveLocks, (m) => failedAcquireMany(KvType.MustRetry, m)),
    tryReleaseExclusiveLock: unary(ctx, 'TryReleaseExclusiveLock', ops.releaseExclusiveLock,
      mustRetry(GrpcTryReleaseExclusiveLockResponse)),
    tryReleaseManyExclusiveLocks: unary(ctx, 'TryReleaseManyExclusiveLocks',
      ops.releaseManyExclusiveLocks, (m) => failedReleaseMany(KvType.MustRetry, m)),
    tryAcquireExclusivePrefixLock: unary(ctx, 'TryAcquireExclusivePrefixLock',
      ops.acquireExclusivePrefixLock, mustRetry(GrpcTryAcquireExclusivePrefixLockResponse)),
    tryReleaseExclusivePrefixLock: unary(ctx, 'TryReleaseExclusivePrefixLock',
      ops.releaseExclusivePrefixLock, mustRetry(GrpcTryReleaseExclusivePrefixLockResponse)),
  } satisfies Partial<KeyValuerServer>;
}

/** In wire.md but not served by Honu yet, or inter-node: UNIMPLEMENTED. */
const notInBackendYet = {
  tryAcquireExclusiveRangeLock: unimplementedUnary('TryAcquireExclusiveRangeLock'),
  tryReleaseExclusiveRangeLock: unimplementedUnary('TryReleaseExclusiveRangeLock'),
  registerKeyRange: unimplementedUnary('RegisterKeyRange'),
  removeKeyRange: unimplementedUnary('RemoveKeyRange'),
  acquireSnapshotHold: unimplementedUnary('AcquireSnapshotHold'),
  renewSnapshotHold: unimplementedUnary('RenewSnapshotHold'),
  releaseSnapshotHold: unimplementedUnary('ReleaseSnapshotHold'),
  getSnapshotFloor: unimplementedUnary('GetSnapshotFloor'),
  tryPrepareMutations: unimplementedUnary('TryPrepareMutations'),
  tryPrepareManyMutations: unimplementedUnary('TryPrepareManyMutations'),
  tryCommitMutations: unimplementedUnary('TryCommitMutations'),
  tryCommitManyMutations: unimplementedUnary('TryCommitManyMutations'),
  tryRollbackMutations: unimplementedUnary('TryRollbackMutations'),
  tryRollbackManyMutations: unimplementedUnary('TryRollbackManyMutations'),
  batchServerKeyValueRequests: unimplementedBidi('BatchServerKeyValueRequests'),
  getPartitionApplyFingerprint: unimplementedUnary('GetPartitionApplyFingerprint'),
} satisfies Partial<KeyValuerServer>;
