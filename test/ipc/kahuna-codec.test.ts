// Ring/Raft-entry codec of the Kahuna operations: every shape round-trips exactly, including
// null vs empty bytes, optional strings and numbers, nested lists and optional objects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError, decode, encode } from '../../src/ipc/messages/codec.js';
import { KahunaOp, opCodecs } from '../../src/ipc/messages/kahuna.js';

const hlc = { n: 1, l: 1_700_000_000_123, c: 7 };
const zero = { n: 0, l: 0, c: 0 };
const tx = { txId: zero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0 };

describe('kahuna codec', () => {
  it('round-trips a set with null and empty values', () => {
    const s = opCodecs[KahunaOp.KvSet].request;
    for (const value of [null, new Uint8Array(0), Uint8Array.of(1, 2, 3)]) {
      const req = { ...tx, key: 'bucket/ключ', value, compareValue: null, compareRevision: -1,
        flags: 16, expiresMs: 0, durability: 1 };
      expect(decode(s, encode(s, req))).toEqual(req);
    }
  });

  it('round-trips lists, optional objects and optional scalars', () => {
    const many = opCodecs[KahunaOp.KvGetMany];
    const req = { txId: hlc, readTimestamp: zero,
      items: [{ key: 'a', revision: -1, durability: 0 }, { key: 'b', revision: 3, durability: 1 }] };
    expect(decode(many.request, encode(many.request, req))).toEqual(req);
    const seq = opCodecs[KahunaOp.SeqGet].response;
    const none = { type: 1, sequence: null, revision: -1 };
    expect(decode(seq, encode(seq, none))).toEqual(none);
    const some = { type: 0, revision: 4, sequence: { name: 's', currentValue: 10,
      initialValue: 0, increment: 5, maxValue: null, revision: 4, durability: 1, createdAt: hlc,
      updatedAt: hlc, blockSize: 4, incarnation: 2 } };
    expect(decode(seq, encode(seq, some))).toEqual(some);
    const range = opCodecs[KahunaOp.KvGetByRange].request;
    const r = { txId: zero, prefix: 'p', startKey: null, startInclusive: true, endKey: 'p/z',
      endInclusive: false, limit: 100, readTimestamp: zero, durability: 1, cursor: null };
    expect(decode(range, encode(range, r))).toEqual(r);
  });

  it('round-trips arbitrary lock requests', () => {
    const s = opCodecs[KahunaOp.TryLock].request;
    fc.assert(fc.property(fc.string(), fc.uint8Array(), fc.integer(), fc.integer({ min: 0, max: 1 }),
      (resource, owner, expiresMs, durability) => {
        const req = { resource, owner, expiresMs, durability };
        expect(decode(s, encode(s, req))).toEqual(req);
      }));
  });

  it('rejects truncated and trailing bytes with a CodecError', () => {
    const s = opCodecs[KahunaOp.GetLock].request;
    const bytes = encode(s, { resource: 'r', durability: 1 });
    expect(() => decode(s, bytes.subarray(0, bytes.length - 1))).toThrow(CodecError);
    expect(() => decode(s, Uint8Array.of(...bytes, 0))).toThrow(CodecError);
  });
});
