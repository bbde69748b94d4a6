// Round trip of every Frame body kind through src/ipc/frames.ts, standalone and read in place
// from a ring.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Body,
  decodeFrame,
  decodeFrameData,
  encodeClientRequest,
  encodeFrame,
  encodePersistBatch,
  FrameReader,
  type FrameData,
  ReadKind,
  WriteKind,
} from '../../src/ipc/frames.js';
import {
  createDoorbell, createRingBuffer, RingConsumer, RingProducer,
} from '../../src/ipc/ring.js';

const u32 = fc.nat({ max: 0xffff_ffff });
const u16 = fc.nat({ max: 0xffff });
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const bytes = fc.uint8Array({ maxLength: 64 });
const text = fc.string({ unit: 'binary', maxLength: 40 });

const frameData: fc.Arbitrary<FrameData> = fc.oneof(
  fc.record({ kind: fc.constant(Body.ClientRequest as const), id: u32, partition: u32, op: u16,
    payload: bytes }),
  fc.record({ kind: fc.constant(Body.ClientReply as const), id: u32, code: u16, detail: text,
    payload: bytes }),
  fc.record({ kind: fc.constant(Body.PersistBatch as const), partition: u32, sequence: u64,
    ops: fc.array(fc.record({
      kind: fc.constantFrom(WriteKind.Put, WriteKind.Delete, WriteKind.DeleteRange),
      key: bytes, value: bytes,
    }), { maxLength: 8 }) }),
  fc.record({ kind: fc.constant(Body.PersistAck as const), partition: u32, sequence: u64,
    code: u16, detail: text }),
  fc.record({ kind: fc.constant(Body.ReadRequest as const), id: u32,
    readKind: fc.constantFrom(ReadKind.Get, ReadKind.Range), start: bytes, end: bytes,
    limit: u32 }),
  fc.record({ kind: fc.constant(Body.ReadReply as const), id: u32, code: u16, detail: text,
    entries: fc.array(fc.record({ key: bytes, value: bytes }), { maxLength: 8 }),
    more: fc.boolean() }),
);

const examples: FrameData[] = [
  { kind: Body.ClientRequest, id: 7, partition: 3, op: 12, payload: Uint8Array.of(1, 2, 3) },
  { kind: Body.ClientReply, id: 7, code: 1, detail: 'must retry', payload: new Uint8Array(0) },
  {
    kind: Body.PersistBatch, partition: 3, sequence: 2n ** 63n + 5n,
    ops: [
      { kind: WriteKind.Put, key: Uint8Array.of(1), value: Uint8Array.of(9, 9) },
      { kind: WriteKind.Delete, key: Uint8Array.of(2), value: new Uint8Array(0) },
      { kind: WriteKind.DeleteRange, key: Uint8Array.of(3), value: Uint8Array.of(4) },
    ],
  },
  { kind: Body.PersistAck, partition: 3, sequence: 42n, code: 0, detail: '' },
  {
    kind: Body.ReadRequest, id: 1, readKind: ReadKind.Range, start: Uint8Array.of(0),
    end: Uint8Array.of(255), limit: 100,
  },
  {
    kind: Body.ReadReply, id: 1, code: 0, detail: 'ok ✓',
    entries: [{ key: Uint8Array.of(5), value: Uint8Array.of(6) }], more: true,
  },
];

describe('frames', () => {
  it('round-trips an example of every Body kind', () => {
    const kinds = new Set<Body>();
    for (const data of examples) {
      const decoded = decodeFrameData(encodeFrame(data));
      expect(decoded).toEqual(data);
      kinds.add(decoded.kind);
    }
    expect(kinds.size).toBe(6);
  });

  it('round-trips arbitrary frames (property)', () => {
    fc.assert(fc.property(frameData, (data) => {
      expect(decodeFrameData(encodeFrame(data))).toEqual(data);
    }), { numRuns: 1500, interruptAfterTimeLimit: 3000, markInterruptAsFailure: false });
  });

  it('reads frames in place from a ring with one reused FrameReader', () => {
    const sab = createRingBuffer(4096);
    const producer = new RingProducer(sab, createDoorbell());
    const consumer = new RingConsumer(sab);
    const sent: FrameData[] = fc.sample(frameData, { numRuns: 400, seed: 4242 });
    const got: FrameData[] = [];
    const reader = new FrameReader();
    let next = 0;
    while (got.length < sent.length) {
      while (next < sent.length && producer.tryWrite(encodeFrame(sent[next]!))) next++;
      producer.publish();
      consumer.drainInPlace((ring, offset, length) => {
        const view = ring.subarray(offset, offset + length);
        const f = got.length % 2 === 0 ? reader.readAt(ring, offset, length) : reader.read(view);
        const want = sent[got.length]!;
        expect(f.kind).toBe(want.kind);
        if (f.kind === Body.PersistBatch && want.kind === Body.PersistBatch) {
          expect(f.body.opsLength()).toBe(want.ops.length);
          expect(f.body.sequence()).toBe(want.sequence);
        }
        got.push(decodeFrameData(view));
      });
    }
    expect(got).toEqual(sent);
  });

  it('encode views alias one scratch builder; decodeFrame results do not alias', () => {
    const a = encodeClientRequest({ id: 1, partition: 2, op: 3, payload: Uint8Array.of(4) });
    const aCopy = a.slice();
    encodePersistBatch({ partition: 9, sequence: 9n, ops: [] });
    expect(decodeFrameData(aCopy)).toMatchObject({ kind: Body.ClientRequest, id: 1 });
    const x = decodeFrame(aCopy);
    const y = decodeFrame(encodeClientRequest({ id: 5, partition: 6, op: 7,
      payload: new Uint8Array(0) }).slice());
    expect(x.kind === Body.ClientRequest && x.body.id()).toBe(1);
    expect(y.kind === Body.ClientRequest && y.body.id()).toBe(5);
  });

  it('rejects a frame too short to be a Frame', () => {
    expect(() => decodeFrame(new Uint8Array(4))).toThrow(/shorter/);
  });
});
