// Leader location per partition, shared between threads without locks (architecture.md,
// "leader table"). Each partition owns two Int32 slots: [leaderNodeId, term]. Only the worker
// hosting a partition writes its slots (and the supervisor, after that worker died); the main
// thread reads them on every request. Atomics give the reads a consistent view of each slot.
import { assert } from '../assert.js';

const SLOTS_PER_PARTITION = 2;
const NO_LEADER = 0;

export class LeaderTable {
  readonly partitionCount: number;
  private readonly slots: Int32Array;

  static create(partitionCount: number): SharedArrayBuffer {
    assert(partitionCount > 0, 'partitionCount must be positive');
    // Partition ids are 1..partitionCount (Kahuna numbering); slot 0 is unused.
    return new SharedArrayBuffer((partitionCount + 1) * SLOTS_PER_PARTITION * 4);
  }

  constructor(sab: SharedArrayBuffer) {
    this.slots = new Int32Array(sab);
    this.partitionCount = this.slots.length / SLOTS_PER_PARTITION - 1;
    assert(Number.isInteger(this.partitionCount) && this.partitionCount > 0, 'bad leader table');
  }

  /** The node id leading `partition`, or 0 when none is known. */
  leaderOf(partition: number): number {
    return Atomics.load(this.slots, this.index(partition));
  }

  termOf(partition: number): number {
    return Atomics.load(this.slots, this.index(partition) + 1);
  }

  /** Publishes a leader; term first, so a reader never pairs a new leader with an old term. */
  publish(partition: number, leaderNodeId: number, term: number): void {
    assert(leaderNodeId >= 0 && term >= 0, 'leader and term are non-negative');
    const i = this.index(partition);
    Atomics.store(this.slots, i + 1, term);
    Atomics.store(this.slots, i, leaderNodeId);
  }

  clear(partition: number): void {
    Atomics.store(this.slots, this.index(partition), NO_LEADER);
  }

  /** True when every partition in `partitions` has a known leader. */
  allHaveLeader(partitions: Iterable<number>): boolean {
    for (const p of partitions) if (this.leaderOf(p) === NO_LEADER) return false;
    return true;
  }

  private index(partition: number): number {
    assert(Number.isInteger(partition), 'partition id must be an integer');
    assert(partition >= 1 && partition <= this.partitionCount, `partition ${partition} out of range`);
    return partition * SLOTS_PER_PARTITION;
  }
}
