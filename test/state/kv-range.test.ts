// GetByRange (wire.md 4.3, 2.2.14, 3.4 paging): default bounds [Prefix, upper(Prefix)),
// absolute start/end keys with inclusivity, Limit, HasMore and the opaque cursor (last key +
// snapshot HLC), which resumes strictly after its key at its snapshot.
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { toBase64Url } from '../../src/core/state/codec.js';
import {
  decodeRangeCursor, encodeRangeCursor, prefixUpperBound,
} from '../../src/core/state/kv-scan.js';
import { kvScanRowsMax } from '../../src/core/state/state-limits.js';
import { at, delReq, newState, rangeReq, setReq, t0 } from './helpers.js';

const now = at(t0);

function seeded(keys = ['sp/a', 'sp/b', 'sp/c', 'sp/d', 'sp/e', 'spa', 'sq', 'so']) {
  const s = newState();
  for (const key of keys) s.kvSet(setReq(key, key), now);
  return s;
}

const keysOf = (r: { items: readonly { key: string }[] }) => r.items.map((i) => i.key);

describe('[4.3] GetByRange bounds', () => {
  it('[4.3] default bounds [Prefix, upper(Prefix)): every key that starts with Prefix', () => {
    const r = seeded().kvGetByRange(rangeReq('sp'), now);
    expect(r.type).toBe(KvType.Get);
    expect(keysOf(r)).toEqual(['sp/a', 'sp/b', 'sp/c', 'sp/d', 'sp/e', 'spa']);
    expect(r.hasMore).toBe(false);
    expect(r.nextCursor).toBeNull();
  });

  it('[4.3] an empty Prefix is InvalidInput', () => {
    expect(seeded().kvGetByRange(rangeReq(''), now).type).toBe(KvType.InvalidInput);
  });

  it('[4.3] StartKey / EndKey replace the bounds, with their inclusivity', () => {
    const s = seeded();
    const q = (more: Parameters<typeof rangeReq>[1]) => keysOf(s.kvGetByRange(rangeReq('sp',
      more), now));
    expect(q({ startKey: 'sp/b', endKey: 'sp/d' })).toEqual(['sp/b', 'sp/c']);
    expect(q({ startKey: 'sp/b', startInclusive: false, endKey: 'sp/d', endInclusive: true }))
      .toEqual(['sp/c', 'sp/d']);
    expect(q({ endKey: 'sp/b', endInclusive: true })).toEqual(['sp/a', 'sp/b']);
    expect(q({ startKey: 'sp/e' })).toEqual(['sp/e', 'spa']);
    expect(q({ startKey: '', endKey: 'sp/a', endInclusive: true })).toEqual(['so', 'sp/a']);
  });

  it('[4.3] only live rows: tombstones and expired keys are skipped', () => {
    const s = seeded();
    s.kvDelete(delReq('sp/b'), now);
    s.kvSet(setReq('sp/c', 'x', { expiresMs: 5 }), now);
    expect(keysOf(s.kvGetByRange(rangeReq('sp/'), at(t0 + 10)))).toEqual(['sp/a', 'sp/d',
      'sp/e']);
  });

  it('[4.7] keys compare ordinally (UTF-16 code units, not locale)', () => {
    const s = seeded(['k/B', 'k/a', 'k/\u00e9', 'k/\ud83d\ude00', 'k/\uffff']);
    expect(keysOf(s.kvGetByRange(rangeReq('k/'), now))).toEqual(['k/B', 'k/a', 'k/\u00e9',
      'k/\ud83d\ude00', 'k/\uffff']);
  });

  it('[4.3] upper(Prefix) increments the last code unit, dropping trailing U+FFFF', () => {
    expect(prefixUpperBound('ab')).toBe('ac');
    expect(prefixUpperBound('a\uffff')).toBe('b');
    expect(prefixUpperBound('\uffff\uffff')).toBeNull();
  });
});

describe('[4.3] GetByRange paging', () => {
  it('[4.3] Limit rows per page, HasMore and NextCursor; the last page has neither', () => {
    const s = seeded();
    const first = s.kvGetByRange(rangeReq('sp/', { limit: 2 }), now);
    expect(keysOf(first)).toEqual(['sp/a', 'sp/b']);
    expect(first.hasMore).toBe(true);
    expect(first.nextCursor).not.toBeNull();
    const second = s.kvGetByRange(rangeReq('sp/', { limit: 2, cursor: first.nextCursor }), now);
    expect(keysOf(second)).toEqual(['sp/c', 'sp/d']);
    const third = s.kvGetByRange(rangeReq('sp/', { limit: 2, cursor: second.nextCursor }), now);
    expect(keysOf(third)).toEqual(['sp/e']);
    expect(third.hasMore).toBe(false);
    expect(third.nextCursor).toBeNull();
  });

  it('[4.3] exactly Limit rows left: HasMore false (no empty trailing page)', () => {
    const r = seeded().kvGetByRange(rangeReq('sp/', { limit: 5 }), now);
    expect(r.items).toHaveLength(5);
    expect(r.hasMore).toBe(false);
  });

  it('[3.4] every page reads at the snapshot of the first page', () => {
    const s = seeded();
    const first = s.kvGetByRange(rangeReq('sp/', { limit: 2 }), now);
    s.kvSet(setReq('sp/bb', 'late'), at(t0 + 10));
    s.kvDelete(delReq('sp/c'), at(t0 + 10));
    s.kvSet(setReq('sp/d', 'changed'), at(t0 + 10));
    const rest = s.kvGetByRange(rangeReq('sp/', { cursor: first.nextCursor }), at(t0 + 20));
    expect(keysOf(rest)).toEqual(['sp/c', 'sp/d', 'sp/e']);
    expect(rest.items.find((i) => i.key === 'sp/d')?.revision).toBe(0);
    expect(keysOf(s.kvGetByRange(rangeReq('sp/'), at(t0 + 20)))).toEqual(['sp/a', 'sp/b',
      'sp/bb', 'sp/d', 'sp/e']);
  });

  it('[3.4] a cursor overrides the start bound; an empty cursor is the first page', () => {
    const s = seeded();
    const cursor = encodeRangeCursor({ lastKey: 'sp/c', snapshot: now });
    expect(keysOf(s.kvGetByRange(rangeReq('sp/', { startKey: 'sp/a', cursor }), now)))
      .toEqual(['sp/d', 'sp/e']);
    expect(keysOf(s.kvGetByRange(rangeReq('sp/', { cursor: '' }), now))).toHaveLength(5);
  });

  it('[3.4] a malformed cursor is InvalidInput', () => {
    const s = seeded();
    for (const cursor of ['!!!', 'a', toBase64Url(Uint8Array.of(9, 1, 2)),
      toBase64Url(Uint8Array.of(1)), `${encodeRangeCursor({ lastKey: 'x', snapshot: now })}A`]) {
      expect(s.kvGetByRange(rangeReq('sp/', { cursor }), now).type, cursor)
        .toBe(KvType.InvalidInput);
    }
  });

  it('[3.4] the cursor round-trips its key and snapshot', () => {
    const cursor = { lastKey: 'sp/\u00e9\ud83d\ude00', snapshot: { n: 3, l: t0, c: 0xffff_ffff } };
    expect(decodeRangeCursor(encodeRangeCursor(cursor))).toEqual(cursor);
  });

  it(`[4.3] Limit <= 0 is unbounded, but one page carries at most ${kvScanRowsMax} rows`, () => {
    const s = newState();
    for (let i = 0; i < kvScanRowsMax + 10; i += 1) {
      s.kvSet(setReq(`r/${String(i).padStart(5, '0')}`, null), now);
    }
    const first = s.kvGetByRange(rangeReq('r/', { limit: 0 }), now);
    expect(first.items).toHaveLength(kvScanRowsMax);
    expect(first.hasMore).toBe(true);
    const rest = s.kvGetByRange(rangeReq('r/', { limit: -1, cursor: first.nextCursor }), now);
    expect(rest.items).toHaveLength(10);
    expect(rest.hasMore).toBe(false);
  });

  it('[4.3] paging through cursors visits every live key once, in order', () => {
    const keys = Array.from({ length: 37 }, (_, i) => `pg/${String(i * 7 % 37).padStart(2, '0')}`);
    const s = seeded(keys);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page += 1) {
      const r = s.kvGetByRange(rangeReq('pg/', { limit: 5, cursor }), now);
      seen.push(...keysOf(r));
      if (!r.hasMore) break;
      cursor = r.nextCursor;
    }
    expect(seen).toEqual([...keys].sort());
  });
});
