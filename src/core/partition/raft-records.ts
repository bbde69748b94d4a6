// How a partition's Raft state is laid out in RocksDB values (keys are keys.ts): log entries,
// the hard state, the checkpoint record, and the data of a Kahuna command entry. Versioned
// binary, little-endian, built with the ring codec's writer. Pure.
import { assert } from '../../assert.js';
import type { Hlc } from '../api/types.js';
import { BinReader, BinWriter, CodecError, takeWriter } from '../../ipc/messages/codec.js';
import type { ConfState, Entry, EntryKindValue, HardState } from '../raft/types.js';
import type { StateRecord } from '../state/kahuna-state.js';

const entryVersion = 1;
const commandVersion = 1;
const checkpointVersion = 1;

/** The stored form of an entry: a view into a shared slab, for the write batch only. */
export function encodeEntry(e: Entry): Uint8Array {
  const w = takeWriter();
  w.u8(entryVersion);
  w.f64(e.term);
  w.f64(e.index);
  w.u8(e.kind);
  w.bytes(e.data);
  return w.finishShared();
}

export function decodeEntry(bytes: Uint8Array): Entry {
  const r = new BinReader(bytes);
  if (r.u8() !== entryVersion) throw new CodecError('unknown raft entry version');
  const term = r.f64();
  const index = r.f64();
  const kind = r.u8() as EntryKindValue;
  return { term, index, kind, data: r.bytes() };
}

export function encodeHardState(hs: HardState): Uint8Array {
  const w = new BinWriter();
  w.f64(hs.term);
  w.f64(hs.vote);
  w.f64(hs.commit);
  return w.finish();
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const r = new BinReader(bytes);
  return { term: r.f64(), vote: r.f64(), commit: r.f64() };
}

/** The point up to which a partition's state is materialized: its log starts after `index`. */
export interface Checkpoint {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
  /** The clock of the last applied entry, so a restarted leader never stamps an older time. */
  readonly hlc: Hlc;
}

function writeIds(w: BinWriter, ids: readonly number[]): void {
  w.u32(ids.length);
  for (const id of ids) w.f64(id);
}

function readIds(r: BinReader): number[] {
  const n = r.u32();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(r.f64());
  return ids;
}

const confStateVersion = 1;

/** A partition's members as the answer to a membership change (main thread reads it). */
export function encodeConfState(conf: ConfState): Uint8Array {
  const w = new BinWriter();
  w.u8(confStateVersion);
  writeIds(w, conf.voters);
  writeIds(w, conf.learners);
  writeIds(w, conf.votersOutgoing);
  writeIds(w, conf.learnersNext);
  w.u8(conf.autoLeave ? 1 : 0);
  return w.finish();
}

export function decodeConfState(bytes: Uint8Array): ConfState {
  const r = new BinReader(bytes);
  if (r.u8() !== confStateVersion) throw new CodecError('unknown members version');
  return { voters: readIds(r), learners: readIds(r), votersOutgoing: readIds(r),
    learnersNext: readIds(r), autoLeave: r.u8() === 1 };
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const w = new BinWriter();
  w.u8(checkpointVersion);
  w.f64(c.index);
  w.f64(c.term);
  writeIds(w, c.conf.voters);
  writeIds(w, c.conf.learners);
  writeIds(w, c.conf.votersOutgoing);
  writeIds(w, c.conf.learnersNext);
  w.u8(c.conf.autoLeave ? 1 : 0);
  w.i32(c.hlc.n);
  w.f64(c.hlc.l);
  w.u32(c.hlc.c);
  return w.finish();
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const r = new BinReader(bytes);
  if (r.u8() !== checkpointVersion) throw new CodecError('unknown checkpoint version');
  const index = r.f64();
  const term = r.f64();
  const conf: ConfState = { voters: readIds(r), learners: readIds(r),
    votersOutgoing: readIds(r), learnersNext: readIds(r), autoLeave: r.u8() === 1 };
  return { index, term, conf, hlc: { n: r.i32(), l: r.f64(), c: r.u32() } };
}

/** A Kahuna command in a Raft entry: the op, the leader's HLC stamp (the only "now" apply
 *  ever sees), and the encoded request. */
export interface Command {
  readonly op: number;
  readonly hlc: Hlc;
  readonly payload: Uint8Array;
}

/** An entry's data: a view into a shared slab (log entries live until compaction). */
export function encodeCommand(c: Command): Uint8Array {
  assert(Number.isInteger(c.op) && c.op > 0 && c.op < 0x10000, 'command op');
  const w = takeWriter();
  w.u8(commandVersion);
  w.u32(c.op);
  w.i32(c.hlc.n);
  w.f64(c.hlc.l);
  w.u32(c.hlc.c);
  w.bytes(c.payload);
  return w.finishShared();
}

/** The payload is a view into `data`: decode it at once (the request codec copies out). */
export function decodeCommand(data: Uint8Array): Command {
  const r = new BinReader(data);
  if (r.u8() !== commandVersion) throw new CodecError('unknown command version');
  const op = r.u32();
  const hlc = { n: r.i32(), l: r.f64(), c: r.u32() };
  return { op, hlc, payload: r.bytesView() };
}

const snapshotVersion = 1;

/** The data of a Raft snapshot of one partition (sent to a follower too far behind for the
 *  log): every persistent record at the snapshot's index, and the HLC of the last entry
 *  applied there. Index, term and membership travel in the snapshot's metadata. */
export interface SnapshotData {
  readonly hlc: Hlc;
  readonly records: readonly StateRecord[];
}

export function encodeSnapshotData(s: SnapshotData): Uint8Array {
  const w = new BinWriter();
  w.u8(snapshotVersion);
  w.i32(s.hlc.n);
  w.f64(s.hlc.l);
  w.u32(s.hlc.c);
  w.u32(s.records.length);
  for (const rec of s.records) {
    assert(rec.value !== null, 'a snapshot holds live records only');
    w.u8(rec.namespace);
    w.bytes(rec.key);
    w.bytes(rec.value);
  }
  return w.finish();
}

export function decodeSnapshotData(bytes: Uint8Array): SnapshotData {
  const r = new BinReader(bytes);
  if (r.u8() !== snapshotVersion) throw new CodecError('unknown snapshot version');
  const hlc = { n: r.i32(), l: r.f64(), c: r.u32() };
  const n = r.u32();
  const records: StateRecord[] = [];
  for (let i = 0; i < n; i++) {
    const namespace = r.u8();
    const key = r.bytes();
    records.push({ namespace, key, value: r.bytes() });
  }
  if (!r.done()) throw new CodecError('trailing bytes after the snapshot records');
  return { hlc, records };
}
