// The typed RocksDB wrapper (src/env/rocksdb.ts) against real RocksDB in a temp dir.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { compareKeys } from '../../src/core/writer/keys.js';
import { RocksStore } from '../../src/env/rocksdb.js';
import { makeTempDir, removeDir } from './fixtures/harness.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function openTemp(): Promise<RocksStore> {
  const dir = makeTempDir('rocks');
  dirs.push(dir);
  return RocksStore.open(dir);
}

describe('RocksStore', () => {
  it('iterates in bytewise key order (the order keys.ts relies on)', async () => {
    const store = await openTemp();
    try {
      const keyArb = fc.uint8Array({ minLength: 1, maxLength: 6 });
      const keys = fc.sample(fc.uniqueArray(keyArb, {
        minLength: 50, maxLength: 200, selector: (k) => k.join(','),
      }), { numRuns: 1, seed: 42 })[0] ?? [];
      await store.putAll(keys.map((key) => ({ key, value: Uint8Array.of(1) })));
      const scanned = store.rangeSync({ start: Uint8Array.of(0), limit: 1000 }).entries;
      const expected = [...keys].sort(compareKeys);
      expect(scanned.map((e) => [...e.key])).toEqual(expected.map((k) => [...k]));
    } finally {
      await store.close();
    }
  });

  it('pages a range by limit and by bytes, with `more`', async () => {
    const store = await openTemp();
    try {
      const entries = Array.from({ length: 10 }, (_, i) => ({
        key: Uint8Array.of(5, i), value: new Uint8Array(10).fill(i),
      }));
      await store.putAll(entries);
      const all = store.rangeSync({ start: Uint8Array.of(5), end: Uint8Array.of(6), limit: 10 });
      expect(all.entries).toHaveLength(10);
      expect(all.more).toBe(false);
      const page = store.rangeSync({ start: Uint8Array.of(5, 3), end: Uint8Array.of(6), limit: 4 });
      expect(page.entries.map((e) => e.key[1])).toEqual([3, 4, 5, 6]);
      expect(page.more).toBe(true);
      // Each entry counts 2 + 10 + 4 = 16 bytes: 50 bytes hold three.
      const byBytes = store.rangeSync({
        start: Uint8Array.of(5), limit: 10, bytesMax: 50, entryOverheadBytes: 4,
      });
      expect(byBytes.entries).toHaveLength(3);
      expect(byBytes.more).toBe(true);
      expect(store.getManySync([Uint8Array.of(5, 2), Uint8Array.of(5, 99)]))
        .toEqual([Buffer.from(new Uint8Array(10).fill(2)), undefined]);
    } finally {
      await store.close();
    }
  });

  it('deletes a range atomically, including keys put earlier in the same batch', async () => {
    const store = await openTemp();
    try {
      const puts = [1, 2, 3, 8].map((i) => ({ key: Uint8Array.of(7, i), value: Uint8Array.of(i) }));
      await store.putAll(puts);
      const batch = store.batch();
      batch.put(Uint8Array.of(7, 4), Uint8Array.of(4));
      expect(batch.deleteRange(Uint8Array.of(7, 2), Uint8Array.of(7, 8))).toBe(3);
      batch.put(Uint8Array.of(7, 5), Uint8Array.of(5));
      expect(store.getSync(Uint8Array.of(7, 2))).toBeDefined(); // not yet committed
      await batch.commit();
      const keys = store.keysSync(Uint8Array.of(7), Uint8Array.of(8)).map((k) => k[1]);
      expect(keys).toEqual([1, 5, 8]);
      expect(() => batch.put(Uint8Array.of(7, 9), Uint8Array.of(9))).toThrow(/committed/);
    } finally {
      await store.close();
    }
  });

  it('deletes several ranges in one batch, each seeing the puts made before it', async () => {
    const store = await openTemp();
    try {
      await store.putAll([1, 2].map((p) => ({ key: Uint8Array.of(p, 1), value: Uint8Array.of(p) })));
      const batch = store.batch();
      // A snapshot install per partition: clear its prefix, then put its state.
      expect(batch.deleteRange(Uint8Array.of(1), Uint8Array.of(2))).toBe(1);
      const reused = new Uint8Array(2);
      for (const i of [5, 6]) {
        reused.set([1, i]);
        batch.put(reused, Uint8Array.of(i)); // the caller reuses its key buffer
      }
      expect(batch.deleteRange(Uint8Array.of(2), Uint8Array.of(3))).toBe(1);
      batch.put(Uint8Array.of(2, 7), Uint8Array.of(7));
      // A later range over the first prefix sees the puts made after the first range.
      expect(batch.deleteRange(Uint8Array.of(1, 6), Uint8Array.of(1, 7))).toBe(1);
      await batch.commit();
      const keys = store.keysSync(Uint8Array.of(1), Uint8Array.of(3)).map((k) => [...k]);
      expect(keys).toEqual([[1, 5], [2, 7]]);
    } finally {
      await store.close();
    }
  });

  it('keeps committed batches across a reopen and drops discarded ones', async () => {
    const dir = makeTempDir('rocks-reopen');
    dirs.push(dir);
    const store = await RocksStore.open(dir);
    await store.putAll([{ key: Uint8Array.of(1), value: Uint8Array.of(11) }]);
    const dropped = store.batch();
    dropped.put(Uint8Array.of(2), Uint8Array.of(22));
    await dropped.discard();
    await store.close();
    const again = await RocksStore.open(dir, { mustExist: true });
    try {
      expect(again.getSync(Uint8Array.of(1))).toEqual(Buffer.of(11));
      expect(again.getSync(Uint8Array.of(2))).toBeUndefined();
    } finally {
      await again.close();
    }
    const missing = makeTempDir('rocks-missing');
    dirs.push(missing);
    await expect(RocksStore.open(`${missing}/none`, { mustExist: true })).rejects.toThrow();
  });
});
