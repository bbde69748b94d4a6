// Single-producer single-consumer rings over SharedArrayBuffer, plus the Doorbell a consuming
// thread sleeps on (docs/ARCHITECTURE.md, "Rings").
//
// Ring layout (Int32 words; each cache line written by one side only):
//   bytes   0..63   producer line: HEAD (published byte counter), CAPACITY, MAGIC
//   bytes  64..127  consumer line: TAIL (released byte counter), PRODUCER_WAITING
//   bytes 128..     data area, capacityBytes long (a power of two)
// HEAD and TAIL are Int32 byte counters that only grow (wrapping at 2^32, compared with `| 0`
// arithmetic); the data offset is `counter & (capacity - 1)`. A record is an 8-byte header
// [length, ~length] and the frame bytes, padded to 8 bytes. A frame never wraps: when it does
// not fit before the end of the data area, the producer writes WRAP_MARKER as the length and
// continues at offset 0, so consumers read every frame (a FlatBuffers table) in place. Past
// earlyWrapBytes the producer also wraps early, as soon as the consumer has freed room for the
// record at offset 0: the bytes in use then stay near the start of the area (few hot bytes,
// and a large ring's untouched pages are never faulted in) instead of cycling through all of
// it.
//
// Memory ordering: frame bytes are plain stores made visible by Atomics.store(HEAD); space is
// handed back by Atomics.store(TAIL). Atomics are sequentially consistent, which makes both
// sleep protocols below (Dekker style: store my flag, then load your counter) free of lost
// wakeups.
import { assert } from '../assert.js';
import { HonuError } from '../errors.js';
import {
  doorbellSpinChecksDefault,
  ringCapacityBytesMax,
  ringCapacityBytesMin,
  ringEarlyWrapBytesDefault,
  ringWritesWaitingMax,
} from '../limits.js';

const headerBytes = 128;
const recordHeaderBytes = 8;
const recordAlignBytes = 8;
const ringMagic = 0x486f6e75; // "Honu"
const wrapMarker = -1;

// Int32 word indices in the ring header.
const HEAD = 0;
const CAPACITY = 1;
const MAGIC = 2;
const TAIL = 16;
const PRODUCER_WAITING = 17;

// Int32 word indices in the doorbell (128 bytes: producers' line, then the consumer's line).
const doorbellBytes = 128;
const BELL_SEQ = 0;
const BELL_NOTIFY_COUNT = 1;
const BELL_SLEEPING = 16;

// A keep-alive timer may not be longer than this (Node clamps larger delays to 1 ms).
const timerDelayMsMax = 2 ** 31 - 1;

const resolved: Promise<void> = Promise.resolve();

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function recordBytes(frameBytes: number): number {
  return (frameBytes + recordHeaderBytes + recordAlignBytes - 1) & ~(recordAlignBytes - 1);
}

export interface RingBufferOptions {
  /** Test only: start HEAD and TAIL here (a multiple of 8) to exercise the 2^31 and 2^32 wrap
   *  of the Int32 counters. */
  readonly initialCounter?: number;
}

/** A ring's SharedArrayBuffer: header plus a data area of capacityBytes (a power of two). */
export function createRingBuffer(
  capacityBytes: number,
  options: RingBufferOptions = {},
): SharedArrayBuffer {
  assert(isPowerOfTwo(capacityBytes), 'ring capacity must be a power of two');
  assert(capacityBytes >= ringCapacityBytesMin, 'ring capacity below ringCapacityBytesMin');
  assert(capacityBytes <= ringCapacityBytesMax, 'ring capacity above ringCapacityBytesMax');
  const initialCounter = options.initialCounter ?? 0;
  assert(Number.isInteger(initialCounter), 'initialCounter must be an integer');
  assert(initialCounter % recordAlignBytes === 0, 'initialCounter must be 8-byte aligned');
  const sab = new SharedArrayBuffer(headerBytes + capacityBytes);
  const header = new Int32Array(sab, 0, headerBytes / 4);
  header[CAPACITY] = capacityBytes;
  header[MAGIC] = ringMagic;
  header[HEAD] = initialCounter | 0;
  header[TAIL] = initialCounter | 0;
  return sab;
}

/** The SharedArrayBuffer of one thread's Doorbell. */
export function createDoorbell(): SharedArrayBuffer {
  return new SharedArrayBuffer(doorbellBytes);
}

function checkRingBuffer(ring: SharedArrayBuffer): { i32: Int32Array; capacityBytes: number } {
  assert(ring instanceof SharedArrayBuffer, 'a ring is a SharedArrayBuffer');
  assert(ring.byteLength > headerBytes, 'ring buffer too small');
  const i32 = new Int32Array(ring);
  assert(Atomics.load(i32, MAGIC) === ringMagic, 'not a ring buffer (bad magic)');
  const capacityBytes = Atomics.load(i32, CAPACITY);
  assert(isPowerOfTwo(capacityBytes), 'ring capacity corrupt');
  assert(ring.byteLength === headerBytes + capacityBytes, 'ring size does not match capacity');
  return { i32, capacityBytes };
}

/**
 * One per consuming thread; every ring into that thread rings it. The consumer sets SLEEPING
 * before its last look at the rings; a producer that published notifies only if it sees
 * SLEEPING, and bumps SEQ first so a consumer that had not yet parked sees SEQ changed.
 */
export class Doorbell {
  private readonly i32: Int32Array;
  private waiting = false;
  /** BELL_SEQ value of the outstanding waitAsync, if any (see wait). */
  private parkedSeq: number | null = null;
  /** The current wait's wake-up, called when the outstanding waitAsync resolves. */
  private onRing: (() => void) | null = null;

  constructor(sab: SharedArrayBuffer) {
    assert(sab instanceof SharedArrayBuffer, 'a doorbell is a SharedArrayBuffer');
    assert(sab.byteLength === doorbellBytes, 'doorbell buffer has the wrong size');
    this.i32 = new Int32Array(sab);
  }

  /** Consumer: resolve when a producer rings, or after timeoutMs, or at once if hasWork() is
   *  true. Sets a "sleeping" flag before re-checking hasWork() and waiting with
   *  Atomics.waitAsync, so a producer only calls Atomics.notify when the consumer really
   *  sleeps. Never Atomics.wait. May resolve spuriously: callers re-check their rings.
   *  While it waits, a timer keeps the thread alive and bounds the wait (waitAsync alone does
   *  neither). Before it parks it polls hasWork() up to spinChecks times
   *  (doorbellSpinChecksDefault).
   *
   *  The waitAsync itself has no timeout: with one, V8 posts a delayed task for it, and Node
   *  wakes the thread's own event loop (an eventfd write and one more loop turn) on every
   *  park. Without one, a waiter the timer outlived stays parked on BELL_SEQ and the next wait
   *  reuses it while the bell is unchanged, so at most one is ever outstanding. */
  wait(
    hasWork: () => boolean,
    timeoutMs: number,
    spinChecks: number = doorbellSpinChecksDefault,
  ): Promise<void> {
    assert(timeoutMs >= 0, 'timeoutMs must be >= 0');
    assert(!this.waiting, 'Doorbell.wait: one waiter per doorbell');
    if (hasWork()) return resolved;
    for (let i = 0; i < spinChecks; i++) if (hasWork()) return resolved;
    const i32 = this.i32;
    const seq = Atomics.load(i32, BELL_SEQ);
    Atomics.store(i32, BELL_SLEEPING, 1);
    if (timeoutMs === 0 || hasWork() || !this.park(seq)) {
      Atomics.store(i32, BELL_SLEEPING, 0);
      return resolved;
    }
    this.waiting = true;
    return new Promise<void>((resolve) => {
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.onRing === done) this.onRing = null;
        Atomics.store(i32, BELL_SLEEPING, 0);
        this.waiting = false;
        resolve();
      };
      this.onRing = done;
      // The timer keeps the event loop alive and bounds the wait.
      const timer = setTimeout(done, Math.min(timeoutMs, timerDelayMsMax));
    });
  }

  /** Make sure a waitAsync on BELL_SEQ == seq is outstanding (the parked one, or a new one);
   *  false if the bell already moved past seq. */
  private park(seq: number): boolean {
    if (this.parkedSeq === seq) return true;
    const result = Atomics.waitAsync(this.i32, BELL_SEQ, seq);
    if (!result.async) return false;
    this.parkedSeq = seq;
    void result.value.then(() => {
      if (this.parkedSeq === seq) this.parkedSeq = null;
      const onRing = this.onRing;
      if (onRing !== null) onRing();
    });
    return true;
  }

  /** Producer side (RingProducer.publish calls it): bump the bell, notify only if sleeping. */
  ring(): void {
    const i32 = this.i32;
    if (Atomics.load(i32, BELL_SLEEPING) === 0) return;
    Atomics.add(i32, BELL_SEQ, 1);
    Atomics.add(i32, BELL_NOTIFY_COUNT, 1);
    Atomics.notify(i32, BELL_SEQ);
  }

  /** How many times producers called Atomics.notify on this bell (tests, metrics). */
  notifyCount(): number {
    return Atomics.load(this.i32, BELL_NOTIFY_COUNT) >>> 0;
  }

  /** True while the consumer is parked (or about to park) in wait(). */
  sleeping(): boolean {
    return Atomics.load(this.i32, BELL_SLEEPING) !== 0;
  }
}

interface WaitingWrite {
  readonly frame: Uint8Array; // a copy: the caller may reuse its buffer
  resolve: () => void;
  settled: boolean; // written, or given up by writeWithin
}

const noop = (): void => {};

export interface RingProducerStats {
  /** Times write() had to wait for space (backpressure). */
  readonly spaceWaitCount: number;
  /** Frames written (tryWrite and write). */
  readonly frameCount: number;
}

export interface RingProducerOptions {
  /** Wrap to offset 0 early from this offset on, when the record fits before TAIL's offset
   *  (ringEarlyWrapBytesDefault; at least 8). */
  readonly earlyWrapBytes?: number;
}

export class RingProducer {
  /** Largest frame that fits: half the data area less a record header, so a frame always fits
   *  into an empty ring whatever the offset of HEAD. */
  readonly frameBytesMax: number;
  private readonly earlyWrapBytes: number;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly capacityBytes: number;
  private readonly mask: number;
  private readonly bell: Doorbell;
  private writeCounter: number; // head including unpublished records
  private publishedCounter: number;
  private tailCache: number; // last TAIL seen; only ever behind the real one
  private readonly waiters: WaitingWrite[] = [];
  private waitersFirst = 0;
  private pumping = false;
  private spaceWaits = 0;
  private frames = 0;

  constructor(
    ring: SharedArrayBuffer,
    doorbell: SharedArrayBuffer,
    options: RingProducerOptions = {},
  ) {
    const { i32, capacityBytes } = checkRingBuffer(ring);
    this.i32 = i32;
    this.u8 = new Uint8Array(ring);
    this.capacityBytes = capacityBytes;
    this.mask = capacityBytes - 1;
    this.frameBytesMax = capacityBytes / 2 - recordHeaderBytes;
    const earlyWrapBytes = options.earlyWrapBytes ?? ringEarlyWrapBytesDefault;
    assert(Number.isInteger(earlyWrapBytes) && earlyWrapBytes >= recordAlignBytes,
      'earlyWrapBytes must be an integer >= 8');
    this.earlyWrapBytes = earlyWrapBytes;
    this.bell = new Doorbell(doorbell);
    // Attach where the previous producer (if any) stopped: unpublished bytes never count.
    this.writeCounter = Atomics.load(i32, HEAD);
    this.publishedCounter = this.writeCounter;
    this.tailCache = Atomics.load(i32, TAIL);
    assert(this.usedBytes() <= capacityBytes, 'ring counters corrupt');
  }

  /** Copy one frame into the ring WITHOUT publishing it. Returns false if there is no room now,
   *  or if earlier write() calls are still waiting (frames keep the order of the calls).
   *  A frame larger than frameBytesMax is a programmer error (assert). */
  tryWrite(frame: Uint8Array): boolean {
    if (this.waiters.length !== this.waitersFirst) return false;
    return this.copyIn(frame);
  }

  /** Publish every frame written since the last publish (one atomic store of the head) and ring
   *  the consumer's doorbell (which notifies only if it sleeps). Cheap if nothing is pending. */
  publish(): void {
    if (this.writeCounter === this.publishedCounter) return;
    this.publishedCounter = this.writeCounter;
    Atomics.store(this.i32, HEAD, this.writeCounter);
    this.bell.ring();
  }

  /** Backpressure: tryWrite; if full, publish and await space (Atomics.waitAsync on TAIL, which
   *  the consumer notifies after freeing space while PRODUCER_WAITING is set), then write.
   *  Never drops, never grows the ring. Does not publish the frame itself (call publish()).
   *  A frame that must wait is copied, so the caller may reuse its buffer at once. Rejects with
   *  HONU_ERR_QUEUE_FULL if ringWritesWaitingMax writes already wait. */
  write(frame: Uint8Array): Promise<void> {
    if (this.tryWrite(frame)) return resolved;
    if (this.writesWaiting() >= ringWritesWaitingMax) {
      return Promise.reject(new HonuError('HONU_ERR_QUEUE_FULL', 'ring writes waiting at max'));
    }
    return this.enqueue(frame).done;
  }

  /** write() with a deadline: resolves true once the frame is in the ring, false if no space
   *  came within timeoutMs or ringWritesWaitingMax writes already wait (the frame is then not
   *  written; answer MustRetry upstream). */
  async writeWithin(frame: Uint8Array, timeoutMs: number): Promise<boolean> {
    if (this.tryWrite(frame)) return true;
    if (this.writesWaiting() >= ringWritesWaitingMax) return false;
    const { done, waiter } = this.enqueue(frame);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        if (waiter.settled) return; // already in the ring: `done` resolves true
        waiter.settled = true; // the pump skips it
        resolve(false);
      }, timeoutMs);
    });
    try {
      return await Promise.race([done.then(() => true), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Published + unpublished bytes in use (records, padding and wrap skips). */
  depthBytes(): number {
    return (this.writeCounter - Atomics.load(this.i32, TAIL)) | 0;
  }

  /** Bytes written but not yet published. */
  unpublishedBytes(): number {
    return (this.writeCounter - this.publishedCounter) | 0;
  }

  /** write() calls waiting for space. */
  writesWaiting(): number {
    return this.waiters.length - this.waitersFirst;
  }

  stats(): RingProducerStats {
    return { spaceWaitCount: this.spaceWaits, frameCount: this.frames };
  }

  private enqueue(frame: Uint8Array): { done: Promise<void>; waiter: WaitingWrite } {
    assert(frame.length <= this.frameBytesMax, 'frame larger than frameBytesMax');
    const waiter: WaitingWrite = { frame: frame.slice(), resolve: noop, settled: false };
    const done = new Promise<void>((resolve) => {
      waiter.resolve = resolve;
    });
    this.waiters.push(waiter);
    if (!this.pumping) void this.pump();
    return { done, waiter };
  }

  private usedBytes(): number {
    return (this.writeCounter - this.tailCache) | 0;
  }

  private copyIn(frame: Uint8Array): boolean {
    const length = frame.length;
    assert(length <= this.frameBytesMax, 'frame larger than frameBytesMax');
    const record = recordBytes(length);
    let offset = this.writeCounter & this.mask;
    const toEndBytes = this.capacityBytes - offset;
    let wrap = record > toEndBytes;
    if (!wrap && offset >= this.earlyWrapBytes) {
      // Early wrap: the skip to the end counts as used, so the record fits at offset 0 exactly
      // when it fits before TAIL's offset (in this lap of the area: used <= offset).
      this.tailCache = Atomics.load(this.i32, TAIL);
      wrap = offset - this.usedBytes() >= record;
    }
    const needBytes = wrap ? toEndBytes + record : record;
    if (this.capacityBytes - this.usedBytes() < needBytes) {
      this.tailCache = Atomics.load(this.i32, TAIL);
      if (this.capacityBytes - this.usedBytes() < needBytes) return false;
    }
    const i32 = this.i32;
    if (wrap) {
      i32[(headerBytes + offset) >> 2] = wrapMarker;
      this.writeCounter = (this.writeCounter + toEndBytes) | 0;
      offset = 0;
    }
    const word = (headerBytes + offset) >> 2;
    i32[word] = length;
    i32[word + 1] = ~length;
    this.u8.set(frame, headerBytes + offset + recordHeaderBytes);
    this.writeCounter = (this.writeCounter + record) | 0;
    this.frames++;
    return true;
  }

  /** Moves waiting writes into the ring in call order, sleeping on TAIL while it is full. */
  private async pump(): Promise<void> {
    this.pumping = true;
    // waitAsync does not keep the event loop alive; this timer does while writes wait.
    const keepAlive = setInterval(() => {}, timerDelayMsMax);
    try {
      while (this.waitersFirst < this.waiters.length) {
        const waiter = this.waiters[this.waitersFirst];
        assert(waiter !== undefined, 'pump: waiter missing');
        if (waiter.settled || this.copyIn(waiter.frame)) {
          this.shiftWaiter();
          if (!waiter.settled) {
            waiter.settled = true;
            waiter.resolve();
          }
          continue;
        }
        this.publish();
        await this.waitForSpace();
      }
    } finally {
      clearInterval(keepAlive);
      this.pumping = false;
    }
  }

  private shiftWaiter(): void {
    this.waitersFirst++;
    if (this.waitersFirst === this.waiters.length) {
      this.waiters.length = 0;
      this.waitersFirst = 0;
    } else if (this.waitersFirst >= 1024 && this.waitersFirst * 2 >= this.waiters.length) {
      this.waiters.splice(0, this.waitersFirst);
      this.waitersFirst = 0;
    }
  }

  private async waitForSpace(): Promise<void> {
    const i32 = this.i32;
    this.spaceWaits++;
    Atomics.store(i32, PRODUCER_WAITING, 1);
    // copyIn just failed after loading TAIL into tailCache. If the consumer released space
    // since, TAIL differs and waitAsync returns "not-equal" at once; if it releases later, it
    // sees PRODUCER_WAITING (stored before this load) and notifies.
    const tail = this.tailCache;
    const result = Atomics.waitAsync(i32, TAIL, tail);
    if (result.async) await result.value;
    Atomics.store(i32, PRODUCER_WAITING, 0);
  }
}

export class RingConsumer {
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly capacityBytes: number;
  private readonly mask: number;
  private readCounter: number;
  private frames = 0;

  constructor(ring: SharedArrayBuffer) {
    const { i32, capacityBytes } = checkRingBuffer(ring);
    this.i32 = i32;
    this.u8 = new Uint8Array(ring);
    this.capacityBytes = capacityBytes;
    this.mask = capacityBytes - 1;
    this.readCounter = Atomics.load(i32, TAIL);
  }

  /** Any published frame? */
  hasData(): boolean {
    return Atomics.load(this.i32, HEAD) !== this.readCounter;
  }

  /** Call fn for up to maxFrames (default: all) published frames in order. The Uint8Array
   *  passed to fn aliases the SharedArrayBuffer and is valid only during the call. Space is
   *  released after the batch (also if fn throws: the frame it threw on counts as consumed),
   *  and a producer waiting for space is notified. Returns frames consumed. */
  drain(fn: (frame: Uint8Array) => void, maxFrames = Infinity): number {
    return this.drainInPlace((bytes, offset, length) => {
      fn(bytes.subarray(offset, offset + length));
    }, maxFrames);
  }

  /** drain() without a view per frame: fn gets the ring's whole byte view and the frame's
   *  offset and length in it (no allocation; FrameReader.readAt reads it in place). The same
   *  validity and release rules as drain(). */
  drainInPlace(
    fn: (bytes: Uint8Array, offset: number, length: number) => void,
    maxFrames = Infinity,
  ): number {
    assert(maxFrames >= 0, 'maxFrames must be >= 0');
    const head = Atomics.load(this.i32, HEAD);
    let counter = this.readCounter;
    if (counter === head) return 0;
    assert(((head - counter) | 0) <= this.capacityBytes, 'ring counters corrupt');
    const i32 = this.i32;
    const u8 = this.u8;
    let count = 0;
    try {
      while (counter !== head && count < maxFrames) {
        const offset = counter & this.mask;
        const word = (headerBytes + offset) >> 2;
        const length = i32[word]!;
        if (length === wrapMarker) {
          counter = (counter + this.capacityBytes - offset) | 0;
          continue;
        }
        assert(i32[word + 1] === ~length, 'ring record header corrupt');
        const record = recordBytes(length);
        assert(length >= 0 && record <= this.capacityBytes - offset, 'ring record length bad');
        counter = (counter + record) | 0;
        count++;
        fn(u8, headerBytes + offset + recordHeaderBytes, length);
      }
    } finally {
      this.release(counter, count);
    }
    return count;
  }

  /** Published bytes not yet released (records, padding and wrap skips). */
  depthBytes(): number {
    return (Atomics.load(this.i32, HEAD) - this.readCounter) | 0;
  }

  /** Frames consumed so far by this consumer. */
  frameCount(): number {
    return this.frames;
  }

  private release(counter: number, count: number): void {
    if (counter === this.readCounter) return;
    this.readCounter = counter;
    this.frames += count;
    Atomics.store(this.i32, TAIL, counter);
    if (Atomics.load(this.i32, PRODUCER_WAITING) !== 0) Atomics.notify(this.i32, TAIL);
  }
}
