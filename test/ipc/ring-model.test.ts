// Ring vs an array-queue model (style.md, testing pyramid level 2): random interleavings of
// tryWrite / publish / drain, frames of every size up to frameBytesMax, wraparound of the data
// area, early wraps, a full ring, and the 2^31 / 2^32 wrap of the Int32 byte counters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createDoorbell, createRingBuffer, RingConsumer, RingProducer,
} from '../../src/ipc/ring.js';

const recordHeaderBytes = 8;

function recordBytes(frameBytes: number): number {
  return Math.ceil((frameBytes + recordHeaderBytes) / 8) * 8;
}

/** The layout's space rule, in plain unbounded integers: a record never straddles the end. */
class RingModel {
  private head: number;
  private published: number;
  private tail: number;
  private readonly frames: { bytes: Uint8Array; end: number }[] = [];

  constructor(
    readonly capacityBytes: number,
    initialCounter: number,
    private readonly earlyWrapBytes: number,
  ) {
    this.head = initialCounter;
    this.published = initialCounter;
    this.tail = initialCounter;
  }

  tryWrite(bytes: Uint8Array): boolean {
    const offset = ((this.head % this.capacityBytes) + this.capacityBytes) % this.capacityBytes;
    const record = recordBytes(bytes.length);
    const toEnd = this.capacityBytes - offset;
    // Past earlyWrapBytes a record goes to offset 0 once it fits there, before the tail.
    const early = offset >= this.earlyWrapBytes && offset - (this.head - this.tail) >= record;
    const need = record <= toEnd && !early ? record : toEnd + record;
    if (this.capacityBytes - (this.head - this.tail) < need) return false;
    this.head += need;
    this.frames.push({ bytes: bytes.slice(), end: this.head });
    return true;
  }

  publish(): void {
    this.published = this.head;
  }

  drain(maxFrames: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (out.length < maxFrames && this.frames.length > 0) {
      const first = this.frames[0]!;
      if (first.end > this.published) break;
      this.frames.shift();
      out.push(first.bytes);
      this.tail = first.end;
    }
    return out;
  }

  producerDepthBytes(): number {
    return this.head - this.tail;
  }

  consumerDepthBytes(): number {
    return this.published - this.tail;
  }

  hasData(): boolean {
    return this.published !== this.tail;
  }
}

/** Byte-exact comparison; falls back to toEqual (slow, but a readable diff) on a mismatch. */
function expectFrames(got: readonly Uint8Array[], want: readonly Uint8Array[]): void {
  const same = got.length === want.length &&
    got.every((g, i) => Buffer.from(g.buffer, g.byteOffset, g.length).equals(want[i]!));
  if (!same) expect(got).toEqual(want);
}

function fill(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed + i * 31) & 0xff;
  return bytes;
}

type Command =
  | { readonly t: 'write'; readonly size: number; readonly seed: number }
  | { readonly t: 'publish' }
  | { readonly t: 'drain'; readonly max: number; readonly inPlace: boolean };

const capacities = [64, 128, 256, 1024] as const;
// Early wraps from these offsets (the default, far above these capacities, never wraps early).
const earlyWrapOffsets = [8, 24, 64, 200, 512, 256 * 1024] as const;
// Counters near the Int32 sign flip (2^31) and the 2^32 wrap back to 0, all 8-byte aligned.
const initialCounters = [0, 2 ** 31 - 64, 2 ** 31 - 8, -64, -8, 2 ** 31 - 4096] as const;

function commandsFor(frameBytesMax: number): fc.Arbitrary<Command[]> {
  const size = fc.oneof(
    fc.constantFrom(0, 1, frameBytesMax, frameBytesMax - 1),
    fc.integer({ min: 0, max: frameBytesMax }),
  );
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant('write' as const), size, seed: fc.nat() }) },
    { weight: 2, arbitrary: fc.constant({ t: 'publish' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('drain' as const),
        max: fc.integer({ min: 0, max: 8 }),
        inPlace: fc.boolean(),
      }),
    },
  );
  return fc.array(command, { minLength: 1, maxLength: 300 });
}

const scenario = fc
  .record({
    capacityBytes: fc.constantFrom(...capacities),
    earlyWrapBytes: fc.constantFrom(...earlyWrapOffsets),
    initialCounter: fc.oneof(
      fc.constantFrom(...initialCounters),
      fc.integer({ min: -(2 ** 28), max: 2 ** 28 }).map((n) => n * 8),
    ),
  })
  .chain((s) =>
    commandsFor(s.capacityBytes / 2 - recordHeaderBytes).map((commands) => ({ ...s, commands })));

interface Scenario {
  capacityBytes: number; earlyWrapBytes: number; initialCounter: number; commands: Command[];
}

function run(s: Scenario): void {
  const sab = createRingBuffer(s.capacityBytes, { initialCounter: s.initialCounter });
  const producer = new RingProducer(sab, createDoorbell(), { earlyWrapBytes: s.earlyWrapBytes });
  const consumer = new RingConsumer(sab);
  const model = new RingModel(s.capacityBytes, s.initialCounter, s.earlyWrapBytes);
  expect(producer.frameBytesMax).toBe(s.capacityBytes / 2 - recordHeaderBytes);
  for (const c of s.commands) {
    if (c.t === 'write') {
      const bytes = fill(c.size, c.seed);
      expect(producer.tryWrite(bytes)).toBe(model.tryWrite(bytes));
    } else if (c.t === 'publish') {
      producer.publish();
      model.publish();
    } else {
      const got: Uint8Array[] = [];
      const n = c.inPlace
        ? consumer.drainInPlace((b, at, length) => got.push(b.slice(at, at + length)), c.max)
        : consumer.drain((f) => got.push(f.slice()), c.max);
      const want = model.drain(c.max);
      expect(n).toBe(want.length);
      expectFrames(got, want);
    }
    expect(producer.depthBytes()).toBe(model.producerDepthBytes());
    expect(consumer.depthBytes()).toBe(model.consumerDepthBytes());
    expect(consumer.hasData()).toBe(model.hasData());
  }
  // Everything written comes out, in order, once published.
  producer.publish();
  model.publish();
  const rest: Uint8Array[] = [];
  consumer.drain((f) => rest.push(f.slice()));
  expectFrames(rest, model.drain(Infinity));
  expect(producer.depthBytes()).toBe(0);
}

describe('ring vs array-queue model', () => {
  it('agrees on every interleaving of tryWrite, publish and drain', () => {
    fc.assert(fc.property(scenario, run), {
      numRuns: 5000,
      interruptAfterTimeLimit: 4000,
      markInterruptAsFailure: false,
    });
  });

  it('carries frames of every size from 0 to frameBytesMax, wrapping the data area', () => {
    for (const capacityBytes of [64, 256, 4096]) {
      const sab = createRingBuffer(capacityBytes, { initialCounter: 2 ** 31 - capacityBytes });
      const producer = new RingProducer(sab, createDoorbell());
      const consumer = new RingConsumer(sab);
      let total = 0;
      for (let size = 0; size <= producer.frameBytesMax; size++) {
        const bytes = fill(size, size);
        expect(producer.tryWrite(bytes)).toBe(true);
        producer.publish();
        const got: Uint8Array[] = [];
        expect(consumer.drain((f) => got.push(f.slice()))).toBe(1);
        expectFrames(got, [bytes]);
        total += 1;
      }
      expect(total).toBe(capacityBytes / 2 - recordHeaderBytes + 1);
      expect(consumer.hasData()).toBe(false);
    }
  });

  it('keeps a ring its consumer keeps up with near offset 0 (early wrap)', () => {
    const capacityBytes = 4 * 1024 * 1024;
    const ringHeaderBytes = 128;
    for (const earlyWrapBytes of [undefined, 4096]) {
      const limit = earlyWrapBytes ?? 256 * 1024;
      const sab = createRingBuffer(capacityBytes);
      const producer = new RingProducer(sab, createDoorbell(),
        earlyWrapBytes === undefined ? {} : { earlyWrapBytes });
      const consumer = new RingConsumer(sab);
      let furthest = 0;
      let passed = 0;
      let sent = 0;
      let received = 0;
      while (passed < 3 * capacityBytes) {
        // One to three frames per drain, so the consumer is sometimes a frame or two behind.
        for (let k = 0; k <= sent % 3; k++) {
          const bytes = fill(40 + ((sent * 97) % 1000), sent);
          expect(producer.tryWrite(bytes)).toBe(true);
          passed += bytes.length;
          sent++;
        }
        producer.publish();
        consumer.drainInPlace((b, at, length) => {
          furthest = Math.max(furthest, at - ringHeaderBytes + length);
          expect(b[at]).toBe(received & 0xff);
          received++;
        });
      }
      expect(received).toBe(sent);
      // Without the early wrap the frames would have cycled through all 4 MiB three times.
      expect(furthest).toBeGreaterThan(limit);
      expect(furthest).toBeLessThan(limit + 4 * 1048);
    }
  });

  it('refuses exactly when full and accepts again after a drain', () => {
    const sab = createRingBuffer(256);
    const producer = new RingProducer(sab, createDoorbell());
    const consumer = new RingConsumer(sab);
    let written = 0;
    while (producer.tryWrite(fill(24, written))) written++;
    expect(written).toBe(256 / 32); // 24 + 8 header = 32-byte records
    expect(producer.depthBytes()).toBe(256);
    producer.publish();
    expect(consumer.drain(() => {}, 1)).toBe(1);
    expect(producer.tryWrite(fill(24, 99))).toBe(true);
    expect(producer.tryWrite(fill(0, 0))).toBe(false);
  });

  it('rejects frames above frameBytesMax and bad capacities as programmer errors', () => {
    const producer = new RingProducer(createRingBuffer(64), createDoorbell());
    expect(() => producer.tryWrite(new Uint8Array(producer.frameBytesMax + 1))).toThrow(
      /frameBytesMax/);
    expect(() => createRingBuffer(100)).toThrow(/power of two/);
    expect(() => createRingBuffer(32)).toThrow(/ringCapacityBytesMin/);
    expect(() => createRingBuffer(64, { initialCounter: 4 })).toThrow(/aligned/);
    expect(() => new RingConsumer(new SharedArrayBuffer(256))).toThrow(/magic/);
  });

  it('a new producer or consumer attaches where the previous one stopped', () => {
    const sab = createRingBuffer(128);
    const bell = createDoorbell();
    const first = new RingProducer(sab, bell);
    expect(first.tryWrite(fill(10, 1))).toBe(true);
    first.publish();
    expect(first.tryWrite(fill(10, 2))).toBe(true); // never published: lost with its producer
    const second = new RingProducer(sab, bell);
    expect(second.depthBytes()).toBe(recordBytes(10));
    expect(second.tryWrite(fill(11, 3))).toBe(true);
    second.publish();
    const got: Uint8Array[] = [];
    new RingConsumer(sab).drain((f) => got.push(f.slice()), 1);
    new RingConsumer(sab).drain((f) => got.push(f.slice()));
    expect(got).toEqual([fill(10, 1), fill(11, 3)]);
  });
});
