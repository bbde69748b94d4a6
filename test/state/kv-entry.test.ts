// One key's MVCC record (src/core/state/kv-entry.ts): withRevision against a naive model of the
// retention rules (the last kvRevisionsRetainedMax revisions; superseded NOREV revisions lose
// their value; history capped at kvArchiveBytesMax value bytes, the current revision always
// kept), and archivedBytes, which withRevision keeps incrementally, always equal to a full count
// after sets, extends and an encode/decode round trip.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Hlc } from '../../src/core/api/types.js';
import {
  decodeKvEntry, encodeKvEntry, type KvEntry, type KvRevision, newRevision, withExpiry,
  withRevision,
} from '../../src/core/state/kv-entry.js';
import { kvArchiveBytesMax, kvRevisionsRetainedMax } from '../../src/core/state/state-limits.js';

const hlc = (l: number): Hlc => ({ n: 1, l, c: 0 });

/** The retention rules spelled out on a plain list. */
function modelAfter(revs: readonly KvRevision[], next: KvRevision): KvRevision[] {
  const out = revs.map((r, i) => (i === revs.length - 1 && !r.archived ? { ...r, value: null } : r));
  out.push(next);
  while (out.length > kvRevisionsRetainedMax) out.shift();
  const archived = (): number =>
    out.slice(0, -1).reduce((n, r) => n + (r.value?.length ?? 0), 0);
  while (out.length > 1 && archived() > kvArchiveBytesMax) out.shift();
  return out;
}

function countArchived(entry: KvEntry): number {
  return entry.revisions.slice(0, -1).reduce((n, r) => n + (r.value?.length ?? 0), 0);
}

const mib = 1024 * 1024;
/** Sizes that cross the byte cap within a few writes, and small ones that never do. */
const sizes = [0, 1, 64, Math.floor(0.7 * mib), Math.floor(1.3 * mib)];

describe('kv entry retention', () => {
  it('withRevision keeps what the naive model keeps, with archivedBytes exact', () => {
    fc.assert(fc.property(fc.array(fc.record({
      size: fc.constantFrom(...sizes), archived: fc.boolean(), extend: fc.boolean(),
      roundTrip: fc.boolean(),
    }), { minLength: 1, maxLength: 3 * kvRevisionsRetainedMax }), (writes) => {
      let entry: KvEntry | undefined;
      let model: KvRevision[] = [];
      writes.forEach((w, i) => {
        const next = newRevision(i, new Uint8Array(w.size), hlc(0), hlc(i + 1), w.archived);
        entry = withRevision(entry, next, hlc(i + 1));
        model = modelAfter(model, next);
        if (w.extend) entry = withExpiry(entry, hlc(i + 100), hlc(i + 1));
        if (w.roundTrip) entry = decodeKvEntry(encodeKvEntry(entry));
        expect(entry.revisions.map((r) => [r.revision, r.value?.length ?? -1, r.archived]))
          .toEqual(model.map((r) => [r.revision, r.value?.length ?? -1, r.archived]));
        expect(entry.archivedBytes).toBe(countArchived(entry));
        expect(entry.archivedBytes).toBeLessThanOrEqual(kvArchiveBytesMax);
      });
    }), { numRuns: 60 });
  });

  it('prunes to the current revision alone when one superseded value fills the cap', () => {
    const big = newRevision(0, new Uint8Array(kvArchiveBytesMax + 1), hlc(0), hlc(1), true);
    const first = withRevision(undefined, big, hlc(1));
    const second = withRevision(first,
      newRevision(1, Uint8Array.of(7), hlc(0), hlc(2), true), hlc(2));
    expect(second.revisions.map((r) => r.revision)).toEqual([1]);
    expect(second.archivedBytes).toBe(0);
  });
});
