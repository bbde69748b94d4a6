// Transactional reads, prepare, finish, decisions and the pending list (tx-ops.ts, tx-table.ts
// against KahunaState; the semantics of src/core/api/tx-types.ts).
import { describe, expect, it } from 'vitest';
import { KvFlags, KvType } from '../../src/core/api/codes.js';
import { TxDecision } from '../../src/core/api/tx-types.js';
import { hlcZero, type Hlc } from '../../src/core/api/types.js';
import type { KahunaState } from '../../src/core/state/kahuna-state-impl.js';
import { at, dec, delReq, getReq, newState, setReq, t0 } from './helpers.js';
import {
  T1, T2, T3, delM, extM, finishReq, prepareReq, setM, txLockReq, txPrefixReq, txReadReq,
} from './tx-helpers.js';

/** A key at revision 2 ('v2'), revisions 0 and 1 archived. */
function withHistory(key = 'a/k'): KahunaState {
  const s = newState();
  for (let i = 0; i < 3; i += 1) s.kvSet(setReq(key, `v${i}`), at(t0 + i));
  return s;
}

const value = (s: KahunaState, key: string, now: Hlc, revision = -1) => {
  const r = s.kvGet(getReq(key, { revision }), now);
  return r.type === KvType.Get ? { value: dec(r.value), revision: r.revision } : r.type;
};

describe('txRead', () => {
  it('lastRevision: -1 missing, the revision of a live, deleted or expired key', () => {
    const s = newState();
    const now = at(t0 + 100);
    expect(s.txRead(txReadReq(T1, 'none'), now)).toMatchObject({
      type: KvType.DoesNotExist, value: null, lastRevision: -1 });
    s.kvSet(setReq('live', 'x'), at(t0));
    s.kvSet(setReq('live', 'y'), at(t0 + 1));
    expect(s.txRead(txReadReq(T1, 'live'), now)).toMatchObject({
      type: KvType.Get, revision: 1, lastRevision: 1, lastModified: at(t0 + 1) });
    expect(dec(s.txRead(txReadReq(T1, 'live'), now).value)).toBe('y');
    s.kvSet(setReq('gone', 'x'), at(t0));
    s.kvDelete(delReq('gone'), at(t0 + 1));
    expect(s.txRead(txReadReq(T1, 'gone'), now)).toMatchObject({
      type: KvType.DoesNotExist, lastRevision: 1 });
    s.kvSet(setReq('ttl', 'x', { expiresMs: 10 }), at(t0));
    expect(s.txRead(txReadReq(T1, 'ttl'), now)).toMatchObject({
      type: KvType.DoesNotExist, lastRevision: 0 });
  });

  it('selects a revision or a snapshot like KvGet, and validates like it', () => {
    const s = withHistory();
    const now = at(t0 + 100);
    const r0 = s.txRead(txReadReq(T1, 'a/k', { revision: 0 }), now);
    expect([r0.type, dec(r0.value), r0.revision, r0.lastRevision])
      .toEqual([KvType.Get, 'v0', 0, 2]);
    const r1 = s.txRead(txReadReq(T1, 'a/k', { readTimestamp: at(t0 + 1) }), now);
    expect([dec(r1.value), r1.revision, r1.lastRevision]).toEqual(['v1', 1, 2]);
    expect(s.txRead(txReadReq(T1, ''), now).type).toBe(KvType.InvalidInput);
    expect(s.txRead(txReadReq(T1, 'a/k', { revision: -2 }), now).type).toBe(KvType.InvalidInput);
    expect(s.txRead(txReadReq(T1, 'a/k', { revision: 0, readTimestamp: at(t0) }), now).type)
      .toBe(KvType.Errored);
  });
});

describe('txPrepare: validation', () => {
  it('aborts, changing nothing, when a base revision moved', () => {
    const s = withHistory();
    const before = s.hash();
    const r = s.txPrepare(prepareReq(T1, [setM('a/k', 'w', 1)], { onePhase: true }), at(t0 + 9));
    expect(r.type).toBe(KvType.Aborted);
    expect(r.reason).toContain('a/k');
    expect(r.items).toEqual([]);
    expect(s.hash()).toBe(before);
    expect(s.txPrepare(prepareReq(T1, [setM('new', 'w', 0)]), at(t0 + 9)).type)
      .toBe(KvType.Aborted);
  });

  it('aborts on a foreign key lock, prefix lock or intent over a mutated key', () => {
    const s = newState();
    s.txLock(txLockReq(T2, 'x/1'), at(t0));
    s.txLock(txPrefixReq(T2, 'y'), at(t0));
    s.txPrepare(prepareReq(T3, [setM('z', 'v', -1)]), at(t0));
    for (const key of ['x/1', 'y/1', 'z']) {
      const r = s.txPrepare(prepareReq(T1, [setM(key, 'v', -1)]), at(t0 + 1));
      expect([r.type, r.reason.includes(key)]).toEqual([KvType.Aborted, true]);
    }
    // Its own locks do not stand in the way.
    s.txLock(txLockReq(T1, 'w/1'), at(t0));
    s.txLock(txPrefixReq(T1, 'w'), at(t0));
    expect(s.txPrepare(prepareReq(T1, [setM('w/1', 'v', -1)]), at(t0 + 1)).type)
      .toBe(KvType.Prepared);
  });

  it('aborts when a read check changed or another transaction intends to write the read key',
    () => {
      const s = withHistory('r');
      const reads = (lastRevision: number) => [{ key: 'r', lastRevision }];
      expect(s.txPrepare(prepareReq(T1, [setM('w', 'v', -1)], { reads: reads(1) }), at(t0 + 5))
        .type).toBe(KvType.Aborted);
      // A plain lock of another transaction on a key only read is no conflict (wire.md 5.1).
      s.txLock(txLockReq(T2, 'r'), at(t0 + 5));
      expect(s.txPrepare(prepareReq(T1, [setM('w', 'v', -1)], { reads: reads(2) }), at(t0 + 6))
        .type).toBe(KvType.Prepared);
      s.txFinish(finishReq(T1, false), at(t0 + 6));
      // A prepared write intent on it is.
      expect(s.txPrepare(prepareReq(T2, [setM('r', 'v2', 2)]), at(t0 + 7)).type)
        .toBe(KvType.Prepared);
      const r = s.txPrepare(prepareReq(T1, [setM('w', 'v', -1)], { reads: reads(2) }),
        at(t0 + 8));
      expect([r.type, r.reason.includes('r')]).toEqual([KvType.Aborted, true]);
    });

  it("a prepared read check keeps others from locking, writing or preparing a write of its key",
    () => {
      const s = withHistory('r');
      expect(s.txPrepare(prepareReq(T1, [setM('w', 'v', -1)],
        { reads: [{ key: 'r', lastRevision: 2 }] }), at(t0 + 5)).type).toBe(KvType.Prepared);
      expect(s.txLock(txLockReq(T2, 'r'), at(t0 + 6)).type).toBe(KvType.AlreadyLocked);
      expect(s.txPrepare(prepareReq(T2, [setM('r', 'x', 2)]), at(t0 + 6)).type)
        .toBe(KvType.Aborted);
      expect(s.kvSet({ txId: hlcZero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0,
        key: 'r', value: new Uint8Array([1]), compareValue: null, compareRevision: 0, flags: 1,
        expiresMs: 0, durability: 1 }, at(t0 + 6)).type).toBe(KvType.MustRetry);
      s.txFinish(finishReq(T1, true), at(t0 + 7));
      expect(s.txLock(txLockReq(T2, 'r'), at(t0 + 8)).type).toBe(KvType.Locked);
    });

  it('rejects malformed prepares as a whole', () => {
    const s = newState();
    const bad = (req: ReturnType<typeof prepareReq>) => s.txPrepare(req, at(t0)).type;
    expect(bad(prepareReq(T1, [setM('ok', 'v', -1), setM('', 'v', -1)])))
      .toBe(KvType.InvalidInput);
    expect(bad(prepareReq(T1, [setM('__kahuna:x', 'v', -1)]))).toBe(KvType.InvalidInput);
    expect(bad(prepareReq(T1, [setM('k', 'v', -1, { kind: 9 })]))).toBe(KvType.InvalidInput);
    expect(bad(prepareReq(T1, [setM('k', 'v', -1, { expiresMs: -1 })])))
      .toBe(KvType.InvalidInput);
    expect(bad(prepareReq(T1, [], { reads: [{ key: '', lastRevision: -1 }] })))
      .toBe(KvType.InvalidInput);
    expect(bad(prepareReq(T1, [setM('k', 'v', -1)], { recordDecision: true })))
      .toBe(KvType.InvalidInput);
    expect(bad(prepareReq(hlcZero, [setM('k', 'v', -1)]))).toBe(KvType.Errored);
    expect(value(s, 'ok', at(t0))).toBe(KvType.DoesNotExist);
  });
});

describe('txPrepare: one phase', () => {
  it('applies sets, deletes and extends like plain writes and answers their items', () => {
    const s = withHistory();
    s.kvSet(setReq('a/d', 'x'), at(t0));
    s.kvSet(setReq('a/e', 'x', { expiresMs: 50 }), at(t0));
    const now = at(t0 + 10);
    const r = s.txPrepare(prepareReq(T1, [setM('a/k', 'w', 2), delM('a/d', 0),
      setM('a/new', null, -1), extM('a/e', 1000, 0)], { onePhase: true }), now);
    expect(r.type).toBe(KvType.Committed);
    expect(r.items).toEqual([
      { type: KvType.Set, revision: 3, lastModified: now, key: 'a/k', durability: 1 },
      { type: KvType.Deleted, revision: 1, lastModified: now, key: 'a/d', durability: 1 },
      { type: KvType.Set, revision: 0, lastModified: now, key: 'a/new', durability: 1 },
      { type: KvType.Extended, revision: 0, lastModified: at(t0), key: 'a/e', durability: 1 },
    ]);
    const later = at(t0 + 500);
    expect(value(s, 'a/k', later)).toEqual({ value: 'w', revision: 3 });
    expect(value(s, 'a/k', later, 2)).toEqual({ value: 'v2', revision: 2 }); // history kept
    expect(value(s, 'a/d', later)).toBe(KvType.DoesNotExist);
    expect(value(s, 'a/new', later)).toEqual({ value: null, revision: 0 });
    expect(value(s, 'a/e', later)).toEqual({ value: 'x', revision: 0 });
    expect(value(s, 'a/e', at(t0 + 1010))).toBe(KvType.DoesNotExist);
  });

  it('sets are unconditional, keep NOREV and count a TTL from the commit', () => {
    const s = newState();
    const now = at(t0 + 10);
    const r = s.txPrepare(prepareReq(T1, [
      setM('n', 'a', -1, { flags: KvFlags.SetNoRevision | KvFlags.SetIfExists }),
      setM('t', 'b', -1, { flags: KvFlags.SetIfExists, expiresMs: 100 }),
    ], { onePhase: true }), now);
    expect(r.items.map((i) => [i.type, i.revision])).toEqual([[KvType.Set, 0], [KvType.Set, 0]]);
    s.kvSet(setReq('n', 'c'), at(t0 + 20));
    expect(value(s, 'n', at(t0 + 30), 0)).toBe(KvType.DoesNotExist); // NOREV: not archived
    expect(value(s, 't', at(t0 + 109))).toEqual({ value: 'b', revision: 0 });
    expect(value(s, 't', at(t0 + 110))).toBe(KvType.DoesNotExist);
  });

  it('releases the transaction\'s key and prefix locks', () => {
    const s = newState();
    s.txLock(txLockReq(T1, 'a/k'), at(t0));
    s.txLock(txPrefixReq(T1, 'b'), at(t0));
    s.txPrepare(prepareReq(T1, [setM('a/k', 'v', -1)], { onePhase: true }), at(t0 + 1));
    expect(s.txLock(txLockReq(T2, 'a/k'), at(t0 + 2)).type).toBe(KvType.Locked);
    expect(s.txLock(txLockReq(T2, 'b/x'), at(t0 + 2)).type).toBe(KvType.Locked);
  });
});

describe('txPrepare then txFinish (two phases)', () => {
  it('prepare stores the intent; commit applies it at the finish HLC', () => {
    const s = withHistory();
    expect(s.txPrepare(prepareReq(T1, [setM('a/k', 'w', 2), delM('a/x', -1)]), at(t0 + 10)))
      .toEqual({ type: KvType.Prepared, reason: '', items: [], conflictTx: hlcZero,
        conflictAnchor: '', at: at(t0 + 10) });
    expect(s.txPrepare(prepareReq(T1, [setM('a/k', 'w', 2)]), at(t0 + 11)).type)
      .toBe(KvType.Prepared); // a retry
    expect(value(s, 'a/k', at(t0 + 12))).toEqual({ value: 'v2', revision: 2 });
    expect(s.kvSet(setReq('a/k', 'p'), at(t0 + 12)).type).toBe(KvType.MustRetry);
    const done = at(t0 + 20);
    expect(s.txFinish(finishReq(T1, true), done)).toEqual({ type: KvType.Committed, items: [
      { type: KvType.Set, revision: 3, lastModified: done, key: 'a/k', durability: 1 },
      { type: KvType.DoesNotExist, revision: 0, lastModified: hlcZero, key: 'a/x',
        durability: 1 },
    ] });
    expect(value(s, 'a/k', at(t0 + 21))).toEqual({ value: 'w', revision: 3 });
    expect(s.txFinish(finishReq(T1, true), at(t0 + 22))).toEqual({
      type: KvType.DoesNotExist, items: [] });
    expect(s.kvSet(setReq('a/k', 'p'), at(t0 + 23)).type).toBe(KvType.Set);
  });

  it('abort drops the intent and the locks and answers RolledBack, again and again', () => {
    const s = withHistory();
    s.txLock(txLockReq(T1, 'a/k'), at(t0 + 5));
    s.txPrepare(prepareReq(T1, [setM('a/k', 'w', 2)]), at(t0 + 10));
    expect(s.txFinish(finishReq(T1, false), at(t0 + 11))).toEqual({
      type: KvType.RolledBack, items: [] });
    expect(s.txFinish(finishReq(T1, false), at(t0 + 12)).type).toBe(KvType.RolledBack);
    expect(value(s, 'a/k', at(t0 + 13))).toEqual({ value: 'v2', revision: 2 });
    expect(s.txLock(txLockReq(T2, 'a/k'), at(t0 + 13)).type).toBe(KvType.Locked);
  });

  it('commit without an intent is DoesNotExist and still releases the locks', () => {
    const s = newState();
    s.txLock(txLockReq(T1, 'k'), at(t0));
    expect(s.txFinish(finishReq(T1, true), at(t0 + 1)).type).toBe(KvType.DoesNotExist);
    expect(s.txLock(txLockReq(T2, 'k'), at(t0 + 2)).type).toBe(KvType.Locked);
    expect(s.txFinish(finishReq(hlcZero, true), at(t0 + 2)).type).toBe(KvType.Errored);
  });
});

describe('decisions', () => {
  it('compare-and-set from none; every later call answers the recorded decision', () => {
    const s = newState();
    const decide = (txId: Hlc, decision: number) =>
      s.txDecide({ txId, anchorKey: 'a/k', decision }, at(t0));
    expect(decide(T1, TxDecision.Commit)).toEqual({ type: KvType.Set, decision: 1, at: at(t0) });
    expect(decide(T1, TxDecision.Abort)).toEqual({ type: KvType.Set, decision: 1, at: at(t0) });
    expect(decide(T2, TxDecision.Abort)).toEqual({ type: KvType.Set, decision: 2, at: at(t0) });
    expect(decide(hlcZero, TxDecision.Abort).type).toBe(KvType.Errored);
    expect(decide(T3, TxDecision.None).type).toBe(KvType.InvalidInput);
    expect(decide(T3, TxDecision.Commit).decision).toBe(TxDecision.Commit);
  });

  it('the anchor\'s one-phase step records Commit, and a retry does not apply twice', () => {
    const s = newState();
    const req = prepareReq(T1, [setM('a/k', 'v', -1)], { onePhase: true, recordDecision: true });
    expect(s.txPrepare(req, at(t0)).type).toBe(KvType.Committed);
    expect(s.txDecide({ txId: T1, anchorKey: 'a/k', decision: 2 }, at(t0 + 1)).decision)
      .toBe(TxDecision.Commit);
    expect(s.txPrepare(req, at(t0 + 2))).toEqual({ type: KvType.Committed, reason: '',
      items: [], conflictTx: hlcZero, conflictAnchor: '', at: hlcZero });
    expect(value(s, 'a/k', at(t0 + 3))).toEqual({ value: 'v', revision: 0 });
  });

  it('an Abort recorded first makes the anchor\'s prepare abort and apply nothing', () => {
    const s = newState();
    s.txDecide({ txId: T1, anchorKey: 'a/k', decision: TxDecision.Abort }, at(t0));
    const one = prepareReq(T1, [setM('a/k', 'v', -1)], { onePhase: true, recordDecision: true });
    expect(s.txPrepare(one, at(t0 + 1)).type).toBe(KvType.Aborted);
    expect(s.txPrepare(prepareReq(T1, [setM('a/k', 'v', -1)]), at(t0 + 1)).type)
      .toBe(KvType.Aborted);
    expect(value(s, 'a/k', at(t0 + 2))).toBe(KvType.DoesNotExist);
  });
});

describe('txPending', () => {
  it('lists intents past their deadline, oldest first, up to the limit', () => {
    const s = newState();
    s.txPrepare(prepareReq(T1, [setM('a', 'v', -1)], { decisionTimeoutMs: 300 }), at(t0));
    s.txPrepare(prepareReq(T2, [setM('b', 'v', -1)], { decisionTimeoutMs: 100 }), at(t0));
    s.txPrepare(prepareReq(T3, [setM('c', 'v', -1)], { decisionTimeoutMs: 200 }), at(t0));
    const pending = (now: number, limit = 10) =>
      s.txPending({ durability: 1, limit }, at(now)).items.map((i) => i.anchorKey);
    expect(pending(t0 + 100)).toEqual([]);
    expect(pending(t0 + 101)).toEqual(['b']);
    expect(pending(t0 + 301)).toEqual(['b', 'c', 'a']);
    expect(pending(t0 + 301, 2)).toEqual(['b', 'c']);
    expect(s.txPending({ durability: 1, limit: 1 }, at(t0 + 301))).toEqual({ type: KvType.Get,
      items: [{ txId: T2, anchorKey: 'b', deadline: at(t0 + 100) }] });
    s.txFinish(finishReq(T2, false), at(t0 + 302));
    expect(pending(t0 + 303)).toEqual(['c', 'a']);
  });
});
