// Key/value batches and scans against a real `honu server`, over REST and gRPC (wire.md 4.3):
// set-many, delete-many (empty-key row, mixed durabilities), get-many, exists-many,
// get-by-bucket, scan-all-by-prefix, get-by-range (REST cursor paging, gRPC GetByRangeStream),
// and the batch cases of kahuna-reference 9.2.
import { describe, expect, it } from 'vitest';
import {
  Flags, Kv, durabilities, sleep, text, transports, unique, type KahunaClient, type ManyReply,
} from './clients.js';
import { useHonu } from './harness.js';

const honu = useHonu('kv-batch');

function byKey<T extends { key: string; durability: number }>(reply: ManyReply<T>, key: string,
  durability?: number): T {
  const rows = reply.items.filter((i) => i.key === key &&
    (durability === undefined || i.durability === durability));
  expect(rows, `one row for ${key}`).toHaveLength(1);
  return rows[0]!;
}

describe.each(transports)('key/value batches and scans over %s', (transport) => {
  const c = (): KahunaClient => honu.client(transport);
  const envelope = (code: number): number | null => (transport === 'rest' ? code : null);

  describe.each(durabilities)('durability %i', (d) => {
    it('set-many [a, b] -> both Set r0; a second set-many -> r1; items behave like set',
      async () => {
        const a = unique('many-a');
        const b = unique('many-b');
        const first = await c().setMany([{ key: a, value: text('1'), durability: d },
          { key: b, value: text('2'), durability: d }]);
        expect(first.envelope).toBe(envelope(Kv.Set));
        expect(first.items).toHaveLength(2);
        expect(byKey(first, a)).toMatchObject({ type: Kv.Set, revision: 0, durability: d });
        expect(byKey(first, b)).toMatchObject({ type: Kv.Set, revision: 0, durability: d });
        const second = await c().setMany([
          { key: a, value: text('1b'), durability: d },
          { key: b, value: text('x'), flags: Flags.SetIfNotExists, durability: d },
        ]);
        expect(byKey(second, a)).toMatchObject({ type: Kv.Set, revision: 1 });
        expect(byKey(second, b)).toMatchObject({ type: Kv.NotSet, revision: 0 });
        expect(await c().get(a, d)).toMatchObject({ type: Kv.Get, value: text('1b'), revision: 1 });
        expect(await c().get(b, d)).toMatchObject({ type: Kv.Get, value: text('2'), revision: 0 });
      });

    it('set-many: conditional items on missing keys NotSet r-1; null and empty values',
      async () => {
        const missing = unique('many-missing');
        const nul = unique('many-null');
        const empty = unique('many-empty');
        const reply = await c().setMany([
          { key: missing, value: text('x'), flags: Flags.SetIfExists, durability: d },
          { key: nul, value: null, durability: d },
          { key: empty, value: Buffer.alloc(0), durability: d },
        ]);
        expect(byKey(reply, missing)).toMatchObject({ type: Kv.NotSet, revision: -1 });
        expect(byKey(reply, nul)).toMatchObject({ type: Kv.Set, revision: 0 });
        expect(byKey(reply, empty)).toMatchObject({ type: Kv.Set, revision: 0 });
        expect((await c().get(missing, d)).type).toBe(Kv.DoesNotExist);
        const gotNull = await c().get(nul, d);
        expect(gotNull).toMatchObject({ type: Kv.Get, value: null });
        const gotEmpty = await c().get(empty, d);
        expect(gotEmpty.type).toBe(Kv.Get);
        expect(gotEmpty.value?.length).toBe(0);
      });

    it('set-many with a __kahuna: key -> every item InvalidInput, nothing written', async () => {
      const ok = unique('many-reserved-ok');
      const reply = await c().setMany([{ key: ok, value: text('1'), durability: d },
        { key: '__kahuna:x', value: text('2'), durability: d }]);
      expect(reply.items.length).toBeGreaterThan(0);
      for (const item of reply.items) expect(item.type).toBe(Kv.InvalidInput);
      expect((await c().get(ok, d)).type).toBe(Kv.DoesNotExist);
    });

    it('set-many with a transactional item -> every item InvalidInput, nothing written',
      async () => {
        const a = unique('many-tx-a');
        const b = unique('many-tx-b');
        const reply = await c().setMany([{ key: a, value: text('1'), durability: d },
          { key: b, value: text('2'), durability: d,
            transactionId: { n: 1, l: Date.now(), c: 1 } }]);
        if (transport === 'rest') expect(reply.envelope).toBe(Kv.InvalidInput);
        for (const item of reply.items) expect(item.type).toBe(Kv.InvalidInput);
        expect((await c().get(a, d)).type).toBe(Kv.DoesNotExist);
        expect((await c().get(b, d)).type).toBe(Kv.DoesNotExist);
      });

    it('set-many with an empty key: that row InvalidInput', async () => {
      const reply = await c().setMany([{ key: '', value: text('1'), durability: d },
        { key: unique('many-empty-key-ok'), value: text('2'), durability: d }]);
      expect(byKey(reply, '').type).toBe(Kv.InvalidInput);
    });

    it('get-many: Get with value and revision, DoesNotExist for missing, revision selector',
      async () => {
        const a = unique('gm-a');
        const b = unique('gm-b');
        const missing = unique('gm-missing');
        await c().set({ key: a, value: text('a0'), durability: d });
        await c().set({ key: a, value: text('a1'), durability: d });
        await c().set({ key: b, value: text('b0'), durability: d });
        const reply = await c().getMany([{ key: a, durability: d }, { key: b, durability: d },
          { key: missing, durability: d }]);
        expect(reply.envelope).toBe(envelope(Kv.Get));
        expect(reply.items).toHaveLength(3);
        expect(byKey(reply, a)).toMatchObject({ type: Kv.Get, value: text('a1'), revision: 1,
          durability: d });
        expect(byKey(reply, b)).toMatchObject({ type: Kv.Get, value: text('b0'), revision: 0 });
        expect(byKey(reply, missing).type).toBe(Kv.DoesNotExist);
        expect(byKey(reply, missing).value).toBeNull();
        const old = await c().getMany([{ key: a, revision: 0, durability: d }]);
        expect(byKey(old, a)).toMatchObject({ type: Kv.Get, value: text('a0'), revision: 0 });
      });

    it('exists-many: Exists or DoesNotExist, never a value', async () => {
      const a = unique('em-a');
      const gone = unique('em-gone');
      const missing = unique('em-missing');
      await c().set({ key: a, value: text('a'), durability: d });
      await c().set({ key: gone, value: text('g'), durability: d });
      await c().delete(gone, d);
      const reply = await c().existsMany([{ key: a, durability: d },
        { key: gone, durability: d }, { key: missing, durability: d }]);
      expect(reply.envelope).toBe(envelope(Kv.Get)); // "same as try-get-many" (wire.md 3.4)
      expect(byKey(reply, a)).toMatchObject({ type: Kv.Exists, revision: 0, value: null });
      expect(byKey(reply, gone)).toMatchObject({ type: Kv.DoesNotExist, value: null });
      expect(byKey(reply, missing)).toMatchObject({ type: Kv.DoesNotExist, value: null });
    });

    it('get-many and exists-many with a transaction id -> every item InvalidInput', async () => {
      const a = unique('gm-tx');
      await c().set({ key: a, value: text('a'), durability: d });
      const tx = { n: 1, l: Date.now(), c: 7 };
      const got = await c().getMany([{ key: a, durability: d }], tx);
      if (transport === 'rest') expect(got.envelope).toBe(Kv.InvalidInput);
      for (const item of got.items) expect(item.type).toBe(Kv.InvalidInput);
      const exists = await c().existsMany([{ key: a, durability: d }], tx);
      if (transport === 'rest') expect(exists.envelope).toBe(Kv.InvalidInput);
      for (const item of exists.items) expect(item.type).toBe(Kv.InvalidInput);
    });

    it('get-many, exists-many, delete-many with a __kahuna: key -> every item InvalidInput',
      async () => {
        const a = unique('batch-reserved');
        await c().set({ key: a, value: text('a'), durability: d });
        const rows = [{ key: a, durability: d }, { key: '__kahuna:sequences:x', durability: d }];
        for (const reply of [await c().getMany(rows), await c().existsMany(rows)]) {
          expect(reply.items.length).toBeGreaterThan(0);
          for (const item of reply.items) expect(item.type).toBe(Kv.InvalidInput);
        }
        const deleted = await c().deleteMany(rows);
        expect(deleted.items.length).toBeGreaterThan(0);
        for (const item of deleted.items) expect(item.type).toBe(Kv.InvalidInput);
        expect((await c().get(a, d)).type).toBe(Kv.Get);
      });

    it('get-by-bucket: the live keys of exactly that bucket, sorted; unknown bucket empty',
      async () => {
        const bucket = unique('bucket');
        const keys = [`${bucket}/c`, `${bucket}/a`, `${bucket}/b`];
        for (const [i, k] of keys.entries()) {
          await c().set({ key: k, value: text(`v${i}`), durability: d });
        }
        await c().set({ key: `${bucket}/gone`, value: text('g'), durability: d });
        await c().delete(`${bucket}/gone`, d);
        await c().set({ key: `${bucket}/sub/deeper`, value: text('s'), durability: d });
        await c().set({ key: `${bucket}x/other`, value: text('o'), durability: d });
        await c().set({ key: bucket, value: text('no bucket'), durability: d });
        await c().set({ key: `${bucket}/b`, value: text('v2b'), durability: d });
        const reply = await c().getByBucket(bucket, d);
        expect(reply.type).toBe(Kv.Get);
        expect(reply.items.map((i) => i.key)).toEqual([`${bucket}/a`, `${bucket}/b`,
          `${bucket}/c`]);
        expect(reply.items[0]).toMatchObject({ value: text('v1'), revision: 0 });
        expect(reply.items[1]).toMatchObject({ value: text('v2b'), revision: 1 });
        expect(reply.items[1]!.lastModified.l).toBeGreaterThan(0);
        const sub = await c().getByBucket(`${bucket}/sub`, d);
        expect(sub.items.map((i) => i.key)).toEqual([`${bucket}/sub/deeper`]);
        const unknown = await c().getByBucket(unique('no-such-bucket'), d);
        expect(unknown.type).toBe(Kv.Get);
        expect(unknown.items).toHaveLength(0);
      });

    it('scan-all-by-prefix: every live key that starts with the prefix, in all buckets',
      async () => {
        const prefix = unique('scan');
        for (const k of ['a', 'b', 'c']) {
          await c().set({ key: `${prefix}/${k}`, value: text(k), durability: d });
        }
        const three = await c().scanAllByPrefix(prefix, d);
        expect(three.type).toBe(Kv.Get);
        expect(three.items.map((i) => i.key).sort()).toEqual([`${prefix}/a`, `${prefix}/b`,
          `${prefix}/c`]);
        await c().set({ key: `${prefix}/deep/er`, value: text('d'), durability: d });
        await c().set({ key: `${prefix}-sibling/x`, value: text('s'), durability: d });
        await c().delete(`${prefix}/b`, d);
        const reply = await c().scanAllByPrefix(`${prefix}/`, d);
        expect(reply.type).toBe(Kv.Get);
        expect(reply.items.map((i) => i.key).sort()).toEqual([`${prefix}/a`, `${prefix}/c`,
          `${prefix}/deep/er`]);
        const a = reply.items.find((i) => i.key === `${prefix}/a`)!;
        expect(a).toMatchObject({ value: text('a'), revision: 0 });
        const wider = await c().scanAllByPrefix(prefix, d);
        expect(wider.items.map((i) => i.key)).toContain(`${prefix}-sibling/x`);
      });

    it('get-by-range: ascending live keys, limit 2 pages through every key', async () => {
      const space = unique('range');
      const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => `${space}/${k}`);
      for (const k of [...keys].reverse()) await c().set({ key: k, value: text(k), durability: d });
      await c().set({ key: `${space}/bb`, value: text('gone'), durability: d });
      await c().delete(`${space}/bb`, d);
      const first = await c().getByRange({ prefix: space, limit: 2, durability: d });
      expect(first.type).toBe(Kv.Get);
      expect(first.items.map((i) => i.key)).toEqual(keys.slice(0, 2));
      expect(first.items[0]).toMatchObject({ value: text(keys[0]!), revision: 0 });
      expect(first.hasMore).toBe(true);
      const pages = await c().scanRange({ prefix: space, limit: 2, durability: d });
      expect(pages.length).toBe(3);
      for (const page of pages) {
        expect(page.type).toBe(Kv.Get);
        expect(page.items.length).toBeLessThanOrEqual(2);
      }
      expect(pages.flatMap((p) => p.items.map((i) => i.key))).toEqual(keys);
      expect(pages.slice(0, -1).every((p) => p.hasMore)).toBe(true);
      expect(pages[pages.length - 1]!.hasMore).toBe(false);
      const all = await c().getByRange({ prefix: space, limit: 0, durability: d });
      expect(all.items.map((i) => i.key)).toEqual(keys);
      expect(all.hasMore).toBe(false);
    });

    it('get-by-range: start/end keys and inclusivity replace the default bounds', async () => {
      const space = unique('range-bounds');
      const keys = ['a', 'b', 'c', 'd'].map((k) => `${space}/${k}`);
      for (const k of keys) await c().set({ key: k, value: text(k), durability: d });
      const keysOf = async (args: { startKey?: string; startInclusive?: boolean;
        endKey?: string; endInclusive?: boolean }): Promise<string[]> =>
        (await c().getByRange({ prefix: space, limit: 0, durability: d, ...args }))
          .items.map((i) => i.key);
      expect(await keysOf({ startKey: keys[1]!, endKey: keys[3]! })).toEqual(keys.slice(1, 3));
      expect(await keysOf({ startKey: keys[1]!, startInclusive: false, endKey: keys[3]!,
        endInclusive: true })).toEqual(keys.slice(2, 4));
      expect(await keysOf({ endKey: keys[2]!, endInclusive: true })).toEqual(keys.slice(0, 3));
      expect(await keysOf({ startKey: keys[2]! })).toEqual(keys.slice(2));
    });

    it('expired keys are not live: get-many, exists-many, bucket, scan and range skip them',
      async () => {
        const space = unique('expired-scan');
        const live = `${space}/live`;
        const gone = `${space}/gone`;
        await c().set({ key: live, value: text('l'), durability: d });
        await c().set({ key: gone, value: text('g'), expiresMs: 30, durability: d });
        await sleep(150);
        const many = await c().getMany([{ key: live, durability: d }, { key: gone, durability: d }]);
        expect(byKey(many, live).type).toBe(Kv.Get);
        expect(byKey(many, gone)).toMatchObject({ type: Kv.DoesNotExist, value: null });
        const exists = await c().existsMany([{ key: gone, durability: d }]);
        expect(byKey(exists, gone).type).toBe(Kv.DoesNotExist);
        expect((await c().getByBucket(space, d)).items.map((i) => i.key)).toEqual([live]);
        expect((await c().scanAllByPrefix(space, d)).items.map((i) => i.key)).toEqual([live]);
        expect((await c().getByRange({ prefix: space, limit: 0, durability: d })).items
          .map((i) => i.key)).toEqual([live]);
        const pages = await c().scanRange({ prefix: space, limit: 1, durability: d });
        expect(pages.flatMap((p) => p.items.map((i) => i.key))).toEqual([live]);
      });

    it('buckets and ranges order keys by UTF-16 code units (ordinal), not UTF-8 bytes',
      async () => {
        const space = unique('ordinal');
        // UTF-16: 'Z' < 'a' < 'é' < '\u{1F600}' (0xD83D) < '\uFF5E'; UTF-8 bytes put U+FF5E
        // (EF BD 9E) before U+1F600 (F0 9F 98 80).
        const names = ['\uFF5E', 'a', '\u{1F600}', 'é', 'Z'];
        for (const n of names) await c().set({ key: `${space}/${n}`, value: text(n), durability: d });
        const expected = names.map((n) => `${space}/${n}`).sort(); // JS sorts by UTF-16 units
        expect(expected.map((k) => k.slice(space.length + 1)))
          .toEqual(['Z', 'a', 'é', '\u{1F600}', '\uFF5E']);
        expect((await c().getByBucket(space, d)).items.map((i) => i.key)).toEqual(expected);
        expect((await c().getByRange({ prefix: space, limit: 0, durability: d })).items
          .map((i) => i.key)).toEqual(expected);
        const pages = await c().scanRange({ prefix: space, limit: 2, durability: d });
        expect(pages.flatMap((p) => p.items.map((i) => i.key))).toEqual(expected);
        const between = await c().getByRange({ prefix: space, limit: 0, durability: d,
          startKey: `${space}/é`, endKey: `${space}/\uFF5E` });
        expect(between.items.map((i) => i.key)).toEqual([`${space}/é`, `${space}/\u{1F600}`]);
      });

    it('get-by-range with an empty prefix -> InvalidInput (gRPC stream: no page)', async () => {
      expect((await c().getByRange({ prefix: '', limit: 2, durability: d })).type)
        .toBe(Kv.InvalidInput);
      if (transport === 'grpc') {
        expect(await c().scanRange({ prefix: '', limit: 2, durability: d })).toEqual([]);
      }
    });
  });

  it('delete-many: an empty key is rejected on its own row; mixed durabilities; echoes',
    async () => {
      const k = unique('dm-shared');
      const onlyPersistent = unique('dm-pers');
      const missing = unique('dm-missing');
      await c().set({ key: k, value: text('e'), durability: 0 });
      await c().set({ key: k, value: text('p0'), durability: 1 });
      await c().set({ key: k, value: text('p1'), durability: 1 });
      await c().set({ key: onlyPersistent, value: text('x'), durability: 1 });
      const reply = await c().deleteMany([
        { key: k, durability: 0 }, { key: '', durability: 1 }, { key: k, durability: 1 },
        { key: onlyPersistent, durability: 1 }, { key: missing, durability: 0 },
      ]);
      expect(reply.envelope).toBe(envelope(Kv.Deleted));
      expect(reply.items).toHaveLength(5);
      expect(byKey(reply, '')).toMatchObject({ type: Kv.InvalidInput, key: '' });
      expect(byKey(reply, k, 0)).toMatchObject({ type: Kv.Deleted, revision: 1, durability: 0 });
      expect(byKey(reply, k, 1)).toMatchObject({ type: Kv.Deleted, revision: 2, durability: 1 });
      expect(byKey(reply, onlyPersistent)).toMatchObject({ type: Kv.Deleted, revision: 1,
        durability: 1 });
      expect(byKey(reply, missing)).toMatchObject({ type: Kv.DoesNotExist, durability: 0 });
      for (const d of durabilities) expect((await c().get(k, d)).type).toBe(Kv.DoesNotExist);
      expect((await c().get(onlyPersistent, 1)).type).toBe(Kv.DoesNotExist);
      const again = await c().deleteMany([{ key: k, durability: 1 }]);
      expect(byKey(again, k)).toMatchObject({ type: Kv.DoesNotExist, revision: 2 });
    });

  it('delete-many: a transactional batch without coordinator key and operation id -> ' +
    'every item InvalidInput, nothing deleted', async () => {
    const a = unique('dm-tx-a');
    const b = unique('dm-tx-b');
    await c().set({ key: a, value: text('a'), durability: 1 });
    await c().set({ key: b, value: text('b'), durability: 1 });
    const tx = { n: 1, l: Date.now(), c: 3 };
    const reply = await c().deleteMany([{ key: a, durability: 1, transactionId: tx },
      { key: b, durability: 1, transactionId: tx }]);
    expect(reply.items).toHaveLength(2);
    for (const item of reply.items) expect(item.type).toBe(Kv.InvalidInput);
    expect((await c().get(a, 1)).type).toBe(Kv.Get);
    expect((await c().get(b, 1)).type).toBe(Kv.Get);
  });

  it('scan-all-by-prefix with an empty prefix -> InvalidInput', async () => {
    expect((await c().scanAllByPrefix('', 1)).type).toBe(Kv.InvalidInput);
  });

  it('get-many resolves keys of both durabilities independently', async () => {
    const k = unique('gm-mixed');
    await c().set({ key: k, value: text('eph'), durability: 0 });
    const reply = await c().getMany([{ key: k, durability: 0 }, { key: k, durability: 1 }]);
    expect(byKey(reply, k, 0)).toMatchObject({ type: Kv.Get, value: text('eph') });
    expect(byKey(reply, k, 1).type).toBe(Kv.DoesNotExist);
  });
});

describe('get-by-range REST cursor', () => {
  it('a returned cursor resumes strictly after the last key; a malformed cursor -> 100',
    async () => {
      const c = honu.client('rest');
      const space = unique('range-cursor');
      const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => `${space}/${k}`);
      for (const k of keys) await c.set({ key: k, value: text(k), durability: 1 });
      const first = await c.getByRange({ prefix: space, limit: 2, durability: 1 });
      expect(first.hasMore).toBe(true);
      expect(first.nextCursor).toBeTypeOf('string');
      expect(first.nextCursor).not.toBe('');
      const second = await c.getByRange({ prefix: space, limit: 2, durability: 1,
        cursor: first.nextCursor });
      expect(second.items.map((i) => i.key)).toEqual(keys.slice(2, 4));
      const third = await c.getByRange({ prefix: space, limit: 2, durability: 1,
        cursor: second.nextCursor });
      expect(third.items.map((i) => i.key)).toEqual(keys.slice(4));
      expect(third.hasMore).toBe(false);
      expect((await c.getByRange({ prefix: space, limit: 2, durability: 1,
        cursor: '!!not a cursor!!' })).type).toBe(Kv.InvalidInput);
    });

  it('the cursor pages at the first page snapshot: later writes are not seen', async () => {
    const c = honu.client('rest');
    const space = unique('range-snapshot');
    for (const k of ['a', 'b', 'c']) await c.set({ key: `${space}/${k}`, value: text(k),
      durability: 1 });
    const first = await c.getByRange({ prefix: space, limit: 2, durability: 1 });
    await c.set({ key: `${space}/d`, value: text('d'), durability: 1 });
    await c.set({ key: `${space}/c`, value: text('c2'), durability: 1 });
    const second = await c.getByRange({ prefix: space, limit: 2, durability: 1,
      cursor: first.nextCursor });
    expect(second.items.map((i) => i.key)).toEqual([`${space}/c`]);
    expect(second.items[0]).toMatchObject({ value: text('c'), revision: 0 });
  });
});
