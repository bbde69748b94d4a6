// Batches and scans: every row of wire.md 4.3 (set-many, delete-many, get-many, exists-many,
// GetByBucket, ScanByPrefix) and the batch rules of 4.7 (one reserved key fails every item).
// GetByRange is in kv-range.test.ts.
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { hlcZero, type KvDeleteManyRequest } from '../../src/core/api/types.js';
import { kvScanRowsMax } from '../../src/core/state/state-limits.js';
import { at, dec, delReq, getReq, newState, setReq, t0 } from './helpers.js';

const now = at(t0);
const txId = { n: 1, l: t0, c: 9 };

const delMany = (keys: string[], more: Partial<KvDeleteManyRequest> = {}): KvDeleteManyRequest =>
  ({ items: keys.map((key) => ({ txId: hlcZero, key, durability: 1 })), coordinatorKey: null,
    operationIdHigh: null, operationIdLow: null, ...more });

const readMany = (keys: string[], more = {}) => ({
  txId: hlcZero, readTimestamp: hlcZero,
  items: keys.map((key) => ({ key, revision: -1, durability: 0 })), ...more,
});

describe('[4.3] TrySetManyKeyValue', () => {
  it('[4.3] set-many: each item behaves like TrySetKeyValue; both r0 (9.2)', () => {
    const s = newState();
    const r = s.kvSetMany({ items: [setReq('a', '1'), setReq('b', '2', { durability: 1 })] },
      now);
    expect(r.type).toBe(KvType.Set);
    expect(r.items).toEqual([
      { key: 'a', durability: 0, type: KvType.Set, revision: 0, lastModified: now },
      { key: 'b', durability: 1, type: KvType.Set, revision: 0, lastModified: now },
    ]);
    expect(s.kvSetMany({ items: [setReq('a', '3'), setReq('', 'x')] }, now).items
      .map((i) => [i.type, i.revision])).toEqual([[KvType.Set, 1], [KvType.InvalidInput, 0]]);
  });

  it('[4.3] set-many: a transactional item makes every item InvalidInput', () => {
    const s = newState();
    const r = s.kvSetMany({ items: [setReq('a', '1'), setReq('b', '2', { txId })] }, now);
    expect(r.type).toBe(KvType.InvalidInput);
    expect(r.items.map((i) => i.type)).toEqual([KvType.InvalidInput, KvType.InvalidInput]);
    expect(s.kvGet(getReq('a'), now).type).toBe(KvType.DoesNotExist);
  });

  it('[4.3] set-many: a __kahuna: key anywhere makes every item InvalidInput', () => {
    const s = newState();
    const r = s.kvSetMany({ items: [setReq('a', '1'), setReq('__kahuna:x', '2')] }, now);
    expect(r.items.map((i) => [i.key, i.type])).toEqual([['a', KvType.InvalidInput],
      ['__kahuna:x', KvType.InvalidInput]]);
    expect(s.kvGet(getReq('a'), now).type).toBe(KvType.DoesNotExist);
  });
});

describe('[4.3] TryDeleteManyKeyValue', () => {
  it('[4.3] delete-many: each item behaves like TryDeleteKeyValue, Durability echoed', () => {
    const s = newState();
    s.kvSet(setReq('a', '1'), now);
    const r = s.kvDeleteMany(delMany(['a', 'missing']), now);
    expect(r.type).toBe(KvType.Deleted);
    expect(r.items).toEqual([
      { key: 'a', durability: 1, type: KvType.Deleted, revision: 1, lastModified: now },
      { key: 'missing', durability: 1, type: KvType.DoesNotExist, revision: 0,
        lastModified: hlcZero },
    ]);
  });

  it('[4.3] delete-many: an empty key is rejected on its own row, key echoed as ""', () => {
    const s = newState();
    s.kvSet(setReq('a', '1'), now);
    const r = s.kvDeleteMany(delMany(['', 'a']), now);
    expect(r.items.map((i) => [i.key, i.type])).toEqual([['', KvType.InvalidInput],
      ['a', KvType.Deleted]]);
  });

  it('[4.3] delete-many: transactional without CoordinatorKey+OperationIds: all InvalidInput',
    () => {
      const s = newState();
      s.kvSet(setReq('a', '1'), now);
      const req = delMany(['a', 'b'], { coordinatorKey: 'c' });
      const r = s.kvDeleteMany({ ...req, items: req.items.map((i) => ({ ...i, txId })) }, now);
      expect(r.type).toBe(KvType.InvalidInput);
      expect(r.items.map((i) => i.type)).toEqual([KvType.InvalidInput, KvType.InvalidInput]);
      expect(s.kvGet(getReq('a'), now).type).toBe(KvType.Get);
    });

  it('[4.3] delete-many: a registered transactional batch is Errored (transactions come later)',
    () => {
      const req = delMany(['a'], { coordinatorKey: 'c', operationIdHigh: 1, operationIdLow: 2 });
      const r = newState().kvDeleteMany({ ...req, items: req.items.map((i) => ({ ...i, txId })) },
        now);
      expect(r.items.map((i) => i.type)).toEqual([KvType.Errored]);
    });

  it('[4.7] delete-many: one reserved key fails every item', () => {
    const s = newState();
    s.kvSet(setReq('a', '1'), now);
    const r = s.kvDeleteMany(delMany(['a', '__kahuna:sequences:x']), now);
    expect(r.items.map((i) => i.type)).toEqual([KvType.InvalidInput, KvType.InvalidInput]);
    expect(s.kvGet(getReq('a'), now).type).toBe(KvType.Get);
  });
});

describe('[4.3] TryGetManyValues / TryExistsManyValues', () => {
  it('[4.3] get-many: per item Get or DoesNotExist, each key resolved independently', () => {
    const s = newState();
    s.kvSet(setReq('a', '1'), now);
    s.kvSet(setReq('a', '2'), now);
    const r = s.kvGetMany({ ...readMany(['a', 'b']),
      items: [{ key: 'a', revision: 0, durability: 0 }, { key: 'b', revision: -1,
        durability: 0 }, { key: 'a', revision: -1, durability: 0 }] }, now);
    expect(r.type).toBe(KvType.Get);
    expect(r.items.map((i) => [i.key, i.type, i.revision, dec(i.value)])).toEqual([
      ['a', KvType.Get, 0, '1'], ['b', KvType.DoesNotExist, 0, null], ['a', KvType.Get, 1, '2'],
    ]);
  });

  it('[4.3] exists-many: per item Exists or DoesNotExist, never a Value', () => {
    const s = newState();
    s.kvSet(setReq('a', '1'), now);
    const r = s.kvExistsMany(readMany(['a', 'b']), now);
    expect(r.items.map((i) => [i.type, i.value])).toEqual([[KvType.Exists, null],
      [KvType.DoesNotExist, null]]);
  });

  it('[4.3] get-many / exists-many: a non-zero transaction id: every item InvalidInput', () => {
    const s = newState();
    s.kvSet(setReq('a', '1'), now);
    for (const r of [s.kvGetMany(readMany(['a', 'b'], { txId }), now),
      s.kvExistsMany(readMany(['a', 'b'], { txId }), now)]) {
      expect(r.type).toBe(KvType.InvalidInput);
      expect(r.items.map((i) => i.type)).toEqual([KvType.InvalidInput, KvType.InvalidInput]);
    }
  });

  it('[4.3] get-many: ReadTimestamp applies to every item', () => {
    const s = newState();
    s.kvSet(setReq('a', '1'), at(t0));
    s.kvSet(setReq('a', '2'), at(t0 + 10));
    const r = s.kvGetMany(readMany(['a'], { readTimestamp: at(t0 + 5) }), at(t0 + 20));
    expect(dec(r.items[0]?.value ?? null)).toBe('1');
  });

  it('[4.7] get-many: one reserved key fails every item', () => {
    const s = newState();
    s.kvSet(setReq('a', '1'), now);
    expect(s.kvGetMany(readMany(['a', '__kahuna:x']), now).items.map((i) => i.type))
      .toEqual([KvType.InvalidInput, KvType.InvalidInput]);
  });
});

function seeded() {
  const s = newState();
  for (const key of ['app/b', 'app/a', 'app/c', 'app/sub/x', 'app', 'apple', 'apq/z', 'other/a']) {
    s.kvSet(setReq(key, key), now);
  }
  return s;
}

describe('[4.3] GetByBucket', () => {
  const bucket = (prefixKey: string, more = {}) => ({ txId: hlcZero, prefixKey,
    readTimestamp: hlcZero, durability: 0, ...more });

  it('[4.3] GetByBucket: live keys whose part before the last / equals PrefixKey, ordinal', () => {
    const s = seeded();
    s.kvDelete(delReq('app/c'), now);
    const r = s.kvGetByBucket(bucket('app'), now);
    expect(r.type).toBe(KvType.Get);
    expect(r.items.map((i) => i.key)).toEqual(['app/a', 'app/b']);
    expect(s.kvGetByBucket(bucket('app/sub'), now).items.map((i) => i.key)).toEqual(['app/sub/x']);
  });

  it('[4.3] GetByBucket: an empty or unknown bucket gives Get with no rows', () => {
    const s = seeded();
    expect(s.kvGetByBucket(bucket(''), now)).toEqual({ type: KvType.Get, items: [] });
    expect(s.kvGetByBucket(bucket('nope'), now)).toEqual({ type: KvType.Get, items: [] });
  });

  it('[4.7] GetByBucket: a key without / has no bucket and is never returned', () => {
    expect(seeded().kvGetByBucket(bucket('apple'), now).items).toEqual([]);
  });

  it('[4.3] GetByBucket: expired keys are not live; ReadTimestamp reads a snapshot', () => {
    const s = newState();
    s.kvSet(setReq('b/x', '1', { expiresMs: 10 }), at(t0));
    s.kvSet(setReq('b/y', '1'), at(t0 + 20));
    expect(s.kvGetByBucket(bucket('b'), at(t0 + 30)).items.map((i) => i.key)).toEqual(['b/y']);
    expect(s.kvGetByBucket(bucket('b', { readTimestamp: at(t0 + 5) }), at(t0 + 30)).items
      .map((i) => i.key)).toEqual(['b/x']);
  });

  it(`[4.3] GetByBucket: capped at ${kvScanRowsMax} rows`, () => {
    const s = newState();
    for (let i = 0; i < kvScanRowsMax + 3; i += 1) s.kvSet(setReq(`big/${i}`, null), now);
    expect(s.kvGetByBucket(bucket('big'), now).items).toHaveLength(kvScanRowsMax);
  });

  it('[9.2] GetByBucket(prefix) after 3 sets under prefix/... gives 3 rows with values', () => {
    const s = newState();
    for (const k of ['p/1', 'p/2', 'p/3']) s.kvSet(setReq(k, `v${k}`), now);
    const r = s.kvGetByBucket(bucket('p'), now);
    expect(r.items.map((i) => [i.key, dec(i.value), i.revision])).toEqual([
      ['p/1', 'vp/1', 0], ['p/2', 'vp/2', 0], ['p/3', 'vp/3', 0]]);
  });
});

describe('[4.3] ScanAllByPrefix / ScanByPrefix', () => {
  const scan = (prefixKey: string, more = {}) => ({ prefixKey, readTimestamp: hlcZero,
    durability: 0, ...more });

  it('[4.3] ScanByPrefix: every live key (all buckets) that starts with PrefixKey', () => {
    const s = seeded();
    s.kvDelete(delReq('app/b'), now);
    expect(s.kvScanByPrefix(scan('app'), now).items.map((i) => i.key)).toEqual([
      'app', 'app/a', 'app/c', 'app/sub/x', 'apple']);
  });

  it('[4.3] ScanByPrefix: an empty prefix is InvalidInput', () => {
    expect(seeded().kvScanByPrefix(scan(''), now).type).toBe(KvType.InvalidInput);
  });

  it(`[4.3] ScanByPrefix: capped at ${kvScanRowsMax} rows`, () => {
    const s = newState();
    for (let i = 0; i < kvScanRowsMax + 1; i += 1) s.kvSet(setReq(`s${i}`, null), now);
    expect(s.kvScanByPrefix(scan('s'), now).items).toHaveLength(kvScanRowsMax);
  });

  it('[9.2] ScanAllByPrefix(prefix) after 3 sets under prefix/... gives 3 items', () => {
    const s = newState();
    for (const k of ['q/1', 'q/2', 'q/3']) s.kvSet(setReq(k, k), now);
    expect(s.kvScanByPrefix(scan('q/'), now).items).toHaveLength(3);
  });
});
