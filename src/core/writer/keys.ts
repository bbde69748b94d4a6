// The binary key layout of Honu's one RocksDB per node (docs/ARCHITECTURE.md, "Storage key
// layout"). Keys sort bytewise (RocksDB's default comparator), so every field is fixed-width
// big-endian or comes last: everything of one kind of one partition is one iterator range.
//
//   node metadata      [0x01][name bytes (UTF-8)]
//   hard state         [0x10][partition u32 BE]
//   checkpoint meta    [0x11][partition u32 BE]
//   raft log entry     [0x12][partition u32 BE][logIndex u64 BE]
//   materialized state [0x13][partition u32 BE][namespace u8][user key bytes]
//
// Pure code: Uint8Array only, no Buffer (src/core/ never imports node:*).
import { assert } from '../../assert.js';

/** The first byte of every key. Gaps are left on purpose for kinds added later. */
export const KeyTag = {
  nodeMeta: 0x01,
  hardState: 0x10,
  checkpoint: 0x11,
  raftLog: 0x12,
  state: 0x13,
} as const;

export type KeyTagValue = (typeof KeyTag)[keyof typeof KeyTag];

/** A half-open key range [start, end); `end` null means "to the end of the key space". */
export interface KeyRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array | null;
}

export type DecodedKey =
  | { readonly kind: 'nodeMeta'; readonly name: string }
  | { readonly kind: 'hardState'; readonly partition: number }
  | { readonly kind: 'checkpoint'; readonly partition: number }
  | { readonly kind: 'raftLog'; readonly partition: number; readonly logIndex: number }
  | {
      readonly kind: 'state';
      readonly partition: number;
      readonly namespace: number;
      readonly userKey: Uint8Array;
    };

const tagBytes = 1;
const partitionBytes = 4;
const logIndexBytes = 8;
const namespaceBytes = 1;
const partitionPrefixBytes = tagBytes + partitionBytes;
const u32Max = 0xffff_ffff;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function assertPartition(partition: number): void {
  assert(Number.isInteger(partition), 'partition must be an integer');
  assert(partition >= 0 && partition <= u32Max, 'partition must fit in u32');
}

/** Big-endian u32 at `at`, written byte by byte (no DataView: keys are built per entry on hot
 *  paths, and a DataView per key costs more than the key). */
function writeU32(key: Uint8Array, at: number, value: number): void {
  key[at] = value >>> 24;
  key[at + 1] = (value >>> 16) & 0xff;
  key[at + 2] = (value >>> 8) & 0xff;
  key[at + 3] = value & 0xff;
}

function readU32(key: Uint8Array, at: number): number {
  return ((key[at] ?? 0) * 2 ** 24) + (((key[at + 1] ?? 0) << 16) | ((key[at + 2] ?? 0) << 8) |
    (key[at + 3] ?? 0));
}

function partitionPrefix(tag: KeyTagValue, partition: number, extraBytes: number): Uint8Array {
  assertPartition(partition);
  assert(extraBytes >= 0, 'extraBytes must be >= 0');
  const key = new Uint8Array(partitionPrefixBytes + extraBytes);
  key[0] = tag;
  writeU32(key, tagBytes, partition);
  return key;
}

function readPartition(key: Uint8Array): number {
  assert(key.length >= partitionPrefixBytes, 'key too short for a partition id');
  return readU32(key, tagBytes);
}

export function nodeMetaKey(name: string): Uint8Array {
  assert(name.length > 0, 'node metadata name must not be empty');
  const nameBytes = textEncoder.encode(name);
  const key = new Uint8Array(tagBytes + nameBytes.length);
  key[0] = KeyTag.nodeMeta;
  key.set(nameBytes, tagBytes);
  return key;
}

export function hardStateKey(partition: number): Uint8Array {
  return partitionPrefix(KeyTag.hardState, partition, 0);
}

export function checkpointKey(partition: number): Uint8Array {
  return partitionPrefix(KeyTag.checkpoint, partition, 0);
}

/** logIndex is a safe integer (Raft indexes stay far below 2^53). */
export function raftLogKey(partition: number, logIndex: number): Uint8Array {
  assert(Number.isSafeInteger(logIndex), 'logIndex must be a safe integer');
  assert(logIndex >= 0, 'logIndex must be >= 0');
  const key = partitionPrefix(KeyTag.raftLog, partition, logIndexBytes);
  writeU32(key, partitionPrefixBytes, Math.floor(logIndex / 2 ** 32));
  writeU32(key, partitionPrefixBytes + 4, logIndex >>> 0);
  return key;
}

export function stateKey(partition: number, namespace: number, userKey: Uint8Array): Uint8Array {
  assert(Number.isInteger(namespace), 'namespace must be an integer');
  assert(namespace >= 0 && namespace <= 0xff, 'namespace must fit in u8');
  const key = partitionPrefix(KeyTag.state, partition, namespaceBytes + userKey.length);
  key[partitionPrefixBytes] = namespace;
  key.set(userKey, partitionPrefixBytes + namespaceBytes);
  return key;
}

function decodeRaftLog(key: Uint8Array): DecodedKey {
  assert(key.length === partitionPrefixBytes + logIndexBytes, 'raft log key has a bad length');
  const high = readU32(key, partitionPrefixBytes);
  const low = readU32(key, partitionPrefixBytes + 4);
  const logIndex = high * 2 ** 32 + low;
  assert(Number.isSafeInteger(logIndex), 'raft log index beyond 2^53');
  return { kind: 'raftLog', partition: readPartition(key), logIndex };
}

function decodeState(key: Uint8Array): DecodedKey {
  assert(key.length >= partitionPrefixBytes + namespaceBytes, 'state key too short');
  const namespace = key[partitionPrefixBytes];
  assert(namespace !== undefined, 'state key has no namespace');
  const userKey = key.slice(partitionPrefixBytes + namespaceBytes);
  return { kind: 'state', partition: readPartition(key), namespace, userKey };
}

/** The inverse of the encoders above; throws (assert) on a key no encoder produces. */
export function decodeKey(key: Uint8Array): DecodedKey {
  assert(key.length >= tagBytes, 'empty key');
  switch (key[0]) {
    case KeyTag.nodeMeta:
      assert(key.length > tagBytes, 'node metadata key without a name');
      return { kind: 'nodeMeta', name: textDecoder.decode(key.subarray(tagBytes)) };
    case KeyTag.hardState:
      assert(key.length === partitionPrefixBytes, 'hard state key has a bad length');
      return { kind: 'hardState', partition: readPartition(key) };
    case KeyTag.checkpoint:
      assert(key.length === partitionPrefixBytes, 'checkpoint key has a bad length');
      return { kind: 'checkpoint', partition: readPartition(key) };
    case KeyTag.raftLog:
      return decodeRaftLog(key);
    case KeyTag.state:
      return decodeState(key);
    default:
      assert(false, `unknown key tag ${key[0]}`);
  }
}

/**
 * The smallest key greater than every key that starts with `prefix`: drop trailing 0xff bytes,
 * then increment the last byte. Null when the prefix is all 0xff (no upper bound exists).
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | null {
  let last = prefix.length - 1;
  while (last >= 0 && prefix[last] === 0xff) last -= 1;
  if (last < 0) return null;
  const end = prefix.slice(0, last + 1);
  end[last] = (end[last] ?? 0) + 1;
  assert(compareKeys(end, prefix) > 0, 'prefixEnd must sort after its prefix');
  return end;
}

/** Every key that starts with `prefix`. */
export function prefixRange(prefix: Uint8Array): KeyRange {
  assert(prefix.length > 0, 'an empty prefix is the whole key space; say so explicitly');
  return { start: prefix.slice(), end: prefixEnd(prefix) };
}

/** Raft log entries of one partition with fromIndex <= logIndex < toIndex (default: all). */
export function raftLogRange(partition: number, fromIndex = 0, toIndex?: number): KeyRange {
  const start = raftLogKey(partition, fromIndex);
  if (toIndex === undefined) {
    return { start, end: prefixEnd(partitionPrefix(KeyTag.raftLog, partition, 0)) };
  }
  assert(toIndex >= fromIndex, 'toIndex must be >= fromIndex');
  return { start, end: raftLogKey(partition, toIndex) };
}

/** Materialized state of one partition: one namespace, or every namespace when omitted. */
export function stateRange(partition: number, namespace?: number): KeyRange {
  if (namespace === undefined) {
    return prefixRange(partitionPrefix(KeyTag.state, partition, 0));
  }
  return prefixRange(stateKey(partition, namespace, new Uint8Array(0)));
}

/** Everything of one kind for one partition (hard state, checkpoint, log or state). */
export function partitionRange(tag: KeyTagValue, partition: number): KeyRange {
  assert(tag !== KeyTag.nodeMeta, 'node metadata is not per partition');
  return prefixRange(partitionPrefix(tag, partition, 0));
}

/** All node metadata keys. */
export function nodeMetaRange(): KeyRange {
  return prefixRange(Uint8Array.of(KeyTag.nodeMeta));
}

/** Bytewise comparison, the order RocksDB's default comparator uses. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** True when start <= key < end. */
export function keyInRange(key: Uint8Array, range: KeyRange): boolean {
  if (compareKeys(key, range.start) < 0) return false;
  return range.end === null || compareKeys(key, range.end) < 0;
}
