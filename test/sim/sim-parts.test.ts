// The simulator's own parts, tested without Raft: the event queue, the network and disk models,
// the state machine and the checkers (each checker must catch the violation it names).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/core/raft/memory-storage.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { EntryKind, type Entry } from '../../src/core/raft/types.js';
import { Checker, SimViolation } from './checker.js';
import { cloneStorage, SimDisk, slowDisk, type WriteOp } from './disk.js';
import { EventQueue } from './event-queue.js';
import { SimNetwork } from './network.js';
import { CounterMachine } from './state-machine.js';

const conf = { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [],
  autoLeave: false };

function ent(index: number, term: number, tag = 0): Entry {
  return { index, term, kind: EntryKind.Normal, data: new Uint8Array([tag, index & 255]) };
}

function op(group: number, n: number, entries: Entry[], mustSync: boolean): WriteOp {
  const last = entries.at(-1);
  return { group, readyNumber: n, entries, snapshot: null, mustSync,
    hardState: last === undefined ? { term: 1, vote: 1, commit: n } :
      { term: last.term, vote: 1, commit: 0 } };
}

describe('EventQueue', () => {
  it('pops in (time, insertion) order, like a stable sort', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 50 }), { maxLength: 200 }), (times) => {
      const q = new EventQueue<number>();
      times.forEach((t, i) => q.schedule(t, i));
      const popped: number[] = [];
      for (let e = q.pop(); e !== undefined; e = q.pop()) popped.push(e);
      const want = times.map((t, i) => [t, i] as const)
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
      expect(popped).toEqual(want);
    }));
  });

  it('advances its clock and refuses the past', () => {
    const q = new EventQueue<string>();
    q.schedule(5, 'a');
    q.after(2, 'b');
    expect(q.pop()).toBe('b');
    expect(q.now).toBe(2);
    expect(q.pop()).toBe('a');
    expect(q.now).toBe(5);
    expect(() => q.schedule(4, 'c')).toThrow(/past/);
  });
});

describe('SimNetwork', () => {
  it('cuts links one way (asymmetric) or both (partition), and heals', () => {
    const net = new SimNetwork(new SeededPrng(1));
    net.cut(1, 2);
    expect(net.linkUp(1, 2)).toBe(false);
    expect(net.linkUp(2, 1)).toBe(true);
    expect(net.fate(1, 2)).toEqual({ delays: [], cut: true });
    net.partition([1], [1, 2, 3]);
    expect([net.linkUp(3, 1), net.linkUp(1, 3), net.linkUp(2, 3)]).toEqual([false, false, true]);
    net.heal();
    expect(net.cutCount()).toBe(0);
  });

  it('loses, duplicates and delays within the configured bounds, the same for a seed', () => {
    const run = (seed: number): number[][] => {
      const net = new SimNetwork(new SeededPrng(seed));
      net.conditions = { lossRate: 0.2, dupRate: 0.3, delayMin: 2, delayMax: 9,
        straggleRate: 0, straggleMax: 0 };
      return Array.from({ length: 500 }, () => [...net.fate(1, 2).delays]);
    };
    const fates = run(7);
    expect(run(7)).toEqual(fates);
    const lost = fates.filter((d) => d.length === 0).length;
    const dup = fates.filter((d) => d.length === 2).length;
    expect(lost).toBeGreaterThan(60);
    expect(lost).toBeLessThan(140);
    expect(dup).toBeGreaterThan(60);
    expect(fates.flat().every((d) => d >= 2 && d <= 9)).toBe(true);
  });
});

describe('SimDisk', () => {
  it('makes a group commit durable only when its fsync completes', () => {
    const disk = new SimDisk(new SeededPrng(3));
    disk.latency = slowDisk;
    const d = disk.addGroup(1, conf);
    disk.submit(op(1, 1, [ent(1, 1), ent(2, 1)], true));
    disk.submit(op(1, 2, [ent(3, 1)], true));
    const latency = disk.startSync();
    expect(latency).toBeGreaterThanOrEqual(slowDisk.syncMin);
    expect(d.lastIndex()).toBe(0);
    expect(disk.hasPending(1)).toBe(true);
    expect(disk.finishSync().map((o) => o.readyNumber)).toEqual([1, 2]);
    expect(d.lastIndex()).toBe(3);
    expect(disk.hasPending(1)).toBe(false);
  });

  it('keeps acknowledged fsynced writes across a crash and at most a prefix of the rest', () => {
    for (let seed = 0; seed < 40; seed++) {
      const disk = new SimDisk(new SeededPrng(seed));
      const d = disk.addGroup(1, conf);
      disk.submit(op(1, 1, [ent(1, 1)], true));
      disk.startSync();
      disk.finishSync();
      disk.submit(op(1, 2, [], false)); // commit only: acknowledged without an fsync
      disk.startSync();
      disk.finishSync();
      disk.submit(op(1, 3, [ent(2, 1)], true));
      disk.startSync();
      disk.submit(op(1, 4, [ent(3, 1)], true));
      const lost = disk.crash();
      // Three writes were not durable (commit-only, entry 2, entry 3); a prefix survives.
      const kept = 3 - lost;
      expect(d.lastIndex()).toBe(1 + Math.max(0, kept - 1));
      expect(disk.idle()).toBe(true);
    }
  });

  it('clones a storage with its snapshot, entries and hard state', () => {
    const s = new MemoryStorage(conf);
    s.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
    s.setHardState({ term: 2, vote: 3, commit: 2 });
    s.createSnapshot(2, conf, new Uint8Array([9]));
    s.compact(2);
    const c = cloneStorage(s);
    expect(c.snapshot()).toEqual(s.snapshot());
    expect(c.entries(3, 4, Infinity)).toEqual(s.entries(3, 4, Infinity));
    expect(c.initialState()).toEqual(s.initialState());
  });
});

describe('CounterMachine', () => {
  it('continues the same hash after a restore from its snapshot', () => {
    const a = new CounterMachine();
    for (let i = 1; i <= 5; i++) a.apply(ent(i, 1, 7));
    const b = new CounterMachine();
    b.restore(5, a.encode());
    a.apply(ent(6, 2));
    b.apply(ent(6, 2));
    expect(b.hash).toBe(a.hash);
    expect(b.count).toBe(6);
    expect(() => b.apply(ent(8, 2))).toThrow(/gap/);
  });
});

function violation(f: () => void): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SimViolation) return e.kind;
    throw e;
  }
  return 'none';
}

describe('Checker catches', () => {
  it('two leaders in one term (election safety, paper 5.2)', () => {
    const c = new Checker();
    c.onLeader(1, 1, 3);
    c.onLeader(1, 1, 3);
    expect(violation(() => c.onLeader(2, 1, 3))).toBe('election-safety');
  });

  it('the same index and term with different prefixes (log matching, paper 5.3)', () => {
    const c = new Checker();
    c.onEntries(1, 1, [ent(1, 1, 1), ent(2, 2, 1)]);
    c.onEntries(2, 1, [ent(1, 1, 1), ent(2, 2, 1)]);
    expect(violation(() => c.onEntries(3, 1, [ent(1, 1, 5), ent(2, 2, 1)])))
      .toBe('log-matching');
  });

  it('a gap in a replica log', () => {
    const c = new Checker();
    expect(violation(() => c.onEntries(1, 1, [ent(3, 1)]))).toBe('log');
  });

  it('a committed entry replaced (committed never lost)', () => {
    const c = new Checker();
    c.onEntries(1, 1, [ent(1, 1, 1)]);
    c.onCommit(1, 1, 1, 1);
    c.onEntries(2, 1, [ent(1, 2, 2)]);
    expect(violation(() => c.onCommit(2, 1, 1, 2))).toBe('committed-lost');
  });

  it('a leader without an entry committed in an earlier term (leader completeness, 5.4)', () => {
    const c = new Checker();
    c.onEntries(1, 1, [ent(1, 1), ent(2, 1)]);
    c.onCommit(1, 1, 2, 1);
    c.onEntries(2, 1, [ent(1, 1)]);
    expect(violation(() => c.onLeader(2, 1, 2))).toBe('leader-completeness');
    c.onEntries(3, 1, [ent(1, 1), ent(2, 1), ent(3, 2)]);
    c.onLeader(3, 1, 3);
  });

  it('different states at one applied index (state-machine safety, 5.4.3)', () => {
    const c = new Checker();
    for (const n of [1, 2]) {
      c.onEntries(n, 1, [ent(1, 1)]);
      c.onCommit(n, 1, 1, 1);
    }
    c.onApply(1, 1, ent(1, 1), 42);
    expect(violation(() => c.onApply(2, 1, ent(1, 1), 43))).toBe('state-machine-safety');
  });

  it('applying an entry that is not committed', () => {
    const c = new Checker();
    c.onEntries(1, 1, [ent(1, 1)]);
    expect(violation(() => c.onApply(1, 1, ent(1, 1), 1))).toBe('apply');
  });

  it('a committed entry durable on a minority only (persist before ack)', () => {
    const c = new Checker();
    c.onEntries(1, 1, [ent(1, 1)]);
    c.onCommit(1, 1, 1, 1);
    const disks = new Map([[1, new MemoryStorage(conf)], [2, new MemoryStorage(conf)]]);
    disks.get(1)?.append([ent(1, 1)]);
    const get = (n: number): MemoryStorage | undefined => disks.get(n);
    expect(violation(() => c.checkDurable(1, 1, [[1, 2, 3]], get))).toBe('durability');
    disks.get(2)?.append([ent(1, 1)]);
    c.checkDurable(1, 1, [[1, 2, 3]], get);
  });

  it('a stale read (ReadIndex below the commit index when asked, thesis 6.4)', () => {
    const c = new Checker();
    c.onEntries(1, 1, [ent(1, 1), ent(2, 1)]);
    c.onCommit(1, 1, 2, 1);
    c.readIssued(1, 'r1');
    expect(violation(() => c.readAnswered(1, 1, 'r1', 1))).toBe('linearizable-read');
  });
});
