// Persistence (kahuna-state.ts contract): takeDirty() hands out one record per changed key,
// load() into a fresh state rebuilds it, and hash() agrees; plus the record codec pieces
// (varints, base64url, FNV).
import { describe, expect, it } from 'vitest';
import { KvFlags, LockType } from '../../src/core/api/codes.js';
import { hlcZero } from '../../src/core/api/types.js';
import {
  ByteReader, ByteWriter, fnv1a, fnvOffset, fromBase64Url, toBase64Url,
} from '../../src/core/state/codec.js';
import { StateNamespace } from '../../src/core/state/kahuna-state.js';
import type { KahunaState } from '../../src/core/state/kahuna-state-impl.js';
import {
  at, createReq, delReq, enc, extReq, getReq, lockReq, newState, rangeReq, reserveReq, seqName,
  setReq, t0,
} from './helpers.js';

function busy(): KahunaState {
  const s = newState();
  s.kvSet(setReq('a/1', 'one', { expiresMs: 5000 }), at(t0));
  s.kvSet(setReq('a/1', 'uno'), at(t0 + 1));
  s.kvSet(setReq('a/2', null, { flags: KvFlags.SetNoRevision }), at(t0 + 2));
  s.kvSet(setReq('a/3', ''), at(t0 + 3));
  s.kvDelete(delReq('a/3'), at(t0 + 4));
  s.kvExtend(extReq('a/1', 100), at(t0 + 5));
  s.tryLock(lockReq('L1', 'A'), at(t0));
  s.tryLock(lockReq('L2', 'B'), at(t0));
  s.unlock({ resource: 'L2', owner: enc('B'), durability: 0 }, at(t0 + 1));
  s.seqCreate(createReq('s1', { maxValue: 1000, blockSize: 5 }), at(t0));
  s.seqReserve(reserveReq('s1', 3, 'idem'), at(t0 + 1));
  s.seqCreate(createReq('s2', { initialValue: -7 }), at(t0));
  return s;
}

function restored(from: KahunaState): KahunaState {
  const b = newState();
  for (const record of from.takeDirty()) b.load(record);
  return b;
}

/** Every read kind, as plain data, for comparing two states. */
function answers(s: KahunaState) {
  const now = at(t0 + 50);
  return {
    kv: ['a/1', 'a/2', 'a/3', 'none'].flatMap((key) => [
      s.kvGet(getReq(key), now), s.kvGet(getReq(key, { revision: 0 }), now),
      s.kvGet(getReq(key, { readTimestamp: at(t0 + 1) }), now), s.kvExists(getReq(key), now)]),
    range: s.kvGetByRange(rangeReq('a/', { limit: 1 }), now),
    bucket: s.kvGetByBucket({ txId: hlcZero, prefixKey: 'a', readTimestamp: hlcZero,
      durability: 0 }, now),
    locks: ['L1', 'L2', 'L3'].map((resource) => s.getLock({ resource, durability: 0 }, now)),
    seqs: ['s1', 's2', 's3'].map((name) => s.seqGet(seqName(name), now)),
  };
}

describe('persistence: takeDirty / load / hash', () => {
  it('load(takeDirty()) of A into a fresh B gives the same hash and the same answers', () => {
    const a = busy();
    const b = restored(a);
    expect(b.hash()).toBe(a.hash());
    expect(answers(b)).toEqual(answers(a));
  });

  it('the restored state keeps behaving the same (tokens, idempotency, revisions)', () => {
    const a = busy();
    const b = restored(a);
    const later = at(t0 + 60);
    for (const s of [a, b]) {
      expect(s.tryLock(lockReq('L2', 'C'), later)).toEqual({ type: LockType.Locked,
        fencingToken: 1 });
      expect(s.seqReserve(reserveReq('s1', 3, 'idem'), later).allocation?.start).toBe(1);
      expect(s.kvSet(setReq('a/2', 'x'), later).revision).toBe(1);
    }
    expect(b.hash()).toBe(a.hash());
  });

  it('takeDirty gives one record per changed key (the latest), then nothing', () => {
    const s = newState();
    for (let i = 0; i < 5; i += 1) s.kvSet(setReq('k', `v${i}`), at(t0 + i));
    s.tryLock(lockReq('L', 'A'), at(t0));
    const records = s.takeDirty();
    expect(records.map((r) => [r.namespace, new TextDecoder().decode(r.key)])).toEqual([
      [StateNamespace.Kv, 'k'], [StateNamespace.Lock, 'L']]);
    expect(s.takeDirty()).toEqual([]);
  });

  it('a deleted sequence is a record with value null, and loading it deletes', () => {
    const a = busy();
    const b = restored(a);
    a.seqDelete(seqName('s2'), at(t0 + 70));
    const records = a.takeDirty();
    expect(records).toEqual([{ namespace: StateNamespace.Sequence, key: enc('s2'),
      value: null }]);
    for (const r of records) b.load(r);
    expect(b.seqGet(seqName('s2'), at(t0 + 70)).type).toBe(a.seqGet(seqName('s2'),
      at(t0 + 70)).type);
    expect(b.hash()).toBe(a.hash());
  });

  it('incremental checkpoints converge: several takeDirty batches, loaded in order', () => {
    const a = newState();
    const b = newState();
    for (let round = 0; round < 5; round += 1) {
      a.kvSet(setReq(`k${round % 2}`, `r${round}`), at(t0 + round));
      a.seqCreate(createReq(`s${round}`), at(t0 + round));
      a.tryLock(lockReq('L', `o${round}`, 1), at(t0 + round * 10));
      for (const r of a.takeDirty()) b.load(r);
      expect(b.hash()).toBe(a.hash());
    }
  });

  it('the hash tells different states apart, and does not depend on write order', () => {
    const x = newState();
    const y = newState();
    x.kvSet(setReq('a', '1'), at(t0));
    x.kvSet(setReq('b', '2'), at(t0));
    y.kvSet(setReq('b', '2'), at(t0));
    y.kvSet(setReq('a', '1'), at(t0));
    expect(x.hash()).toBe(y.hash());
    y.kvSet(setReq('a', '1'), at(t0));
    expect(x.hash()).not.toBe(y.hash());
    const lock = newState();
    lock.tryLock(lockReq('a', '1'), at(t0));
    expect(lock.hash()).not.toBe(newState().hash());
  });

  it('load rejects a namespace that is not Kahuna state (partition meta)', () => {
    expect(() => newState().load({ namespace: StateNamespace.Meta, key: enc('x'),
      value: null })).toThrow();
  });

  it('load rejects a corrupt record', () => {
    const a = busy();
    const [first] = a.takeDirty();
    expect(first).toBeDefined();
    const value = first?.value ?? null;
    if (first === undefined || value === null) return;
    expect(() => newState().load({ ...first, value: value.slice(0, -1) })).toThrow();
    expect(() => newState().load({ ...first, value: Uint8Array.of(99) })).toThrow();
  });
});

describe('record codec', () => {
  it('varints round-trip safe integers, negatives with a sign byte', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
    const w = new ByteWriter();
    for (const v of values) w.uint(v).int(-v);
    const r = new ByteReader(w.finish());
    for (const v of values) {
      expect(r.uint()).toBe(v);
      expect(r.int()).toBe(-v === 0 ? 0 : -v);
    }
    r.end();
  });

  it('base64url matches Node for every length, and rejects bad text', () => {
    for (let n = 0; n < 40; n += 1) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n * 11) & 0xff);
      const text = toBase64Url(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64url'));
      expect(fromBase64Url(text)).toEqual(bytes);
    }
    expect(fromBase64Url('a')).toBeNull();
    expect(fromBase64Url('ab+/')).toBeNull();
    expect(fromBase64Url('AB')).toBeNull(); // non-zero padding bits
  });

  it('FNV-1a 32 matches the reference vectors', () => {
    expect(fnv1a(fnvOffset, new Uint8Array(0))).toBe(0x811c9dc5);
    expect(fnv1a(fnvOffset, enc('a'))).toBe(0xe40c292c);
    expect(fnv1a(fnvOffset, enc('foobar'))).toBe(0xbf9cf968);
  });
});
