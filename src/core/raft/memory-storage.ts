// An in-memory Raft log (etcd MemoryStorage): used by tests and the simulator, and later as the
// cache in front of RocksDB. The caller owns writes; the group only reads it (StorageView).
// Layout: `ents[0]` is a dummy entry at the compaction point (snapshot index and term), so
// `ents[i]` holds index `offset + i` and term(offset) is the compaction term.
import { assert } from '../../assert.js';
import type { ConfState, Entry, HardState, Snapshot, StorageView } from './types.js';
import { EntryKind } from './types.js';

export const emptyConfState: ConfState = {
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

export const emptyHardState: HardState = { term: 0, vote: 0, commit: 0 };

const emptyData = new Uint8Array(0);

export class MemoryStorage implements StorageView {
  private hardState: HardState = emptyHardState;
  private snap: Snapshot;
  /** ents[0] is the dummy at the compaction point. */
  private ents: Entry[];

  /** `conf` is the bootstrap membership (kept in the initial empty snapshot). */
  constructor(conf: ConfState = emptyConfState) {
    this.snap = { meta: { index: 0, term: 0, conf }, data: emptyData };
    this.ents = [{ term: 0, index: 0, kind: EntryKind.Normal, data: emptyData }];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.meta.conf };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  hardStateNow(): HardState {
    return this.hardState;
  }

  private offset(): number {
    return this.ents[0]!.index;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  term(index: number): number {
    const offset = this.offset();
    assert(index >= offset, `storage term(${index}) below the compaction point ${offset}`);
    assert(index <= this.lastIndex(), `storage term(${index}) above last ${this.lastIndex()}`);
    return this.ents[index - offset]!.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset();
    assert(lo > offset, `storage entries(${lo}) compacted (first ${offset + 1})`);
    assert(hi <= this.lastIndex() + 1, `storage entries(.., ${hi}) above last + 1`);
    assert(lo <= hi, 'storage entries: lo > hi');
    if (lo === hi) return [];
    return limitBytes(this.ents, lo - offset, hi - offset, maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Appends entries, first truncating any existing suffix from entries[0].index on (the new
   *  entries win: they come from a later Ready). Entries at or below the compaction point are
   *  skipped. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const lastNew = entries[entries.length - 1]!.index;
    if (lastNew < first) return;
    const from = Math.max(entries[0]!.index, first);
    assert(from <= this.lastIndex() + 1, `storage append leaves a gap at ${this.lastIndex() + 1}`);
    const skip = from - entries[0]!.index;
    this.ents.length = from - this.offset();
    for (let i = skip; i < entries.length; i++) {
      const e = entries[i]!;
      assert(e.index === from + i - skip, 'storage append: entries not contiguous');
      this.ents.push(e);
    }
  }

  /** Replaces the log with a snapshot (a follower installing the leader's snapshot). */
  applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    assert(index >= this.snap.meta.index, 'storage applySnapshot: snapshot is out of date');
    this.snap = snapshot;
    this.ents = [{ term: snapshot.meta.term, index, kind: EntryKind.Normal, data: emptyData }];
  }

  /** Records a snapshot of the state machine at `index` (<= applied, in the log). The log is
   *  not compacted: call compact() for that. */
  createSnapshot(index: number, conf: ConfState, data: Uint8Array): Snapshot {
    assert(index > this.snap.meta.index, 'storage createSnapshot: snapshot is out of date');
    assert(index <= this.lastIndex(), `storage createSnapshot(${index}) above last index`);
    this.snap = { meta: { index, term: this.term(index), conf }, data };
    return this.snap;
  }

  /** Drops entries up to and including `index`. Requires a snapshot at or above `index`, so a
   *  follower behind the new first index can still be sent one (paper 7). */
  compact(index: number): void {
    const offset = this.offset();
    if (index <= offset) return;
    assert(index <= this.lastIndex(), `storage compact(${index}) above last index`);
    assert(index <= this.snap.meta.index, `storage compact(${index}) beyond the snapshot`);
    const term = this.term(index);
    this.ents = this.ents.slice(index - offset);
    this.ents[0] = { term, index, kind: EntryKind.Normal, data: emptyData };
  }
}

/** ents[from, to) cut after maxBytes of data, at least one entry. */
export function limitBytes(ents: readonly Entry[], from: number, to: number,
  maxBytes: number): Entry[] {
  let bytes = 0;
  let end = from;
  while (end < to) {
    bytes += ents[end]!.data.length;
    if (end > from && bytes > maxBytes) break;
    end++;
  }
  return ents.slice(from, end);
}
