// The bytes of a PeerBatch (peer-batch.ts): how one peer's turn of Raft traffic travels between
// nodes and through the SharedArrayBuffer rings. Pure: it only reads and writes byte arrays.
//
// Format, version 1. Every integer is an unsigned LEB128 varint unless marked u8: terms and
// indexes are safe integers (at most 8 bytes), node ids, groups and counts fit uint32 / the
// input. Varints must be minimal, so a batch has exactly one encoding.
//   batch     u8 version | from | to | epoch | tick | itemCount | item*
//   item      u8 tag | group | bodyBytes | body            (split routes on tag and group alone)
//   tags      1 Message, 2 coalesced heartbeat, 3 coalesced heartbeat response, 4 quiesce notice,
//             5 wake. The encoder writes them kind by kind in that order, each kind in its list
//             order; the decoder accepts any interleaving and keeps the order within a kind.
//   Message   u8 kind | u8 flags (1 reject, 2 snapshot, 4 context) | from | to | term | logTerm
//             | index | entryCount | entry* | commit | rejectHint | rejectHintTerm
//             | [snapshot] | [contextBytes | context]          (the group is the item's)
//   entry     term | index | u8 kind | dataBytes | data
//   snapshot  index | term | voters | learners | votersOutgoing | learnersNext (each: count, ids)
//             | u8 autoLeave | dataBytes | data
//   heartbeat u8 flags (1 context) | term | commit | [contextBytes | context]
//   quiesce   term | commit | lastIndex | lastTerm
//   wake      (empty body)
//
// Encoding sizes the output exactly first, then writes it once (no growth, no final copy).
// Decoding copies every byte field out of the input (rings reuse their memory), checks every
// count and length against the bytes that remain before using it, and throws a
// PeerBatchCodecError on malformed input: every loop is bounded by the input's length.
import { assert } from '../../../assert.js';
import {
  EntryKind, MsgKind, type ConfState, type Entry, type EntryKindValue, type GroupId,
  type Message, type MsgKindValue, type NodeId, type Snapshot,
} from '../types.js';
import type { CoalescedHeartbeat, PeerBatch, QuiesceHeartbeat } from './peer-batch.js';

export const peerBatchVersion = 1;

/** Malformed, truncated or wrong-version bytes (an operating error: the peer or ring is at
 *  fault, not this node). The message names the problem and its byte offset. */
export class PeerBatchCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerBatchCodecError';
  }
}

const Tag = { Message: 1, Heartbeat: 2, HeartbeatResp: 3, Quiesce: 4, Wake: 5 } as const;
const tagMax = Tag.Wake;
const msgKindMax = Math.max(...Object.values(MsgKind));
const entryKindMax = Math.max(...Object.values(EntryKind));

const msgFlagReject = 1;
const msgFlagSnapshot = 2;
const msgFlagContext = 4;
const msgFlagsAll = msgFlagReject | msgFlagSnapshot | msgFlagContext;
const hbFlagContext = 1;

/** Smallest encodings, to reject counts the remaining bytes cannot hold. */
const itemBytesMin = 3; // tag, group, bodyBytes
const entryBytesMin = 4; // term, index, kind, dataBytes
const uint32Max = 0xffffffff;
const twoPow31 = 0x80000000;

// ---------------------------------------------------------------------------------------------
// Encoding

/** Bytes of a varint holding `v`; asserts `v` is a safe non-negative integer. */
function varintBytes(v: number): number {
  assert(Number.isSafeInteger(v), 'peer batch numbers are safe integers');
  assert(v >= 0, 'peer batch numbers are non-negative');
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 0x800000000) return 5;
  if (v < 0x40000000000) return 6;
  if (v < 0x2000000000000) return 7;
  return 8; // < 2^56 covers every safe integer
}

function uint32Bytes(v: number): number {
  assert(v <= uint32Max, 'node ids and groups fit uint32');
  return varintBytes(v);
}

function bytesField(b: Uint8Array): number {
  return varintBytes(b.length) + b.length;
}

function idsBytes(ids: readonly NodeId[]): number {
  let n = varintBytes(ids.length);
  for (const id of ids) n += uint32Bytes(id);
  return n;
}

function entryBytes(e: Entry): number {
  assert(Number.isInteger(e.kind) && e.kind >= 0 && e.kind <= entryKindMax, 'entry kind');
  return varintBytes(e.term) + varintBytes(e.index) + 1 + bytesField(e.data);
}

function snapshotBytes(s: Snapshot): number {
  const c = s.meta.conf;
  return varintBytes(s.meta.index) + varintBytes(s.meta.term) + idsBytes(c.voters) +
    idsBytes(c.learners) + idsBytes(c.votersOutgoing) + idsBytes(c.learnersNext) + 1 +
    bytesField(s.data);
}

function messageBytes(m: Message): number {
  assert(Number.isInteger(m.kind) && m.kind >= 0 && m.kind <= msgKindMax, 'message kind');
  let n = 2 + uint32Bytes(m.from) + uint32Bytes(m.to) + varintBytes(m.term) +
    varintBytes(m.logTerm) + varintBytes(m.index) + varintBytes(m.entries.length) +
    varintBytes(m.commit) + varintBytes(m.rejectHint) + varintBytes(m.rejectHintTerm);
  for (const e of m.entries) n += entryBytes(e);
  if (m.snapshot !== null) n += snapshotBytes(m.snapshot);
  if (m.context !== null) n += bytesField(m.context);
  return n;
}

function heartbeatBytes(h: CoalescedHeartbeat): number {
  const n = 1 + varintBytes(h.term) + varintBytes(h.commit);
  return h.context === null ? n : n + bytesField(h.context);
}

function quiesceBytes(q: QuiesceHeartbeat): number {
  return varintBytes(q.term) + varintBytes(q.commit) + varintBytes(q.lastIndex) +
    varintBytes(q.lastTerm);
}

/** Writes into a buffer sized exactly beforehand (the size pass checked every number). */
class ByteWriter {
  readonly buf: Uint8Array;
  at = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  u8(v: number): void {
    this.buf[this.at++] = v;
  }

  varint(value: number): void {
    const buf = this.buf;
    let v = value;
    let at = this.at;
    // Bit operations are exact below 2^31; above, divide (safe integers divide exactly by 2^7
    // after taking the low bits, which `& 0x7f` keeps through ToInt32).
    while (v >= twoPow31) {
      buf[at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 0x80);
    }
    while (v >= 0x80) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at++] = v;
    this.at = at;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  ids(ids: readonly NodeId[]): void {
    this.varint(ids.length);
    for (const id of ids) this.varint(id);
  }

  /** Item header; returns where the body must end (checked by `itemEnd`). */
  item(tag: number, group: GroupId, bodyBytes: number): number {
    this.u8(tag);
    this.varint(group);
    this.varint(bodyBytes);
    return this.at + bodyBytes;
  }

  itemEnd(end: number): void {
    assert(this.at === end, 'peer batch item body matches its size');
  }
}

function writeMessage(w: ByteWriter, m: Message): void {
  w.u8(m.kind);
  w.u8((m.reject ? msgFlagReject : 0) | (m.snapshot !== null ? msgFlagSnapshot : 0) |
    (m.context !== null ? msgFlagContext : 0));
  w.varint(m.from);
  w.varint(m.to);
  w.varint(m.term);
  w.varint(m.logTerm);
  w.varint(m.index);
  w.varint(m.entries.length);
  for (const e of m.entries) {
    w.varint(e.term);
    w.varint(e.index);
    w.u8(e.kind);
    w.bytes(e.data);
  }
  w.varint(m.commit);
  w.varint(m.rejectHint);
  w.varint(m.rejectHintTerm);
  if (m.snapshot !== null) writeSnapshot(w, m.snapshot);
  if (m.context !== null) w.bytes(m.context);
}

function writeSnapshot(w: ByteWriter, s: Snapshot): void {
  const c = s.meta.conf;
  w.varint(s.meta.index);
  w.varint(s.meta.term);
  w.ids(c.voters);
  w.ids(c.learners);
  w.ids(c.votersOutgoing);
  w.ids(c.learnersNext);
  w.u8(c.autoLeave ? 1 : 0);
  w.bytes(s.data);
}

function writeHeartbeat(w: ByteWriter, h: CoalescedHeartbeat): void {
  w.u8(h.context !== null ? hbFlagContext : 0);
  w.varint(h.term);
  w.varint(h.commit);
  if (h.context !== null) w.bytes(h.context);
}

function writeQuiesce(w: ByteWriter, q: QuiesceHeartbeat): void {
  w.varint(q.term);
  w.varint(q.commit);
  w.varint(q.lastIndex);
  w.varint(q.lastTerm);
}

/** Item bytes for a body of `body` bytes; records the body size for the write pass. */
function itemBytes(sizes: number[], group: GroupId, body: number): number {
  sizes.push(body);
  return 1 + uint32Bytes(group) + varintBytes(body) + body;
}

/** Asserts (programmer error) on numbers the format cannot carry: negative, fractional or
 *  unsafe terms and indexes, node ids or groups above uint32, unknown kinds. */
export function encodePeerBatch(batch: PeerBatch): Uint8Array {
  const itemCount = batch.messages.length + batch.heartbeats.length +
    batch.heartbeatResps.length + batch.quiesce.length + batch.wakes.length;
  const sizes: number[] = [];
  let total = 1 + uint32Bytes(batch.from) + uint32Bytes(batch.to) + varintBytes(batch.epoch) +
    varintBytes(batch.tick) + varintBytes(itemCount);
  for (const m of batch.messages) total += itemBytes(sizes, m.group, messageBytes(m));
  for (const h of batch.heartbeats) total += itemBytes(sizes, h.group, heartbeatBytes(h));
  for (const h of batch.heartbeatResps) total += itemBytes(sizes, h.group, heartbeatBytes(h));
  for (const q of batch.quiesce) total += itemBytes(sizes, q.group, quiesceBytes(q));
  for (const g of batch.wakes) total += itemBytes(sizes, g, 0);

  const w = new ByteWriter(total);
  w.u8(peerBatchVersion);
  w.varint(batch.from);
  w.varint(batch.to);
  w.varint(batch.epoch);
  w.varint(batch.tick);
  w.varint(itemCount);
  let k = 0;
  for (const m of batch.messages) {
    const end = w.item(Tag.Message, m.group, sizes[k++]!);
    writeMessage(w, m);
    w.itemEnd(end);
  }
  for (const h of batch.heartbeats) {
    const end = w.item(Tag.Heartbeat, h.group, sizes[k++]!);
    writeHeartbeat(w, h);
    w.itemEnd(end);
  }
  for (const h of batch.heartbeatResps) {
    const end = w.item(Tag.HeartbeatResp, h.group, sizes[k++]!);
    writeHeartbeat(w, h);
    w.itemEnd(end);
  }
  for (const q of batch.quiesce) {
    const end = w.item(Tag.Quiesce, q.group, sizes[k++]!);
    writeQuiesce(w, q);
    w.itemEnd(end);
  }
  for (const g of batch.wakes) w.item(Tag.Wake, g, 0);
  assert(k + batch.wakes.length === itemCount, 'every item written');
  assert(w.at === total, 'peer batch fills its buffer exactly');
  return w.buf;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Reads within [at, end); `end` narrows to an item's body while decoding it. */
class ByteReader {
  readonly buf: Uint8Array;
  at = 0;
  end: number;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.end = buf.length;
  }

  fail(what: string): never {
    throw new PeerBatchCodecError(`peer batch: ${what} at byte ${this.at}`);
  }

  u8(): number {
    if (this.at >= this.end) this.fail('truncated');
    return this.buf[this.at++]!;
  }

  bool(): boolean {
    const b = this.u8();
    if (b > 1) this.fail(`bad boolean ${b}`);
    return b === 1;
  }

  /** A minimal varint of at most 8 bytes holding a safe integer. */
  varint(): number {
    const buf = this.buf;
    const end = this.end;
    let at = this.at;
    if (at >= end) this.fail('truncated');
    let b = buf[at++]!;
    if (b < 0x80) {
      this.at = at;
      return b;
    }
    let v = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; ; i++) {
      if (at >= end) this.fail('truncated');
      b = buf[at++]!;
      v += (b & 0x7f) * scale; // exact: each term is a power-of-two multiple below 2^56
      if (b < 0x80) break;
      if (i === 7) this.fail('varint longer than 8 bytes');
      scale *= 0x80;
    }
    if (b === 0) this.fail('non-minimal varint');
    if (v > Number.MAX_SAFE_INTEGER) this.fail('integer above 2^53-1');
    this.at = at;
    return v;
  }

  uint32(): number {
    const v = this.varint();
    if (v > uint32Max) this.fail(`id ${v} above uint32`);
    return v;
  }

  /** A count of things at least `bytesEach` long each, checked against the bytes left. */
  count(bytesEach: number): number {
    const n = this.varint();
    if (n * bytesEach > this.end - this.at) this.fail(`count ${n} exceeds the bytes left`);
    return n;
  }

  /** Skips `n` bytes, which must be there. */
  skip(n: number): void {
    if (n > this.end - this.at) this.fail(`length ${n} exceeds the bytes left`);
    this.at += n;
  }

  /** A length-prefixed copy (never a view: the input may be a ring's reused memory). */
  bytes(): Uint8Array {
    const n = this.varint();
    const start = this.at;
    this.skip(n);
    return this.buf.slice(start, start + n);
  }

  ids(): NodeId[] {
    const n = this.count(1);
    const out: NodeId[] = [];
    for (let i = 0; i < n; i++) out.push(this.uint32());
    return out;
  }
}

interface Header {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly epoch: number;
  readonly tick: number;
  /** Offset of itemCount: bytes before it are the header that split copies. */
  readonly countAt: number;
  readonly itemCount: number;
}

function readHeader(r: ByteReader): Header {
  const version = r.u8();
  if (version !== peerBatchVersion) {
    r.at = 0;
    r.fail(`unsupported version ${version} (expected ${peerBatchVersion})`);
  }
  const from = r.uint32();
  const to = r.uint32();
  const epoch = r.varint();
  const tick = r.varint();
  const countAt = r.at;
  const itemCount = r.count(itemBytesMin);
  return { from, to, epoch, tick, countAt, itemCount };
}

function readEntry(r: ByteReader): Entry {
  const term = r.varint();
  const index = r.varint();
  const kind = r.u8();
  if (kind > entryKindMax) r.fail(`unknown entry kind ${kind}`);
  return { term, index, kind: kind as EntryKindValue, data: r.bytes() };
}

function readSnapshot(r: ByteReader): Snapshot {
  const index = r.varint();
  const term = r.varint();
  const voters = r.ids();
  const learners = r.ids();
  const votersOutgoing = r.ids();
  const learnersNext = r.ids();
  const conf: ConfState = { voters, learners, votersOutgoing, learnersNext, autoLeave: r.bool() };
  return { meta: { index, term, conf }, data: r.bytes() };
}

function readMessage(r: ByteReader, group: GroupId): Message {
  const kind = r.u8();
  if (kind > msgKindMax) r.fail(`unknown message kind ${kind}`);
  const flags = r.u8();
  if ((flags & ~msgFlagsAll) !== 0) r.fail(`unknown message flags ${flags}`);
  const from = r.uint32();
  const to = r.uint32();
  const term = r.varint();
  const logTerm = r.varint();
  const index = r.varint();
  const entryCount = r.count(entryBytesMin);
  const entries: Entry[] = [];
  for (let i = 0; i < entryCount; i++) entries.push(readEntry(r));
  const commit = r.varint();
  const rejectHint = r.varint();
  const rejectHintTerm = r.varint();
  const snapshot = (flags & msgFlagSnapshot) !== 0 ? readSnapshot(r) : null;
  const context = (flags & msgFlagContext) !== 0 ? r.bytes() : null;
  return {
    kind: kind as MsgKindValue, group, from, to, term, logTerm, index, entries, commit,
    reject: (flags & msgFlagReject) !== 0, rejectHint, rejectHintTerm, snapshot, context,
  };
}

function readHeartbeat(r: ByteReader, group: GroupId): CoalescedHeartbeat {
  const flags = r.u8();
  if ((flags & ~hbFlagContext) !== 0) r.fail(`unknown heartbeat flags ${flags}`);
  const term = r.varint();
  const commit = r.varint();
  const context = (flags & hbFlagContext) !== 0 ? r.bytes() : null;
  return { group, term, commit, context };
}

function readQuiesce(r: ByteReader, group: GroupId): QuiesceHeartbeat {
  const term = r.varint();
  const commit = r.varint();
  const lastIndex = r.varint();
  return { group, term, commit, lastIndex, lastTerm: r.varint() };
}

/** Throws PeerBatchCodecError on malformed, truncated or wrong-version input. Byte fields of
 *  the result are copies, so `bytes` may be reused at once. */
export function decodePeerBatch(bytes: Uint8Array): PeerBatch {
  const r = new ByteReader(bytes);
  const { from, to, epoch, tick, itemCount } = readHeader(r);
  const messages: Message[] = [];
  const heartbeats: CoalescedHeartbeat[] = [];
  const heartbeatResps: CoalescedHeartbeat[] = [];
  const quiesce: QuiesceHeartbeat[] = [];
  const wakes: GroupId[] = [];
  for (let i = 0; i < itemCount; i++) {
    const tag = r.u8();
    const group = r.uint32();
    const bodyBytes = r.varint();
    if (bodyBytes > r.end - r.at) r.fail(`item length ${bodyBytes} exceeds the bytes left`);
    const end = r.at + bodyBytes;
    r.end = end; // a body never reads past its own length
    switch (tag) {
      case Tag.Message: messages.push(readMessage(r, group)); break;
      case Tag.Heartbeat: heartbeats.push(readHeartbeat(r, group)); break;
      case Tag.HeartbeatResp: heartbeatResps.push(readHeartbeat(r, group)); break;
      case Tag.Quiesce: quiesce.push(readQuiesce(r, group)); break;
      case Tag.Wake: wakes.push(group); break;
      default: r.fail(`unknown item tag ${tag}`);
    }
    if (r.at !== end) r.fail(`item body ends ${end - r.at} bytes before its length`);
    r.end = bytes.length;
  }
  if (r.at !== bytes.length) r.fail(`${bytes.length - r.at} trailing bytes`);
  return { from, to, epoch, tick, messages, heartbeats, heartbeatResps, quiesce, wakes };
}

// ---------------------------------------------------------------------------------------------
// Routing without decoding bodies

/** Walks the header and item frames (tag, group, length), not the bodies: a malformed body is
 *  found only by whoever decodes it. Calls `onItem` with each item's byte range. */
function scanItems(
  bytes: Uint8Array, onItem: (group: GroupId, start: number, end: number) => void,
): Header {
  const r = new ByteReader(bytes);
  const header = readHeader(r);
  for (let i = 0; i < header.itemCount; i++) {
    const start = r.at;
    const tag = r.u8();
    if (tag < 1 || tag > tagMax) r.fail(`unknown item tag ${tag}`);
    const group = r.uint32();
    r.skip(r.varint());
    onItem(group, start, r.at);
  }
  if (r.at !== bytes.length) r.fail(`${bytes.length - r.at} trailing bytes`);
  return header;
}

interface PartPlan {
  itemCount: number;
  itemBytes: number;
  /** [start, end) pairs into the input; adjacent items merge into one range. */
  readonly ranges: number[];
}

function buildPart(bytes: Uint8Array, countAt: number, p: PartPlan): Uint8Array {
  const countBytes = varintBytes(p.itemCount);
  const w = new ByteWriter(countAt + countBytes + p.itemBytes);
  w.buf.set(bytes.subarray(0, countAt), 0); // version, from, to, epoch, tick: unchanged
  w.at = countAt;
  w.varint(p.itemCount);
  for (let i = 0; i < p.ranges.length; i += 2) {
    const start = p.ranges[i]!;
    const end = p.ranges[i + 1]!;
    w.buf.set(bytes.subarray(start, end), w.at);
    w.at += end - start;
  }
  assert(w.at === w.buf.length, 'split part fills its buffer exactly');
  return w.buf;
}

/** Splits an encoded batch by the owner of each group (the receiving node's worker index for a
 *  partition) without decoding message bodies: returns one encoded batch per owner that has at
 *  least one item, plus an item-less batch (header only: from, to, epoch, tick) for every owner
 *  in `alwaysOwners` that got nothing, so every worker hears the peer's liveness. Items keep
 *  their order; parts never share memory with `bytes`. Throws PeerBatchCodecError on a
 *  malformed frame (bodies are not checked). */
export function splitPeerBatch(
  bytes: Uint8Array, ownerOf: (group: number) => number, alwaysOwners: readonly number[],
): Map<number, Uint8Array> {
  const plans = new Map<number, PartPlan>();
  const { countAt } = scanItems(bytes, (group, start, end) => {
    const owner = ownerOf(group);
    assert(Number.isInteger(owner), 'ownerOf returns an integer');
    let p = plans.get(owner);
    if (p === undefined) {
      p = { itemCount: 0, itemBytes: 0, ranges: [] };
      plans.set(owner, p);
    }
    p.itemCount += 1;
    p.itemBytes += end - start;
    const last = p.ranges.length - 1;
    if (last > 0 && p.ranges[last] === start) p.ranges[last] = end;
    else p.ranges.push(start, end);
  });
  const parts = new Map<number, Uint8Array>();
  for (const [owner, p] of plans) parts.set(owner, buildPart(bytes, countAt, p));
  const none: PartPlan = { itemCount: 0, itemBytes: 0, ranges: [] };
  for (const owner of alwaysOwners) {
    if (!parts.has(owner)) parts.set(owner, buildPart(bytes, countAt, none));
  }
  return parts;
}

/** The group of every item, in item order (duplicates kept); for diagnostics and tests. */
export function peerBatchGroups(bytes: Uint8Array): number[] {
  const groups: number[] = [];
  scanItems(bytes, (group) => groups.push(group));
  return groups;
}
