// Sequences (wire.md 4.6, kahuna-reference 6): named counters handing out contiguous runs
// Start = C + inc, End = C + inc * n, where C is the last value handed out (initially
// InitialValue). Block size 1: CurrentValue is the last value handed out, so nothing is lost on
// a leader change. Persistent only (durability must be 1). Pure.
import { DirtySet, type DirtyRecord } from './dirty-set.js';
import { assert } from '../../assert.js';
import { reservedSequencePrefix, SeqType } from '../api/codes.js';
import {
  Durability, type Hlc, type SeqCreateRequest, type SeqNameRequest, type SeqReserveRequest,
  type SeqUpdateRequest, type SequenceAllocation, type SequenceAllocationResponse,
  type SequenceEntry, type SequenceResponse,
} from '../api/types.js';
import { ByteReader, ByteWriter, compareKeys, fnvField, fromUtf8, utf8 } from './codec.js';
import { copyHlc } from './hlc.js';
import {
  seqBlockSizeMax, seqIdempotencyKeyBytesMax, seqIdempotencyKeysRetainedMax, seqNameCharsMax,
  seqReserveCountMax, seqValueMax, seqValueMin,
} from './state-limits.js';

/** What a replayed idempotency key answers with. */
interface AllocationMemo {
  readonly count: number;
  readonly start: number;
  readonly end: number;
  readonly revision: number;
}

export interface SeqRecord {
  currentValue: number;
  initialValue: number;
  increment: number;
  maxValue: number | null;
  blockSize: number | null;
  /** The record revision: 0 at create, +1 per reservation and update. */
  revision: number;
  incarnation: number;
  readonly createdAt: Hlc;
  updatedAt: Hlc;
  /** Insertion order = age: the first key is forgotten first. */
  readonly idempotency: Map<string, AllocationMemo>;
}

const seqFormat = 2; // 2: maxValue is a float64 (it may exceed 2^53)

function seqAnswer(type: number, revision = 0, sequence: SequenceEntry | null = null):
  SequenceResponse {
  return { type, sequence, revision };
}

function allocAnswer(type: number, allocation: SequenceAllocation | null = null):
  SequenceAllocationResponse {
  return { type, allocation };
}

/** The trimmed name, or null when it is empty, too long, reserved, or durability is not 1. */
function seqName(name: string, durability: number): string | null {
  if (durability !== Durability.Persistent) return null;
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > seqNameCharsMax) return null;
  if (trimmed.startsWith(reservedSequencePrefix) || !trimmed.isWellFormed()) return null;
  return trimmed;
}

function isValue(v: number): boolean {
  return Number.isSafeInteger(v) && v >= seqValueMin && v <= seqValueMax;
}

/** A maximum may be any int64 (wire.md 1.5: .NET clients send long.MaxValue for "no max");
 *  values handed out stay within seqValueMax either way. */
function isMaxValue(v: number): boolean {
  return Number.isInteger(v) && v >= seqValueMin && v <= 2 ** 63;
}

function isBlockSize(v: number): boolean {
  return Number.isInteger(v) && v >= 1 && v <= seqBlockSizeMax;
}

/** The trimmed idempotency key ("" = none), or undefined when it is too long. */
function idempotencyKeyOf(key: string | null): string | undefined {
  const trimmed = (key ?? '').trim();
  if (utf8(trimmed).length > seqIdempotencyKeyBytesMax || !trimmed.isWellFormed()) {
    return undefined;
  }
  return trimmed;
}

function createIsValid(req: SeqCreateRequest): boolean {
  if (!isValue(req.initialValue) || !isValue(req.increment) || req.increment <= 0) return false;
  if (req.maxValue !== null && (!isMaxValue(req.maxValue) || req.maxValue < req.initialValue)) {
    return false;
  }
  return req.blockSize === null || isBlockSize(req.blockSize);
}

/** Update checks that need no state (wire.md 4.6 Update column). */
function updateIsValid(req: SeqUpdateRequest): boolean {
  if (req.currentValue !== null && !isValue(req.currentValue)) return false;
  if (req.initialValue !== null && !isValue(req.initialValue)) return false;
  if (req.increment !== null && (!isValue(req.increment) || req.increment <= 0)) return false;
  if (req.maxValue !== null && (!isMaxValue(req.maxValue) || req.removeMaxValue)) return false;
  if (req.blockSize !== null && (!isBlockSize(req.blockSize) || req.removeBlockSize)) {
    return false;
  }
  return req.currentValue !== null || req.initialValue !== null || req.increment !== null ||
    req.maxValue !== null || req.removeMaxValue || req.blockSize !== null ||
    req.removeBlockSize; // no change at all is InvalidInput
}

/** [start, end] of `count` values after `current`, or null past MaxValue or 2^53 - 1. */
function nextRun(seq: SeqRecord, count: number): { start: number; end: number } | null {
  const cap = BigInt(seq.maxValue === null ? seqValueMax : Math.min(seq.maxValue, seqValueMax));
  const start = BigInt(seq.currentValue) + BigInt(seq.increment);
  const end = BigInt(seq.currentValue) + BigInt(seq.increment) * BigInt(count);
  if (end > cap) return null;
  assert(start <= end, 'a run is ascending');
  return { start: Number(start), end: Number(end) };
}

export class Sequences {
  private readonly seqs = new Map<string, SeqRecord>();
  readonly dirty = new DirtySet();

  private touch(name: string, seq: SeqRecord, now: Hlc): void {
    seq.revision += 1;
    seq.updatedAt = copyHlc(now);
    this.dirty.mark(name);
  }

  create(req: SeqCreateRequest, now: Hlc): SequenceResponse {
    const name = seqName(req.name, req.durability);
    if (name === null || !createIsValid(req)) return seqAnswer(SeqType.InvalidInput);
    const existing = this.seqs.get(name);
    if (existing !== undefined) return seqAnswer(SeqType.AlreadyExists, existing.revision);
    const stamp = copyHlc(now);
    this.seqs.set(name, {
      currentValue: req.initialValue, initialValue: req.initialValue, increment: req.increment,
      maxValue: req.maxValue, blockSize: req.blockSize, revision: 0, incarnation: 0,
      createdAt: stamp, updatedAt: stamp, idempotency: new Map(),
    });
    this.dirty.mark(name);
    return seqAnswer(SeqType.Success, 0);
  }

  get(req: SeqNameRequest, _now: Hlc): SequenceResponse {
    const name = seqName(req.name, req.durability);
    if (name === null) return seqAnswer(SeqType.InvalidInput);
    const seq = this.seqs.get(name);
    if (seq === undefined) return seqAnswer(SeqType.NotFound, -1);
    return seqAnswer(SeqType.Success, seq.revision, entryOf(name, seq));
  }

  delete(req: SeqNameRequest, _now: Hlc): SequenceResponse {
    const name = seqName(req.name, req.durability);
    if (name === null) return seqAnswer(SeqType.InvalidInput);
    if (!this.seqs.delete(name)) return seqAnswer(SeqType.NotFound);
    this.dirty.mark(name);
    return seqAnswer(SeqType.Success);
  }

  update(req: SeqUpdateRequest, now: Hlc): SequenceResponse {
    const name = seqName(req.name, req.durability);
    if (name === null || !updateIsValid(req)) return seqAnswer(SeqType.InvalidInput);
    const seq = this.seqs.get(name);
    if (seq === undefined) return seqAnswer(SeqType.NotFound, -1);
    const currentValue = req.currentValue ?? seq.currentValue;
    const initialValue = req.initialValue ?? seq.initialValue;
    const maxValue = req.removeMaxValue ? null : req.maxValue ?? seq.maxValue;
    if (maxValue !== null && (maxValue < currentValue || maxValue < initialValue)) {
      return seqAnswer(SeqType.InvalidInput);
    }
    seq.currentValue = currentValue;
    seq.initialValue = initialValue;
    seq.increment = req.increment ?? seq.increment;
    seq.maxValue = maxValue;
    seq.blockSize = req.removeBlockSize ? null : req.blockSize ?? seq.blockSize;
    seq.incarnation += 1;
    this.touch(name, seq, now);
    return seqAnswer(SeqType.Success, seq.revision);
  }

  reserve(req: SeqReserveRequest, now: Hlc): SequenceAllocationResponse {
    const name = seqName(req.name, req.durability);
    const key = idempotencyKeyOf(req.idempotencyKey);
    const countOk = Number.isInteger(req.count) && req.count >= 1 &&
      req.count <= seqReserveCountMax;
    if (name === null || key === undefined || !countOk) return allocAnswer(SeqType.InvalidInput);
    const seq = this.seqs.get(name);
    if (seq === undefined) return allocAnswer(SeqType.NotFound);
    const memo = key === '' ? undefined : seq.idempotency.get(key);
    if (memo !== undefined) {
      // A replay answers the identical allocation; another count is a different request.
      if (memo.count !== req.count) return allocAnswer(SeqType.InvalidInput);
      return allocAnswer(SeqType.Success, { name, ...memo });
    }
    const run = nextRun(seq, req.count);
    if (run === null) return allocAnswer(SeqType.MaxValueExceeded);
    seq.currentValue = run.end;
    this.touch(name, seq, now);
    const allocation = { name, start: run.start, end: run.end, count: req.count,
      revision: seq.revision };
    if (key !== '') remember(seq, key, allocation);
    return allocAnswer(SeqType.Success, allocation);
  }

  // ---------------------------------------------------------------- persistence

  takeDirty(): DirtyRecord[] {
    return this.dirty.take((name) => this.seqs.get(name), encodeSequence);
  }

  load(key: Uint8Array, value: Uint8Array | null): void {
    const name = fromUtf8(key);
    assert(name.length > 0, 'a sequence record has a name');
    if (value === null) this.seqs.delete(name);
    else this.seqs.set(name, decodeSequence(value));
  }

  /** Every sequence, in name order (a snapshot of the partition). */
  allRecords(): DirtyRecord[] {
    return [...this.seqs.keys()].sort(compareKeys)
      .map((name) => ({ key: utf8(name), value: encodeSequence(this.seqs.get(name)!) }));
  }

  hashInto(hash: number): number {
    let h = hash;
    for (const name of [...this.seqs.keys()].sort(compareKeys)) {
      const seq = this.seqs.get(name);
      assert(seq !== undefined, 'sequence present');
      h = fnvField(fnvField(h, utf8(name)), encodeSequence(seq));
    }
    return h;
  }
}

function remember(seq: SeqRecord, key: string, allocation: SequenceAllocation): void {
  const { count, start, end, revision } = allocation;
  seq.idempotency.set(key, { count, start, end, revision });
  while (seq.idempotency.size > seqIdempotencyKeysRetainedMax) {
    const oldest = seq.idempotency.keys().next();
    assert(oldest.done !== true, 'a full memory has an oldest key');
    seq.idempotency.delete(oldest.value);
  }
}

function entryOf(name: string, seq: SeqRecord): SequenceEntry {
  return {
    name, currentValue: seq.currentValue, initialValue: seq.initialValue,
    increment: seq.increment, maxValue: seq.maxValue, revision: seq.revision,
    durability: Durability.Persistent, createdAt: seq.createdAt, updatedAt: seq.updatedAt,
    blockSize: seq.blockSize, incarnation: seq.incarnation,
  };
}

export function encodeSequence(seq: SeqRecord): Uint8Array {
  const w = new ByteWriter().u8(seqFormat).int(seq.currentValue).int(seq.initialValue)
    .int(seq.increment).optF64(seq.maxValue).optInt(seq.blockSize).uint(seq.revision)
    .uint(seq.incarnation).hlc(seq.createdAt).hlc(seq.updatedAt).uint(seq.idempotency.size);
  for (const [key, memo] of seq.idempotency) {
    w.str(key).uint(memo.count).int(memo.start).int(memo.end).uint(memo.revision);
  }
  return w.finish();
}

export function decodeSequence(bytes: Uint8Array): SeqRecord {
  const r = new ByteReader(bytes);
  assert(r.u8() === seqFormat, 'unknown sequence record format');
  const seq: SeqRecord = {
    currentValue: r.int(), initialValue: r.int(), increment: r.int(), maxValue: r.optF64(),
    blockSize: r.optInt(), revision: r.uint(), incarnation: r.uint(), createdAt: r.hlc(),
    updatedAt: r.hlc(), idempotency: new Map(),
  };
  const memos = r.uint();
  assert(memos <= seqIdempotencyKeysRetainedMax, 'too many idempotency keys in a record');
  for (let i = 0; i < memos; i += 1) {
    const key = r.str();
    seq.idempotency.set(key, { count: r.uint(), start: r.int(), end: r.int(), revision: r.uint() });
  }
  r.end();
  assert(seq.increment > 0, 'a stored increment is positive');
  return seq;
}
