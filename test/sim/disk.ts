// The simulated disk of one node: the durable log of every group (a MemoryStorage each) and the
// writes not yet durable. A Ready's write is queued; the disk syncs everything queued in one
// group commit after a latency (slow disk: long latencies). A Ready with mustSync false may be
// acknowledged without an fsync: it is then written but not durable until the next fsync. A
// crash keeps a random prefix of the writes that were not durable (a write-ahead log keeps
// order) and loses the rest: anything acknowledged with mustSync true always survives.
import { assert } from '../../src/assert.js';
import { MemoryStorage } from '../../src/core/raft/memory-storage.js';
import type { SeededPrng } from '../../src/core/raft/prng.js';
import type {
  ConfState, Entry, GroupId, HardState, Snapshot,
} from '../../src/core/raft/types.js';

export interface WriteOp {
  readonly group: GroupId;
  readonly readyNumber: number;
  readonly entries: readonly Entry[];
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly mustSync: boolean;
}

export interface DiskLatency {
  /** fsync latency range, simulation time units. */
  readonly syncMin: number;
  readonly syncMax: number;
  /** A write without fsync (page cache). */
  readonly writeMax: number;
}

export const fastDisk: DiskLatency = { syncMin: 1, syncMax: 6, writeMax: 1 };
export const slowDisk: DiskLatency = { syncMin: 20, syncMax: 120, writeMax: 3 };

export function applyWrite(storage: MemoryStorage, op: WriteOp): void {
  if (op.snapshot !== null && op.snapshot.meta.index > storage.snapshot().meta.index) {
    storage.applySnapshot(op.snapshot);
  }
  storage.append(op.entries);
  if (op.hardState !== null) storage.setHardState(op.hardState);
}

/** A fresh copy of `s` (what a restarted node reads back from its disk). */
export function cloneStorage(s: MemoryStorage): MemoryStorage {
  const c = new MemoryStorage(s.snapshot().meta.conf);
  if (s.snapshot().meta.index > 0) c.applySnapshot(s.snapshot());
  const first = s.firstIndex();
  c.append(s.entries(first, s.lastIndex() + 1, Infinity));
  c.setHardState(s.initialState().hardState);
  assert(c.lastIndex() === s.lastIndex(), 'clone keeps the last index');
  return c;
}

export class SimDisk {
  readonly durable = new Map<GroupId, MemoryStorage>();
  latency: DiskLatency = fastDisk;
  private queued: WriteOp[] = [];
  private syncing: WriteOp[] | null = null;
  private syncIsFsync = false;
  /** Acknowledged without an fsync: lost at a crash unless a later fsync covers them. */
  private written: WriteOp[] = [];
  private readonly prng: SeededPrng;
  syncs = 0;

  constructor(prng: SeededPrng) {
    this.prng = prng;
  }

  addGroup(group: GroupId, conf: ConfState): MemoryStorage {
    assert(!this.durable.has(group), 'group already on disk');
    const s = new MemoryStorage(conf);
    this.durable.set(group, s);
    return s;
  }

  storage(group: GroupId): MemoryStorage {
    const s = this.durable.get(group);
    assert(s !== undefined, 'group not on disk');
    return s;
  }

  submit(op: WriteOp): void {
    this.queued.push(op);
  }

  /** Starts a group commit if idle and something is queued; returns its latency or -1. */
  startSync(): number {
    if (this.syncing !== null || this.queued.length === 0) return -1;
    this.syncing = this.queued;
    this.queued = [];
    this.syncIsFsync = this.syncing.some((op) => op.mustSync);
    const l = this.latency;
    if (!this.syncIsFsync) return this.prng.nextInt(l.writeMax + 1);
    return l.syncMin + this.prng.nextInt(l.syncMax - l.syncMin + 1);
  }

  /** The running group commit completed: returns its ops in order, to acknowledge. */
  finishSync(): WriteOp[] {
    const ops = this.syncing;
    assert(ops !== null, 'no sync in progress');
    this.syncing = null;
    this.syncs += 1;
    if (!this.syncIsFsync) {
      this.written.push(...ops);
      return ops;
    }
    for (const op of this.written) applyWrite(this.storage(op.group), op);
    this.written = [];
    for (const op of ops) applyWrite(this.storage(op.group), op);
    return ops;
  }

  /** Power loss: a random prefix of the non-durable writes survives, the rest is lost. */
  crash(): number {
    const pending = [...this.written, ...(this.syncing ?? []), ...this.queued];
    const kept = this.prng.nextInt(pending.length + 1);
    for (let i = 0; i < kept; i++) {
      const op = pending[i] as WriteOp;
      applyWrite(this.storage(op.group), op);
    }
    this.written = [];
    this.syncing = null;
    this.queued = [];
    return pending.length - kept;
  }

  /** True if some write of `group` is not durable yet. */
  hasPending(group: GroupId): boolean {
    const is = (op: WriteOp): boolean => op.group === group;
    return this.queued.some(is) || (this.syncing?.some(is) ?? false) || this.written.some(is);
  }

  /** True if some write of `group` that changes its log (entries or a snapshot) is not
   *  durable yet; hard-state-only writes do not count. */
  hasPendingLog(group: GroupId): boolean {
    const is = (op: WriteOp): boolean => op.group === group &&
      (op.entries.length > 0 || op.snapshot !== null);
    return this.queued.some(is) || (this.syncing?.some(is) ?? false) || this.written.some(is);
  }

  idle(): boolean {
    return this.syncing === null && this.queued.length === 0;
  }
}
