// The replicated state machine of the simulator: per group, a counter of applied entries and a
// running hash over (index, term, kind, data) of every applied entry. Two replicas with the same
// applied index must have the same hash (state-machine safety). Snapshots carry the three
// numbers, so a replica restored from a snapshot continues the same hash.
import { assert } from '../../src/assert.js';
import type { Entry } from '../../src/core/raft/types.js';

const snapshotBytes = 16;

/** FNV-1a-style 32-bit mixing of one number into a hash. */
export function mix(h: number, x: number): number {
  let v = h ^ (x & 0xffff_ffff);
  v = Math.imul(v, 0x0100_0193);
  v ^= Math.floor(x / 0x1_0000_0000);
  v = Math.imul(v ^ (v >>> 15), 0x85eb_ca6b);
  return v >>> 0;
}

export function hashBytes(h: number, data: Uint8Array): number {
  let v = mix(h, data.length);
  for (let i = 0; i < data.length; i++) v = Math.imul(v ^ (data[i] as number), 0x0100_0193);
  return v >>> 0;
}

export function entryHash(e: Entry): number {
  return hashBytes(mix(mix(mix(0x811c_9dc5, e.index), e.term), e.kind), e.data);
}

export class CounterMachine {
  applied = 0;
  hash = 0x811c_9dc5;
  count = 0;

  apply(e: Entry): void {
    assert(e.index === this.applied + 1, `applied ${e.index} after ${this.applied}: a gap`);
    this.applied = e.index;
    this.hash = mix(this.hash, entryHash(e));
    if (e.data.length > 0) this.count += 1;
  }

  encode(): Uint8Array {
    const b = new Uint8Array(snapshotBytes);
    const v = new DataView(b.buffer);
    v.setFloat64(0, this.applied);
    v.setUint32(8, this.hash);
    v.setUint32(12, this.count);
    return b;
  }

  /** Restores from a snapshot taken at `index`; empty data is the bootstrap snapshot. */
  restore(index: number, data: Uint8Array): void {
    if (data.length === 0) {
      assert(index === 0, 'only the bootstrap snapshot is empty');
      this.applied = 0;
      this.hash = 0x811c_9dc5;
      this.count = 0;
      return;
    }
    assert(data.length === snapshotBytes, 'snapshot data has the machine size');
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.applied = v.getFloat64(0);
    assert(this.applied === index, 'snapshot data is of the snapshot index');
    this.hash = v.getUint32(8);
    this.count = v.getUint32(12);
  }
}
