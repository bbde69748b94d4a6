// Kahuna's placement hash (wire.md 4.9.2): xxHash32 against the reference vectors, the jump
// hash's defining properties, and the key -> key space -> group rules.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketOfGroup, groupOf, jumpHash, keySpaceOf, PartitionMap, xxHash32,
} from '../../src/core/routing/placement.js';

const utf8 = new TextEncoder();

describe('xxHash32', () => {
  it('matches the reference implementation vectors', () => {
    expect(xxHash32(utf8.encode(''), 0)).toBe(0x02cc5d05);
    expect(xxHash32(utf8.encode('a'), 0)).toBe(0x550d7456);
    expect(xxHash32(utf8.encode('abc'), 0)).toBe(0x32d153ff);
    expect(xxHash32(utf8.encode('Nobody inspects the spammish repetition'), 0)).toBe(0xe2293b2f);
    expect(xxHash32(utf8.encode(''), 1)).toBe(0x0b2cb792);
  });
});

describe('jump consistent hash', () => {
  it('stays in range and moves keys only to the new bucket when the pool grows', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.integer({ min: 1, max: 300 }), (key, n) => {
        const a = jumpHash(key, n);
        const b = jumpHash(key, n + 1);
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThan(n);
        expect(b === a || b === n).toBe(true);
      }));
  });

  it('spreads keys evenly', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[bucketOfGroup(`bucket-${i}`, 8)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});

describe('placement groups', () => {
  it('cuts the key space at the last / and the group at the first |', () => {
    expect(keySpaceOf('users/42')).toBe('users');
    expect(keySpaceOf('a/b/c')).toBe('a/b');
    expect(keySpaceOf('plain')).toBe('plain');
    expect(groupOf('t:r|i:pk')).toBe('t:r');
    const map = new PartitionMap(16);
    expect(map.ofKey('t:r|i:pk/1')).toBe(map.ofKeySpace('t:r'));
    expect(map.ofKey('users/1')).toBe(map.ofKey('users/2'));
    expect(map.ofKey('users/1')).toBe(map.ofKeySpace('users'));
    for (let i = 0; i < 100; i++) {
      const p = map.ofKey(`k${i}`);
      expect(p >= 1 && p <= 16).toBe(true);
    }
  });
});
