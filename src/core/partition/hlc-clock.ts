// The leader's hybrid logical clock (wire.md 1.3): physical ms from the caller (the worker
// reads the wall clock; core never does), a counter that orders events within one ms, and the
// node id. Never goes backwards, even if the wall clock does.
import { assert } from '../../assert.js';
import type { Hlc } from '../api/types.js';

export class HlcClock {
  private last: Hlc;

  constructor(readonly nodeId: number, start: Hlc = { n: nodeId, l: 0, c: 0 }) {
    assert(Number.isInteger(nodeId) && nodeId > 0, 'HLC node id is positive');
    this.last = start;
  }

  /** A timestamp later than every one handed out before. */
  now(physicalMs: number): Hlc {
    const l = Math.max(this.last.l, Math.floor(physicalMs));
    const c = l === this.last.l ? this.last.c + 1 : 0;
    this.last = { n: this.nodeId, l, c };
    return this.last;
  }

  /** Moves the clock past `seen` (an entry stamped by another leader, or restored state). */
  observe(seen: Hlc): void {
    if (seen.l > this.last.l || (seen.l === this.last.l && seen.c > this.last.c)) {
      this.last = { n: this.nodeId, l: seen.l, c: seen.c };
    }
  }
}
