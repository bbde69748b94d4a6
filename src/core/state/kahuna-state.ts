// The contract of one partition's Kahuna state (issue 4): locks, key/values and sequences of ONE
// durability namespace (a partition keeps one instance for ephemeral state, in the leader's
// memory only, and one for persistent state, replicated through Raft). Pure and deterministic:
// `now` is the leader-stamped HLC of the Raft entry being applied (writes) or the leader's
// current HLC (reads); nothing here reads a clock.
//
// Transactions (issue 8, src/core/api/tx-types.ts) keep their locks, intents and decisions in
// the same namespace's state (tx-table.ts), and plain writes and reads answer MustRetry where a
// foreign transaction covers the key (wire.md 4.2).
//
// Persistence: every write marks what it changed; takeDirty() hands those records out (the
// partition writes them at its next checkpoint) and load() rebuilds the state from them on
// restore. A record with value null deletes its key.
import type {
  ExtendLockRequest, GetLockRequest, GetLockResponse, Hlc, KvDeleteManyRequest,
  KvDeleteManyResponse, KvDeleteRequest, KvExtendRequest, KvGetByBucketRequest,
  KvGetByRangeRequest, KvGetByRangeResponse, KvGetManyRequest, KvGetManyResponse,
  KvGetRequest, KvReadResponse, KvScanByPrefixRequest, KvScanResponse, KvSetManyRequest,
  KvSetManyResponse, KvSetRequest, KvWriteResponse, LockResponse, SeqCreateRequest,
  SeqNameRequest, SeqReserveRequest, SeqUpdateRequest, SequenceAllocationResponse,
  SequenceResponse, TryLockRequest, UnlockRequest,
} from '../api/types.js';
import type {
  TxDecideRequest, TxDecideResponse, TxFinishRequest, TxFinishResponse, TxLockRequest,
  TxLockReadResponse, TxLockResponse, TxPendingRequest, TxPendingResponse, TxPrepareRequest,
  TxPrepareResponse,
  TxReadRequest, TxReadResponse, TxUnlockRequest, TxUnlockResponse,
} from '../api/tx-types.js';

/** Namespaces of the materialized state (the u8 of keys.ts stateKey). 0 is partition meta. */
export const StateNamespace = { Meta: 0, Kv: 1, Lock: 2, Sequence: 3, Tx: 4 } as const;

export interface StateRecord {
  readonly namespace: number;
  readonly key: Uint8Array;
  /** null: the key is gone. */
  readonly value: Uint8Array | null;
}

/** Writes: deterministic functions of (state, request, now). */
export interface KahunaWrites {
  tryLock(req: TryLockRequest, now: Hlc): LockResponse;
  extendLock(req: ExtendLockRequest, now: Hlc): LockResponse;
  unlock(req: UnlockRequest, now: Hlc): LockResponse;
  kvSet(req: KvSetRequest, now: Hlc): KvWriteResponse;
  kvExtend(req: KvExtendRequest, now: Hlc): KvWriteResponse;
  kvDelete(req: KvDeleteRequest, now: Hlc): KvWriteResponse;
  kvSetMany(req: KvSetManyRequest, now: Hlc): KvSetManyResponse;
  kvDeleteMany(req: KvDeleteManyRequest, now: Hlc): KvDeleteManyResponse;
  seqCreate(req: SeqCreateRequest, now: Hlc): SequenceResponse;
  seqUpdate(req: SeqUpdateRequest, now: Hlc): SequenceResponse;
  seqDelete(req: SeqNameRequest, now: Hlc): SequenceResponse;
  seqReserve(req: SeqReserveRequest, now: Hlc): SequenceAllocationResponse;
  txLock(req: TxLockRequest, now: Hlc): TxLockResponse;
  txLockRead(req: TxLockRequest, now: Hlc): TxLockReadResponse;
  txUnlock(req: TxUnlockRequest, now: Hlc): TxUnlockResponse;
  txPrepare(req: TxPrepareRequest, now: Hlc): TxPrepareResponse;
  txFinish(req: TxFinishRequest, now: Hlc): TxFinishResponse;
  txDecide(req: TxDecideRequest, now: Hlc): TxDecideResponse;
}

/** Reads: no state change (expired entries may be collected lazily, but never observably). */
export interface KahunaReads {
  getLock(req: GetLockRequest, now: Hlc): GetLockResponse;
  kvGet(req: KvGetRequest, now: Hlc): KvReadResponse;
  kvExists(req: KvGetRequest, now: Hlc): KvReadResponse;
  kvGetMany(req: KvGetManyRequest, now: Hlc): KvGetManyResponse;
  kvExistsMany(req: KvGetManyRequest, now: Hlc): KvGetManyResponse;
  kvGetByBucket(req: KvGetByBucketRequest, now: Hlc): KvScanResponse;
  kvScanByPrefix(req: KvScanByPrefixRequest, now: Hlc): KvScanResponse;
  kvGetByRange(req: KvGetByRangeRequest, now: Hlc): KvGetByRangeResponse;
  seqGet(req: SeqNameRequest, now: Hlc): SequenceResponse;
  txRead(req: TxReadRequest, now: Hlc): TxReadResponse;
  txPending(req: TxPendingRequest, now: Hlc): TxPendingResponse;
}

export interface KahunaStateStore extends KahunaWrites, KahunaReads {
  /** Records changed since the last call (at most one per key: the latest). */
  takeDirty(): StateRecord[];
  /** Every live record (what a restore from scratch would load): a Raft snapshot. */
  allRecords(): StateRecord[];
  /** Restores one record written by takeDirty (any order; before any operation). */
  load(record: StateRecord): void;
  /** A deterministic digest of the whole state (tests, replica comparison). */
  hash(): number;
}
