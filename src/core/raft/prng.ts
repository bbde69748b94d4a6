// Seeded pseudo-random numbers (style.md rule 7): xoshiro128** seeded through splitmix32.
// Deterministic: the same seed gives the same stream on every platform (32-bit integer math).
import type { Prng } from './types.js';
import { assert } from '../../assert.js';

function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/** FNV-1a over the UTF-16 code units of a label: names a forked stream. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const twoPow32 = 4294967296;

export class SeededPrng implements Prng {
  readonly seed: number;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** `seed`: any safe integer (both 32-bit halves are used). */
  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), 'prng seed must be a safe integer');
    this.seed = seed;
    let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / twoPow32) | 0, 0x27d4eb2d);
    let out: number;
    [state, out] = splitmix32(state);
    this.s0 = out;
    [state, out] = splitmix32(state);
    this.s1 = out;
    [state, out] = splitmix32(state);
    this.s2 = out;
    [, out] = splitmix32(state);
    this.s3 = out;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixpoint
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 = s2 ^ s0;
    this.s3 = s3 ^ s1;
    this.s1 = s1 ^ this.s2;
    this.s0 = s0 ^ this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** An integer in [0, bound); bound is a positive integer <= 2^32. Unbiased (rejection). */
  nextInt(bound: number): number {
    assert(Number.isInteger(bound) && bound > 0, 'prng bound must be a positive integer');
    assert(bound <= twoPow32, 'prng bound above 2^32');
    const limit = twoPow32 - (twoPow32 % bound);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % bound;
    }
  }

  /** A float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / twoPow32;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** An independent stream named `label`: depends only on this seed and the label, not on how
   *  many numbers this stream has drawn, so adding a fork never shifts the others. */
  fork(label: string): SeededPrng {
    const h = hashLabel(label);
    const lo = ((this.seed >>> 0) ^ h) >>> 0;
    const hi = (Math.floor(this.seed / twoPow32) + Math.imul(h, 0x9e3779b1)) >>> 0;
    return new SeededPrng((hi % 0x200000) * twoPow32 + lo);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
