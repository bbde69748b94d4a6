// The storage key layout (src/core/writer/keys.ts): encoders round-trip, and byte order is the
// order the restore path needs (one iterator range per partition and kind).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkpointKey, compareKeys, decodeKey, hardStateKey, KeyTag, keyInRange, nodeMetaKey,
  partitionRange, prefixEnd, raftLogKey, raftLogRange, stateKey, stateRange,
} from '../../src/core/writer/keys.js';

const partitionArb = fc.integer({ min: 0, max: 0xffff_ffff });
const logIndexArb = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER),
);
const bytesArb = fc.uint8Array({ maxLength: 12 });
const namespaceArb = fc.integer({ min: 0, max: 255 });
const runs = { numRuns: 500 };

/** Any key the encoders produce, with the tuple it encodes. */
const keyArb = fc.oneof(
  partitionArb.map((p) => hardStateKey(p)),
  partitionArb.map((p) => checkpointKey(p)),
  fc.tuple(partitionArb, logIndexArb).map(([p, i]) => raftLogKey(p, i)),
  fc.tuple(partitionArb, namespaceArb, bytesArb).map(([p, n, k]) => stateKey(p, n, k)),
  fc.string({ minLength: 1, maxLength: 8 }).map((name) => nodeMetaKey(name)),
);

describe('storage keys', () => {
  it('decode inverts every encoder', () => {
    fc.assert(fc.property(partitionArb, logIndexArb, namespaceArb, bytesArb, (p, i, n, k) => {
      expect(decodeKey(raftLogKey(p, i))).toEqual({ kind: 'raftLog', partition: p, logIndex: i });
      expect(decodeKey(hardStateKey(p))).toEqual({ kind: 'hardState', partition: p });
      expect(decodeKey(checkpointKey(p))).toEqual({ kind: 'checkpoint', partition: p });
      expect(decodeKey(stateKey(p, n, k))).toEqual({
        kind: 'state', partition: p, namespace: n, userKey: k,
      });
    }), runs);
    expect(decodeKey(nodeMetaKey('cluster-id'))).toEqual({ kind: 'nodeMeta', name: 'cluster-id' });
  });

  it('orders raft log keys by (partition, logIndex)', () => {
    fc.assert(fc.property(partitionArb, logIndexArb, partitionArb, logIndexArb,
      (p1, i1, p2, i2) => {
        const expected = p1 !== p2 ? Math.sign(p1 - p2) : Math.sign(i1 - i2);
        expect(compareKeys(raftLogKey(p1, i1), raftLogKey(p2, i2))).toBe(expected);
      }), runs);
  });

  it('orders state keys by (partition, namespace, user key bytes)', () => {
    fc.assert(fc.property(partitionArb, namespaceArb, bytesArb, namespaceArb, bytesArb,
      (p, n1, k1, n2, k2) => {
        const expected = n1 !== n2 ? Math.sign(n1 - n2) : compareKeys(k1, k2);
        expect(compareKeys(stateKey(p, n1, k1), stateKey(p, n2, k2))).toBe(expected);
      }), runs);
  });

  it('puts each kind of each partition in its own range, and nothing else in it', () => {
    fc.assert(fc.property(keyArb, partitionArb, logIndexArb, (key, p, i) => {
      const decoded = decodeKey(key);
      const inLog = keyInRange(key, raftLogRange(p));
      expect(inLog).toBe(decoded.kind === 'raftLog' && decoded.partition === p);
      const inState = keyInRange(key, stateRange(p));
      expect(inState).toBe(decoded.kind === 'state' && decoded.partition === p);
      const inHard = keyInRange(key, partitionRange(KeyTag.hardState, p));
      expect(inHard).toBe(decoded.kind === 'hardState' && decoded.partition === p);
      const tail = raftLogRange(p, i);
      expect(keyInRange(key, tail)).toBe(decoded.kind === 'raftLog' && decoded.partition === p &&
        decoded.logIndex >= i);
    }), runs);
  });

  it('bounds log ranges [from, to) and namespace ranges exactly', () => {
    fc.assert(fc.property(partitionArb, fc.nat(1000), fc.nat(1000), fc.nat(1000),
      (p, a, b, x) => {
        const [from, to] = a <= b ? [a, b] : [b, a];
        expect(keyInRange(raftLogKey(p, x), raftLogRange(p, from, to))).toBe(x >= from && x < to);
      }), runs);
    fc.assert(fc.property(partitionArb, namespaceArb, namespaceArb, bytesArb, (p, n, m, k) => {
      expect(keyInRange(stateKey(p, m, k), stateRange(p, n))).toBe(m === n);
    }), runs);
  });

  it('computes prefix ends, including carries over 0xff and the all-0xff case', () => {
    expect(prefixEnd(Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(1, 2, 4));
    expect(prefixEnd(Uint8Array.of(1, 0xff, 0xff))).toEqual(Uint8Array.of(2));
    expect(prefixEnd(Uint8Array.of(0xff, 0xff))).toBeNull();
    expect(stateRange(0xffff_ffff, 0xff).end).toEqual(Uint8Array.of(KeyTag.state + 1));
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 6 }), bytesArb,
      (prefix, suffix) => {
        const end = prefixEnd(prefix);
        const key = Uint8Array.of(...prefix, ...suffix);
        if (end !== null) expect(compareKeys(key, end)).toBeLessThan(0);
      }), runs);
  });

  it('rejects values that do not fit the layout', () => {
    expect(() => raftLogKey(0, -1)).toThrow();
    expect(() => raftLogKey(0, 2 ** 53)).toThrow();
    expect(() => hardStateKey(2 ** 32)).toThrow();
    expect(() => stateKey(0, 256, new Uint8Array(0))).toThrow();
    expect(() => decodeKey(Uint8Array.of(0x7f))).toThrow();
    expect(() => decodeKey(Uint8Array.of(KeyTag.raftLog, 0, 0, 0, 1))).toThrow();
  });
});
