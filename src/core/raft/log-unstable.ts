// The unstable part of the log (etcd unstable.go): entries and a snapshot handed to the caller
// for persistence but not yet acknowledged by onPersisted. `offsetInProgress` splits entries
// already given out in a Ready (being written) from those not yet given out.
import { assert } from '../../assert.js';
import type { Entry, Snapshot } from './types.js';

export class LogUnstable {
  snapshot: Snapshot | null = null;
  /** entries[i] has index offset + i. */
  entries: Entry[] = [];
  offset: number;
  snapshotInProgress = false;
  offsetInProgress: number;

  constructor(offset: number) {
    assert(offset >= 1, 'unstable offset must be >= 1');
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  maybeFirstIndex(): number | undefined {
    return this.snapshot === null ? undefined : this.snapshot.meta.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? undefined : this.snapshot.meta.index;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      const snap = this.snapshot;
      return snap !== null && snap.meta.index === index ? snap.meta.term : undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]!.term;
  }

  /** Entries not yet handed to the caller. */
  nextEntries(): readonly Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    if (inProgress >= this.entries.length) return [];
    return this.entries.slice(inProgress);
  }

  nextSnapshot(): Snapshot | null {
    return this.snapshot === null || this.snapshotInProgress ? null : this.snapshot;
  }

  /** Everything currently unstable has been handed to the caller in a Ready. */
  acceptInProgress(): void {
    if (this.entries.length > 0) {
      this.offsetInProgress = this.offset + this.entries.length;
    }
    if (this.snapshot !== null) this.snapshotInProgress = true;
  }

  /** Entries up to (index, term) are persisted: drop them unless the log changed since. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    if (t === undefined || t !== term || index < this.offset) return;
    const count = index + 1 - this.offset;
    this.entries = this.entries.slice(count);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
    assert(this.offsetInProgress <= this.offset + this.entries.length, 'unstable in-progress');
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.meta.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.meta.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    assert(ents.length > 0, 'unstable append of nothing');
    const from = ents[0]!.index;
    const end = this.offset + this.entries.length;
    if (from === end) {
      for (const e of ents) this.entries.push(e);
    } else if (from <= this.offset) {
      // The log is replaced from `from` on: everything unstable goes (thesis 3.5).
      this.offset = from;
      this.offsetInProgress = from;
      this.entries = ents.slice();
    } else {
      assert(from < end, `unstable append leaves a gap: ${from} after ${end - 1}`);
      this.entries.length = from - this.offset;
      for (const e of ents) this.entries.push(e);
      this.offsetInProgress = Math.min(this.offsetInProgress, from);
    }
  }

  /** Entries [lo, hi) from the unstable part; lo >= offset. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi,
      `unstable slice [${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
