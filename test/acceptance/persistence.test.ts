// Durability of a real `honu server` under SIGKILL (wire.md 4.1 "persistent locks survive a
// restart", 4.7 "persistent data must survive a restart"): every acknowledged persistent write,
// revision, fencing token and sequence value is there after kill -9 and a restart on the same
// data directory, and the next revision, token and allocation continue past them. Ephemeral data
// may be gone.
import { describe, expect, it } from 'vitest';
import {
  Kv, Lock, Seq, createClient, owner, sleep, text, unique, type KahunaClient, type Transport,
} from './clients.js';
import { removeDir, startHonu, tempDataDir, type HonuProcess } from './server.js';

const P = 1; // persistent

interface Node {
  readonly server: HonuProcess;
  readonly rest: KahunaClient;
  readonly grpc: KahunaClient;
}

async function startNode(dataDir: string): Promise<Node> {
  const server = await startHonu(dataDir);
  return { server, rest: createClient('rest', server.url), grpc: createClient('grpc', server.url) };
}

async function kill9(node: Node): Promise<void> {
  await node.server.kill9();
  node.rest.close();
  node.grpc.close();
}

async function stopNode(node: Node | null): Promise<void> {
  if (node === null) return;
  node.rest.close();
  node.grpc.close();
  await node.server.stop();
}

describe('kill -9 and restart on the same data directory', () => {
  it('keeps acknowledged persistent keys, revisions, locks, fencing tokens and sequence values',
    async () => {
      const dataDir = tempDataDir('kill9');
      let node: Node | null = null;
      try {
        node = await startNode(dataDir);
        const written = new Map<Transport, {
          history: string; tomb: string; nullKey: string; emptyKey: string; ttlKey: string;
          manyA: string; manyB: string; ephemeralKey: string; ttlExpires: number;
        }>();
        for (const t of ['rest', 'grpc'] as const) {
          const c = node[t];
          const keys = {
            history: unique(`p-history-${t}`), tomb: unique(`p-tomb-${t}`),
            nullKey: unique(`p-null-${t}`), emptyKey: unique(`p-empty-${t}`),
            ttlKey: unique(`p-ttl-${t}`), manyA: unique(`p-many-a-${t}`),
            manyB: unique(`p-many-b-${t}`), ephemeralKey: unique(`e-${t}`), ttlExpires: 0,
          };
          for (const [i, v] of ['v0', 'v1', 'v2'].entries()) {
            expect(await c.set({ key: keys.history, value: text(v), durability: P }))
              .toMatchObject({ type: Kv.Set, revision: i });
          }
          await c.set({ key: keys.tomb, value: text('t'), durability: P });
          expect((await c.delete(keys.tomb, P)).revision).toBe(1);
          await c.set({ key: keys.nullKey, value: null, durability: P });
          await c.set({ key: keys.emptyKey, value: Buffer.alloc(0), durability: P });
          await c.set({ key: keys.ttlKey, value: text('ttl'), expiresMs: 120_000,
            durability: P });
          expect(await c.extend(keys.ttlKey, 180_000, P))
            .toMatchObject({ type: Kv.Extended, revision: 0 });
          keys.ttlExpires = (await c.get(keys.ttlKey, P)).expires.l;
          expect(keys.ttlExpires).toBeGreaterThan(Date.now() + 170_000);
          const many = await c.setMany([{ key: keys.manyA, value: text('a'), durability: P },
            { key: keys.manyB, value: text('b'), durability: P }]);
          expect(many.items.every((i) => i.type === Kv.Set)).toBe(true);
          await c.set({ key: keys.ephemeralKey, value: text('e'), durability: 0 });
          written.set(t, keys);
        }

        // Locks: held (token 0), released and re-granted (token 1), released (token 0 used).
        const a = owner();
        const b = owner();
        const held = unique('p-lock-held');
        const regranted = unique('p-lock-regranted');
        const released = unique('p-lock-released');
        expect(await node.rest.tryLock(held, a, 60_000, P))
          .toEqual({ type: Lock.Locked, fencingToken: 0 });
        expect((await node.grpc.extendLock(held, a, 120_000, P)).type).toBe(Lock.Extended);
        const heldInfo = await node.rest.getLock(held, P);
        const expiring = unique('p-lock-expiring'); // lease ends while the node is down
        expect(await node.grpc.tryLock(expiring, a, 300, P)).toMatchObject({ fencingToken: 0 });
        const shortTtl = unique('p-short-ttl'); // expires while the node is down
        await node.rest.set({ key: shortTtl, value: text('soon'), expiresMs: 300, durability: P });
        expect(await node.grpc.tryLock(regranted, a, 120_000, P)).toMatchObject({ fencingToken: 0 });
        expect((await node.grpc.unlock(regranted, a, P)).type).toBe(Lock.Unlocked);
        expect(await node.grpc.tryLock(regranted, b, 120_000, P))
          .toEqual({ type: Lock.Locked, fencingToken: 1 });
        expect(await node.rest.tryLock(released, a, 120_000, P)).toMatchObject({ fencingToken: 0 });
        expect((await node.rest.unlock(released, a, P)).type).toBe(Lock.Unlocked);

        // Sequences: 1..5 reserved, 6 handed out by next, both acknowledged.
        const seq = unique('p-seq');
        expect((await node.grpc.createSequence({ name: seq, initialValue: 0, increment: 1 })).type)
          .toBe(Seq.Success);
        expect((await node.rest.reserveSequence(seq, 5)).allocation)
          .toMatchObject({ start: 1, end: 5 });
        expect((await node.grpc.nextSequence(seq)).allocation).toMatchObject({ start: 6, end: 6 });
        const updated = unique('p-seq-updated');
        await node.rest.createSequence({ name: updated, initialValue: 0, increment: 1 });
        expect((await node.grpc.updateSequence({ name: updated, currentValue: 5000,
          increment: 10, maxValue: 100_000 })).type).toBe(Seq.Success);
        const started = Date.now();

        await kill9(node);
        node = await startNode(dataDir);

        for (const t of ['rest', 'grpc'] as const) {
          const keys = written.get(t)!;
          for (const c of [node.rest, node.grpc]) {
            expect(await c.get(keys.history, P)).toMatchObject({ type: Kv.Get, value: text('v2'),
              revision: 2 });
            expect(await c.get(keys.history, P, 0)).toMatchObject({ type: Kv.Get,
              value: text('v0'), revision: 0 });
            expect(await c.get(keys.history, P, 1)).toMatchObject({ type: Kv.Get,
              value: text('v1'), revision: 1 });
            expect((await c.get(keys.tomb, P)).type).toBe(Kv.DoesNotExist);
            expect(await c.get(keys.nullKey, P)).toMatchObject({ type: Kv.Get, value: null });
            const empty = await c.get(keys.emptyKey, P);
            expect(empty.type).toBe(Kv.Get);
            expect(empty.value?.length).toBe(0);
            const ttl = await c.get(keys.ttlKey, P);
            expect(ttl).toMatchObject({ type: Kv.Get, value: text('ttl') });
            expect(ttl.expires.l).toBe(keys.ttlExpires);
            expect(await c.get(keys.manyA, P)).toMatchObject({ type: Kv.Get, value: text('a') });
            expect(await c.get(keys.manyB, P)).toMatchObject({ type: Kv.Get, value: text('b') });
            expect([Kv.Get, Kv.DoesNotExist]).toContain((await c.get(keys.ephemeralKey, 0)).type);
          }
          // Revisions continue past the acknowledged ones.
          expect(await node[t].set({ key: keys.history, value: text('v3'), durability: P }))
            .toMatchObject({ type: Kv.Set, revision: 3 });
          expect(await node[t].delete(keys.tomb, P))
            .toMatchObject({ type: Kv.DoesNotExist, revision: 1 });
          expect(await node[t].set({ key: keys.tomb, value: text('back'), durability: P }))
            .toMatchObject({ type: Kv.Set, revision: 2 });
        }

        for (const c of [node.rest, node.grpc]) {
          const info = await c.getLock(held, P);
          expect(info).toMatchObject({ type: Lock.Got, fencingToken: 0 });
          expect(info.owner).toEqual(a);
          expect(info.expires).toEqual(heldInfo.expires);
          expect(await c.tryLock(held, b, 1_000, P)).toEqual({ type: Lock.Busy, fencingToken: 0 });
          const regrantedInfo = await c.getLock(regranted, P);
          expect(regrantedInfo).toMatchObject({ type: Lock.Got, fencingToken: 1 });
          expect(regrantedInfo.owner).toEqual(b);
        }
        expect((await node.grpc.unlock(regranted, b, P)).type).toBe(Lock.Unlocked);
        expect(await node.rest.tryLock(regranted, a, 10_000, P))
          .toEqual({ type: Lock.Locked, fencingToken: 2 });
        expect(await node.grpc.tryLock(released, b, 10_000, P))
          .toEqual({ type: Lock.Locked, fencingToken: 1 });

        await sleep(Math.max(0, 400 - (Date.now() - started)));
        for (const c of [node.rest, node.grpc]) {
          expect((await c.get(shortTtl, P)).type).toBe(Kv.DoesNotExist);
          expect((await c.getLock(expiring, P)).type).toBe(Lock.LockDoesNotExist);
        }
        expect(await node.rest.tryLock(expiring, b, 10_000, P))
          .toEqual({ type: Lock.Locked, fencingToken: 1 });
        const updatedEntry = await node.grpc.getSequence(updated);
        expect(updatedEntry.sequence).toMatchObject({ increment: 10, maxValue: 100_000,
          incarnation: 1 });
        expect(updatedEntry.sequence!.currentValue).toBeGreaterThanOrEqual(5000);
        const afterUpdate = (await node.rest.nextSequence(updated)).allocation!;
        expect(afterUpdate.start).toBeGreaterThanOrEqual(5010);
        expect((afterUpdate.start - 5000) % 10).toBe(0);

        const entry = await node.rest.getSequence(seq);
        expect(entry.type).toBe(Seq.Success);
        expect(entry.sequence).toMatchObject({ name: seq, increment: 1, initialValue: 0 });
        expect(entry.sequence!.currentValue).toBeGreaterThanOrEqual(6);
        const next = await node.grpc.nextSequence(seq);
        expect(next.type).toBe(Seq.Success);
        expect(next.allocation!.start).toBeGreaterThan(6);
        const after = await node.rest.reserveSequence(seq, 2);
        expect(after.allocation!.start).toBeGreaterThan(next.allocation!.end);
      } finally {
        await stopNode(node);
        removeDir(dataDir);
      }
    });

  it('write storm: concurrent writers, kill -9 at a random moment, every acknowledged write ' +
    'is found after the restart', async () => {
    const dataDir = tempDataDir('storm');
    let node: Node | null = null;
    try {
      node = await startNode(dataDir);
      const seq = unique('storm-seq');
      await node.rest.createSequence({ name: seq, initialValue: 0, increment: 1 });
      const lockName = unique('storm-lock');
      let stopping = false;
      const acked = new Map<string, string>(); // key -> value of an acknowledged Set
      const hot = new Map<string, { value: number; revision: number }>(); // last ack per hot key
      const sequenceValues: number[] = [];
      const tokens: number[] = [];
      const clients = [node.rest, node.grpc];
      const prefix = unique('storm');

      const kvWriter = async (w: number): Promise<void> => {
        const c = clients[w % 2]!;
        const hotKey = `${prefix}/hot-${w}`;
        for (let i = 0; !stopping; i++) {
          try {
            if (i % 4 === 3) {
              const r = await c.set({ key: hotKey, value: text(String(i)), durability: P });
              if (r.type === Kv.Set) hot.set(hotKey, { value: i, revision: r.revision });
            } else if (i % 4 === 2) {
              const batch = [0, 1].map((j) => ({ key: `${prefix}/w${w}-${i}-${j}`,
                value: text(`m${w}-${i}-${j}`), durability: P }));
              const values = new Map(batch.map((x) => [x.key, x.value.toString('utf8')]));
              const r = await c.setMany(batch);
              for (const item of r.items) {
                if (item.type === Kv.Set) acked.set(item.key, values.get(item.key)!);
              }
            } else {
              const key = `${prefix}/w${w}-${i}`;
              const r = await c.set({ key, value: text(`v${w}-${i}`), durability: P });
              if (r.type === Kv.Set) acked.set(key, `v${w}-${i}`);
            }
          } catch {
            return; // the node is gone
          }
        }
      };
      const sequenceWriter = async (c: KahunaClient): Promise<void> => {
        while (!stopping) {
          try {
            const r = await c.nextSequence(seq);
            if (r.type === Seq.Success) sequenceValues.push(r.allocation!.start);
          } catch {
            return;
          }
        }
      };
      let lockFree = true; // false from a grant until its unlock is acknowledged
      const lockWriter = async (c: KahunaClient): Promise<void> => {
        while (!stopping) {
          try {
            const o = owner();
            lockFree = false;
            const r = await c.tryLock(lockName, o, 60_000, P);
            if (r.type === Lock.Locked) tokens.push(r.fencingToken);
            if ((await c.unlock(lockName, o, P)).type === Lock.Unlocked) lockFree = true;
          } catch {
            return;
          }
        }
      };
      // Keys whose acknowledged delete is their last acknowledged write: they must stay gone.
      const deleted = new Set<string>();
      const deleter = async (c: KahunaClient, w: number): Promise<void> => {
        for (let i = 0; !stopping; i++) {
          const key = `${prefix}/d${w}-${i}`;
          try {
            if ((await c.set({ key, value: text('doomed'), durability: P })).type !== Kv.Set) {
              continue;
            }
            if ((await c.delete(key, P)).type === Kv.Deleted) deleted.add(key);
          } catch {
            return;
          }
        }
      };

      const writers = [
        ...Array.from({ length: 6 }, (_, w) => kvWriter(w)),
        sequenceWriter(node.rest), sequenceWriter(node.grpc), lockWriter(node.grpc),
        deleter(node.rest, 0), deleter(node.grpc, 1),
      ];
      await sleep(1_000 + Math.floor(Math.random() * 1_000));
      await node.server.kill9();
      stopping = true;
      await Promise.all(writers);
      node.rest.close();
      node.grpc.close();
      const ackedKeys = [...acked.keys()];
      expect(ackedKeys.length).toBeGreaterThan(20);
      expect(sequenceValues.length).toBeGreaterThan(5);
      expect(tokens.length).toBeGreaterThan(2);
      expect(deleted.size).toBeGreaterThan(2);

      node = await startNode(dataDir);
      const missing: string[] = [];
      for (let i = 0; i < ackedKeys.length; i += 200) {
        const chunk = ackedKeys.slice(i, i + 200);
        const c = i % 400 === 0 ? node.rest : node.grpc;
        const reply = await c.getMany(chunk.map((key) => ({ key, durability: P })));
        const byKey = new Map(reply.items.map((item) => [item.key, item]));
        for (const key of chunk) {
          const item = byKey.get(key);
          if (item === undefined || item.type !== Kv.Get ||
            item.value?.toString('utf8') !== acked.get(key)) missing.push(key);
        }
      }
      expect(missing, `${missing.length} of ${ackedKeys.length} acknowledged keys`).toEqual([]);
      const deletedKeys = [...deleted];
      const resurrected = (await node.grpc.existsMany(deletedKeys.map((key) =>
        ({ key, durability: P })))).items.filter((i) => i.type !== Kv.DoesNotExist)
        .map((i) => i.key);
      expect(resurrected, `acknowledged deletes that came back`).toEqual([]);
      for (const [key, last] of hot) {
        const got = await node.grpc.get(key, P);
        expect(got.type).toBe(Kv.Get);
        expect(got.revision).toBeGreaterThanOrEqual(last.revision);
        expect(Number(got.value!.toString('utf8'))).toBeGreaterThanOrEqual(last.value);
      }
      expect(new Set(sequenceValues).size).toBe(sequenceValues.length);
      const next = await node.rest.nextSequence(seq);
      expect(next.type).toBe(Seq.Success);
      expect(next.allocation!.start).toBeGreaterThan(Math.max(...sequenceValues));
      const o = owner();
      const lock = await node.rest.tryLock(lockName, o, 10_000, P);
      if (lockFree) {
        expect(lock.type).toBe(Lock.Locked); // the last unlock was acknowledged
      }
      if (lock.type === Lock.Busy) {
        // The kill came between a grant and its unlock: that grant is still held.
        const info = await node.rest.getLock(lockName, P);
        expect(info.fencingToken).toBeGreaterThanOrEqual(Math.max(...tokens));
      } else {
        expect(lock.type).toBe(Lock.Locked);
        expect(lock.fencingToken).toBeGreaterThan(Math.max(...tokens));
      }
    } finally {
      await stopNode(node);
      removeDir(dataDir);
    }
  });
});
