// Transaction locks on key/values (tx-table.ts; tx-types.ts TxLock/TxUnlock, wire.md 4.4):
// key and prefix locks with leases, their conflicts, intents pinning them, and what they do
// to plain writes and reads (wire.md 4.2: MustRetry).
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { hlcZero } from '../../src/core/api/types.js';
import { at, delReq, extReq, getReq, newState, noTx, setReq, t0 } from './helpers.js';
import {
  T1, T2, T3, finishReq, prepareReq, setM, txLockReq, txPrefixReq, txReadReq, txUnlockReq,
} from './tx-helpers.js';

const locked = { type: KvType.Locked, holder: hlcZero };
const heldBy = (holder: typeof T1) => ({ type: KvType.AlreadyLocked, holder });

describe('tx locks: acquire, refresh, expiry', () => {
  it('grants a free key, answers Locked again to its holder and refreshes the lease', () => {
    const s = newState();
    expect(s.txLock(txLockReq(T1, 'a/k', { expiresMs: 1000 }), at(t0))).toEqual(locked);
    expect(s.txLock(txLockReq(T1, 'a/k', { expiresMs: 1000 }), at(t0 + 900))).toEqual(locked);
    // The refreshed lease runs to t0 + 1900.
    expect(s.txLock(txLockReq(T2, 'a/k'), at(t0 + 1500))).toEqual(heldBy(T1));
    expect(s.txLock(txLockReq(T2, 'a/k'), at(t0 + 1900))).toEqual(locked);
    expect(s.txLock(txLockReq(T1, 'a/k'), at(t0 + 1901))).toEqual(heldBy(T2));
  });

  it('an expired lock is free for another transaction', () => {
    const s = newState();
    s.txLock(txLockReq(T1, 'k', { expiresMs: 100 }), at(t0));
    expect(s.txLock(txLockReq(T2, 'k'), at(t0 + 99))).toEqual(heldBy(T1));
    expect(s.txLock(txLockReq(T2, 'k'), at(t0 + 100))).toEqual(locked);
  });

  it('validates: zero txId or a bad lease is Errored, a bad key InvalidInput', () => {
    const s = newState();
    expect(s.txLock(txLockReq(hlcZero, 'k'), at(t0)).type).toBe(KvType.Errored);
    expect(s.txLock(txLockReq(T1, 'k', { expiresMs: -1 }), at(t0)).type).toBe(KvType.Errored);
    expect(s.txLock(txLockReq(T1, 'k', { expiresMs: 1.5 }), at(t0)).type).toBe(KvType.Errored);
    expect(s.txLock(txLockReq(T1, ''), at(t0)).type).toBe(KvType.InvalidInput);
    expect(s.txLock(txLockReq(T1, '__kahuna:x'), at(t0)).type).toBe(KvType.InvalidInput);
    expect(s.txLock(txPrefixReq(T1, ''), at(t0)).type).toBe(KvType.InvalidInput);
  });
});

describe('tx locks: conflicts', () => {
  it('key vs key: another transaction gets AlreadyLocked with the holder', () => {
    const s = newState();
    s.txLock(txLockReq(T1, 'a/k'), at(t0));
    expect(s.txLock(txLockReq(T2, 'a/k'), at(t0 + 1))).toEqual(heldBy(T1));
    expect(s.txLock(txLockReq(T2, 'a/j'), at(t0 + 1))).toEqual(locked);
  });

  it('key vs prefix: a foreign prefix lock covers the keys of exactly its bucket', () => {
    const s = newState();
    expect(s.txLock(txPrefixReq(T1, 'b'), at(t0))).toEqual(locked);
    expect(s.txLock(txLockReq(T2, 'b/x'), at(t0 + 1))).toEqual(heldBy(T1));
    expect(s.txLock(txLockReq(T2, 'b/x/y'), at(t0 + 1))).toEqual(locked); // bucket b/x
    expect(s.txLock(txLockReq(T2, 'bx'), at(t0 + 1))).toEqual(locked);
    expect(s.txLock(txLockReq(T2, 'b'), at(t0 + 1))).toEqual(locked); // no bucket
    expect(s.txLock(txLockReq(T1, 'b/z'), at(t0 + 1))).toEqual(locked); // its own
  });

  it('prefix vs key and prefix vs prefix', () => {
    const s = newState();
    s.txLock(txLockReq(T1, 'b/z'), at(t0));
    s.txLock(txLockReq(T2, 'b/a'), at(t0));
    // Two holders inside: the one of the smallest key answers, whatever the insertion order.
    expect(s.txLock(txPrefixReq(T3, 'b'), at(t0 + 1))).toEqual(heldBy(T2));
    expect(s.txLock(txPrefixReq(T1, 'b'), at(t0 + 1))).toEqual(heldBy(T2));
    expect(s.txLock(txPrefixReq(T3, 'c'), at(t0 + 1))).toEqual(locked);
    expect(s.txLock(txPrefixReq(T1, 'c'), at(t0 + 1))).toEqual(heldBy(T3));
    expect(s.txLock(txPrefixReq(T3, 'c'), at(t0 + 2))).toEqual(locked); // refresh
  });

  it('a prefix lock ignores expired key locks inside the bucket', () => {
    const s = newState();
    s.txLock(txLockReq(T1, 'b/x', { expiresMs: 10 }), at(t0));
    expect(s.txLock(txPrefixReq(T2, 'b'), at(t0 + 5))).toEqual(heldBy(T1));
    expect(s.txLock(txPrefixReq(T2, 'b'), at(t0 + 10))).toEqual(locked);
  });

  it('a prepared intent pins its keys and its transaction\'s locks past their lease', () => {
    const s = newState();
    s.txLock(txLockReq(T1, 'a/k', { expiresMs: 1000 }), at(t0));
    s.txLock(txPrefixReq(T1, 'p', { expiresMs: 1000 }), at(t0));
    s.txLock(txLockReq(T1, 'r', { expiresMs: 1000 }), at(t0)); // read under lock
    expect(s.txPrepare(prepareReq(T1, [setM('a/k', 'v', -1)]), at(t0 + 10)).type)
      .toBe(KvType.Prepared);
    const later = at(t0 + 60_000);
    expect(s.txLock(txLockReq(T2, 'a/k'), later)).toEqual(heldBy(T1));
    expect(s.txLock(txPrefixReq(T2, 'a'), later)).toEqual(heldBy(T1));
    expect(s.txLock(txLockReq(T2, 'p/x'), later)).toEqual(heldBy(T1));
    expect(s.txLock(txLockReq(T2, 'r'), later)).toEqual(heldBy(T1));
    expect(s.txFinish(finishReq(T1, true), later).type).toBe(KvType.Committed);
    expect(s.txLock(txLockReq(T2, 'a/k'), later)).toEqual(locked);
    expect(s.txLock(txLockReq(T2, 'p/x'), later)).toEqual(locked);
    expect(s.txLock(txLockReq(T2, 'r'), later)).toEqual(locked);
  });

  it('an intent blocks other transactions\' locks on its keys even without a lock', () => {
    const s = newState();
    s.txPrepare(prepareReq(T1, [setM('c/1', 'v', -1)]), at(t0));
    expect(s.txLock(txLockReq(T2, 'c/1'), at(t0 + 1))).toEqual(heldBy(T1));
    expect(s.txLock(txPrefixReq(T2, 'c'), at(t0 + 1))).toEqual(heldBy(T1));
    expect(s.txLock(txLockReq(T1, 'c/1'), at(t0 + 1))).toEqual(locked);
  });
});

describe('tx unlock', () => {
  it('answers Unlocked, DoesNotExist, AlreadyLocked and Errored', () => {
    const s = newState();
    expect(s.txUnlock(txUnlockReq(T1, 'k'), at(t0)).type).toBe(KvType.DoesNotExist);
    s.txLock(txLockReq(T1, 'k', { expiresMs: 100 }), at(t0));
    expect(s.txUnlock(txUnlockReq(T2, 'k'), at(t0 + 1))).toEqual(heldBy(T1));
    expect(s.txUnlock(txUnlockReq(hlcZero, 'k'), at(t0 + 1)).type).toBe(KvType.Errored);
    expect(s.txUnlock(txUnlockReq(T1, ''), at(t0 + 1)).type).toBe(KvType.InvalidInput);
    expect(s.txUnlock(txUnlockReq(T1, 'k'), at(t0 + 99))).toEqual({
      type: KvType.Unlocked, holder: hlcZero });
    expect(s.txUnlock(txUnlockReq(T1, 'k'), at(t0 + 99)).type).toBe(KvType.DoesNotExist);
    // An expired lock is no entry, for its holder as for anyone (collected or not).
    s.txLock(txLockReq(T1, 'k', { expiresMs: 100 }), at(t0 + 100));
    expect(s.txUnlock(txUnlockReq(T2, 'k'), at(t0 + 200)).type).toBe(KvType.DoesNotExist);
    expect(s.txUnlock(txUnlockReq(T1, 'k'), at(t0 + 200)).type).toBe(KvType.DoesNotExist);
  });

  it('releases prefix locks by bucket, and key and prefix locks apart', () => {
    const s = newState();
    s.txLock(txPrefixReq(T1, 'b'), at(t0));
    expect(s.txUnlock(txUnlockReq(T1, 'b'), at(t0 + 1)).type).toBe(KvType.DoesNotExist);
    expect(s.txUnlock(txUnlockReq(T2, 'b', true), at(t0 + 1))).toEqual(heldBy(T1));
    expect(s.txUnlock(txUnlockReq(T1, 'b', true), at(t0 + 1)).type).toBe(KvType.Unlocked);
    expect(s.txLock(txLockReq(T2, 'b/x'), at(t0 + 2))).toEqual(locked);
  });

  it('a prepared transaction\'s unlock leaves the lock in place until TxFinish', () => {
    const s = newState();
    s.txLock(txLockReq(T1, 'k'), at(t0));
    s.txPrepare(prepareReq(T1, [setM('j', 'v', -1)]), at(t0 + 1));
    expect(s.txUnlock(txUnlockReq(T1, 'k'), at(t0 + 2)).type).toBe(KvType.Unlocked);
    expect(s.txLock(txLockReq(T2, 'k'), at(t0 + 3))).toEqual(heldBy(T1));
    s.txFinish(finishReq(T1, false), at(t0 + 4));
    expect(s.txLock(txLockReq(T2, 'k'), at(t0 + 5))).toEqual(locked);
  });
});

describe('tx locks: plain writes and reads (wire.md 4.2)', () => {
  it('plain set, delete and extend of a key under a live tx lock answer MustRetry', () => {
    const s = newState();
    s.kvSet(setReq('a/k', 'v0'), at(t0));
    s.txLock(txLockReq(T1, 'a/k', { expiresMs: 1000 }), at(t0 + 1));
    const retry = { type: KvType.MustRetry, revision: 0, lastModified: hlcZero };
    expect(s.kvSet(setReq('a/k', 'v1'), at(t0 + 2))).toEqual(retry);
    expect(s.kvDelete(delReq('a/k'), at(t0 + 2))).toEqual(retry);
    expect(s.kvExtend(extReq('a/k', 100), at(t0 + 2))).toEqual(retry);
    expect(s.kvSet(setReq('a/j', 'v'), at(t0 + 2)).type).toBe(KvType.Set);
    // Bad input is still InvalidInput.
    expect(s.kvSet(setReq('', 'v'), at(t0 + 2)).type).toBe(KvType.InvalidInput);
    expect(s.kvSet(setReq('a/k', 'v1'), at(t0 + 1001))).toMatchObject({
      type: KvType.Set, revision: 1 });
  });

  it('a prefix lock or an intent blocks plain writes of the keys it covers', () => {
    const s = newState();
    s.txLock(txPrefixReq(T1, 'b'), at(t0));
    s.txPrepare(prepareReq(T2, [setM('c', 'v', -1)]), at(t0));
    expect(s.kvSet(setReq('b/x', 'v'), at(t0 + 1)).type).toBe(KvType.MustRetry);
    expect(s.kvSet(setReq('b/x/y', 'v'), at(t0 + 1)).type).toBe(KvType.Set);
    expect(s.kvSet(setReq('c', 'v'), at(t0 + 1)).type).toBe(KvType.MustRetry);
  });

  it('batches answer MustRetry per item', () => {
    const s = newState();
    s.kvSet(setReq('a/2', 'v'), at(t0));
    s.txLock(txLockReq(T1, 'a/1'), at(t0 + 1));
    s.txLock(txLockReq(T1, 'a/2'), at(t0 + 1));
    const sets = s.kvSetMany({ items: [setReq('a/1', 'x'), setReq('a/3', 'y')] }, at(t0 + 2));
    expect(sets.items.map((i) => i.type)).toEqual([KvType.MustRetry, KvType.Set]);
    const dels = s.kvDeleteMany({ items: [{ txId: hlcZero, key: 'a/2', durability: 0 },
      { txId: hlcZero, key: 'a/3', durability: 0 }], coordinatorKey: null,
    operationIdHigh: null, operationIdLow: null }, at(t0 + 3));
    expect(dels.items.map((i) => i.type)).toEqual([KvType.MustRetry, KvType.Deleted]);
  });

  it('plain reads pass point locks and intents but not a foreign prefix lock', () => {
    const s = newState();
    s.kvSet(setReq('b/x', 'v'), at(t0));
    s.kvSet(setReq('k', 'v'), at(t0));
    s.txLock(txLockReq(T1, 'k'), at(t0 + 1));
    expect(s.kvGet(getReq('k'), at(t0 + 2)).type).toBe(KvType.Get);
    s.txLock(txPrefixReq(T1, 'b', { expiresMs: 1000 }), at(t0 + 1));
    expect(s.kvGet(getReq('b/x'), at(t0 + 2)).type).toBe(KvType.MustRetry);
    expect(s.kvExists(getReq('b/x'), at(t0 + 2)).type).toBe(KvType.MustRetry);
    const many = s.kvGetMany({ txId: hlcZero, readTimestamp: hlcZero, items: [
      { key: 'b/x', revision: -1, durability: 0 }, { key: 'k', revision: -1, durability: 0 }] },
    at(t0 + 2));
    expect(many.items.map((i) => i.type)).toEqual([KvType.MustRetry, KvType.Get]);
    const bucket = (prefixKey: string, now = at(t0 + 2)) => s.kvGetByBucket({
      txId: hlcZero, prefixKey, readTimestamp: hlcZero, durability: 0 }, now).type;
    expect(bucket('b')).toBe(KvType.MustRetry);
    expect(bucket('b/x')).toBe(KvType.Get);
    expect(bucket('b', at(t0 + 1001))).toBe(KvType.Get);
    expect(s.kvGet(getReq('b/x'), at(t0 + 1001)).type).toBe(KvType.Get);
  });

  it('a transaction\'s GetByBucket passes its own prefix lock, not another\'s', () => {
    const s = newState();
    s.kvSet(setReq('b/x', 'v'), at(t0));
    s.txLock(txPrefixReq(T1, 'b'), at(t0 + 1));
    const bucket = (txId: typeof T1) => s.kvGetByBucket({ txId, prefixKey: 'b',
      readTimestamp: hlcZero, durability: 0 }, at(t0 + 2));
    expect(bucket(T1)).toMatchObject({ type: KvType.Get, items: [{ key: 'b/x', revision: 0 }] });
    expect(bucket(T2)).toEqual({ type: KvType.MustRetry, items: [] });
    expect(bucket(hlcZero).type).toBe(KvType.MustRetry);
  });

  it('TxRead is blocked by a foreign prefix lock only', () => {
    const s = newState();
    s.kvSet(setReq('b/x', 'v'), at(t0));
    s.txLock(txPrefixReq(T1, 'b'), at(t0 + 1));
    s.txLock(txLockReq(T1, 'b/x'), at(t0 + 1));
    expect(s.txRead(txReadReq(T2, 'b/x'), at(t0 + 2)).type).toBe(KvType.MustRetry);
    expect(s.txRead(txReadReq(T1, 'b/x'), at(t0 + 2)).type).toBe(KvType.Get);
    expect(s.kvGet({ ...getReq('b/x'), ...noTx }, at(t0 + 2)).type).toBe(KvType.MustRetry);
  });
});
