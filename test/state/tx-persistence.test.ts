// Transaction state through persistence (StateNamespace.Tx): takeDirty / allRecords / load
// rebuild the same locks, intents and decisions (same hash, same answers), snapshots carry
// them, an ephemeral store tracks nothing, and lazy collection is bounded and the same on a
// restored replica.
import { describe, expect, it } from 'vitest';
import { KvFlags, KvType } from '../../src/core/api/codes.js';
import { TxDecision } from '../../src/core/api/tx-types.js';
import type { Hlc } from '../../src/core/api/types.js';
import {
  decodeSnapshotData, encodeSnapshotData,
} from '../../src/core/partition/raft-records.js';
import { StateNamespace, type StateRecord } from '../../src/core/state/kahuna-state.js';
import { KahunaState } from '../../src/core/state/kahuna-state-impl.js';
import { txDecisionRetentionMs, txSweepPerWriteMax } from '../../src/core/state/state-limits.js';
import { at, newState, setReq, t0 } from './helpers.js';
import {
  T1, T2, T3, delM, extM, finishReq, prepareReq, setM, tx, txLockReq, txPrefixReq, txReadReq,
} from './tx-helpers.js';

function busy(): KahunaState {
  const s = newState();
  s.kvSet(setReq('a/1', 'one'), at(t0));
  s.txLock(txLockReq(T1, 'a/1', { expiresMs: 1000 }), at(t0));
  s.txLock(txLockReq(T1, 'forever', { expiresMs: 0 }), at(t0));
  s.txLock(txPrefixReq(T2, 'b', { expiresMs: 2000 }), at(t0));
  s.txPrepare(prepareReq(T1, [setM('a/1', 'two', 0, { flags: KvFlags.SetNoRevision }),
    setM('a/2', '', -1, { expiresMs: 50 }), delM('a/3', -1), extM('a/4', 9, -1),
    setM('a/5', null, -1)], { decisionTimeoutMs: 100 }), at(t0 + 1));
  s.txPrepare(prepareReq(T3, [setM('c/1', 'x', -1)], { anchorKey: 'c/1' }), at(t0 + 2));
  s.txDecide({ txId: T1, anchorKey: 'a/1', decision: TxDecision.Commit }, at(t0 + 3));
  s.txDecide({ txId: tx(9), anchorKey: 'z', decision: TxDecision.Abort }, at(t0 + 3));
  return s;
}

function loaded(records: readonly StateRecord[], into = newState()): KahunaState {
  for (const record of records) into.load(record);
  return into;
}

/** What the transaction table answers, as plain data (no state change: each probe runs on a
 *  state of its own built by `make`). */
function answers(make: () => KahunaState) {
  const now = at(t0 + 500);
  const probe = (run: (s: KahunaState) => unknown) => run(make());
  return {
    locks: ['a/1', 'forever', 'b/x', 'c/1', 'free'].map((key) =>
      probe((s) => s.txLock(txLockReq(tx(5), key), now))),
    prefix: probe((s) => s.txLock(txPrefixReq(tx(5), 'a'), now)),
    plain: probe((s) => s.kvSet(setReq('a/2', 'p'), now)),
    read: probe((s) => s.txRead(txReadReq(tx(5), 'b/q'), now)),
    pending: probe((s) => s.txPending({ durability: 1, limit: 0 }, now)),
    decided: [T1, T3, tx(9)].map((txId) => probe((s) =>
      s.txDecide({ txId, anchorKey: 'q', decision: TxDecision.Abort }, now))),
    commit: probe((s) => s.txFinish(finishReq(T1, true), now)),
    abort: probe((s) => s.txFinish(finishReq(T3, false), now)),
  };
}

describe('tx persistence', () => {
  it('load(takeDirty()) gives the same hash and the same answers', () => {
    const a = busy();
    const records = a.takeDirty();
    expect(records.some((r) => r.namespace === StateNamespace.Tx)).toBe(true);
    expect(loaded(records).hash()).toBe(a.hash());
    expect(answers(() => loaded(records))).toEqual(answers(busy));
    expect(a.takeDirty()).toEqual([]);
  });

  it('allRecords, through a Raft snapshot\'s encoding, restores the same state', () => {
    const a = busy();
    const data = decodeSnapshotData(encodeSnapshotData({ hlc: at(t0 + 3),
      records: a.allRecords() }));
    const b = loaded(data.records);
    expect(b.hash()).toBe(a.hash());
    expect(b.allRecords()).toEqual(a.allRecords());
    expect(answers(() => loaded(data.records))).toEqual(answers(busy));
  });

  it('deltas: finishing writes deletions, and replaying every round gives the same state', () => {
    const a = busy();
    const b = loaded(a.takeDirty());
    a.txFinish(finishReq(T1, true), at(t0 + 10));
    a.txFinish(finishReq(T3, false), at(t0 + 10));
    const delta = a.takeDirty();
    const gone = delta.filter((r) => r.namespace === StateNamespace.Tx && r.value === null)
      .map((r) => new TextDecoder().decode(r.key));
    expect(gone.sort()).toEqual(['i7.1600000000001.1', 'i7.1600000000003.3', 'ka/1', 'kforever']);
    expect(delta.filter((r) => r.namespace === StateNamespace.Kv).length).toBe(3); // a/1 a/2 a/5
    loaded(delta, b);
    expect(b.hash()).toBe(a.hash());
    expect(b.txLock(txLockReq(tx(5), 'c/1'), at(t0 + 11)).type).toBe(KvType.Locked);
  });

  it('an ephemeral store tracks no records', () => {
    const s = new KahunaState({ partition: 1, persistent: false });
    s.txLock(txLockReq(T1, 'a/1'), at(t0));
    s.txLock(txPrefixReq(T1, 'b'), at(t0));
    s.txPrepare(prepareReq(T1, [setM('a/1', 'v', -1)]), at(t0));
    s.txDecide({ txId: T1, anchorKey: 'a/1', decision: TxDecision.Commit }, at(t0));
    s.txFinish(finishReq(T1, true), at(t0 + 1));
    expect(s.takeDirty()).toEqual([]);
    expect(s.allRecords().length).toBeGreaterThan(0); // the value and the decision
  });
});

describe('tx collection', () => {
  const lockMany = (s: KahunaState, count: number, now: Hlc) => {
    for (let i = 0; i < count; i += 1) {
      s.txLock(txLockReq(tx(100 + i), `k/${i}`, { expiresMs: 10 }), now);
    }
  };
  const txRecords = (s: KahunaState) =>
    s.allRecords().filter((r) => r.namespace === StateNamespace.Tx).length;

  it('each transactional write drops a bounded number of expired locks', () => {
    const s = newState();
    lockMany(s, 100, at(t0));
    expect(txRecords(s)).toBe(100);
    s.txDecide({ txId: T1, anchorKey: 'x', decision: TxDecision.Abort }, at(t0 + 10));
    expect(txRecords(s)).toBe(100 - txSweepPerWriteMax + 1);
    // Plain operations collect nothing.
    s.kvSet(setReq('k/1', 'v'), at(t0 + 20));
    expect(txRecords(s)).toBe(100 - txSweepPerWriteMax + 1);
  });

  it('a restored replica collects exactly what the original does', () => {
    const a = newState();
    lockMany(a, 40, at(t0));
    a.txPrepare(prepareReq(tx(100), [setM('k/0', 'v', -1)]), at(t0 + 1)); // pins k/0
    const b = loaded(a.allRecords());
    for (let i = 0; i < 6; i += 1) {
      const now = at(t0 + 20 + i);
      for (const s of [a, b]) s.txLock(txLockReq(tx(200 + i), `j/${i}`, { expiresMs: 3 }), now);
      expect(b.hash()).toBe(a.hash());
    }
    expect(txRecords(a)).toBe(1 + 1 + 3); // the pinned lock, its intent, the live j/3..j/5
  });

  it('decision records live for the retention, then are forgotten', () => {
    const s = newState();
    const decide = (txId: Hlc, decision: number, now: number) =>
      s.txDecide({ txId, anchorKey: 'x', decision }, at(now)).decision;
    decide(T1, TxDecision.Commit, t0);
    expect(decide(T1, TxDecision.Abort, t0 + txDecisionRetentionMs - 1)).toBe(TxDecision.Commit);
    decide(T2, TxDecision.Commit, t0 + txDecisionRetentionMs); // collects T1's
    expect(decide(T1, TxDecision.Abort, t0 + txDecisionRetentionMs)).toBe(TxDecision.Abort);
  });
});
