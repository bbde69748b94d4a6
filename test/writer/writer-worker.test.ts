// The writer worker on a real thread (compiled, from dist/) with real RocksDB in a temp dir:
// the test thread plays two partition workers, one link each.
import { afterEach, describe, expect, it } from 'vitest';
import { RocksStore } from '../../src/env/rocksdb.js';
import { raftLogKey, raftLogRange, stateKey } from '../../src/core/writer/keys.js';
import type { ErrorData } from '../../src/errors.js';
import { makeTempDir, removeDir, WriterHarness } from './fixtures/harness.js';
import { encodePersistBatch } from '../../src/ipc/frames.js';
import { WriteKind } from '../../src/ipc/generated/ring.js';
import { RingProducer } from '../../src/ipc/ring.js';

const ringBytes = 64 * 1024; // small, so acks and batches hit full rings (backpressure)
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function valueOf(partition: number, index: number): Uint8Array {
  return new TextEncoder().encode(`p${partition}-entry-${index}`);
}

async function shutdown(harness: WriterHarness): Promise<void> {
  harness.send({ type: 'shutdown' });
  await harness.waitFor('closed');
  expect(await harness.exited()).toBe(0);
}

describe('writer worker', () => {
  it('acks every batch of two links in order, serves reads, and survives a reopen', async () => {
    const dir = makeTempDir('writer');
    dirs.push(dir);
    const acked: string[] = [];
    const harness = new WriterHarness(dir, 2, ringBytes, {
      onAck: (partition, sequence, error) => {
        expect(error).toBeNull();
        acked.push(`${partition}/${sequence}`);
      },
    });
    await harness.waitFor('ready');
    const batchesPerPartition = 1500;
    const partitions = [0, 1, 2, 3]; // worker w owns partitions p with p % 2 === w
    let resolved = 0;
    for (let i = 1; i <= batchesPerPartition; i += 1) {
      for (const p of partitions) {
        const end = harness.ends[p % 2];
        if (end === undefined) throw new Error('no link');
        const ops = [
          { kind: 'put' as const, key: raftLogKey(p, i), value: valueOf(p, i) },
          { kind: 'put' as const, key: stateKey(p, 1, Uint8Array.of(i % 7)), value: valueOf(p, i) },
        ];
        void end.client.persist(p, ops).then(() => {
          resolved += 1;
        });
      }
      if (i % 100 === 0) await harness.pump(0);
    }
    const total = batchesPerPartition * partitions.length;
    await harness.pumpUntil(() => resolved === total);
    expect(acked).toHaveLength(total);
    for (const p of partitions) {
      const mine = acked.filter((a) => a.startsWith(`${p}/`)).map((a) => Number(a.split('/')[1]));
      expect(mine).toEqual(Array.from({ length: batchesPerPartition }, (_, k) => k + 1));
    }

    // Reads on link 1 see every write link 1 sent before them; ranges page with `more`.
    const end1 = harness.ends[1];
    if (end1 === undefined) throw new Error('no link 1');
    const reads = (async () => {
      const got = await end1.client.get(raftLogKey(3, 77));
      expect(new TextDecoder().decode(got)).toBe('p3-entry-77');
      expect(await end1.client.get(raftLogKey(3, batchesPerPartition + 1))).toBeUndefined();
      const range = raftLogRange(1, 10, 1010);
      const keys: number[] = [];
      let start = range.start;
      for (;;) {
        const page = await end1.client.range(start, range.end, 300);
        for (const e of page.entries) keys.push(new DataView(e.key.buffer).getUint32(9));
        const last = page.entries.at(-1);
        if (!page.more || last === undefined) break;
        start = Uint8Array.of(...last.key, 0);
      }
      expect(keys).toEqual(Array.from({ length: 1000 }, (_, k) => k + 10));
    })();
    let readsDone = false;
    void reads.finally(() => {
      readsDone = true;
    });
    await harness.pumpUntil(() => readsDone);
    await reads;
    await shutdown(harness);
    // 'stats' carries every flush (the last report is posted at shutdown).
    let batchCount = 0;
    let entryCount = 0;
    for (const e of harness.events) {
      if (e.type !== 'stats') continue;
      batchCount += e.batchCount;
      entryCount += e.entryCount;
      expect(e.samples.fsyncMs.length).toBeLessThanOrEqual(e.flushCount);
      expect(e.flushCount).toBeGreaterThan(0);
    }
    expect(batchCount).toBe(total);
    expect(entryCount).toBe(2 * total);

    const store = await RocksStore.open(dir, { mustExist: true });
    try {
      for (const p of partitions) {
        const log = store.rangeSync({ ...raftLogRange(p), limit: 10_000 });
        expect(log.entries).toHaveLength(batchesPerPartition);
        expect(new TextDecoder().decode(log.entries[41]?.value)).toBe(`p${p}-entry-42`);
      }
    } finally {
      await store.close();
    }
  });

  it('applies deletes and range deletes atomically with the puts of a batch', async () => {
    const dir = makeTempDir('writer-del');
    dirs.push(dir);
    const harness = new WriterHarness(dir, 1, ringBytes);
    await harness.waitFor('ready');
    const end = harness.ends[0];
    if (end === undefined) throw new Error('no link');
    const puts = Array.from({ length: 20 }, (_, i) => ({
      kind: 'put' as const, key: raftLogKey(5, i + 1), value: Uint8Array.of(i),
    }));
    let done = false;
    const work = (async () => {
      await end.client.persist(5, puts.slice(0, 10));
      // The range delete also removes keys put earlier in the same flush and batch.
      const first = end.client.persist(5, puts.slice(10));
      const second = end.client.persist(5, [
        { kind: 'put', key: raftLogKey(5, 30), value: Uint8Array.of(30) },
        { kind: 'deleteRange', start: raftLogKey(5, 1), end: raftLogKey(5, 16) },
        { kind: 'delete', key: raftLogKey(5, 20) },
        { kind: 'put', key: raftLogKey(5, 3), value: Uint8Array.of(33) },
      ]);
      await Promise.all([first, second]);
      return end.client.range(raftLogRange(5).start, raftLogRange(5).end, 100);
    })();
    void work.finally(() => {
      done = true;
    });
    await harness.pumpUntil(() => done);
    const result = await work;
    const indexes = result.entries.map((e) => new DataView(e.key.buffer).getUint32(9));
    expect(indexes).toEqual([3, 16, 17, 18, 19, 30]);
    expect(result.entries[0]?.value).toEqual(Uint8Array.of(33));
    await shutdown(harness);
  });

  it('answers a read after the writes its link sent before it, without awaiting acks', async () => {
    const dir = makeTempDir('writer-order');
    dirs.push(dir);
    const harness = new WriterHarness(dir, 1, ringBytes);
    await harness.waitFor('ready');
    const end = harness.ends[0];
    if (end === undefined) throw new Error('no link');
    const seen: (number | undefined)[] = [];
    for (let i = 1; i <= 50; i += 1) {
      const key = stateKey(9, 2, Uint8Array.of(1));
      void end.client.persist(9, [{ kind: 'put', key, value: Uint8Array.of(i) }]);
      void end.client.get(key).then((v) => seen.push(v?.[0]));
      if (i % 7 === 0) await harness.pump(0); // some reads share a flush with their write
    }
    await harness.pumpUntil(() => seen.length === 50);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
    await shutdown(harness);
  });

  it('rejects a batch larger than a frame without using a sequence number', async () => {
    const dir = makeTempDir('writer-big');
    dirs.push(dir);
    const harness = new WriterHarness(dir, 1, ringBytes);
    await harness.waitFor('ready');
    const end = harness.ends[0];
    if (end === undefined) throw new Error('no link');
    const big = new Uint8Array(ringBytes);
    const error = await end.client.persist(0, [{ kind: 'put', key: raftLogKey(0, 1), value: big }])
      .then(() => null, (e: ErrorData) => e);
    expect(error?.code).toBe('HONU_ERR_INVALID_INPUT');
    expect(end.client.lastSequence(0)).toBe(0n);
    await shutdown(harness);
  });

  it('writes a persist larger than a frame as one atomic chain of frames', async () => {
    const dir = makeTempDir('writer-chain');
    dirs.push(dir);
    const acks: bigint[] = [];
    const harness = new WriterHarness(dir, 1, ringBytes, {
      onAck: (_p, sequence, error) => {
        expect(error).toBeNull();
        acks.push(sequence);
      },
    });
    await harness.waitFor('ready');
    const end = harness.ends[0];
    if (end === undefined) throw new Error('no link');
    const ops = Array.from({ length: 400 }, (_, i) => ({ kind: 'put' as const,
      key: raftLogKey(5, i + 1), value: new Uint8Array(1000).fill(i % 251) }));
    let done = false;
    let values: (Uint8Array | undefined)[] = [];
    void (async () => {
      await end.client.persist(5, ops); // ~400 KB through a 64 KiB ring: a chain
      values = await Promise.all([1, 200, 400].map((i) => end.client.get(raftLogKey(5, i))));
      done = true;
    })();
    await harness.pumpUntil(() => done);
    expect(acks.length).toBeGreaterThan(5);
    expect(end.client.lastSequence(5)).toBe(BigInt(acks.length));
    expect(values.map((v) => v?.[0])).toEqual([0, 199 % 251, 399 % 251]);
    await shutdown(harness);
  });

  it('drops a chain whose link is replaced before its last frame (nothing of it is written)',
    async () => {
      const dir = makeTempDir('writer-chain-cut');
      dirs.push(dir);
      const harness = new WriterHarness(dir, 1, ringBytes);
      await harness.waitFor('ready');
      const old = harness.ends[0];
      if (old === undefined) throw new Error('no link');
      const producer = new RingProducer(old.link.inbound, harness.writerDoorbell);
      const part = encodePersistBatch({ partition: 9, sequence: 1n, more: true,
        ops: [{ kind: WriteKind.Put, key: raftLogKey(9, 1), value: Uint8Array.of(1) }] });
      expect(producer.tryWrite(part)).toBe(true);
      producer.publish();
      await harness.pump(50); // the writer takes the part and waits for the rest
      const fresh = harness.makeEnd(0, ringBytes);
      harness.ends[0] = fresh;
      harness.send({ type: 'link', link: fresh.link });
      let value: Uint8Array | undefined = Uint8Array.of(0);
      let read = false;
      void fresh.client.get(raftLogKey(9, 1)).then((v) => {
        value = v;
        read = true;
      });
      await harness.pumpUntil(() => read);
      expect(value).toBeUndefined();
      await shutdown(harness);
    });

  it('replaces a link: the new link works, the old one is dropped', async () => {
    const dir = makeTempDir('writer-relink');
    dirs.push(dir);
    const harness = new WriterHarness(dir, 1, ringBytes);
    await harness.waitFor('ready');
    const old = harness.ends[0];
    if (old === undefined) throw new Error('no link');
    let oldDone = false;
    void old.client.persist(7, [{ kind: 'put', key: raftLogKey(7, 1), value: Uint8Array.of(1) }])
      .then(() => {
        oldDone = true;
      });
    await harness.pumpUntil(() => oldDone);
    const fresh = harness.makeEnd(0, ringBytes);
    harness.ends[0] = fresh;
    harness.send({ type: 'link', link: fresh.link });
    let value: Uint8Array | undefined;
    let done = false;
    // A restarted worker starts its sequences at 1 again, and reads what the old one wrote.
    void (async () => {
      const put = { kind: 'put' as const, key: raftLogKey(7, 2), value: Uint8Array.of(2) };
      await fresh.client.persist(7, [put]);
      value = await fresh.client.get(raftLogKey(7, 1));
      done = true;
    })();
    await harness.pumpUntil(() => done);
    expect(value).toEqual(Uint8Array.of(1));
    expect(fresh.client.lastSequence(7)).toBe(1n);
    await shutdown(harness);
  });

  it('releases RocksDB when terminated, so a new writer reopens the same dir', async () => {
    const dir = makeTempDir('writer-restart');
    dirs.push(dir);
    const first = new WriterHarness(dir, 1, ringBytes);
    await first.waitFor('ready');
    const end = first.ends[0];
    if (end === undefined) throw new Error('no link');
    let done = false;
    void end.client.persist(3, [{ kind: 'put', key: raftLogKey(3, 1), value: Uint8Array.of(9) }])
      .then(() => {
        done = true;
      });
    await first.pumpUntil(() => done);
    await first.worker.terminate(); // as a crash would: no shutdown, no close
    const second = new WriterHarness(dir, 1, ringBytes);
    await second.waitFor('ready');
    const again = second.ends[0];
    if (again === undefined) throw new Error('no link');
    let value: Uint8Array | undefined;
    let read = false;
    void again.client.get(raftLogKey(3, 1)).then((v) => {
      value = v;
      read = true;
    });
    await second.pumpUntil(() => read);
    expect(value).toEqual(Uint8Array.of(9));
    await shutdown(second);
  });

  it('posts fatal and exits 1 when RocksDB cannot be opened', async () => {
    const dir = makeTempDir('writer-fatal');
    dirs.push(dir);
    const blocker = await RocksStore.open(dir); // RocksDB allows one opener per path
    try {
      const harness = new WriterHarness(dir, 1, ringBytes);
      const fatal = await harness.waitFor('fatal');
      expect(fatal.type === 'fatal' && fatal.code).toBe('HONU_ERR_WRITE_FAILED');
      expect(await harness.exited()).toBe(1);
    } finally {
      await blocker.close();
    }
  });
});
