// Key/value point operations: every row of wire.md 4.2 (situation -> Type for set, get,
// exists, delete and extend), the set and get details (flags, value presence, TTL, revision
// selector, ReadTimestamp, NOREV), wire.md 4.7's revision rules and kahuna-reference 9.2's
// key/value cases. MustRetry rows (leader unknown, foreign intents) are the partition's and the
// transaction layer's, not this state machine's.
import { describe, expect, it } from 'vitest';
import { KvFlags, KvState, KvType } from '../../src/core/api/codes.js';
import { hlcZero } from '../../src/core/api/types.js';
import { kvRevisionsRetainedMax } from '../../src/core/state/state-limits.js';
import {
  at, dec, delReq, enc, extReq, getReq, newState, setReq, t0,
} from './helpers.js';

const now = at(t0);
const K = 'users/alice';

/** A state whose key K is live at revision r (r + 1 unconditional sets). */
function liveAt(r: number) {
  const s = newState();
  for (let i = 0; i <= r; i += 1) s.kvSet(setReq(K, `v${i}`), at(t0 - 100 + i));
  return s;
}

/** A state whose key K is a tombstone at revision 1. */
function tombstoned() {
  const s = newState();
  s.kvSet(setReq(K, 'v0'), at(t0 - 100));
  expect(s.kvDelete(delReq(K), at(t0 - 50)).revision).toBe(1);
  return s;
}

/** A state whose key K (revision 0) expired at t0 - 50. */
function expired() {
  const s = newState();
  s.kvSet(setReq(K, 'v0', { expiresMs: 50 }), at(t0 - 100));
  return s;
}

describe('[4.2] invalid input', () => {
  for (const key of ['', '__kahuna:sequences:x', '__kahuna:']) {
    it(`[4.2] empty key or __kahuna: prefix (${JSON.stringify(key)}): InvalidInput on all five`,
      () => {
        const s = newState();
        expect(s.kvSet(setReq(key, 'x'), now).type).toBe(KvType.InvalidInput);
        expect(s.kvGet(getReq(key), now).type).toBe(KvType.InvalidInput);
        expect(s.kvExists(getReq(key), now).type).toBe(KvType.InvalidInput);
        expect(s.kvDelete(delReq(key), now).type).toBe(KvType.InvalidInput);
        expect(s.kvExtend(extReq(key, 100), now).type).toBe(KvType.InvalidInput);
      });
  }

  it('[4.2] ExpiresMs < 0: InvalidInput on set and extend', () => {
    const s = liveAt(0);
    expect(s.kvSet(setReq(K, 'x', { expiresMs: -1 }), now).type).toBe(KvType.InvalidInput);
    expect(s.kvExtend(extReq(K, -1), now).type).toBe(KvType.InvalidInput);
    expect(s.kvGet(getReq(K), now).revision).toBe(0);
  });

  it('[4.2] a non-zero transaction id on a point op: Errored (transactions come later)', () => {
    const s = liveAt(0);
    const txId = { n: 1, l: t0, c: 1 };
    expect(s.kvSet(setReq(K, 'x', { txId }), now).type).toBe(KvType.Errored);
    expect(s.kvGet(getReq(K, { txId }), now).type).toBe(KvType.Errored);
    expect(s.kvExists(getReq(K, { txId }), now).type).toBe(KvType.Errored);
    expect(s.kvDelete(delReq(K, { txId }), now).type).toBe(KvType.Errored);
    expect(s.kvExtend(extReq(K, 10, { txId }), now).type).toBe(KvType.Errored);
  });
});

describe('[4.2] key never existed', () => {
  it('[4.2] never existed: set Set, revision 0', () => {
    expect(newState().kvSet(setReq(K, 'x'), now)).toEqual({ type: KvType.Set, revision: 0,
      lastModified: now });
  });

  for (const [name, flags] of [['SET_IF_EXISTS', KvFlags.SetIfExists],
    ['SET_IF_EQUAL_TO_VALUE', KvFlags.SetIfEqualToValue],
    ['SET_IF_EQUAL_TO_REVISION', KvFlags.SetIfEqualToRevision]] as const) {
    it(`[4.2] never existed: ${name} NotSet, revision -1`, () => {
      const s = newState();
      const r = s.kvSet(setReq(K, 'x', { flags, compareValue: null, compareRevision: -1 }), now);
      expect(r).toEqual({ type: KvType.NotSet, revision: -1, lastModified: hlcZero });
      expect(s.kvGet(getReq(K), now).type).toBe(KvType.DoesNotExist);
    });
  }

  it('[4.2] never existed: SET_IF_NOT_EXISTS Set, revision 0', () => {
    expect(newState().kvSet(setReq(K, 'x', { flags: KvFlags.SetIfNotExists }), now).revision)
      .toBe(0);
  });

  it('[4.2] never existed: get DoesNotExist, revision 0, no value', () => {
    expect(newState().kvGet(getReq(K), now)).toMatchObject({ type: KvType.DoesNotExist,
      revision: 0, value: null });
  });

  it('[4.2] never existed: exists, delete and extend DoesNotExist, revision 0', () => {
    const s = newState();
    expect(s.kvExists(getReq(K), now)).toMatchObject({ type: KvType.DoesNotExist, revision: 0 });
    expect(s.kvDelete(delReq(K), now)).toMatchObject({ type: KvType.DoesNotExist, revision: 0 });
    expect(s.kvExtend(extReq(K, 100), now)).toMatchObject({ type: KvType.DoesNotExist,
      revision: 0 });
  });
});

describe('[4.2] live key at revision r', () => {
  it('[4.2] live r: set Set, revision r + 1', () => {
    expect(liveAt(2).kvSet(setReq(K, 'x'), now).revision).toBe(3);
  });

  it('[4.2] live r: SET_IF_NOT_EXISTS NotSet, revision r (with the current LastModified)', () => {
    const s = liveAt(2);
    expect(s.kvSet(setReq(K, 'x', { flags: KvFlags.SetIfNotExists }), now)).toEqual({
      type: KvType.NotSet, revision: 2, lastModified: at(t0 - 98) });
  });

  it('[4.2] live r: a failed compare (value or revision) NotSet, revision r', () => {
    const s = liveAt(1);
    expect(s.kvSet(setReq(K, 'x', { flags: KvFlags.SetIfEqualToValue,
      compareValue: enc('v0') }), now)).toMatchObject({ type: KvType.NotSet, revision: 1 });
    expect(s.kvSet(setReq(K, 'x', { flags: KvFlags.SetIfEqualToRevision,
      compareRevision: 0 }), now)).toMatchObject({ type: KvType.NotSet, revision: 1 });
    expect(dec(s.kvGet(getReq(K), now).value)).toBe('v1');
  });

  it('[4.2] live r: SET_IF_EXISTS and matching compares Set, revision r + 1', () => {
    const s = liveAt(0);
    expect(s.kvSet(setReq(K, 'a', { flags: KvFlags.SetIfExists }), now).revision).toBe(1);
    expect(s.kvSet(setReq(K, 'b', { flags: KvFlags.SetIfEqualToValue,
      compareValue: enc('a') }), now).revision).toBe(2);
    expect(s.kvSet(setReq(K, 'c', { flags: KvFlags.SetIfEqualToRevision,
      compareRevision: 2 }), now).revision).toBe(3);
  });

  it('[4.2] live r: get Get with value and revision r', () => {
    const r = liveAt(1).kvGet(getReq(K), now);
    expect(r).toMatchObject({ type: KvType.Get, revision: 1, state: KvState.Set,
      lastModified: at(t0 - 99), expires: hlcZero });
    expect(dec(r.value)).toBe('v1');
  });

  it('[4.2] live r: exists Exists, revision r, no value', () => {
    expect(liveAt(1).kvExists(getReq(K), now)).toMatchObject({ type: KvType.Exists,
      revision: 1, value: null });
  });

  it('[4.2] live r: delete Deleted, revision r + 1 (tombstone)', () => {
    const s = liveAt(1);
    expect(s.kvDelete(delReq(K), now)).toEqual({ type: KvType.Deleted, revision: 2,
      lastModified: now });
    expect(s.kvGet(getReq(K), now).type).toBe(KvType.DoesNotExist);
  });

  it('[4.2] live r: extend Extended, revision r unchanged, expiry = now + ExpiresMs', () => {
    const s = liveAt(1);
    expect(s.kvExtend(extReq(K, 500), now)).toMatchObject({ type: KvType.Extended,
      revision: 1 });
    expect(s.kvGet(getReq(K), now).expires).toEqual({ n: 1, l: t0 + 500, c: 0 });
    expect(s.kvGet(getReq(K), at(t0 + 500)).type).toBe(KvType.DoesNotExist);
  });
});

describe('[4.2] tombstone at revision t', () => {
  it('[4.2] tombstone t: set Set, revision t + 1', () => {
    expect(tombstoned().kvSet(setReq(K, 'x'), now).revision).toBe(2);
  });

  it('[4.2] tombstone t: SET_IF_EXISTS NotSet, revision t', () => {
    expect(tombstoned().kvSet(setReq(K, 'x', { flags: KvFlags.SetIfExists }), now))
      .toMatchObject({ type: KvType.NotSet, revision: 1 });
  });

  it('[4.2] tombstone t: compares NotSet with the tombstone revision (4.9.8)', () => {
    const s = tombstoned();
    expect(s.kvSet(setReq(K, 'x', { flags: KvFlags.SetIfEqualToRevision,
      compareRevision: 1 }), now)).toMatchObject({ type: KvType.NotSet, revision: 1 });
    expect(s.kvSet(setReq(K, 'x', { flags: KvFlags.SetIfEqualToValue, compareValue: null }),
      now)).toMatchObject({ type: KvType.NotSet, revision: 1 });
  });

  it('[4.2] tombstone t: SET_IF_NOT_EXISTS Set, revision t + 1', () => {
    expect(tombstoned().kvSet(setReq(K, 'x', { flags: KvFlags.SetIfNotExists }), now).revision)
      .toBe(2);
  });

  it('[4.2] tombstone t: get DoesNotExist, revision 0; exists DoesNotExist', () => {
    const s = tombstoned();
    expect(s.kvGet(getReq(K), now)).toMatchObject({ type: KvType.DoesNotExist, revision: 0,
      value: null });
    expect(s.kvExists(getReq(K), now).type).toBe(KvType.DoesNotExist);
  });

  it('[4.2] tombstone t: delete DoesNotExist, revision t', () => {
    expect(tombstoned().kvDelete(delReq(K), now)).toMatchObject({ type: KvType.DoesNotExist,
      revision: 1 });
  });

  it('[4.2] tombstone t: extend DoesNotExist, revision t', () => {
    expect(tombstoned().kvExtend(extReq(K, 100), now)).toMatchObject({
      type: KvType.DoesNotExist, revision: 1 });
  });
});

describe('[4.2] expired key (last revision r)', () => {
  it('[4.2] expired r: set Set, revision r + 1 while the entry is resident', () => {
    expect(expired().kvSet(setReq(K, 'x'), now).revision).toBe(1);
  });

  it('[4.2] expired r: SET_IF_NOT_EXISTS Set; SET_IF_EXISTS NotSet, revision r', () => {
    expect(expired().kvSet(setReq(K, 'x', { flags: KvFlags.SetIfNotExists }), now).type)
      .toBe(KvType.Set);
    expect(expired().kvSet(setReq(K, 'x', { flags: KvFlags.SetIfExists }), now))
      .toMatchObject({ type: KvType.NotSet, revision: 0 });
  });

  it('[4.2] expired r: get DoesNotExist, revision 0; exists DoesNotExist', () => {
    const s = expired();
    expect(s.kvGet(getReq(K), now)).toMatchObject({ type: KvType.DoesNotExist, revision: 0 });
    expect(s.kvExists(getReq(K), now).type).toBe(KvType.DoesNotExist);
  });

  it('[4.2] expired r: delete writes a tombstone at r + 1 (note: expired-but-resident)', () => {
    expect(expired().kvDelete(delReq(K), now)).toMatchObject({ type: KvType.Deleted,
      revision: 1 });
  });

  it('[4.2] expired r: extend DoesNotExist, revision r', () => {
    expect(expired().kvExtend(extReq(K, 1000), now)).toMatchObject({
      type: KvType.DoesNotExist, revision: 0 });
  });
});

describe('[4.2] set details', () => {
  it('[4.2] flags 0 behaves like 1 (unconditional)', () => {
    const s = liveAt(0);
    expect(s.kvSet(setReq(K, 'x', { flags: KvFlags.None }), now).revision).toBe(1);
  });

  it('[4.2] value null: the key exists but holds no value; empty bytes stay present', () => {
    const s = newState();
    s.kvSet(setReq('a', null), now);
    s.kvSet(setReq('b', ''), now);
    expect(s.kvGet(getReq('a'), now)).toMatchObject({ type: KvType.Get, value: null });
    const b = s.kvGet(getReq('b'), now);
    expect(b.type).toBe(KvType.Get);
    expect(b.value).toEqual(new Uint8Array(0));
    expect(s.kvExists(getReq('a'), now).type).toBe(KvType.Exists);
  });

  it('[4.2] ExpiresMs 0 means no expiry', () => {
    const s = newState();
    s.kvSet(setReq(K, 'x', { expiresMs: 0 }), now);
    expect(s.kvGet(getReq(K), at(t0 + 10 ** 9)).type).toBe(KvType.Get);
  });

  it('[4.2] TTL: 1 ms is gone within 50 ms of HLC', () => {
    const s = newState();
    s.kvSet(setReq(K, 'x', { expiresMs: 1 }), now);
    expect(s.kvGet(getReq(K), now).type).toBe(KvType.Get);
    expect(s.kvGet(getReq(K), at(t0 + 50)).type).toBe(KvType.DoesNotExist);
  });

  it('[4.2] TTL: 1000 ms is there at 999 ms and gone after 1500 ms', () => {
    const s = newState();
    s.kvSet(setReq(K, 'x', { expiresMs: 1000 }), now);
    expect(s.kvGet(getReq(K), at(t0 + 999)).type).toBe(KvType.Get);
    expect(s.kvGet(getReq(K), at(t0 + 1500))).toMatchObject({ type: KvType.DoesNotExist,
      value: null });
  });

  it('[4.2] the copy of the value is stored, not the caller array', () => {
    const s = newState();
    const value = enc('abc');
    s.kvSet({ ...setReq(K, null), value }, now);
    value[0] = 0;
    expect(dec(s.kvGet(getReq(K), now).value)).toBe('abc');
  });
});

describe('[4.2] get details: revision selector and ReadTimestamp', () => {
  it('[4.2] Revision >= 0 reads that archived revision, -1 the latest', () => {
    const s = liveAt(2);
    expect(dec(s.kvGet(getReq(K, { revision: 0 }), now).value)).toBe('v0');
    expect(s.kvGet(getReq(K, { revision: 1 }), now)).toMatchObject({ type: KvType.Get,
      revision: 1 });
    expect(dec(s.kvGet(getReq(K, { revision: -1 }), now).value)).toBe('v2');
    expect(s.kvGet(getReq(K, { revision: 7 }), now).type).toBe(KvType.DoesNotExist);
  });

  it('[4.7] NOREV still increments the revision but is not archived', () => {
    const s = liveAt(0);
    expect(s.kvSet(setReq(K, 'norev', { flags: KvFlags.SetNoRevision }), now).revision).toBe(1);
    expect(dec(s.kvGet(getReq(K), now).value)).toBe('norev');
    expect(s.kvGet(getReq(K, { revision: 1 }), now).type).toBe(KvType.DoesNotExist);
    s.kvSet(setReq(K, 'v2'), at(t0 + 10));
    expect(s.kvGet(getReq(K, { revision: 1 }), now).type).toBe(KvType.DoesNotExist);
    expect(s.kvGet(getReq(K, { readTimestamp: at(t0 + 5) }), now).type)
      .toBe(KvType.DoesNotExist);
    expect(dec(s.kvGet(getReq(K, { revision: 2 }), now).value)).toBe('v2');
  });

  it('[4.7] a tombstone revision read answers DoesNotExist; earlier revisions still read', () => {
    const s = tombstoned();
    expect(s.kvGet(getReq(K, { revision: 1 }), now).type).toBe(KvType.DoesNotExist);
    expect(dec(s.kvGet(getReq(K, { revision: 0 }), now).value)).toBe('v0');
  });

  it(`[4.7] history keeps the last ${kvRevisionsRetainedMax} revisions; older ones are pruned`,
    () => {
      const s = newState();
      const writes = kvRevisionsRetainedMax + 5;
      for (let i = 0; i < writes; i += 1) s.kvSet(setReq(K, `v${i}`), at(t0 + i));
      const oldest = writes - kvRevisionsRetainedMax;
      expect(s.kvGet(getReq(K, { revision: oldest - 1 }), now).type).toBe(KvType.DoesNotExist);
      expect(dec(s.kvGet(getReq(K, { revision: oldest }), now).value)).toBe(`v${oldest}`);
    });

  it('[4.2] ReadTimestamp reads the newest revision committed at or before it', () => {
    const s = newState();
    s.kvSet(setReq(K, 'a'), at(t0 + 10));
    s.kvSet(setReq(K, 'b'), at(t0 + 20));
    s.kvDelete(delReq(K), at(t0 + 30));
    const asOf = (l: number, c = 0) => s.kvGet(getReq(K, { readTimestamp: at(l, c) }),
      at(t0 + 100));
    expect(asOf(t0 + 9).type).toBe(KvType.DoesNotExist);
    expect(dec(asOf(t0 + 10).value)).toBe('a');
    expect(dec(asOf(t0 + 19, 0xffff_ffff).value)).toBe('a');
    expect(asOf(t0 + 20).revision).toBe(1);
    expect(asOf(t0 + 30).type).toBe(KvType.DoesNotExist);
  });

  it('[4.2] ReadTimestamp: a value with a TTL is visible while unexpired at that time', () => {
    const s = newState();
    s.kvSet(setReq(K, 'a', { expiresMs: 100 }), at(t0));
    expect(s.kvGet(getReq(K, { readTimestamp: at(t0 + 50) }), at(t0 + 500)).type)
      .toBe(KvType.Get);
    expect(s.kvGet(getReq(K, { readTimestamp: at(t0 + 100) }), at(t0 + 500)).type)
      .toBe(KvType.DoesNotExist);
  });

  it('[4.2] a revision together with a ReadTimestamp is Errored (as GET k AT 1 AS OF t)', () => {
    expect(liveAt(1).kvGet(getReq(K, { revision: 1, readTimestamp: now }), now).type)
      .toBe(KvType.Errored);
  });

  it('[4.2] reads change nothing (hash before and after)', () => {
    const s = liveAt(3);
    const before = s.hash();
    s.kvGet(getReq(K), now);
    s.kvExists(getReq(K, { revision: 1 }), now);
    expect(s.hash()).toBe(before);
    expect(s.takeDirty().length).toBe(1);
    s.kvGet(getReq(K), now);
    expect(s.takeDirty()).toEqual([]);
  });
});

describe('[9.2] kahuna-reference key/value cases', () => {
  it('[9.2] set r0, set again r1', () => {
    const s = newState();
    expect(s.kvSet(setReq(K, 'a'), now).revision).toBe(0);
    expect(s.kvSet(setReq(K, 'b'), now).revision).toBe(1);
  });

  it('[9.2] SetIfNotExists twice: the second is NotSet at r0; SetIfExists missing: r -1', () => {
    const s = newState();
    const nx = setReq(K, 'a', { flags: KvFlags.SetIfNotExists });
    expect(s.kvSet(nx, now)).toMatchObject({ type: KvType.Set, revision: 0 });
    expect(s.kvSet(nx, now)).toMatchObject({ type: KvType.NotSet, revision: 0 });
    expect(s.kvSet(setReq('missing', 'a', { flags: KvFlags.SetIfExists }), now))
      .toMatchObject({ type: KvType.NotSet, revision: -1 });
  });

  it('[9.2] extend to 5000 after set ex 1000: present after 2 s, revision 0', () => {
    const s = newState();
    s.kvSet(setReq(K, 'a', { expiresMs: 1000 }), now);
    expect(s.kvExtend(extReq(K, 5000), at(t0 + 10)).type).toBe(KvType.Extended);
    expect(s.kvGet(getReq(K), at(t0 + 2000))).toMatchObject({ type: KvType.Get, revision: 0 });
  });

  it('[9.2] delete r1, get null, set r2; SetIfExists after delete NotSet r1', () => {
    const s = liveAt(0);
    expect(s.kvDelete(delReq(K), now)).toMatchObject({ type: KvType.Deleted, revision: 1 });
    expect(s.kvGet(getReq(K), now).value).toBeNull();
    expect(s.kvSet(setReq(K, 'x', { flags: KvFlags.SetIfExists }), now)).toMatchObject({
      type: KvType.NotSet, revision: 1 });
    expect(s.kvSet(setReq(K, 'x'), now).revision).toBe(2);
  });

  it('[9.2] CAS by value: match r1 with the new value; mismatch NotSet, value unchanged', () => {
    const s = liveAt(0);
    expect(s.kvSet(setReq(K, 'new', { flags: KvFlags.SetIfEqualToValue,
      compareValue: enc('v0') }), now).revision).toBe(1);
    expect(dec(s.kvGet(getReq(K), now).value)).toBe('new');
    expect(s.kvSet(setReq(K, 'z', { flags: KvFlags.SetIfEqualToValue,
      compareValue: enc('v0') }), now).type).toBe(KvType.NotSet);
    expect(dec(s.kvGet(getReq(K), now).value)).toBe('new');
  });

  it('[9.2] CAS by revision: compareRevision 1 on r1 gives r2; 10 NotSet, stays r1', () => {
    const s = liveAt(1);
    expect(s.kvSet(setReq(K, 'z', { flags: KvFlags.SetIfEqualToRevision,
      compareRevision: 10 }), now)).toMatchObject({ type: KvType.NotSet, revision: 1 });
    expect(s.kvSet(setReq(K, 'z', { flags: KvFlags.SetIfEqualToRevision,
      compareRevision: 1 }), now)).toMatchObject({ type: KvType.Set, revision: 2 });
  });

  it('[9.2] GetKeyValueRevision(k, 0) returns the old value after later sets', () => {
    const s = liveAt(3);
    expect(dec(s.kvGet(getReq(K, { revision: 0 }), now).value)).toBe('v0');
  });

  it('[9.2] error handling: get/delete/extend of a missing key are not successes', () => {
    const s = newState();
    expect(s.kvGet(getReq('nope'), now).type).toBe(KvType.DoesNotExist);
    expect(s.kvDelete(delReq('nope'), now).type).toBe(KvType.DoesNotExist);
    expect(s.kvExtend(extReq('nope', 10), now).type).toBe(KvType.DoesNotExist);
    expect(s.kvSet(setReq('', 'x'), now).type).toBe(KvType.InvalidInput);
  });

  it('[9.2] the KV API on __kahuna:sequences:* is InvalidInput', () => {
    expect(newState().kvSet(setReq('__kahuna:sequences:s', 'x'), now).type)
      .toBe(KvType.InvalidInput);
  });
});
