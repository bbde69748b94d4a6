// One key's MVCC record (wire.md 4.2, 4.7): its retained revisions, oldest first, the last one
// being the current revision. Revisions written with NOREV are not archived: once superseded
// they stay only as a value-less placeholder, so revision and snapshot reads of them miss.
// Pure.
import { assert } from '../../assert.js';
import { KvState } from '../api/codes.js';
import { hlcZero, type Hlc } from '../api/types.js';
import { ByteReader, ByteWriter } from './codec.js';
import { compareHlc, hlcIsZero, isExpired } from './hlc.js';
import { kvArchiveBytesMax, kvRevisionsRetainedMax } from './state-limits.js';

export interface KvRevision {
  readonly revision: number;
  /** null: exists without a value (or a tombstone / placeholder). */
  readonly value: Uint8Array | null;
  readonly state: number; // KvState.Set or KvState.Deleted
  readonly expires: Hlc;
  readonly lastModified: Hlc;
  /** False for NOREV writes: invisible to revision and snapshot reads once superseded. */
  readonly archived: boolean;
}

export interface KvEntry {
  /** Ascending by revision, 1..kvRevisionsRetainedMax long; the last is the current one. */
  readonly revisions: readonly KvRevision[];
  readonly lastUsed: Hlc;
  /** Value bytes of every revision but the current one (what kvArchiveBytesMax bounds). */
  readonly archivedBytes: number;
}

const entryFormat = 1;
const flagDeleted = 1;
const flagArchived = 2;

export function currentOf(entry: KvEntry): KvRevision {
  const rev = entry.revisions[entry.revisions.length - 1];
  assert(rev !== undefined, 'a kv entry has at least one revision');
  return rev;
}

/** Live: a set (not a tombstone) that has not expired at `at`. */
export function isLiveAt(rev: KvRevision, at: Hlc): boolean {
  return rev.state === KvState.Set && !isExpired(rev.expires, at);
}

/** The newest revision committed at or before `readTs` (wire.md 4.2 ReadTimestamp), or null
 *  when it is pruned or was a superseded NOREV write. */
export function revisionAsOf(entry: KvEntry, readTs: Hlc): KvRevision | null {
  const revs = entry.revisions;
  for (let i = revs.length - 1; i >= 0; i -= 1) {
    const rev = revs[i];
    assert(rev !== undefined, 'revision index in range');
    if (compareHlc(rev.lastModified, readTs) > 0) continue;
    return i === revs.length - 1 || rev.archived ? rev : null;
  }
  return null;
}

/** Archived revision `revision` (wire.md 4.2 revision selector), or null. */
export function revisionNumbered(entry: KvEntry, revision: number): KvRevision | null {
  for (const rev of entry.revisions) {
    if (rev.revision === revision) return rev.archived ? rev : null;
  }
  return null;
}

/** What a non-transactional read sees: latest at `now`, or the snapshot at `readTs`. */
export function visibleRevision(entry: KvEntry, readTs: Hlc, now: Hlc): KvRevision | null {
  if (hlcIsZero(readTs)) {
    const cur = currentOf(entry);
    return isLiveAt(cur, now) ? cur : null;
  }
  const rev = revisionAsOf(entry, readTs);
  return rev !== null && isLiveAt(rev, readTs) ? rev : null;
}

/** Appends `next` as the new current revision, then prunes the oldest past the cap. */
export function withRevision(entry: KvEntry | undefined, next: KvRevision, now: Hlc): KvEntry {
  const old = entry === undefined ? noRevisions : entry.revisions;
  const prev = old[old.length - 1];
  let archivedBytes = entry === undefined ? 0 : entry.archivedBytes;
  if (prev !== undefined) {
    assert(next.revision === prev.revision + 1, 'revisions grow by one');
  } else {
    assert(next.revision === 0, 'the first revision is 0');
  }
  // The oldest revisions past kvRevisionsRetainedMax go; the rest are copied once, in order.
  let from = Math.max(0, old.length + 1 - kvRevisionsRetainedMax);
  for (let i = 0; i < from; i++) archivedBytes -= old[i]!.value?.length ?? 0;
  const revs: KvRevision[] = [];
  for (let i = from; i < old.length - 1; i++) revs.push(old[i]!);
  if (prev !== undefined && old.length - 1 >= from) {
    // The superseded revision keeps its value only if archived (a NOREV one becomes a
    // value-less placeholder).
    const kept = prev.archived ? prev : revisionWith(prev, null, prev.expires);
    archivedBytes += kept.value?.length ?? 0;
    revs.push(kept);
  }
  revs.push(next);
  // History is also capped in bytes, so one key's record (all its revisions) stays well under
  // a writer frame at checkpoints; the current revision always stays.
  if (archivedBytes > kvArchiveBytesMax) {
    from = 0;
    while (revs.length - from > 1 && archivedBytes > kvArchiveBytesMax) {
      archivedBytes -= revs[from++]!.value?.length ?? 0;
    }
    revs.splice(0, from);
  }
  return { revisions: revs, lastUsed: now, archivedBytes };
}

const noRevisions: readonly KvRevision[] = [];

/** `rev` with another value and expiry, built as newRevision builds (one object shape). */
function revisionWith(rev: KvRevision, value: Uint8Array | null, expires: Hlc): KvRevision {
  return { revision: rev.revision, value, state: rev.state, expires,
    lastModified: rev.lastModified, archived: rev.archived };
}

/** Value bytes of every revision but the last. */
function archivedBytesOf(revs: readonly KvRevision[]): number {
  let bytes = 0;
  for (let i = 0; i < revs.length - 1; i++) bytes += revs[i]!.value?.length ?? 0;
  return bytes;
}

/** The current revision with a new expiry (extend keeps the revision, wire.md 4.2). */
export function withExpiry(entry: KvEntry, expires: Hlc, now: Hlc): KvEntry {
  const revs = entry.revisions.slice();
  const cur = currentOf(entry);
  revs[revs.length - 1] = revisionWith(cur, cur.value, expires);
  return { revisions: revs, lastUsed: now, archivedBytes: entry.archivedBytes };
}

export function newRevision(revision: number, value: Uint8Array | null, expires: Hlc,
  now: Hlc, archived: boolean): KvRevision {
  return { revision, value, state: KvState.Set, expires, lastModified: now, archived };
}

export function tombstone(revision: number, now: Hlc): KvRevision {
  return {
    revision, value: null, state: KvState.Deleted, expires: hlcZero, lastModified: now,
    archived: true,
  };
}

export function encodeKvEntry(entry: KvEntry): Uint8Array {
  const w = new ByteWriter().u8(entryFormat).hlc(entry.lastUsed).uint(entry.revisions.length);
  for (const rev of entry.revisions) {
    const flags = (rev.state === KvState.Deleted ? flagDeleted : 0) |
      (rev.archived ? flagArchived : 0);
    w.uint(rev.revision).u8(flags).hlc(rev.expires).hlc(rev.lastModified).optBytes(rev.value);
  }
  return w.finish();
}

export function decodeKvEntry(bytes: Uint8Array): KvEntry {
  const r = new ByteReader(bytes);
  assert(r.u8() === entryFormat, 'unknown kv record format');
  const lastUsed = r.hlc();
  const count = r.uint();
  assert(count >= 1 && count <= kvRevisionsRetainedMax, 'kv record revision count');
  const revisions: KvRevision[] = [];
  for (let i = 0; i < count; i += 1) {
    const revision = r.uint();
    const flags = r.u8();
    assert((flags & ~(flagDeleted | flagArchived)) === 0, 'unknown kv revision flags');
    const expires = r.hlc();
    const lastModified = r.hlc();
    const value = r.optBytes();
    const state = (flags & flagDeleted) !== 0 ? KvState.Deleted : KvState.Set;
    revisions.push({
      revision, value, state, expires, lastModified, archived: (flags & flagArchived) !== 0,
    });
  }
  r.end();
  return { revisions, lastUsed, archivedBytes: archivedBytesOf(revisions) };
}
