// Doorbell wait/notify protocol and ring backpressure, in one thread (Atomics.waitAsync
// resolves on a notify from the same thread too; the cross-thread case is ring-threads.test.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HonuError } from '../../src/errors.js';
import {
  createDoorbell,
  createRingBuffer,
  Doorbell,
  RingConsumer,
  RingProducer,
} from '../../src/ipc/ring.js';
import { ringWritesWaitingMax } from '../../src/limits.js';

/** Resolves to 'pending' if `promise` has not settled within `ms`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, sleep(ms).then(() => 'pending' as const)]);
}

function frame(length: number, seed: number): Uint8Array {
  return new Uint8Array(length).fill(seed & 0xff);
}

describe('Doorbell', () => {
  it('resolves at once when hasWork() is true, without sleeping', async () => {
    const bell = new Doorbell(createDoorbell());
    const started = performance.now();
    await bell.wait(() => true, 10_000);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(bell.sleeping()).toBe(false);
  });

  it('resolves when hasWork() turns true between the flag and the park (re-check)', async () => {
    const bell = new Doorbell(createDoorbell());
    let calls = 0;
    const started = performance.now();
    await bell.wait(() => ++calls === 2, 10_000, 0); // false first, true on the re-check
    expect(calls).toBe(2);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(bell.sleeping()).toBe(false);
  });

  it('polls hasWork() spinChecks times before it parks', async () => {
    const bell = new Doorbell(createDoorbell());
    let calls = 0;
    await bell.wait(() => ++calls === 50, 10_000, 100);
    expect(calls).toBe(50);
    expect(bell.sleeping()).toBe(false);
    calls = 0;
    await bell.wait(() => (++calls, false), 1, 100);
    expect(calls).toBe(1 + 100 + 1); // first look, spins, re-check after SLEEPING is set
  });

  it('resolves after timeoutMs when nobody rings', async () => {
    const bell = new Doorbell(createDoorbell());
    const started = performance.now();
    await bell.wait(() => false, 50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(bell.sleeping()).toBe(false);
    expect(bell.notifyCount()).toBe(0);
  });

  it('resolves when a producer publishes into a ring, with one notify', async () => {
    const bellSab = createDoorbell();
    const consumerBell = new Doorbell(bellSab);
    const sab = createRingBuffer(1024);
    const producer = new RingProducer(sab, bellSab);
    const consumer = new RingConsumer(sab);
    const started = performance.now();
    const woken = consumerBell.wait(() => consumer.hasData(), 10_000);
    expect(consumerBell.sleeping()).toBe(true);
    setTimeout(() => {
      expect(producer.tryWrite(frame(10, 1))).toBe(true);
      producer.publish();
    }, 20);
    await woken;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(consumerBell.notifyCount()).toBe(1);
    expect(consumer.drain(() => {})).toBe(1);
  });

  it('does not notify while the consumer is awake', () => {
    const bellSab = createDoorbell();
    const sab = createRingBuffer(1024);
    const producer = new RingProducer(sab, bellSab);
    const consumer = new RingConsumer(sab);
    for (let i = 0; i < 10_000; i++) {
      expect(producer.tryWrite(frame(i % 50, i))).toBe(true);
      producer.publish();
      expect(consumer.drain(() => {})).toBe(1);
    }
    expect(new Doorbell(bellSab).notifyCount()).toBe(0);
  });

  it('allows one waiter at a time', async () => {
    const bell = new Doorbell(createDoorbell());
    const first = bell.wait(() => false, 30);
    expect(() => bell.wait(() => false, 30)).toThrow(/one waiter/);
    await first;
    await bell.wait(() => false, 1);
  });

  it('keeps at most one waitAsync parked across timed-out waits; a ring still wakes', async () => {
    const bellSab = createDoorbell();
    const bell = new Doorbell(bellSab);
    // Ten idle waits that time out: the waitAsync of the first stays parked (it has no timeout
    // of its own) and the other nine reuse it.
    for (let i = 0; i < 10; i++) await bell.wait(() => false, 2, 0);
    await sleep(20); // a waitAsync with a timeout of its own would be gone by now
    // A raw notify counts the parked waiters it wakes: exactly one.
    const i32 = new Int32Array(bellSab);
    Atomics.add(i32, 0, 1); // BELL_SEQ, as ring() bumps it
    expect(Atomics.notify(i32, 0)).toBe(1);
    await sleep(5); // the woken waiter's callback runs (and finds no wait to end)
    // The next waits park anew and a producer's ring ends them long before their timeout.
    for (let i = 0; i < 3; i++) {
      const sab = createRingBuffer(1024);
      const producer = new RingProducer(sab, bellSab);
      const consumer = new RingConsumer(sab);
      await bell.wait(() => false, 2, 0); // time out once first: the reuse path
      const woken = bell.wait(() => consumer.hasData(), 10_000, 0);
      setTimeout(() => {
        expect(producer.tryWrite(frame(8, i))).toBe(true);
        producer.publish();
      }, 5);
      expect(await settledWithin(woken, 5_000)).toBeUndefined();
      expect(bell.sleeping()).toBe(false);
      expect(consumer.drain(() => {})).toBe(1);
    }
  });
});

describe('backpressure', () => {
  function fullRing(capacityBytes: number) {
    const bellSab = createDoorbell();
    const sab = createRingBuffer(capacityBytes);
    const producer = new RingProducer(sab, bellSab);
    const consumer = new RingConsumer(sab);
    let n = 0;
    while (producer.tryWrite(frame(8, n))) n++;
    return { producer, consumer, bellSab, written: n };
  }

  it('write() on a full ring resolves only after the consumer drains', async () => {
    const { producer, consumer, written } = fullRing(64);
    expect(written).toBe(4);
    const mine = frame(8, 0xaa);
    const pending = producer.write(mine);
    mine.fill(0); // write() copied the frame: the caller may reuse its buffer
    expect(await settledWithin(pending, 50)).toBe('pending');
    expect(producer.writesWaiting()).toBe(1);
    expect(producer.unpublishedBytes()).toBe(0); // write() published the earlier frames
    expect(producer.tryWrite(frame(0, 0))).toBe(false); // queued writes keep their order
    const seen: number[] = [];
    expect(consumer.drain((f) => seen.push(f[0]!), 1)).toBe(1);
    expect(await settledWithin(pending, 5_000)).toBeUndefined();
    expect(producer.stats().spaceWaitCount).toBeGreaterThanOrEqual(1);
    producer.publish();
    consumer.drain((f) => seen.push(f[0]!));
    expect(seen).toEqual([0, 1, 2, 3, 0xaa]);
  });

  it('waiting writes enter the ring in call order as space frees up', async () => {
    const { producer, consumer } = fullRing(128);
    const done: number[] = [];
    const writes = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((seed) =>
      producer.write(frame(8 + (seed % 3) * 8, seed)).then(() => done.push(seed)));
    const seen: number[] = [];
    while (seen.length < 8 + 10) {
      await sleep(1);
      consumer.drain((f) => seen.push(f[0]!), 3);
      producer.publish();
    }
    await Promise.all(writes);
    expect(done).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('writeWithin gives up after its deadline and writes nothing', async () => {
    const { producer, consumer, written } = fullRing(64);
    expect(await producer.writeWithin(frame(8, 0xee), 30)).toBe(false);
    expect(producer.writesWaiting()).toBeLessThanOrEqual(1); // the pump skips the expired one
    const seen: number[] = [];
    consumer.drain((f) => seen.push(f[0]!));
    const ok = producer.writeWithin(frame(8, 0xbb), 5_000);
    expect(await ok).toBe(true);
    producer.publish();
    consumer.drain((f) => seen.push(f[0]!));
    expect(seen).toEqual([...Array(written).keys(), 0xbb]);
    expect(producer.writesWaiting()).toBe(0);
  });

  it('rejects with HONU_ERR_QUEUE_FULL past ringWritesWaitingMax waiting writes', async () => {
    const { producer, consumer, written } = fullRing(4096);
    const waiting: Promise<void>[] = [];
    for (let i = 0; i < ringWritesWaitingMax; i++) waiting.push(producer.write(frame(0, 0)));
    await expect(producer.write(frame(0, 0))).rejects.toSatisfy(
      (e: unknown) => e instanceof HonuError && e.code === 'HONU_ERR_QUEUE_FULL');
    expect(await producer.writeWithin(frame(0, 0), 1_000)).toBe(false);
    let drained = 0;
    while (drained < written + ringWritesWaitingMax) {
      drained += consumer.drain(() => {});
      producer.publish();
      await new Promise(setImmediate);
    }
    await Promise.all(waiting);
    expect(producer.writesWaiting()).toBe(0);
  });
});
