// The writer's batching policy (src/core/writer/writer-core.ts), pure: no RocksDB, no threads.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadQueryKind, WriterCore, WriterStats } from '../../src/core/writer/writer-core.js';
import type { ReadQuery, WriterCoreConfig } from '../../src/core/writer/writer-core.js';

const config: WriterCoreConfig = { flushBytesMax: 1000, flushFramesMax: 8, outboxFramesMax: 2 };

function query(id: number): ReadQuery {
  return { id, kind: ReadQueryKind.get, start: Uint8Array.of(1), end: new Uint8Array(0), limit: 0 };
}

describe('WriterCore', () => {
  it('lets a flush take frames up to its byte and frame limits', () => {
    const core = new WriterCore(config);
    core.setLink(0);
    expect(core.framesToTake(100)).toBe(8); // 1000 / 100 = 10, capped by flushFramesMax
    expect(core.framesToTake(300)).toBe(3);
    expect(core.framesToTake(5000)).toBe(1); // a frame above the budget still goes alone
    core.takeBatch(0, 1, 1n, 3, 900);
    expect(core.framesToTake(300)).toBe(1);
    core.takeBatch(0, 1, 2n, 3, 300); // overshoots by at most one frame
    expect(core.framesToTake(1)).toBe(0);
    const flush = core.closeFlush();
    expect(flush).toMatchObject({ flushNumber: 1, entryCount: 6, bytes: 1200 });
    expect(core.framesToTake(100)).toBe(8);
    expect(core.hasFlush()).toBe(false);
  });

  it('acks every batch of a flush per worker, in the order taken', () => {
    const core = new WriterCore(config);
    core.setLink(0);
    core.setLink(3);
    core.takeBatch(3, 7, 1n, 1, 10);
    core.takeBatch(0, 2, 1n, 1, 10);
    core.takeBatch(3, 9, 1n, 1, 10);
    core.takeBatch(3, 7, 2n, 1, 10);
    const acks = core.acksFor(core.closeFlush());
    expect(acks).toEqual([
      { worker: 3, acks: [{ partition: 7, sequence: 1n }, { partition: 9, sequence: 1n },
        { partition: 7, sequence: 2n }] },
      { worker: 0, acks: [{ partition: 2, sequence: 1n }] },
    ]);
  });

  it('asserts that sequences increase per link and partition, and restart on a new link', () => {
    const core = new WriterCore(config);
    core.setLink(0);
    core.takeBatch(0, 1, 5n, 1, 10);
    expect(() => core.takeBatch(0, 1, 5n, 1, 10)).toThrow(/not above/);
    core.takeBatch(0, 2, 1n, 1, 10); // another partition has its own sequence
    core.setLink(0);
    core.takeBatch(0, 1, 1n, 1, 10);
    expect(() => core.takeBatch(9, 1, 1n, 1, 10)).toThrow(/unknown worker/);
  });

  it('drops the acks, reads and outbox of a replaced link', () => {
    const core = new WriterCore(config);
    const first = core.setLink(0);
    core.takeBatch(0, 1, 1n, 1, 10);
    core.takeRead(0, query(1));
    core.pushOutbox(0, first, Uint8Array.of(1));
    const flush = core.closeFlush();
    const second = core.setLink(0);
    expect(second).toBeGreaterThan(first);
    expect(core.acksFor(flush)).toEqual([]);
    expect(core.readsFor(flush)).toEqual([]);
    expect(core.outbox(0)).toEqual([]);
    core.pushOutbox(0, first, Uint8Array.of(2)); // a late frame for the old link is dropped
    expect(core.outbox(0)).toEqual([]);
  });

  it('takes nothing more from a link after its read until the flush closes', () => {
    const core = new WriterCore(config);
    core.setLink(0);
    core.setLink(1);
    core.takeBatch(0, 1, 1n, 1, 10);
    core.takeRead(0, query(1));
    expect(core.mayTakeFrom(0)).toBe(false);
    expect(core.mayTakeFrom(1)).toBe(true);
    expect(() => core.takeBatch(0, 1, 2n, 1, 10)).toThrow(/stopped by a read/);
    const flush = core.closeFlush();
    expect(core.readsFor(flush).map((r) => r.query.id)).toEqual([1]);
    expect(core.mayTakeFrom(0)).toBe(true);
  });

  it('rotates the drain order and skips links whose outbox is full', () => {
    const core = new WriterCore(config);
    for (const w of [0, 1, 2]) core.setLink(w);
    expect(core.drainOrder()).toEqual([0, 1, 2]);
    expect(core.drainOrder()).toEqual([1, 2, 0]);
    const generation = core.generationOf(2);
    core.pushOutbox(2, generation, Uint8Array.of(1));
    core.pushOutbox(2, generation, Uint8Array.of(2));
    expect(core.drainOrder()).toEqual([0, 1]);
    core.outbox(2).splice(0, 1);
    expect(core.drainOrder()).toEqual([0, 1, 2]);
  });

  it('keeps every flush within its limits and acks each batch exactly once (model)', () => {
    const frameArb = fc.record({
      worker: fc.integer({ min: 0, max: 2 }), bytes: fc.integer({ min: 1, max: 400 }),
      read: fc.boolean(),
    });
    fc.assert(fc.property(fc.array(frameArb, { maxLength: 200 }), (frames) => {
      const core = new WriterCore(config);
      for (const w of [0, 1, 2]) core.setLink(w);
      const queues: (typeof frames)[] = [[], [], []];
      for (const f of frames) queues[f.worker]?.push(f);
      const sent = frames.filter((f) => !f.read).length;
      const sequence = [0n, 0n, 0n];
      const acked: string[][] = [[], [], []];
      while (queues.some((q) => q.length > 0)) {
        for (const w of core.drainOrder()) {
          const queue = queues[w] ?? [];
          while (queue.length > 0 && core.mayTakeFrom(w) && core.framesToTake(400) > 0) {
            const f = queue.shift();
            if (f === undefined) break;
            if (f.read) core.takeRead(w, query(0));
            else core.takeBatch(w, w, (sequence[w] = (sequence[w] ?? 0n) + 1n), 1, f.bytes);
          }
        }
        if (!core.hasFlush()) continue;
        const flush = core.closeFlush();
        expect(flush.bytes).toBeLessThanOrEqual(config.flushBytesMax + 400);
        expect(flush.batches.length + flush.reads.length).toBeLessThanOrEqual(8);
        for (const g of core.acksFor(flush)) {
          for (const a of g.acks) acked[g.worker]?.push(`${a.partition}/${a.sequence}`);
        }
      }
      expect(acked.flat()).toHaveLength(sent);
      for (const w of [0, 1, 2]) {
        const n = frames.filter((f) => f.worker === w && !f.read).length;
        expect(acked[w]).toEqual(Array.from({ length: n }, (_, k) => `${w}/${k + 1}`));
      }
    }), { numRuns: 300 });
  });
});

describe('WriterStats', () => {
  it('keeps exact totals and at most samplesMax evenly spaced samples', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 2, max: 64 }),
      (flushes, samplesMax) => {
        const stats = new WriterStats(samplesMax);
        for (let i = 0; i < flushes; i += 1) {
          stats.record({ batchCount: 1, entryCount: i, bytes: 2 * i, fsyncMs: 0.5 });
        }
        const report = stats.take();
        expect(report.flushCount).toBe(flushes);
        expect(report.entryCount).toBe(flushes === 0 ? 0 : (flushes * (flushes - 1)) / 2);
        expect(report.fsyncMsTotal).toBeCloseTo(flushes * 0.5);
        const samples = report.samples.entryCount;
        expect(samples.length).toBeLessThanOrEqual(samplesMax);
        const samplesMin = Math.min(flushes, samplesMax / 2);
        expect(samples.length).toBeGreaterThanOrEqual(samplesMin);
        // Samples are flushes 0, s, 2s, ... for one stride s (the entryCount was the index).
        const stride = report.samples.stride;
        samples.forEach((v, k) => expect(v).toBe(k * stride));
        // ... so sample j stands for the flushes up to sample j + 1 (metrics weigh it so).
        expect(samples.length).toBe(Math.ceil(flushes / stride));
        expect(report.samples.bytes).toEqual(samples.map((v) => 2 * v));
        expect(stats.take().flushCount).toBe(0);
      }), { numRuns: 200 });
  });
});
