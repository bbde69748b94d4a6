// The transaction table of one durability namespace (issue 8; kahuna-reference 5.1, wire.md
// 4.4): exclusive key locks and prefix (bucket) locks with leases, prepared intents, and
// decision records. Prepare and finish, which also write key/values, are in tx-ops.ts. Pure and
// deterministic: `now` is the leader-stamped HLC of the entry being applied (writes) or the
// leader's HLC (reads); nothing here reads a clock.
//
// - A lock is live while its lease runs (a zero expiry: no lease) or while its transaction has
//   a prepared intent here: a prepared transaction keeps every lock it holds on this partition
//   (its mutated keys, and keys and buckets it read under lock) until TxFinish, whatever the
//   lease. An expired lock of an unprepared transaction is free.
// - Collection is lazy. Each transactional write first drops up to txSweepPerWriteMax expired
//   unpinned locks and decision records older than txDecisionRetentionMs (one hour of HLC
//   time), walking a queue sorted by due time. The queue is a function of the state alone, so
//   every replica, restored or not, drops the same entries. A collected decision is forgotten:
//   a later prepare or decide of that transaction finds none. Kahuna caps decision deadlines at
//   60 s, so an hour is far beyond any resolver's question.
import { assert } from '../../assert.js';
import { KvType } from '../api/codes.js';
import {
  TxDecision, type TxDecideRequest, type TxDecideResponse, type TxLockRequest,
  type TxLockResponse, type TxPendingRequest, type TxPendingResponse, type TxUnlockRequest,
} from '../api/tx-types.js';
import { hlcZero, type Hlc } from '../api/types.js';
import { compareKeys, fnvField, fromUtf8, utf8 } from './codec.js';
import { DirtySet, type DirtyRecord } from './dirty-set.js';
import { compareHlc, copyHlc, expiryAfter, hlcIsZero, isExpired } from './hlc.js';
import { BTree, isBadExpiresMs, isBadKey, type KvGuard } from './kv-store.js';
import { txDecisionRetentionMs, txPendingItemsMax, txSweepPerWriteMax } from './state-limits.js';
import {
  bucketOf, compareDueKeys, decodeTxDecision, decodeTxIntent, decodeTxLock, encodeTxDecision,
  encodeTxIntent, encodeTxLock, GroupIndex, TxTag, txKeyOf, type TxDecisionEntry, type TxDueKey,
  type TxIntent, type TxLockSlot, type TxTagValue,
} from './tx-records.js';

type LockTag = typeof TxTag.KeyLock | typeof TxTag.PrefixLock;

/** The txKey of a plain (non-transactional) caller: never a transaction's. */
const plainCaller = '';

function lockAnswer(type: number, holder: Hlc = hlcZero): TxLockResponse {
  return { type, holder };
}

export class TxTable implements KvGuard {
  readonly dirty = new DirtySet();
  private readonly keyLocks = new Map<string, TxLockSlot>();
  private readonly prefixLocks = new Map<string, TxLockSlot>();
  /** txKey -> its prepared intent; key -> the txKey of the intent that mutates it. */
  private readonly intents = new Map<string, TxIntent>();
  private readonly intentOwners = new Map<string, string>();
  /** key -> txKeys of the intents that read it (optimistic read checks). */
  private readonly readIntents = new GroupIndex();
  private readIntentCount = 0;
  private readonly decisions = new Map<string, TxDecisionEntry>();
  /** bucket -> keys with a key lock, and keys under an intent (prefix lock conflicts). */
  private readonly lockedInBucket = new GroupIndex();
  private readonly intendedInBucket = new GroupIndex();
  /** txKey -> record names (tag + name) of its locks, released together. */
  private readonly locksOfTx = new GroupIndex();
  /** Locks with a lease and decision records, by the HLC at which they may be collected. */
  private readonly due = new BTree<TxDueKey, true>(undefined, compareDueKeys);

  // ---------------------------------------------------------------- plain operations' guard

  writeBlocked(key: string, now: Hlc): boolean {
    if (this.keyLocks.size === 0 && this.prefixLocks.size === 0 &&
      this.intentOwners.size === 0 && this.readIntentCount === 0) return false;
    return this.coverOf(key, plainCaller, now) !== null;
  }

  snapshotBlocked(key: string): boolean {
    return this.intentOwners.size !== 0 && this.intentOwners.has(key);
  }

  /** A snapshot read of `bucket` while an intent covers a key in it (see snapshotBlocked). */
  bucketSnapshotBlocked(bucket: string): boolean {
    return this.intentOwners.size !== 0 && this.intendedInBucket.members(bucket).length > 0;
  }

  readBlocked(key: string, now: Hlc): boolean {
    if (this.prefixLocks.size === 0) return false;
    const bucket = bucketOf(key);
    return bucket !== null && this.prefixHolder(bucket, plainCaller, now) !== null;
  }

  /** GetByBucket (plain, or of transaction `txId`): another transaction's live prefix lock on
   *  exactly `bucket`. */
  bucketBlocked(bucket: string, txId: Hlc, now: Hlc): boolean {
    if (this.prefixLocks.size === 0) return false;
    const caller = hlcIsZero(txId) ? plainCaller : txKeyOf(txId);
    return this.prefixHolder(bucket, caller, now) !== null;
  }

  // ---------------------------------------------------------------- conflicts

  private live(slot: TxLockSlot, now: Hlc): boolean {
    return !isExpired(slot.expires, now) || this.intents.has(slot.txKey);
  }

  private holderIn(locks: Map<string, TxLockSlot>, name: string, txKey: string, now: Hlc):
    Hlc | null {
    const slot = locks.get(name);
    return slot !== undefined && slot.txKey !== txKey && this.live(slot, now) ? slot.txId : null;
  }

  private intentHolder(key: string, txKey: string): Hlc | null {
    const owner = this.intentOwners.get(key);
    if (owner === undefined || owner === txKey) return null;
    const intent = this.intents.get(owner);
    assert(intent !== undefined, 'an intent owner has its intent');
    return intent.txId;
  }

  /** Another transaction with a prepared intent that read `key`. */
  private readIntentHolder(key: string, txKey: string): Hlc | null {
    return this.readIntentOf(key, txKey, new Set())?.txId ?? null;
  }

  /** Another transaction (not `txKey`, not in `except`) whose prepared intent read `key`, with
   *  its anchor key; the smallest such txKey, so every replica answers alike. */
  readIntentOf(key: string, txKey: string, except: ReadonlySet<string>):
    { txId: Hlc; anchorKey: string } | null {
    if (this.readIntentCount === 0) return null;
    let best: string | null = null;
    for (const owner of this.readIntents.members(key)) {
      if (owner === txKey || except.has(owner)) continue;
      if (best === null || owner < best) best = owner;
    }
    const intent = best === null ? undefined : this.intents.get(best);
    return intent === undefined ? null : { txId: intent.txId, anchorKey: intent.anchorKey };
  }

  /** Another transaction's prepared intent that WRITES `key` (what an optimistic read check
   *  conflicts with; plain locks do not, wire.md 5.1). */
  writeIntentOf(key: string, txKey: string): Hlc | null {
    return this.intentHolder(key, txKey);
  }

  /** Another transaction's live prefix lock on `bucket`. */
  prefixHolder(bucket: string, txKey: string, now: Hlc): Hlc | null {
    return this.holderIn(this.prefixLocks, bucket, txKey, now);
  }

  /** Another transaction (than `txKey`) whose live key lock or intent covers `key`, or whose
   *  live prefix lock covers its bucket; null when none. */
  coverOf(key: string, txKey: string, now: Hlc, withReads = true): Hlc | null {
    const locked = this.holderIn(this.keyLocks, key, txKey, now);
    if (locked !== null) return locked;
    const intended = this.intentHolder(key, txKey) ??
      (withReads ? this.readIntentHolder(key, txKey) : null);
    if (intended !== null) return intended;
    const bucket = bucketOf(key);
    return bucket === null ? null : this.prefixHolder(bucket, txKey, now);
  }

  /** Another transaction's live prefix lock on `bucket`, or live key lock or intent inside. */
  bucketCoverOf(bucket: string, txKey: string, now: Hlc): Hlc | null {
    return this.prefixHolder(bucket, txKey, now) ??
      this.lockedInBucket.smallestHit(bucket, (key) =>
        this.holderIn(this.keyLocks, key, txKey, now)) ??
      this.intendedInBucket.smallestHit(bucket, (key) => this.intentHolder(key, txKey));
  }

  intentOf(txId: Hlc): TxIntent | undefined {
    return this.intents.get(txKeyOf(txId));
  }

  decisionOf(txId: Hlc): number {
    return this.decisions.get(txKeyOf(txId))?.decision ?? TxDecision.None;
  }

  // ---------------------------------------------------------------- lock and unlock

  lock(req: TxLockRequest, now: Hlc): TxLockResponse {
    if (hlcIsZero(req.txId) || isBadExpiresMs(req.expiresMs)) return lockAnswer(KvType.Errored);
    if (isBadKey(req.key)) return lockAnswer(KvType.InvalidInput);
    this.sweep(now);
    const txKey = txKeyOf(req.txId);
    const holder = req.prefix ? this.bucketCoverOf(req.key, txKey, now) :
      this.coverOf(req.key, txKey, now);
    if (holder !== null) return lockAnswer(KvType.AlreadyLocked, holder);
    // Free, expired, or this transaction's own: (re)granted with a fresh lease.
    const tag = req.prefix ? TxTag.PrefixLock : TxTag.KeyLock;
    const expires = expiryAfter(copyHlc(now), req.expiresMs);
    this.placeLock(tag, req.key, { txId: copyHlc(req.txId), txKey, expires });
    this.dirty.mark(tag + req.key);
    return lockAnswer(KvType.Locked);
  }

  unlock(req: TxUnlockRequest, now: Hlc): TxLockResponse {
    if (hlcIsZero(req.txId)) return lockAnswer(KvType.Errored);
    if (isBadKey(req.key)) return lockAnswer(KvType.InvalidInput);
    this.sweep(now);
    const tag = req.prefix ? TxTag.PrefixLock : TxTag.KeyLock;
    const slot = this.locksOf(tag).get(req.key);
    const txKey = txKeyOf(req.txId);
    // An expired lock is no entry (whether or not it was collected yet).
    if (slot === undefined || !this.live(slot, now)) return lockAnswer(KvType.DoesNotExist);
    if (slot.txKey !== txKey) return lockAnswer(KvType.AlreadyLocked, slot.txId);
    // A prepared transaction keeps its locks: TxFinish releases them.
    if (!this.intents.has(txKey)) {
      this.unplaceLock(tag, req.key);
      this.dirty.mark(tag + req.key);
    }
    return lockAnswer(KvType.Unlocked);
  }

  /** Drops every lock of the transaction (key and prefix) in this namespace. */
  releaseLocks(txId: Hlc): void {
    for (const record of this.locksOfTx.members(txKeyOf(txId))) {
      this.unplaceLock(record.charAt(0) as LockTag, record.slice(1));
      this.dirty.mark(record);
    }
  }

  private locksOf(tag: LockTag): Map<string, TxLockSlot> {
    return tag === TxTag.PrefixLock ? this.prefixLocks : this.keyLocks;
  }

  private placeLock(tag: LockTag, name: string, slot: TxLockSlot): void {
    this.unplaceLock(tag, name);
    this.locksOf(tag).set(name, slot);
    this.locksOfTx.add(slot.txKey, tag + name);
    const bucket = tag === TxTag.KeyLock ? bucketOf(name) : null;
    if (bucket !== null) this.lockedInBucket.add(bucket, name);
    if (!hlcIsZero(slot.expires)) this.due.set({ at: slot.expires, tag, name }, true);
  }

  private unplaceLock(tag: LockTag, name: string): void {
    const locks = this.locksOf(tag);
    const slot = locks.get(name);
    if (slot === undefined) return;
    locks.delete(name);
    this.locksOfTx.remove(slot.txKey, tag + name);
    const bucket = tag === TxTag.KeyLock ? bucketOf(name) : null;
    if (bucket !== null) this.lockedInBucket.remove(bucket, name);
    if (!hlcIsZero(slot.expires)) this.due.delete({ at: slot.expires, tag, name });
  }

  // ---------------------------------------------------------------- intents

  /** Stores a prepared intent: its keys are pinned until dropIntent. */
  addIntent(intent: TxIntent): void {
    this.placeIntent(intent);
    this.dirty.mark(TxTag.Intent + txKeyOf(intent.txId));
  }

  dropIntent(txId: Hlc): void {
    const txKey = txKeyOf(txId);
    if (!this.intents.has(txKey)) return;
    this.unplaceIntent(txKey);
    this.dirty.mark(TxTag.Intent + txKey);
  }

  private placeIntent(intent: TxIntent): void {
    const txKey = txKeyOf(intent.txId);
    assert(!this.intents.has(txKey), 'one intent per transaction');
    this.intents.set(txKey, intent);
    for (const { key } of intent.mutations) {
      const owner = this.intentOwners.get(key);
      assert(owner === undefined || owner === txKey, 'one intent per key');
      this.intentOwners.set(key, txKey);
      const bucket = bucketOf(key);
      if (bucket !== null) this.intendedInBucket.add(bucket, key);
    }
    for (const key of intent.reads) {
      this.readIntents.add(key, txKey);
      this.readIntentCount += 1;
    }
  }

  private unplaceIntent(txKey: string): void {
    const intent = this.intents.get(txKey);
    if (intent === undefined) return;
    this.intents.delete(txKey);
    for (const { key } of intent.mutations) {
      if (this.intentOwners.get(key) !== txKey) continue; // a duplicate key, already gone
      this.intentOwners.delete(key);
      const bucket = bucketOf(key);
      if (bucket !== null) this.intendedInBucket.remove(bucket, key);
    }
    for (const key of intent.reads) {
      this.readIntents.remove(key, txKey);
      this.readIntentCount -= 1;
    }
  }

  /** Prepared intents whose deadline is before `now`, oldest deadline first. */
  pending(req: TxPendingRequest, now: Hlc): TxPendingResponse {
    const limit = Number.isInteger(req.limit) && req.limit > 0 ?
      Math.min(req.limit, txPendingItemsMax) : txPendingItemsMax;
    const due = [...this.intents.values()].filter((i) => compareHlc(i.deadline, now) < 0);
    due.sort((a, b) => compareHlc(a.deadline, b.deadline) || compareHlc(a.txId, b.txId));
    const items = due.slice(0, limit).map((i) => ({
      txId: i.txId, anchorKey: i.anchorKey, deadline: i.deadline,
    }));
    return { type: KvType.Get, items };
  }

  // ---------------------------------------------------------------- decisions

  /** Compare-and-set from none: the first decision stays, and every call answers it. */
  decide(req: TxDecideRequest, now: Hlc): TxDecideResponse {
    if (hlcIsZero(req.txId)) {
      return { type: KvType.Errored, decision: TxDecision.None, at: hlcZero };
    }
    if (req.decision !== TxDecision.Commit && req.decision !== TxDecision.Abort) {
      return { type: KvType.InvalidInput, decision: TxDecision.None, at: hlcZero };
    }
    this.sweep(now);
    const recorded = this.decisions.get(txKeyOf(req.txId));
    if (recorded !== undefined) {
      return { type: KvType.Set, decision: recorded.decision, at: copyHlc(recorded.at) };
    }
    this.record(req.txId, req.decision, now);
    return { type: KvType.Set, decision: req.decision, at: copyHlc(now) };
  }

  /** Records `decision` for a transaction that has none. */
  record(txId: Hlc, decision: number, now: Hlc): void {
    assert(this.decisionOf(txId) === TxDecision.None, 'a decision never changes');
    this.placeDecision({ txId: copyHlc(txId), decision, at: copyHlc(now) });
    this.dirty.mark(TxTag.Decision + txKeyOf(txId));
  }

  private placeDecision(entry: TxDecisionEntry): void {
    const name = txKeyOf(entry.txId);
    this.unplaceDecision(name);
    this.decisions.set(name, entry);
    this.due.set(decisionDue(name, entry), true);
  }

  private unplaceDecision(name: string): void {
    const entry = this.decisions.get(name);
    if (entry === undefined) return;
    this.decisions.delete(name);
    this.due.delete(decisionDue(name, entry));
  }

  // ---------------------------------------------------------------- collection

  /** Drops what is due at `now`, at most txSweepPerWriteMax queue entries looked at; a pinned
   *  lock (its transaction is prepared here) stays, and stays queued. */
  sweep(now: Hlc): void {
    if (this.due.size === 0) return;
    const seen: TxDueKey[] = [];
    for (const key of this.due.keys()) {
      if (seen.length >= txSweepPerWriteMax || compareHlc(key.at, now) > 0) break;
      seen.push(key);
    }
    for (const key of seen) {
      if (key.tag === TxTag.Decision) {
        this.unplaceDecision(key.name);
      } else {
        const tag = key.tag as LockTag;
        const slot = this.locksOf(tag).get(key.name);
        assert(slot !== undefined, 'a queued lock exists');
        if (this.intents.has(slot.txKey)) continue;
        this.unplaceLock(tag, key.name);
      }
      this.dirty.mark(key.tag + key.name);
    }
  }

  // ---------------------------------------------------------------- persistence

  /** The encoding of record `name` (tag + name), or undefined when it is gone. */
  private encoded(record: string): Uint8Array | undefined {
    const tag = record.charAt(0);
    const name = record.slice(1);
    if (tag === TxTag.KeyLock || tag === TxTag.PrefixLock) {
      const slot = this.locksOf(tag).get(name);
      return slot === undefined ? undefined : encodeTxLock(slot);
    }
    if (tag === TxTag.Intent) {
      const intent = this.intents.get(name);
      return intent === undefined ? undefined : encodeTxIntent(intent);
    }
    assert(tag === TxTag.Decision, `not a tx record: ${tag}`);
    const entry = this.decisions.get(name);
    return entry === undefined ? undefined : encodeTxDecision(entry);
  }

  private recordNames(): string[] {
    const tagged = (tag: TxTagValue, names: Iterable<string>) => [...names].map((n) => tag + n);
    return [
      ...tagged(TxTag.KeyLock, this.keyLocks.keys()),
      ...tagged(TxTag.PrefixLock, this.prefixLocks.keys()),
      ...tagged(TxTag.Intent, this.intents.keys()),
      ...tagged(TxTag.Decision, this.decisions.keys()),
    ].sort(compareKeys);
  }

  takeDirty(): DirtyRecord[] {
    return this.dirty.take((record) => this.encoded(record), (bytes) => bytes);
  }

  /** Every lock, intent and decision, in record key order (a snapshot of the partition). */
  allRecords(): DirtyRecord[] {
    return this.recordNames().map((record) => ({
      key: utf8(record), value: this.encoded(record)!,
    }));
  }

  load(key: Uint8Array, value: Uint8Array | null): void {
    const record = fromUtf8(key);
    const tag = record.charAt(0);
    const name = record.slice(1);
    if (tag === TxTag.KeyLock || tag === TxTag.PrefixLock) {
      assert(name.length > 0, 'a tx lock record names its key');
      if (value === null) this.unplaceLock(tag, name);
      else this.placeLock(tag, name, decodeTxLock(value));
      return;
    }
    if (tag === TxTag.Intent) {
      this.unplaceIntent(name);
      if (value !== null) this.placeIntent(decoded(name, decodeTxIntent(value)));
      return;
    }
    assert(tag === TxTag.Decision, `not a tx record: ${tag}`);
    if (value === null) this.unplaceDecision(name);
    else this.placeDecision(decoded(name, decodeTxDecision(value)));
  }

  hashInto(hash: number): number {
    let h = hash;
    for (const record of this.recordNames()) {
      h = fnvField(fnvField(h, utf8(record)), this.encoded(record)!);
    }
    return h;
  }
}

function decisionDue(name: string, entry: TxDecisionEntry): TxDueKey {
  return { at: expiryAfter(entry.at, txDecisionRetentionMs), tag: TxTag.Decision, name };
}

/** A decoded intent or decision, checked against the name of its record. */
function decoded<T extends { readonly txId: Hlc }>(name: string, entry: T): T {
  assert(txKeyOf(entry.txId) === name, 'a tx record is named by its transaction');
  return entry;
}
