// Kahuna's hash placement (wire.md 2.5 and 4.9.2, published as
// `kahuna.placement-group-jump-xxh32-v1`): key -> key space (the part before the last '/', or
// the whole key) -> placement group (the part of the key space before its first '|') ->
// partition = 1 + jumpHash(xxh32(group, 0xAAAAAAAA) << 32 | xxh32(group, 0x55555555), pool).
// Clients compute the same function, so it must match exactly. Pure.
import { assert } from '../../assert.js';

export const placementAlgorithm = 'kahuna.placement-group-jump-xxh32-v1';
export const keySpaceSeparator = '/';
export const groupSeparator = '|';
export const partitionOffset = 1;
const seedHigh = 0xaaaaaaaa;
const seedLow = 0x55555555;

const p1 = 0x9e3779b1;
const p2 = 0x85ebca77;
const p3 = 0xc2b2ae3d;
const p4 = 0x27d4eb2f;
const p5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function readU32LE(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, p2)) | 0, 13), p1);
}

/** xxHash32 (Yann Collet's specification) of `input` with `seed`, as an unsigned 32-bit int. */
export function xxHash32(input: Uint8Array, seed: number): number {
  const length = input.length;
  let i = 0;
  let h: number;
  if (length >= 16) {
    let v1 = (seed + p1 + p2) | 0;
    let v2 = (seed + p2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - p1) | 0;
    for (; i + 16 <= length; i += 16) {
      v1 = round(v1, readU32LE(input, i));
      v2 = round(v2, readU32LE(input, i + 4));
      v3 = round(v3, readU32LE(input, i + 8));
      v4 = round(v4, readU32LE(input, i + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + p5) | 0;
  }
  h = (h + length) | 0;
  for (; i + 4 <= length; i += 4) {
    h = Math.imul(rotl((h + Math.imul(readU32LE(input, i), p3)) | 0, 17), p4);
  }
  for (; i < length; i++) h = Math.imul(rotl((h + Math.imul(input[i]!, p5)) | 0, 11), p1);
  h = Math.imul(h ^ (h >>> 15), p2);
  h = Math.imul(h ^ (h >>> 13), p3);
  return (h ^ (h >>> 16)) >>> 0;
}

const jumpMultiplier = 2862933555777941757n;
const mask64 = 0xffff_ffff_ffff_ffffn;

/** Lamping and Veach's jump consistent hash of a 64-bit key onto [0, buckets). */
export function jumpHash(key: bigint, buckets: number): number {
  assert(Number.isInteger(buckets) && buckets > 0, 'jumpHash needs at least one bucket');
  let state = key & mask64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    state = (state * jumpMultiplier + 1n) & mask64;
    j = Math.floor((b + 1) * (2147483648 / Number((state >> 33n) + 1n)));
  }
  return b;
}

export function keySpaceOf(key: string): string {
  const at = key.lastIndexOf(keySpaceSeparator);
  return at < 0 ? key : key.slice(0, at);
}

export function groupOf(keySpace: string): string {
  const at = keySpace.indexOf(groupSeparator);
  return at < 0 ? keySpace : keySpace.slice(0, at);
}

const utf8 = new TextEncoder();

/** The bucket in [0, pool) of a placement group's UTF-8 bytes. */
export function bucketOfGroup(group: string, pool: number): number {
  const bytes = utf8.encode(group);
  const key = (BigInt(xxHash32(bytes, seedHigh)) << 32n) | BigInt(xxHash32(bytes, seedLow));
  return jumpHash(key, pool);
}

/** Maps keys, lock resources and sequence storage keys to partitions 1..partitions, caching
 *  the answer per placement group (bounded: the cache is dropped when it fills). */
export class PartitionMap {
  private readonly cache = new Map<string, number>();

  constructor(readonly partitions: number, private readonly cacheMax = 65_536) {
    assert(Number.isInteger(partitions) && partitions >= 1, 'at least one partition');
  }

  /** The partition of a key (or lock resource). */
  ofKey(key: string): number {
    return this.ofGroup(groupOf(keySpaceOf(key)));
  }

  /** The partition of a key space (a bucket, a range scan's prefix). */
  ofKeySpace(keySpace: string): number {
    return this.ofGroup(groupOf(keySpace));
  }

  private ofGroup(group: string): number {
    const hit = this.cache.get(group);
    if (hit !== undefined) return hit;
    const p = partitionOffset + bucketOfGroup(group, this.partitions);
    if (this.cache.size >= this.cacheMax) this.cache.clear();
    this.cache.set(group, p);
    return p;
  }
}
