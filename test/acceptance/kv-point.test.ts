// Key/value point operations against a real `honu server`, over REST and gRPC, both durabilities:
// every row of wire.md 4.2 (situation -> Type), flags 1/2/4/8/16/32, null vs empty values, TTLs,
// tombstones, revision history, and the key/value cases of kahuna-reference 9.2.
import { describe, expect, it } from 'vitest';
import {
  Flags, Kv, durabilities, sleep, text, transports, unique, zeroHlc, type KahunaClient,
} from './clients.js';
import { useHonu } from './harness.js';

const honu = useHonu('kv-point');

describe.each(transports)('key/value point operations over %s', (transport) => {
  const c = (): KahunaClient => honu.client(transport);

  describe.each(durabilities)('durability %i', (d) => {
    it('empty key -> InvalidInput on set, get, exists, delete, extend', async () => {
      expect((await c().set({ key: '', value: text('x'), durability: d })).type)
        .toBe(Kv.InvalidInput);
      expect((await c().get('', d)).type).toBe(Kv.InvalidInput);
      expect((await c().exists('', d)).type).toBe(Kv.InvalidInput);
      expect((await c().delete('', d)).type).toBe(Kv.InvalidInput);
      expect((await c().extend('', 1_000, d)).type).toBe(Kv.InvalidInput);
    });

    it('reserved __kahuna: key -> InvalidInput on set, get, exists, delete, extend', async () => {
      for (const key of ['__kahuna:x', '__kahuna:sequences:s', `__kahuna:${unique('r')}`]) {
        expect((await c().set({ key, value: text('x'), durability: d })).type)
          .toBe(Kv.InvalidInput);
        expect((await c().get(key, d)).type).toBe(Kv.InvalidInput);
        expect((await c().exists(key, d)).type).toBe(Kv.InvalidInput);
        expect((await c().delete(key, d)).type).toBe(Kv.InvalidInput);
        expect((await c().extend(key, 1_000, d)).type).toBe(Kv.InvalidInput);
      }
    });

    it('negative expiresMs -> InvalidInput on set and extend; REST extend also refuses 0',
      async () => {
        const k = unique('kv-bad-ttl');
        expect((await c().set({ key: k, value: text('x'), expiresMs: -1, durability: d })).type)
          .toBe(Kv.InvalidInput);
        expect((await c().get(k, d)).type).toBe(Kv.DoesNotExist);
        expect((await c().set({ key: k, value: text('x'), durability: d })).type).toBe(Kv.Set);
        expect((await c().extend(k, -1, d)).type).toBe(Kv.InvalidInput);
        if (transport === 'rest') expect((await c().extend(k, 0, d)).type).toBe(Kv.InvalidInput);
      });

    it('key never existed: set r0; get, exists, delete, extend DoesNotExist r0; conditional ' +
      'flags 4, 16, 32 NotSet r-1', async () => {
      const k = unique('kv-never');
      const get = await c().get(k, d);
      expect(get).toMatchObject({ type: Kv.DoesNotExist, revision: 0, value: null });
      expect(await c().exists(k, d)).toMatchObject({ type: Kv.DoesNotExist, revision: 0 });
      expect(await c().delete(k, d)).toMatchObject({ type: Kv.DoesNotExist, revision: 0 });
      expect(await c().extend(k, 1_000, d)).toMatchObject({ type: Kv.DoesNotExist, revision: 0 });
      expect(await c().set({ key: k, value: text('v'), flags: Flags.SetIfExists, durability: d }))
        .toMatchObject({ type: Kv.NotSet, revision: -1 });
      expect(await c().set({ key: k, value: text('v'), flags: Flags.SetIfEqualToValue,
        compareValue: text('v'), durability: d })).toMatchObject({ type: Kv.NotSet, revision: -1 });
      expect(await c().set({ key: k, value: text('v'), flags: Flags.SetIfEqualToRevision,
        compareRevision: 0, durability: d })).toMatchObject({ type: Kv.NotSet, revision: -1 });
      expect((await c().get(k, d)).type).toBe(Kv.DoesNotExist);
      const set = await c().set({ key: k, value: text('v'), flags: Flags.Set, durability: d });
      expect(set).toMatchObject({ type: Kv.Set, revision: 0 });
      expect(set.lastModified.l).toBeGreaterThan(0);
    });

    it('key never existed: flags 2 (NOREV) and 8 (if not exists) and 0 set r0', async () => {
      for (const flags of [Flags.SetNoRevision, Flags.SetIfNotExists, 0]) {
        const k = unique(`kv-never-flag${flags}`);
        expect(await c().set({ key: k, value: text('v'), flags, durability: d }))
          .toMatchObject({ type: Kv.Set, revision: 0 });
        expect(await c().get(k, d)).toMatchObject({ type: Kv.Get, value: text('v'), revision: 0 });
      }
    });

    it('live key at r: set r+1; get, exists at r; extend Extended r; delete Deleted r+1',
      async () => {
        const k = unique('kv-live');
        const first = await c().set({ key: k, value: text('a'), durability: d });
        expect(first).toMatchObject({ type: Kv.Set, revision: 0 });
        const second = await c().set({ key: k, value: text('b'), durability: d });
        expect(second).toMatchObject({ type: Kv.Set, revision: 1 });
        const got = await c().get(k, d);
        expect(got).toMatchObject({ type: Kv.Get, value: text('b'), revision: 1, expires: zeroHlc });
        expect(got.lastModified).toEqual(second.lastModified);
        const exists = await c().exists(k, d);
        expect(exists).toMatchObject({ type: Kv.Exists, revision: 1 });
        expect(exists.lastModified).toEqual(second.lastModified);
        const extended = await c().extend(k, 10_000, d);
        expect(extended).toMatchObject({ type: Kv.Extended, revision: 1 });
        expect((await c().get(k, d)).revision).toBe(1);
        expect(await c().delete(k, d)).toMatchObject({ type: Kv.Deleted, revision: 2 });
      });

    it('live key: flag 8 NotSet r; flag 4 Set r+1; failed compares NotSet r, value unchanged',
      async () => {
        const k = unique('kv-live-flags');
        const first = await c().set({ key: k, value: text('a'), durability: d });
        const notSet = await c().set({ key: k, value: text('x'), flags: Flags.SetIfNotExists,
          durability: d });
        expect(notSet).toMatchObject({ type: Kv.NotSet, revision: 0 });
        expect(notSet.lastModified).toEqual(first.lastModified); // NotSet: the current write's HLC
        expect(await c().set({ key: k, value: text('b'), flags: Flags.SetIfExists, durability: d }))
          .toMatchObject({ type: Kv.Set, revision: 1 });
        expect(await c().set({ key: k, value: text('x'), flags: Flags.SetIfEqualToValue,
          compareValue: text('nope'), durability: d }))
          .toMatchObject({ type: Kv.NotSet, revision: 1 });
        expect(await c().set({ key: k, value: text('x'), flags: Flags.SetIfEqualToRevision,
          compareRevision: 10, durability: d })).toMatchObject({ type: Kv.NotSet, revision: 1 });
        expect(await c().get(k, d)).toMatchObject({ type: Kv.Get, value: text('b'), revision: 1 });
      });

    it('CAS by value: match -> r1 and the new value; mismatch -> NotSet, unchanged', async () => {
      const k = unique('kv-cas-value');
      await c().set({ key: k, value: text('v1'), durability: d });
      expect(await c().set({ key: k, value: text('v2'), flags: Flags.SetIfEqualToValue,
        compareValue: text('v1'), durability: d })).toMatchObject({ type: Kv.Set, revision: 1 });
      expect(await c().get(k, d)).toMatchObject({ value: text('v2'), revision: 1 });
      expect(await c().set({ key: k, value: text('v3'), flags: Flags.SetIfEqualToValue,
        compareValue: text('v1'), durability: d })).toMatchObject({ type: Kv.NotSet, revision: 1 });
      expect(await c().get(k, d)).toMatchObject({ value: text('v2'), revision: 1 });
    });

    it('CAS by revision: compareRevision 1 on r1 -> r2; compareRevision 10 -> NotSet r2',
      async () => {
        const k = unique('kv-cas-rev');
        await c().set({ key: k, value: text('v0'), durability: d });
        await c().set({ key: k, value: text('v1'), durability: d });
        expect(await c().set({ key: k, value: text('v2'), flags: Flags.SetIfEqualToRevision,
          compareRevision: 1, durability: d })).toMatchObject({ type: Kv.Set, revision: 2 });
        expect(await c().set({ key: k, value: text('v3'), flags: Flags.SetIfEqualToRevision,
          compareRevision: 10, durability: d })).toMatchObject({ type: Kv.NotSet, revision: 2 });
        expect(await c().get(k, d)).toMatchObject({ value: text('v2'), revision: 2 });
      });

    it('CAS by revision on a fresh r1 key (kahuna-reference 9.2): r1 -> r2; 10 -> stays r1',
      async () => {
        const k = unique('kv-cas-rev-9-2');
        await c().set({ key: k, value: text('a'), durability: d });
        await c().set({ key: k, value: text('b'), durability: d });
        const other = unique('kv-cas-rev-9-2-miss');
        await c().set({ key: other, value: text('a'), durability: d });
        await c().set({ key: other, value: text('b'), durability: d });
        expect((await c().set({ key: k, value: text('c'), flags: Flags.SetIfEqualToRevision,
          compareRevision: 1, durability: d })).revision).toBe(2);
        expect(await c().set({ key: other, value: text('c'), flags: Flags.SetIfEqualToRevision,
          compareRevision: 10, durability: d })).toMatchObject({ type: Kv.NotSet, revision: 1 });
        expect(await c().get(other, d)).toMatchObject({ value: text('b'), revision: 1 });
      });

    it('tombstone at t: get DoesNotExist r0; exists, delete, extend DoesNotExist (t); ' +
      'flag 4 NotSet t; set t+1', async () => {
      const k = unique('kv-tomb');
      await c().set({ key: k, value: text('a'), durability: d });
      expect(await c().delete(k, d)).toMatchObject({ type: Kv.Deleted, revision: 1 });
      expect(await c().get(k, d)).toMatchObject({ type: Kv.DoesNotExist, revision: 0,
        value: null });
      expect((await c().exists(k, d)).type).toBe(Kv.DoesNotExist);
      expect(await c().delete(k, d)).toMatchObject({ type: Kv.DoesNotExist, revision: 1 });
      expect(await c().extend(k, 1_000, d)).toMatchObject({ type: Kv.DoesNotExist, revision: 1 });
      expect(await c().set({ key: k, value: text('b'), flags: Flags.SetIfExists, durability: d }))
        .toMatchObject({ type: Kv.NotSet, revision: 1 });
      expect(await c().set({ key: k, value: text('b'), durability: d }))
        .toMatchObject({ type: Kv.Set, revision: 2 });
      expect(await c().get(k, d)).toMatchObject({ type: Kv.Get, value: text('b'), revision: 2 });
    });

    it('tombstone: flag 8 (if not exists) sets t+1', async () => {
      const k = unique('kv-tomb-nx');
      await c().set({ key: k, value: text('a'), durability: d });
      await c().delete(k, d);
      expect(await c().set({ key: k, value: text('b'), flags: Flags.SetIfNotExists,
        durability: d })).toMatchObject({ type: Kv.Set, revision: 2 });
    });

    it('9.2: SetIfNotExists twice -> second NotSet r0; delete r1, get null, set r2, ' +
      'SetIfExists after delete NotSet r1', async () => {
      const k = unique('kv-9-2');
      expect(await c().set({ key: k, value: text('a'), flags: Flags.SetIfNotExists,
        durability: d })).toMatchObject({ type: Kv.Set, revision: 0 });
      expect(await c().set({ key: k, value: text('b'), flags: Flags.SetIfNotExists,
        durability: d })).toMatchObject({ type: Kv.NotSet, revision: 0 });
      expect(await c().delete(k, d)).toMatchObject({ type: Kv.Deleted, revision: 1 });
      expect((await c().get(k, d)).value).toBeNull();
      expect(await c().set({ key: k, value: text('c'), flags: Flags.SetIfExists, durability: d }))
        .toMatchObject({ type: Kv.NotSet, revision: 1 });
      expect(await c().set({ key: k, value: text('c'), durability: d }))
        .toMatchObject({ type: Kv.Set, revision: 2 });
      const missing = unique('kv-9-2-missing');
      expect(await c().set({ key: missing, value: text('x'), flags: Flags.SetIfExists,
        durability: d })).toMatchObject({ type: Kv.NotSet, revision: -1 });
    });

    it('revision history: revisions 0 and 1 read back after later sets; latest with -1',
      async () => {
        const k = unique('kv-history');
        for (const v of ['v0', 'v1', 'v2']) await c().set({ key: k, value: text(v), durability: d });
        expect(await c().get(k, d, 0)).toMatchObject({ type: Kv.Get, value: text('v0'),
          revision: 0 });
        expect(await c().get(k, d, 1)).toMatchObject({ type: Kv.Get, value: text('v1'),
          revision: 1 });
        expect(await c().get(k, d, -1)).toMatchObject({ type: Kv.Get, value: text('v2'),
          revision: 2 });
        expect((await c().exists(k, d, 0)).type).toBe(Kv.Exists);
      });

    it('a revision that was never written reads DoesNotExist', async () => {
      const k = unique('kv-future-rev');
      await c().set({ key: k, value: text('v0'), durability: d });
      await c().set({ key: k, value: text('v1'), durability: d });
      expect((await c().get(k, d, 5)).type).toBe(Kv.DoesNotExist);
      expect((await c().get(k, d, 5)).value).toBeNull();
    });

    it('flags 0 behaves like 1 on a live key', async () => {
      const k = unique('kv-flags0');
      await c().set({ key: k, value: text('a'), durability: d });
      expect(await c().set({ key: k, value: text('b'), flags: 0, durability: d }))
        .toMatchObject({ type: Kv.Set, revision: 1 });
    });

    it('10 concurrent sets of one key get 10 distinct revisions 0..9; the last one reads back',
      async () => {
        const k = unique('kv-race-set');
        const replies = await Promise.all(Array.from({ length: 10 }, (_, i) =>
          c().set({ key: k, value: text(`v${i}`), durability: d })));
        expect(replies.every((r) => r.type === Kv.Set)).toBe(true);
        expect(replies.map((r) => r.revision).sort((x, y) => x - y))
          .toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        const last = replies.findIndex((r) => r.revision === 9);
        expect(await c().get(k, d)).toMatchObject({ value: text(`v${last}`), revision: 9 });
      });

    it('10 concurrent SetIfNotExists: exactly one Set; 10 concurrent CAS on revision 0: ' +
      'exactly one Set', async () => {
      const k = unique('kv-race-nx');
      const nx = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        c().set({ key: k, value: text(`v${i}`), flags: Flags.SetIfNotExists, durability: d })));
      expect(nx.filter((r) => r.type === Kv.Set)).toHaveLength(1);
      expect(nx.filter((r) => r.type === Kv.NotSet)).toHaveLength(9);
      for (const r of nx.filter((x) => x.type === Kv.NotSet)) expect(r.revision).toBe(0);
      const cas = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        c().set({ key: k, value: text(`c${i}`), flags: Flags.SetIfEqualToRevision,
          compareRevision: 0, durability: d })));
      expect(cas.filter((r) => r.type === Kv.Set)).toHaveLength(1);
      expect(cas.find((r) => r.type === Kv.Set)!.revision).toBe(1);
      expect((await c().get(k, d)).revision).toBe(1);
    });

    it('readTimestamp reads the newest revision committed at or before that HLC', async () => {
      const k = unique('kv-read-ts');
      const before = { n: 0, l: Date.now() - 60_000, c: 0 };
      const first = await c().set({ key: k, value: text('v0'), durability: d });
      await sleep(5);
      const second = await c().set({ key: k, value: text('v1'), durability: d });
      expect(second.lastModified.l).toBeGreaterThan(first.lastModified.l);
      expect(await c().get(k, d, -1, first.lastModified)).toMatchObject({ type: Kv.Get,
        value: text('v0'), revision: 0 });
      expect(await c().get(k, d, -1, second.lastModified)).toMatchObject({ type: Kv.Get,
        value: text('v1'), revision: 1 });
      // kahuna-ts snapshotMs: {node 0, physical ms, counter 0xFFFFFFFF}
      const snapshotMs = { n: 0, l: first.lastModified.l, c: 0xFFFFFFFF };
      expect(await c().get(k, d, -1, snapshotMs)).toMatchObject({ value: text('v0') });
      expect((await c().get(k, d, -1, before)).type).toBe(Kv.DoesNotExist);
    });

    it('flag 2 (NOREV) increments the revision but that revision is not archived', async () => {
      const k = unique('kv-norev');
      await c().set({ key: k, value: text('v0'), durability: d });
      expect(await c().set({ key: k, value: text('v1'), flags: Flags.SetNoRevision,
        durability: d })).toMatchObject({ type: Kv.Set, revision: 1 });
      expect(await c().get(k, d)).toMatchObject({ type: Kv.Get, value: text('v1'), revision: 1 });
      expect(await c().get(k, d, 0)).toMatchObject({ type: Kv.Get, value: text('v0'),
        revision: 0 });
      expect((await c().get(k, d, 1)).type).toBe(Kv.DoesNotExist);
    });

    it('null value stores a key without a value; empty bytes are stored as empty', async () => {
      const nullKey = unique('kv-null');
      const emptyKey = unique('kv-empty');
      expect(await c().set({ key: nullKey, value: null, durability: d }))
        .toMatchObject({ type: Kv.Set, revision: 0 });
      expect(await c().set({ key: emptyKey, value: Buffer.alloc(0), durability: d }))
        .toMatchObject({ type: Kv.Set, revision: 0 });
      const gotNull = await c().get(nullKey, d);
      expect(gotNull.type).toBe(Kv.Get);
      expect(gotNull.value).toBeNull();
      const gotEmpty = await c().get(emptyKey, d);
      expect(gotEmpty.type).toBe(Kv.Get);
      expect(gotEmpty.value).not.toBeNull();
      expect(gotEmpty.value!.length).toBe(0);
      expect((await c().exists(nullKey, d)).type).toBe(Kv.Exists);
    });

    it('get/set reports the expiry: now + expiresMs; extend moves it to now + expiresMs',
      async () => {
        const k = unique('kv-expires');
        const before = Date.now();
        await c().set({ key: k, value: text('x'), expiresMs: 30_000, durability: d });
        const got = await c().get(k, d);
        expect(got.expires.l).toBeGreaterThanOrEqual(before + 30_000 - 1_000);
        expect(got.expires.l).toBeLessThanOrEqual(Date.now() + 30_000 + 1_000);
        await c().extend(k, 60_000, d);
        const extended = await c().get(k, d);
        expect(extended.expires.l).toBeGreaterThanOrEqual(before + 60_000 - 1_000);
        expect(extended.revision).toBe(0);
      });

    it('expired key: get DoesNotExist r0, exists DoesNotExist, extend DoesNotExist r; ' +
      'set Set (r+1 or 0)', async () => {
      const k = unique('kv-expired');
      await c().set({ key: k, value: text('a'), durability: d });
      await c().set({ key: k, value: text('b'), expiresMs: 30, durability: d });
      await sleep(120);
      expect(await c().get(k, d)).toMatchObject({ type: Kv.DoesNotExist, revision: 0,
        value: null });
      expect((await c().exists(k, d)).type).toBe(Kv.DoesNotExist);
      expect(await c().extend(k, 1_000, d)).toMatchObject({ type: Kv.DoesNotExist, revision: 1 });
      const set = await c().set({ key: k, value: text('c'), durability: d });
      expect(set.type).toBe(Kv.Set);
      expect([0, 2]).toContain(set.revision);
      expect(await c().get(k, d)).toMatchObject({ type: Kv.Get, value: text('c') });
    });

    it('error handling: get, delete, extend of a missing key -> DoesNotExist', async () => {
      const k = unique('kv-missing');
      expect((await c().get(k, d)).type).toBe(Kv.DoesNotExist);
      expect((await c().delete(k, d)).type).toBe(Kv.DoesNotExist);
      expect((await c().extend(k, 1_000, d)).type).toBe(Kv.DoesNotExist);
    });
  });

  it('ephemeral and persistent keys of the same name are separate namespaces', async () => {
    const k = unique('kv-namespaces');
    await c().set({ key: k, value: text('eph'), durability: 0 });
    expect((await c().get(k, 1)).type).toBe(Kv.DoesNotExist);
    await c().set({ key: k, value: text('pers'), durability: 1 });
    await c().set({ key: k, value: text('pers2'), durability: 1 });
    expect(await c().get(k, 0)).toMatchObject({ value: text('eph'), revision: 0 });
    expect(await c().get(k, 1)).toMatchObject({ value: text('pers2'), revision: 1 });
    await c().delete(k, 0);
    expect((await c().get(k, 1)).type).toBe(Kv.Get);
  });

  it('unicode keys; a write over one transport reads back identically over the other',
    async () => {
      const other = transport === 'rest' ? 'grpc' : 'rest';
      for (const d of durabilities) {
        const k = `${unique('kv-ü ñ')}/😀 \u00e9\u0301 "q" \\ x`;
        const set = await c().set({ key: k, value: text('ünï'), expiresMs: 60_000,
          durability: d });
        expect(set.type).toBe(Kv.Set);
        const here = await c().get(k, d);
        const there = await honu.client(other).get(k, d);
        expect(here).toMatchObject({ type: Kv.Get, value: text('ünï'), revision: 0 });
        expect(there).toEqual(here);
        expect(here.lastModified).toEqual(set.lastModified);
        expect(await honu.client(other).exists(k, d)).toMatchObject({ type: Kv.Exists,
          expires: here.expires, lastModified: here.lastModified });
      }
    });

  it('a 1 MiB value round-trips in both durabilities', async () => {
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    for (const d of durabilities) {
      const k = unique('kv-1mib');
      expect(await c().set({ key: k, value: big, durability: d }))
        .toMatchObject({ type: Kv.Set, revision: 0 });
      const got = await c().get(k, d);
      expect(got.type).toBe(Kv.Get);
      expect(got.value!.equals(big)).toBe(true);
    }
  });
});

// The TTL cases sleep; they run concurrently so the suite waits about 2 s once.
describe.concurrent('key/value TTLs', () => {
  for (const transport of transports) {
    for (const d of durabilities) {
      const c = (): KahunaClient => honu.client(transport);

      it(`${transport} durability ${d}: a 1 ms TTL is gone within 50 ms`, async () => {
        const k = unique('kv-ttl-1ms');
        expect((await c().set({ key: k, value: text('x'), expiresMs: 1, durability: d })).type)
          .toBe(Kv.Set);
        await sleep(50);
        const got = await c().get(k, d);
        expect(got.type).toBe(Kv.DoesNotExist);
        expect(got.value).toBeNull();
      });

      it(`${transport} durability ${d}: a 1000 ms TTL is there at once and gone after 1.5 s`,
        async () => {
          const k = unique('kv-ttl-1s');
          await c().set({ key: k, value: text('x'), expiresMs: 1_000, durability: d });
          expect(await c().get(k, d)).toMatchObject({ type: Kv.Get, value: text('x') });
          await sleep(1_500);
          const got = await c().get(k, d);
          expect(got.type).toBe(Kv.DoesNotExist);
          expect(got.value).toBeNull();
        });

      it(`${transport} durability ${d}: extend to 5000 after a 1000 ms TTL keeps the key ` +
        'for 2 s, revision 0', async () => {
        const k = unique('kv-ttl-extend');
        await c().set({ key: k, value: text('x'), expiresMs: 1_000, durability: d });
        expect(await c().extend(k, 5_000, d)).toMatchObject({ type: Kv.Extended, revision: 0 });
        await sleep(2_000);
        expect(await c().get(k, d)).toMatchObject({ type: Kv.Get, value: text('x'),
          revision: 0 });
      });
    }
  }
});
