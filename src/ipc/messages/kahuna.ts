// Ring and Raft-entry encodings of the Kahuna operations (src/core/api/types.ts), one request
// and one response schema per op (style.md rule 8: one codec file per IPC kind). The op codes
// extend src/ipc/ops.ts.
import type { Schema } from './codec.js';

export const KahunaOp = {
  TryLock: 10,
  ExtendLock: 11,
  Unlock: 12,
  GetLock: 13,
  KvSet: 20,
  KvExtend: 21,
  KvDelete: 22,
  KvGet: 23,
  KvExists: 24,
  KvSetMany: 25,
  KvDeleteMany: 26,
  KvGetMany: 27,
  KvExistsMany: 28,
  KvGetByBucket: 29,
  KvScanByPrefix: 30,
  KvGetByRange: 31,
  SeqCreate: 40,
  SeqUpdate: 41,
  SeqGet: 42,
  SeqDelete: 43,
  SeqReserve: 44,
  TxLock: 50,
  TxUnlock: 51,
  TxRead: 52,
  TxPrepare: 53,
  TxFinish: 54,
  TxDecide: 55,
  TxPending: 56,
  TxLockRead: 57,
} as const;
export type KahunaOpValue = (typeof KahunaOp)[keyof typeof KahunaOp];

const tx: Schema = [['txId', 'hlc'], ['coordinatorKey', 'str'], ['operationIdHigh', 'num'],
  ['operationIdLow', 'num']];

const tryLock: Schema = [['resource', 'str'], ['owner', 'bytes'], ['expiresMs', 'num'],
  ['durability', 'num']];
const unlock: Schema = [['resource', 'str'], ['owner', 'bytes'], ['durability', 'num']];
const getLock: Schema = [['resource', 'str'], ['durability', 'num']];
const lockResponse: Schema = [['type', 'num'], ['fencingToken', 'num']];
const getLockResponse: Schema = [['type', 'num'], ['owner', 'bytes?'], ['expires', 'hlc'],
  ['fencingToken', 'num']];

const kvSet: Schema = [...tx, ['key', 'str'], ['value', 'bytes?'], ['compareValue', 'bytes?'],
  ['compareRevision', 'num'], ['flags', 'num'], ['expiresMs', 'num'], ['durability', 'num']];
const kvExtend: Schema = [...tx, ['key', 'str'], ['expiresMs', 'num'], ['durability', 'num']];
const kvDelete: Schema = [...tx, ['key', 'str'], ['durability', 'num']];
const kvGet: Schema = [...tx, ['key', 'str'], ['revision', 'num'], ['readTimestamp', 'hlc'],
  ['durability', 'num']];
const writeResponse: Schema = [['type', 'num'], ['revision', 'num'], ['lastModified', 'hlc']];
const readResponse: Schema = [['type', 'num'], ['value', 'bytes?'], ['revision', 'num'],
  ['expires', 'hlc'], ['lastUsed', 'hlc'], ['lastModified', 'hlc'], ['state', 'num']];
const writeItem: Schema = [...writeResponse, ['key', 'str'], ['durability', 'num']];
const readItem: Schema = [...readResponse, ['key', 'str'], ['durability', 'num']];
const kvSetMany: Schema = [['items', [kvSet]]];
const kvDeleteMany: Schema = [
  ['items', [[['txId', 'hlc'], ['key', 'str'], ['durability', 'num']]]],
  ['coordinatorKey', 'str?'], ['operationIdHigh', 'num?'], ['operationIdLow', 'num?'],
];
const kvGetMany: Schema = [['txId', 'hlc'],
  ['items', [[['key', 'str'], ['revision', 'num'], ['durability', 'num']]]],
  ['readTimestamp', 'hlc']];
const writeManyResponse: Schema = [['type', 'num'], ['items', [writeItem]]];
const readManyResponse: Schema = [['type', 'num'], ['items', [readItem]]];
const scanItem: Schema = [['key', 'str'], ['value', 'bytes?'], ['revision', 'num'],
  ['expires', 'hlc'], ['lastUsed', 'hlc'], ['lastModified', 'hlc'], ['state', 'num']];
const scanResponse: Schema = [['type', 'num'], ['items', [scanItem]]];
const getByBucket: Schema = [['txId', 'hlc'], ['prefixKey', 'str'], ['readTimestamp', 'hlc'],
  ['durability', 'num']];
const scanByPrefix: Schema = [['prefixKey', 'str'], ['readTimestamp', 'hlc'],
  ['durability', 'num']];
const getByRange: Schema = [['txId', 'hlc'], ['prefix', 'str'], ['startKey', 'str?'],
  ['startInclusive', 'bool'], ['endKey', 'str?'], ['endInclusive', 'bool'], ['limit', 'num'],
  ['readTimestamp', 'hlc'], ['durability', 'num'], ['cursor', 'str?']];
const getByRangeResponse: Schema = [['type', 'num'], ['items', [scanItem]],
  ['nextCursor', 'str?'], ['hasMore', 'bool']];

const seqCreate: Schema = [['name', 'str'], ['initialValue', 'num'], ['increment', 'num'],
  ['maxValue', 'num?'], ['durability', 'num'], ['blockSize', 'num?']];
const seqUpdate: Schema = [['name', 'str'], ['currentValue', 'num?'], ['increment', 'num?'],
  ['initialValue', 'num?'], ['maxValue', 'num?'], ['removeMaxValue', 'bool'],
  ['blockSize', 'num?'], ['removeBlockSize', 'bool'], ['durability', 'num']];
const seqName: Schema = [['name', 'str'], ['durability', 'num']];
const seqReserve: Schema = [['name', 'str'], ['count', 'num'], ['idempotencyKey', 'str?'],
  ['durability', 'num']];
const sequenceEntry: Schema = [['name', 'str'], ['currentValue', 'num'],
  ['initialValue', 'num'], ['increment', 'num'], ['maxValue', 'num?'], ['revision', 'num'],
  ['durability', 'num'], ['createdAt', 'hlc'], ['updatedAt', 'hlc'], ['blockSize', 'num?'],
  ['incarnation', 'num']];
const allocation: Schema = [['name', 'str'], ['start', 'num'], ['end', 'num'],
  ['count', 'num'], ['revision', 'num']];
const sequenceResponse: Schema = [['type', 'num'], ['sequence', { opt: sequenceEntry }],
  ['revision', 'num']];
const allocationResponse: Schema = [['type', 'num'], ['allocation', { opt: allocation }]];

// Transactions (src/core/api/tx-types.ts).
const txLock: Schema = [['txId', 'hlc'], ['key', 'str'], ['expiresMs', 'num'],
  ['durability', 'num'], ['prefix', 'bool']];
const txLockResponse: Schema = [['type', 'num'], ['holder', 'hlc']];
const txUnlock: Schema = [['txId', 'hlc'], ['key', 'str'], ['durability', 'num'],
  ['prefix', 'bool']];
const txRead: Schema = [['txId', 'hlc'], ['key', 'str'], ['revision', 'num'],
  ['readTimestamp', 'hlc'], ['durability', 'num']];
const txReadResponse: Schema = [['type', 'num'], ['value', 'bytes?'], ['revision', 'num'],
  ['expires', 'hlc'], ['lastModified', 'hlc'], ['lastRevision', 'num']];
const txLockReadResponse: Schema = [...txReadResponse, ['holder', 'hlc']];
const txMutation: Schema = [['key', 'str'], ['kind', 'num'], ['value', 'bytes?'],
  ['flags', 'num'], ['expiresMs', 'num'], ['baseRevision', 'num']];
const txPrepare: Schema = [['txId', 'hlc'], ['durability', 'num'], ['onePhase', 'bool'],
  ['anchorKey', 'str'], ['decisionTimeoutMs', 'num'], ['recordDecision', 'bool'],
  ['mutations', [txMutation]], ['reads', [[['key', 'str'], ['lastRevision', 'num']]]],
  ['wounded', [[['txId', 'hlc']]]], ['commitTs', 'hlc']];
const txPrepareResponse: Schema = [['type', 'num'], ['reason', 'str'], ['items', [writeItem]],
  ['conflictTx', 'hlc'], ['conflictAnchor', 'str'], ['at', 'hlc']];
const txFinish: Schema = [['txId', 'hlc'], ['durability', 'num'], ['commit', 'bool'],
  ['commitTs', 'hlc']];
const txFinishResponse: Schema = [['type', 'num'], ['items', [writeItem]]];
const txDecide: Schema = [['txId', 'hlc'], ['anchorKey', 'str'], ['decision', 'num']];
const txDecideResponse: Schema = [['type', 'num'], ['decision', 'num'], ['at', 'hlc']];
const txPending: Schema = [['durability', 'num'], ['limit', 'num']];
const txPendingResponse: Schema = [['type', 'num'],
  ['items', [[['txId', 'hlc'], ['anchorKey', 'str'], ['deadline', 'hlc']]]]];

export interface OpCodec {
  readonly request: Schema;
  readonly response: Schema;
  /** Persistent writes go through Raft; reads and ephemeral writes do not. */
  readonly write: boolean;
}

export const opCodecs: Readonly<Record<KahunaOpValue, OpCodec>> = {
  [KahunaOp.TryLock]: { request: tryLock, response: lockResponse, write: true },
  [KahunaOp.ExtendLock]: { request: tryLock, response: lockResponse, write: true },
  [KahunaOp.Unlock]: { request: unlock, response: lockResponse, write: true },
  [KahunaOp.GetLock]: { request: getLock, response: getLockResponse, write: false },
  [KahunaOp.KvSet]: { request: kvSet, response: writeResponse, write: true },
  [KahunaOp.KvExtend]: { request: kvExtend, response: writeResponse, write: true },
  [KahunaOp.KvDelete]: { request: kvDelete, response: writeResponse, write: true },
  [KahunaOp.KvGet]: { request: kvGet, response: readResponse, write: false },
  [KahunaOp.KvExists]: { request: kvGet, response: readResponse, write: false },
  [KahunaOp.KvSetMany]: { request: kvSetMany, response: writeManyResponse, write: true },
  [KahunaOp.KvDeleteMany]: { request: kvDeleteMany, response: writeManyResponse, write: true },
  [KahunaOp.KvGetMany]: { request: kvGetMany, response: readManyResponse, write: false },
  [KahunaOp.KvExistsMany]: { request: kvGetMany, response: readManyResponse, write: false },
  [KahunaOp.KvGetByBucket]: { request: getByBucket, response: scanResponse, write: false },
  [KahunaOp.KvScanByPrefix]: { request: scanByPrefix, response: scanResponse, write: false },
  [KahunaOp.KvGetByRange]: { request: getByRange, response: getByRangeResponse, write: false },
  [KahunaOp.SeqCreate]: { request: seqCreate, response: sequenceResponse, write: true },
  [KahunaOp.SeqUpdate]: { request: seqUpdate, response: sequenceResponse, write: true },
  [KahunaOp.SeqGet]: { request: seqName, response: sequenceResponse, write: false },
  [KahunaOp.SeqDelete]: { request: seqName, response: sequenceResponse, write: true },
  [KahunaOp.SeqReserve]: { request: seqReserve, response: allocationResponse, write: true },
  [KahunaOp.TxLock]: { request: txLock, response: txLockResponse, write: true },
  [KahunaOp.TxUnlock]: { request: txUnlock, response: txLockResponse, write: true },
  [KahunaOp.TxRead]: { request: txRead, response: txReadResponse, write: false },
  [KahunaOp.TxPrepare]: { request: txPrepare, response: txPrepareResponse, write: true },
  [KahunaOp.TxFinish]: { request: txFinish, response: txFinishResponse, write: true },
  [KahunaOp.TxDecide]: { request: txDecide, response: txDecideResponse, write: true },
  [KahunaOp.TxPending]: { request: txPending, response: txPendingResponse, write: false },
  [KahunaOp.TxLockRead]: { request: txLock, response: txLockReadResponse, write: true },
};

const kahunaOps = new Set<number>(Object.values(KahunaOp));

export function isKahunaOp(op: number): op is KahunaOpValue {
  return kahunaOps.has(op);
}
