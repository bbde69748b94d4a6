// The whole log as Raft sees it (etcd log.go): the caller's persisted StorageView, then the
// unstable tail. Also the commit, applying (handed out) and applied indexes.
import { assert } from '../../assert.js';
import { LogUnstable } from './log-unstable.js';
import type { Entry, Snapshot, StorageView } from './types.js';

/** Payload bytes of entries (flow control and byte limits count data only). */
export function payloadBytes(entries: readonly Entry[]): number {
  let bytes = 0;
  for (const e of entries) bytes += e.data.length;
  return bytes;
}

export class RaftLog {
  readonly storage: StorageView;
  readonly unstable: LogUnstable;
  committed: number;
  /** Highest index handed to the caller in committedEntries. */
  applying: number;
  /** Highest index the caller reported applied. */
  applied: number;

  constructor(storage: StorageView, applied: number) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new LogUnstable(last + 1);
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
    // The snapshot is of committed state, even if the hard state recording that commit was
    // not synced before a crash (a commit-only hard state needs no fsync).
    const commit = Math.max(storage.initialState().hardState.commit,
      storage.snapshot().meta.index);
    if (commit > this.committed) this.commitTo(commit);
    if (applied > this.applied) this.appliedTo(applied);
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term at index, or undefined when compacted or past the end. */
  term(index: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (index < dummy || index > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    const storageFirst = this.storage.firstIndex();
    if (index < storageFirst - 1 || index > this.storage.lastIndex()) return undefined;
    return this.storage.term(index);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, 'the last entry has no term');
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft 5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** The last index whose persistence the caller acknowledged (unstable.offset - 1), or 0 while
   *  a snapshot is still unstable. */
  persistedLastIndex(): number {
    return this.unstable.snapshot === null ? this.unstable.offset - 1 : 0;
  }

  /** Follower append (paper 5.3). Returns the last new index, or undefined when (index,
   *  logTerm) does not match our log. */
  maybeAppend(index: number, logTerm: number, commit: number,
    entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, `entry ${conflict} conflicts with committed entries`);
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** First index where entries disagree with the log (or extend it); 0 when all match. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /** Fast backtracking (thesis 5.3 / etcd findConflictByTerm): the largest index <= index
   *  whose term is <= term, with that term (0 when unknown). */
  findConflictByTerm(index: number, term: number): [index: number, term: number] {
    for (let i = index; ; i--) {
      const t = this.term(i);
      if (t === undefined) return [i, 0];
      if (t <= term) return [i, t];
    }
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0]!.index - 1;
    assert(after >= this.committed, `append after ${after} would truncate committed entries`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  commitTo(commit: number): void {
    if (commit <= this.committed) return;
    assert(commit <= this.lastIndex(), `commit ${commit} beyond last index ${this.lastIndex()}`);
    this.committed = commit;
  }

  appliedTo(index: number): void {
    assert(index <= this.committed, `applied ${index} beyond committed ${this.committed}`);
    if (index > this.applied) this.applied = index;
    if (index > this.applying) this.applying = index;
  }

  /** Highest committed index that may be applied: only persisted entries (async writes). */
  maxAppliableIndex(): number {
    return Math.min(this.committed, this.unstable.offset - 1);
  }

  hasNextCommittedEntries(): boolean {
    return this.unstable.snapshot === null && this.applying < this.maxAppliableIndex();
  }

  /** Committed, persisted entries not yet handed out, at most maxBytes (at least one). */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.slice(this.applying + 1, this.maxAppliableIndex() + 1, maxBytes);
  }

  /** Entries [lo, hi), at most maxBytes (at least one). Asserts lo is not compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    assert(lo >= this.firstIndex(), `log slice from ${lo} is compacted`);
    assert(hi <= this.lastIndex() + 1 && lo <= hi, `log slice [${lo}, ${hi}) out of range`);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    let out: Entry[] = [];
    if (lo < offset) {
      out = this.storage.entries(lo, Math.min(hi, offset), maxBytes);
      if (out.length < Math.min(hi, offset) - lo || hi <= offset) return out;
    }
    const from = Math.max(lo, offset);
    const tail = this.unstable.slice(from, hi);
    if (out.length === 0) return cutBytes(tail, maxBytes);
    let bytes = payloadBytes(out);
    for (const e of tail) {
      bytes += e.data.length;
      if (bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Entries from `lo` to the end, or undefined when lo is compacted. */
  entriesFrom(lo: number, maxBytes: number): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined;
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstable.restore(snapshot);
    if (this.applying < snapshot.meta.index) this.applying = snapshot.meta.index;
  }
}

function cutBytes(entries: Entry[], maxBytes: number): Entry[] {
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    bytes += entries[i]!.data.length;
    if (i > 0 && bytes > maxBytes) return entries.slice(0, i);
  }
  return entries;
}
