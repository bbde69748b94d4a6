// The partition side of transactions (issue 8) as plain data: what the transaction coordinator
// (src/main/tx/) sends to a partition's state machine (src/core/state/tx-table.ts) and what it
// gets back. Kahuna's model (kahuna-reference.md 5.1): exclusive key locks and prefix locks with
// leases, prepared write intents on each participant partition, a decision record at the anchor
// partition, and commit or abort applied through each participant's Raft log. Field meanings
// follow wire.md 2.2.15-2.2.23; names are camelCase, bytes are Uint8Array, null is absent.
// Pure: no node:*.
import type { Hlc, KvWriteItem } from './types.js';

/** Acquire (or refresh) an exclusive lock on a key, or on a bucket when `prefix` is true.
 *  Answers Locked (5), AlreadyLocked (104) with the holder, InvalidInput (100) for an empty or
 *  reserved key, Errored (99) for a zero txId or a negative lease. Held by the same txId, it is
 *  Locked again with a refreshed lease. A key lock conflicts with a foreign live lock on the key,
 *  a foreign prefix lock on its bucket and a foreign prepared intent on the key; a prefix lock
 *  conflicts with foreign key locks and intents inside the bucket. */
export interface TxLockRequest {
  readonly txId: Hlc;
  readonly key: string;
  readonly expiresMs: number;
  readonly durability: number;
  readonly prefix: boolean;
}

export interface TxLockResponse {
  readonly type: number;
  /** The holder on AlreadyLocked; zero otherwise. */
  readonly holder: Hlc;
}

/** Lock a key (never a prefix) and, when Locked, read it in the same Raft entry: one round
 *  where a pessimistic transaction would otherwise spend a lock and a read. `type` is the
 *  read's Get (3) or DoesNotExist (103) once locked, or the lock's refusal (AlreadyLocked with
 *  the holder, InvalidInput, Errored, MustRetry) with no read. */
export interface TxLockReadResponse extends Omit<TxReadResponse, 'type'> {
  readonly type: number;
  readonly holder: Hlc;
}

/** Release: Unlocked (6); DoesNotExist (103) with no entry; AlreadyLocked (104) when another
 *  transaction holds it; Errored (99) for a zero txId. A key under a prepared intent of the same
 *  transaction stays locked until the intent is finished. */
export interface TxUnlockRequest {
  readonly txId: Hlc;
  readonly key: string;
  readonly durability: number;
  readonly prefix: boolean;
}

/** A transactional point read: the latest state of the key, or the newest revision at or before
 *  `readTimestamp` when that is non-zero, or revision `revision` when >= 0. Like KvGet, plus
 *  `lastRevision`: the revision of the key's newest revision of any state (live, tombstone or
 *  expired), -1 when the key has none; it is what a staged write builds on and what optimistic
 *  validation compares. A foreign prefix lock on the bucket gives MustRetry (101). */
export interface TxReadRequest {
  readonly txId: Hlc;
  readonly key: string;
  readonly revision: number;
  readonly readTimestamp: Hlc;
  readonly durability: number;
}

export interface TxReadResponse {
  /** Get (3) or DoesNotExist (103); MustRetry / InvalidInput as for KvGet. */
  readonly type: number;
  readonly value: Uint8Array | null;
  readonly revision: number;
  readonly expires: Hlc;
  readonly lastModified: Hlc;
  readonly lastRevision: number;
}

export const TxMutationKind = { Set: 1, Delete: 2, Extend: 3 } as const;

/** One staged write, already evaluated by the coordinator against the transaction's view. */
export interface TxMutation {
  readonly key: string;
  readonly kind: number; // TxMutationKind
  readonly value: Uint8Array | null;
  /** SetNoRevision (2) or Set (1); conditions were checked by the coordinator. */
  readonly flags: number;
  /** Set: 0 = no expiry; Extend: the new lease from commit time. */
  readonly expiresMs: number;
  /** The key's lastRevision the coordinator evaluated against (-1: no revision). Prepare aborts
   *  when the key's lastRevision is different now. */
  readonly baseRevision: number;
}

/** A key read by the transaction and not written (optimistic read validation). */
export interface TxReadCheck {
  readonly key: string;
  /** lastRevision as read; prepare aborts when it changed or a foreign lock or intent now covers
   *  the key. */
  readonly lastRevision: number;
}

/** Prepare this partition's part of a transaction, through Raft for persistent state. Every
 *  mutated key must be free of foreign locks and intents and still at its baseRevision; every
 *  read check must still hold. Then either `onePhase` (the only participant): apply the
 *  mutations now, release the transaction's locks here, answer Committed (8) with the items; or
 *  store a prepared intent that pins the mutated keys until TxFinish, answer Prepared (7).
 *  A failed check answers Aborted (102) with a reason and changes nothing (the transaction's
 *  locks stay until its rollback). */
export interface TxPrepareRequest {
  readonly txId: Hlc;
  readonly durability: number;
  readonly onePhase: boolean;
  /** The key anchoring the decision record (the first persistent mutated key); "" if none. */
  readonly anchorKey: string;
  /** ms after the prepare's own HLC after which a resolver may decide the transaction. */
  readonly decisionTimeoutMs: number;
  /** The anchor's own step (with onePhase): the same entry that applies the anchor partition's
   *  mutations records the decision Commit for txId, and it aborts instead when an Abort is
   *  already recorded (a resolver got there first). One Raft round decides the transaction. */
  readonly recordDecision: boolean;
  readonly mutations: readonly TxMutation[];
  readonly reads: readonly TxReadCheck[];
  /** Transactions the coordinator has made abort (their decision Abort is on record at their
   *  anchor): their read checks here no longer stand in this prepare's way. Wound-wait for
   *  crossing optimistic read sets: the older transaction aborts the younger one. */
  readonly wounded: readonly { readonly txId: Hlc }[];
  /** One-phase: non-zero stamps the writes with max(this entry's HLC, commitTs), so a
   *  multi-partition commit's writes carry one timestamp (the coordinator passes the latest
   *  prepare HLC of the other participants); zero: the entry's HLC. */
  readonly commitTs: Hlc;
}

export interface TxPrepareResponse {
  /** Prepared (7), Committed (8) (one phase), Aborted (102), InvalidInput (100). */
  readonly type: number;
  readonly reason: string;
  /** One per mutation, in order, for a one-phase commit (revision and lastModified written). */
  readonly items: readonly KvWriteItem[];
  /** On Aborted because another transaction's prepared read check covers a mutated key: that
   *  transaction and its anchor key (zero and "" otherwise). */
  readonly conflictTx: Hlc;
  readonly conflictAnchor: string;
  /** The HLC this step ran at (a Prepared intent's prepare time; a one-phase commit's stamp). */
  readonly at: Hlc;
}

/** Finish a prepared intent: commit applies its mutations (stamped with this entry's HLC) and
 *  releases the transaction's locks on this partition; abort drops the intent and the locks.
 *  Without an intent, commit answers DoesNotExist (103) and abort still releases the locks and
 *  answers RolledBack (9). Idempotent. */
export interface TxFinishRequest {
  readonly txId: Hlc;
  readonly durability: number;
  readonly commit: boolean;
  /** Commit: the transaction's commit timestamp (the anchor's stamp); the intent's writes carry
   *  exactly it, so a snapshot read sees all of a transaction or none of it. Zero: this entry's
   *  HLC. The partition's clock moves past it. */
  readonly commitTs: Hlc;
}

export interface TxFinishResponse {
  /** Committed (8), RolledBack (9), DoesNotExist (103). */
  readonly type: number;
  readonly items: readonly KvWriteItem[];
}

export const TxDecision = { None: 0, Commit: 1, Abort: 2 } as const;

/** The decision record at the anchor key's partition (persistent): compare-and-set from none to
 *  `decision`; once set it never changes, and every call answers the recorded decision. */
export interface TxDecideRequest {
  readonly txId: Hlc;
  readonly anchorKey: string;
  readonly decision: number; // TxDecision.Commit or Abort
}

export interface TxDecideResponse {
  readonly type: number; // Set (0), or Errored/InvalidInput/MustRetry
  readonly decision: number; // the recorded TxDecision
  /** When it was recorded: for a Commit recorded by the anchor's step, the transaction's
   *  commit timestamp (what the other participants stamp their writes with). */
  readonly at: Hlc;
}

/** A resolver's question to a partition: prepared intents whose decision deadline is before
 *  `now` (the partition's HLC), oldest first, at most `limit`. */
export interface TxPendingRequest {
  readonly durability: number;
  readonly limit: number;
}

export interface TxPendingItem {
  readonly txId: Hlc;
  readonly anchorKey: string;
  readonly deadline: Hlc;
}

export interface TxPendingResponse {
  readonly type: number; // Get (3)
  readonly items: readonly TxPendingItem[];
}

/** Unlock answers as lock does (the holder on AlreadyLocked). */
export type TxUnlockResponse = TxLockResponse;

// ------------------------------------------------------------ the client side (wire.md 2.2.10,
// 2.2.15-2.2.23, 4.4, 4.5): what the gRPC and REST adapters decode into and encode from.

/** TransactionPriority normalised to 0 background .. 4 critical (gRPC sends it offset by one,
 *  0 = unspecified = normal; REST sends 0-4). */
export const TxPriority = { Background: 0, Low: 1, Normal: 2, High: 3, Critical: 4 } as const;

export interface ScriptParameter {
  /** The placeholder including '@'. */
  readonly key: string;
  /** null: the parameter is null. */
  readonly value: string | null;
}

export interface ScriptRequest {
  readonly hash: string | null;
  /** UTF-8 text; null (REST) is InvalidInput. */
  readonly script: Uint8Array | null;
  readonly parameters: readonly ScriptParameter[];
  readonly priority: number; // TxPriority
}

export interface ScriptValue {
  readonly key: string;
  readonly value: Uint8Array | null;
  readonly revision: number;
  readonly expires: Hlc;
  readonly lastModified: Hlc;
}

export interface ScriptResponse {
  readonly type: number; // KvType
  readonly reason: string | null;
  readonly values: readonly ScriptValue[];
  readonly timeElapsedMs: number;
}

export interface StartTxRequest {
  readonly coordinatorKey: string;
  readonly lockingType: number; // 0 pessimistic, 1 optimistic
  /** ms; 0 = server default (5000). */
  readonly timeout: number;
  readonly asyncRelease: boolean;
  readonly autoCommit: boolean;
  readonly readValidation: number; // 0 none, 1 track and validate
  readonly decisionDurability: number; // 0 best effort, 1 durable
  /** Zero: read latest. */
  readonly readTimestamp: Hlc;
  readonly priority: number; // TxPriority
  readonly admissionWaitMs: number;
  readonly conflictPolicy: number;
}

export interface StartTxResponse {
  readonly type: number; // Set (0) on success
  readonly transactionId: Hlc;
}

/** Commit and rollback. */
export interface EndTxRequest {
  readonly coordinatorKey: string;
  readonly transactionId: Hlc;
  readonly recordAnchorKey: string | null;
}

export interface EndTxResponse {
  readonly type: number; // Committed (8) / RolledBack (9) / ...
  readonly recordAnchorKey: string | null;
}

/** TryAcquireExclusiveLock and TryAcquireExclusivePrefixLock (`key` is the bucket). */
export interface ExclusiveLockRequest {
  readonly transactionId: Hlc;
  readonly key: string;
  readonly expiresMs: number;
  readonly durability: number;
  readonly coordinatorKey: string;
  readonly operationIdHigh: number;
  readonly operationIdLow: number;
}

export interface ExclusiveLockResponse {
  readonly type: number; // Locked (5) / AlreadyLocked (104) / Unlocked (6) / ...
  readonly holder: Hlc;
}

/** TryReleaseExclusiveLock and TryReleaseExclusivePrefixLock. */
export interface ReleaseExclusiveLockRequest {
  readonly transactionId: Hlc;
  readonly key: string;
  readonly durability: number;
}

export interface ManyExclusiveLocksRequest {
  readonly transactionId: Hlc;
  readonly items: readonly { readonly key: string; readonly expiresMs: number;
    readonly durability: number }[];
}

export interface ManyExclusiveLocksItem {
  readonly type: number;
  readonly key: string;
  readonly durability: number;
  readonly holder: Hlc;
}

export interface ManyExclusiveLocksResponse {
  readonly items: readonly ManyExclusiveLocksItem[];
}

/** Scripts, interactive sessions and exclusive locks: what src/main/tx/ serves. Every method
 *  resolves with the outcome in `type` (never rejects). Transactional point operations (a
 *  KvSetRequest etc. with a non-zero txId) reach the coordinator through the ordinary
 *  KahunaBackend methods. */
export interface TxBackend {
  executeScript(req: ScriptRequest): Promise<ScriptResponse>;
  startTransaction(req: StartTxRequest): Promise<StartTxResponse>;
  commitTransaction(req: EndTxRequest): Promise<EndTxResponse>;
  rollbackTransaction(req: EndTxRequest): Promise<EndTxResponse>;
  acquireExclusiveLock(req: ExclusiveLockRequest): Promise<ExclusiveLockResponse>;
  acquireManyExclusiveLocks(req: ManyExclusiveLocksRequest): Promise<ManyExclusiveLocksResponse>;
  releaseExclusiveLock(req: ReleaseExclusiveLockRequest): Promise<ExclusiveLockResponse>;
  releaseManyExclusiveLocks(req: ManyExclusiveLocksRequest): Promise<ManyExclusiveLocksResponse>;
  acquireExclusivePrefixLock(req: ExclusiveLockRequest): Promise<ExclusiveLockResponse>;
  releaseExclusivePrefixLock(req: ReleaseExclusiveLockRequest): Promise<ExclusiveLockResponse>;
}
