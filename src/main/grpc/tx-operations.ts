// The script, session and exclusive-lock RPCs of KeyValuer (wire.md 2.2.10, 2.2.15-2.2.23) as
// functions over a TxBackend: generated request -> plain request -> backend -> plain response
// -> generated response, shared by the unary handlers and BatchClientKeyValueRequests like
// kv-operations.ts. Every response that has ServedFrom sends "" (wire.md 1.3). None of these
// responses has a Route field, so no route hints.
import { hlcZero } from '../../core/api/types.js';
import type {
  EndTxRequest, ExclusiveLockRequest, ManyExclusiveLocksRequest, ManyExclusiveLocksResponse,
  ReleaseExclusiveLockRequest, ScriptRequest, ScriptResponse, ScriptValue, StartTxRequest,
  TxBackend,
} from '../../core/api/tx-types.js';
import { TxPriority } from '../../core/api/tx-types.js';
import type {
  GrpcCommitTransactionRequest, GrpcCommitTransactionResponse, GrpcRollbackTransactionRequest,
  GrpcRollbackTransactionResponse, GrpcStartTransactionRequest, GrpcStartTransactionResponse,
  GrpcTryAcquireExclusiveLockRequest, GrpcTryAcquireExclusiveLockResponse,
  GrpcTryAcquireExclusivePrefixLockRequest, GrpcTryAcquireExclusivePrefixLockResponse,
  GrpcTryAcquireManyExclusiveLocksRequest, GrpcTryAcquireManyExclusiveLocksResponse,
  GrpcTryExecuteTransactionResponseValue, GrpcTryExecuteTransactionScriptRequest,
  GrpcTryExecuteTransactionScriptResponse, GrpcTryReleaseExclusiveLockRequest,
  GrpcTryReleaseExclusiveLockResponse, GrpcTryReleaseExclusivePrefixLockRequest,
  GrpcTryReleaseExclusivePrefixLockResponse, GrpcTryReleaseManyExclusiveLocksRequest,
  GrpcTryReleaseManyExclusiveLocksResponse,
} from './generated/keyvalues.js';
import { bytesTo, hlcFrom, hlcTo, long, num } from './convert.js';

/** The C#/REST conflict policy the gRPC enum is offset from: Normal 0, Yield 1 (wire.md 2.6). */
const conflictPolicyNormal = 0;

/**
 * GrpcTransactionPriority and GrpcTransactionConflictPolicy are the C#/REST value plus one,
 * 0 being "unspecified" (wire.md 2.6). A value past the enum stays past it after the shift, so
 * the backend refuses it exactly as it refuses the same out-of-range value over REST.
 */
export function unoffset(value: number, unspecified: number): number {
  return value === 0 ? unspecified : value - 1;
}

// ------------------------------------------------------------------ requests

export function scriptFrom(m: GrpcTryExecuteTransactionScriptRequest): ScriptRequest {
  // Script is not `optional`: absent is empty bytes, never null (null is REST's 100).
  return {
    hash: m.Hash ?? null, script: m.Script,
    parameters: m.Parameters.map((p) => ({ key: p.Key, value: p.Value ?? null })),
    priority: unoffset(m.Priority, TxPriority.Normal),
  };
}

export function startFrom(m: GrpcStartTransactionRequest): StartTxRequest {
  return {
    coordinatorKey: m.CoordinatorKey, lockingType: m.LockingType, timeout: m.Timeout,
    asyncRelease: m.AsyncRelease, autoCommit: m.AutoCommit, readValidation: m.ReadValidation,
    decisionDurability: m.DecisionDurability, readTimestamp: hlcFrom(m, 'ReadTimestamp'),
    priority: unoffset(m.Priority, TxPriority.Normal), admissionWaitMs: m.AdmissionWaitMs,
    conflictPolicy: unoffset(m.ConflictPolicy, conflictPolicyNormal),
  };
}

/** Commit and rollback share one request shape. */
export function endFrom(m: GrpcCommitTransactionRequest | GrpcRollbackTransactionRequest):
  EndTxRequest {
  return { coordinatorKey: m.CoordinatorKey, transactionId: hlcFrom(m, 'TransactionId'),
    recordAnchorKey: m.RecordAnchorKey ?? null };
}

/** The key lock (Key) and the prefix lock (PrefixKey, the bucket). ConflictPolicy on a per-key
 *  call is left 0 by clients (the session's comes from StartTransaction) and is not read. */
export function lockFrom(
  m: GrpcTryAcquireExclusiveLockRequest | GrpcTryAcquireExclusivePrefixLockRequest,
): ExclusiveLockRequest {
  return {
    transactionId: hlcFrom(m, 'TransactionId'), key: 'Key' in m ? m.Key : m.PrefixKey,
    expiresMs: m.ExpiresMs, durability: m.Durability, coordinatorKey: m.CoordinatorKey,
    operationIdHigh: num(m.OperationIdHigh), operationIdLow: num(m.OperationIdLow),
  };
}

export function releaseFrom(
  m: GrpcTryReleaseExclusiveLockRequest | GrpcTryReleaseExclusivePrefixLockRequest,
): ReleaseExclusiveLockRequest {
  return { transactionId: hlcFrom(m, 'TransactionId'), key: 'Key' in m ? m.Key : m.PrefixKey,
    durability: m.Durability };
}

/** Release items carry no lease: expiresMs 0. */
export function manyFrom(
  m: GrpcTryAcquireManyExclusiveLocksRequest | GrpcTryReleaseManyExclusiveLocksRequest,
): ManyExclusiveLocksRequest {
  return {
    transactionId: hlcFrom(m, 'TransactionId'),
    items: m.Items.map((i) => ({ key: i.Key, expiresMs: 'ExpiresMs' in i ? i.ExpiresMs : 0,
      durability: i.Durability })),
  };
}

// ------------------------------------------------------------------ responses

function scriptValueTo(v: ScriptValue): GrpcTryExecuteTransactionResponseValue {
  return { Key: v.key, Value: bytesTo(v.value), Revision: long(v.revision),
    ...hlcTo('Expires', v.expires), ...hlcTo('LastModified', v.lastModified) };
}

export function scriptTo(res: ScriptResponse): GrpcTryExecuteTransactionScriptResponse {
  return { ServedFrom: '', Type: res.type, Reason: res.reason ?? undefined,
    Values: res.values.map(scriptValueTo), TimeElapsedMs: Math.round(res.timeElapsedMs) };
}

function acquireManyTo(res: ManyExclusiveLocksResponse): GrpcTryAcquireManyExclusiveLocksResponse {
  return { ServedFrom: '', Items: res.items.map((i) => ({ Type: i.type, Key: i.key,
    Durability: i.durability, ...hlcTo('HolderTransactionId', i.holder) })) };
}

function releaseManyTo(res: ManyExclusiveLocksResponse): GrpcTryReleaseManyExclusiveLocksResponse {
  return { ServedFrom: '', Items: res.items.map((i) => ({ Type: i.type, Key: i.key,
    Durability: i.durability })) };
}

/** The rows of a many-locks call that failed as a whole: every key gets `code`. */
export function failedLockItems(code: number,
  items: readonly { Key: string; Durability: number }[]): ManyExclusiveLocksResponse {
  return { items: items.map((i) => ({ type: code, key: i.Key, durability: i.Durability,
    holder: hlcZero })) };
}

export function failedAcquireMany(code: number, m: GrpcTryAcquireManyExclusiveLocksRequest):
  GrpcTryAcquireManyExclusiveLocksResponse {
  return acquireManyTo(failedLockItems(code, m.Items));
}

export function failedReleaseMany(code: number, m: GrpcTryReleaseManyExclusiveLocksRequest):
  GrpcTryReleaseManyExclusiveLocksResponse {
  return releaseManyTo(failedLockItems(code, m.Items));
}

// ------------------------------------------------------------------ operations

/** One function per RPC; each takes the generated request and returns the response. */
export function txOperations(tx: TxBackend) {
  return {
    executeScript: async (m: GrpcTryExecuteTransactionScriptRequest):
      Promise<GrpcTryExecuteTransactionScriptResponse> =>
      scriptTo(await tx.executeScript(scriptFrom(m))),
    startTransaction: async (m: GrpcStartTransactionRequest):
      Promise<GrpcStartTransactionResponse> => {
      const res = await tx.startTransaction(startFrom(m));
      return { ServedFrom: '', Type: res.type, ...hlcTo('TransactionId', res.transactionId) };
    },
    commitTransaction: async (m: GrpcCommitTransactionRequest):
      Promise<GrpcCommitTransactionResponse> => {
      const res = await tx.commitTransaction(endFrom(m));
      return { ServedFrom: '', Type: res.type, RecordAnchorKey: res.recordAnchorKey ?? undefined };
    },
    // The rollback response has no RecordAnchorKey field (wire.md 2.2.17).
    rollbackTransaction: async (m: GrpcRollbackTransactionRequest):
      Promise<GrpcRollbackTransactionResponse> =>
      ({ ServedFrom: '', Type: (await tx.rollbackTransaction(endFrom(m))).type }),
    ...lockOperations(tx),
  };
}

export type TxOperations = ReturnType<typeof txOperations>;

function lockOperations(tx: TxBackend) {
  return {
    acquireExclusiveLock: async (m: GrpcTryAcquireExclusiveLockRequest):
      Promise<GrpcTryAcquireExclusiveLockResponse> => {
      const res = await tx.acquireExclusiveLock(lockFrom(m));
      return { ServedFrom: '', Type: res.type, ...hlcTo('HolderTransactionId', res.holder) };
    },
    acquireManyExclusiveLocks: async (m: GrpcTryAcquireManyExclusiveLocksRequest):
      Promise<GrpcTryAcquireManyExclusiveLocksResponse> =>
      acquireManyTo(await tx.acquireManyExclusiveLocks(manyFrom(m))),
    // The release responses carry no holder (wire.md 2.2.20, 2.2.21, 2.2.23).
    releaseExclusiveLock: async (m: GrpcTryReleaseExclusiveLockRequest):
      Promise<GrpcTryReleaseExclusiveLockResponse> =>
      ({ ServedFrom: '', Type: (await tx.releaseExclusiveLock(releaseFrom(m))).type }),
    releaseManyExclusiveLocks: async (m: GrpcTryReleaseManyExclusiveLocksRequest):
      Promise<GrpcTryReleaseManyExclusiveLocksResponse> =>
      releaseManyTo(await tx.releaseManyExclusiveLocks(manyFrom(m))),
    acquireExclusivePrefixLock: async (m: GrpcTryAcquireExclusivePrefixLockRequest):
      Promise<GrpcTryAcquireExclusivePrefixLockResponse> => {
      const res = await tx.acquireExclusivePrefixLock(lockFrom(m));
      return { ServedFrom: '', Type: res.type, ...hlcTo('HolderTransactionId', res.holder) };
    },
    releaseExclusivePrefixLock: async (m: GrpcTryReleaseExclusivePrefixLockRequest):
      Promise<GrpcTryReleaseExclusivePrefixLockResponse> =>
      ({ ServedFrom: '', Type: (await tx.releaseExclusivePrefixLock(releaseFrom(m))).type }),
  };
}
