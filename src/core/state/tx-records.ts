// The entries of the transaction table (tx-table.ts) and their persistent records
// (StateNamespace.Tx). The namespace is one key space; the first character of a record key says
// what it holds:
//   k<key>     an exclusive key lock          p<bucket>  a prefix (bucket) lock
//   i<txId>    a prepared intent              d<txId>    a decision record
// where <txId> is txKeyOf(txId); intent and decision values carry the txId itself. Pure.
import { assert } from '../../assert.js';
import { TxDecision, TxMutationKind, type TxMutation } from '../api/tx-types.js';
import type { Hlc } from '../api/types.js';
import { ByteReader, ByteWriter, compareKeys } from './codec.js';
import { compareHlc } from './hlc.js';

export const TxTag = { KeyLock: 'k', PrefixLock: 'p', Intent: 'i', Decision: 'd' } as const;
export type TxTagValue = (typeof TxTag)[keyof typeof TxTag];

/** A key or prefix lock: its transaction and lease expiry (zero: no lease, held until
 *  released). `txKey` is txKeyOf(txId), kept to spare the string on every check. */
export interface TxLockSlot {
  readonly txId: Hlc;
  readonly txKey: string;
  readonly expires: Hlc;
}

/** A prepared transaction's part on this partition: its mutations, applied at TxFinish. */
export interface TxIntent {
  readonly txId: Hlc;
  readonly anchorKey: string;
  /** The prepare's HLC plus decisionTimeoutMs: after it a resolver may decide. */
  readonly deadline: Hlc;
  readonly mutations: readonly TxMutation[];
  /** Keys read and not written (optimistic read checks): while the intent stands, another
   *  transaction may not lock or write them, nor may a plain write. */
  readonly reads: readonly string[];
}

export interface TxDecisionEntry {
  readonly txId: Hlc;
  readonly decision: number; // TxDecision.Commit or Abort
  /** The HLC of the entry that recorded it (retention counts from here). */
  readonly at: Hlc;
}

/** The map key of a transaction id. */
export function txKeyOf(txId: Hlc): string {
  return `${txId.n}.${txId.l}.${txId.c}`;
}

/** The bucket of a key: the part before its last '/' (kv-scan getByBucket); null without '/'. */
export function bucketOf(key: string): string | null {
  const at = key.lastIndexOf('/');
  return at < 0 ? null : key.slice(0, at);
}

/** A key of the collection queue: when an entry may go, what it is and its name. */
export interface TxDueKey {
  readonly at: Hlc;
  readonly tag: TxTagValue;
  readonly name: string;
}

export function compareDueKeys(a: TxDueKey, b: TxDueKey): number {
  return compareHlc(a.at, b.at) || compareKeys(a.tag, b.tag) || compareKeys(a.name, b.name);
}

/** A map from a group (a bucket, a transaction) to its members (keys, record names). */
export class GroupIndex {
  private readonly groups = new Map<string, Set<string>>();

  add(group: string, member: string): void {
    const set = this.groups.get(group);
    if (set === undefined) this.groups.set(group, new Set([member]));
    else set.add(member);
  }

  remove(group: string, member: string): void {
    const set = this.groups.get(group);
    if (set === undefined) return;
    set.delete(member);
    if (set.size === 0) this.groups.delete(group);
  }

  /** The members of `group` (a copy, so callers may remove while they walk). */
  members(group: string): string[] {
    const set = this.groups.get(group);
    return set === undefined ? [] : [...set];
  }

  /** `pick` of the smallest member of `group` for which it is not null (every member is
   *  looked at, so the answer does not depend on insertion order), or null. */
  smallestHit<T>(group: string, pick: (member: string) => T | null): T | null {
    const set = this.groups.get(group);
    if (set === undefined) return null;
    let best: string | null = null;
    let hit: T | null = null;
    for (const member of set) {
      if (best !== null && compareKeys(member, best) >= 0) continue;
      const found = pick(member);
      if (found === null) continue;
      best = member;
      hit = found;
    }
    return hit;
  }
}

const lockFormat = 1;
/** 1: mutations only; 2: mutations, then the read keys. */
const intentFormat = 2;
const decisionFormat = 1;
const kindsKnown: ReadonlySet<number> = new Set(Object.values(TxMutationKind));

export function encodeTxLock(slot: TxLockSlot): Uint8Array {
  return new ByteWriter().u8(lockFormat).hlc(slot.txId).hlc(slot.expires).finish();
}

export function decodeTxLock(bytes: Uint8Array): TxLockSlot {
  const r = new ByteReader(bytes);
  assert(r.u8() === lockFormat, 'unknown tx lock record format');
  const txId = r.hlc();
  const expires = r.hlc();
  r.end();
  return { txId, txKey: txKeyOf(txId), expires };
}

export function encodeTxIntent(intent: TxIntent): Uint8Array {
  const w = new ByteWriter().u8(intentFormat).hlc(intent.txId).str(intent.anchorKey)
    .hlc(intent.deadline).uint(intent.mutations.length);
  for (const m of intent.mutations) {
    w.str(m.key).u8(m.kind).optBytes(m.value).uint(m.flags).uint(m.expiresMs)
      .int(m.baseRevision);
  }
  w.uint(intent.reads.length);
  for (const key of intent.reads) w.str(key);
  return w.finish();
}

export function decodeTxIntent(bytes: Uint8Array): TxIntent {
  const r = new ByteReader(bytes);
  const format = r.u8();
  assert(format === 1 || format === intentFormat, 'unknown tx intent record format');
  const txId = r.hlc();
  const anchorKey = r.str();
  const deadline = r.hlc();
  const count = r.uint();
  const mutations: TxMutation[] = [];
  for (let i = 0; i < count; i += 1) {
    const key = r.str();
    const kind = r.u8();
    assert(kindsKnown.has(kind), 'unknown tx mutation kind');
    const value = r.optBytes();
    const flags = r.uint();
    const expiresMs = r.uint();
    mutations.push({ key, kind, value, flags, expiresMs, baseRevision: r.int() });
  }
  const reads: string[] = [];
  if (format === intentFormat) {
    const readCount = r.uint();
    for (let i = 0; i < readCount; i += 1) reads.push(r.str());
  }
  r.end();
  return { txId, anchorKey, deadline, mutations, reads };
}

export function encodeTxDecision(entry: TxDecisionEntry): Uint8Array {
  return new ByteWriter().u8(decisionFormat).hlc(entry.txId).u8(entry.decision).hlc(entry.at)
    .finish();
}

export function decodeTxDecision(bytes: Uint8Array): TxDecisionEntry {
  const r = new ByteReader(bytes);
  assert(r.u8() === decisionFormat, 'unknown tx decision record format');
  const txId = r.hlc();
  const decision = r.u8();
  assert(decision === TxDecision.Commit || decision === TxDecision.Abort, 'tx decision value');
  const at = r.hlc();
  r.end();
  return { txId, decision, at };
}
