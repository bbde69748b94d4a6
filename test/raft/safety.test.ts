// Randomized safety runs on the unit harness (paper 5.2 election safety, 5.3 log matching,
// 5.4 leader completeness / state machine safety, thesis 6.4 read freshness): ticks, proposals,
// reads, transfers, membership changes, message loss, reordering and duplication, partitions,
// compaction, late storage writes and restarts that lose them, with invariants checked after
// every round. Failures print SEED=; RAFT_SEED=n adds one more seed.
import { describe, expect, it } from 'vitest';
import { SeededPrng } from '../../src/core/raft/prng.js';
import {
  type ConfChangeSingle, ConfChangeKind, type RaftConfig, Role,
} from '../../src/core/raft/types.js';
import { Cluster, data, type TestNode } from './harness.js';

const ids = [1, 2, 3, 4, 5];
const text = new TextDecoder();

interface Invariants {
  leaderOf: Map<number, number>;
  /** index -> "term:data" of every entry seen committed anywhere. */
  committed: Map<number, string>;
  /** Per group instance (a restart makes a new one): committed entries checked so far. */
  checkedTo: WeakMap<object, number>;
}

function check(c: Cluster, inv: Invariants, seed: number): void {
  for (const n of c.nodes.values()) {
    const r = n.group.raft;
    if (r.role === Role.Leader) {
      const seen = inv.leaderOf.get(r.term) ?? n.id;
      if (seen !== n.id) expect(n.id, `SEED=${seed} two leaders in term ${r.term}`).toBe(seen);
      inv.leaderOf.set(r.term, n.id);
    }
    // Committed entries never change, on any node (paper 5.4.3 state machine safety).
    // Each node's entries are checked once committed, and the last few again every round.
    const hi = Math.min(r.log.committed, n.storage.lastIndex());
    const from = Math.max(n.storage.firstIndex(), (inv.checkedTo.get(n.group) ?? 0) - 8);
    inv.checkedTo.set(n.group, hi);
    for (let i = from; i <= hi; i++) {
      const e = n.storage.entries(i, i + 1, Infinity)[0]!;
      const key = `${e.term}:${text.decode(e.data)}`;
      const prev = inv.committed.get(i) ?? key;
      if (prev !== key) expect(key, `SEED=${seed} n${n.id} committed ${i} changed`).toBe(prev);
      inv.committed.set(i, key);
    }
  }
  // Applied sequences are prefixes of one another.
  const applied = [...c.nodes.values()].map((n) => n.applied);
  const longest = applied.reduce((a, b) => (b.length > a.length ? b : a));
  for (const a of applied) {
    const at = a.findIndex((v, i) => v !== longest[i]);
    if (at >= 0) expect(a, `SEED=${seed} applied diverge at ${at}`).toEqual(longest);
  }
}

/** Removes or demotes a voter (keeping at least 3), or adds a non-voter back: one at a time,
 *  or two at once through a joint configuration (thesis 4.3). Refusals are fine. */
function changeMembership(c: Cluster, id: number, prng: SeededPrng): boolean {
  const leader = c.leaders()[0];
  if (leader === undefined) return false;
  const voters = c.node(leader).conf.voters;
  const outsiders = ids.filter((v) => !voters.includes(v));
  const changes: ConfChangeSingle[] = [];
  // An outsider joins as a voter, or first as a learner (thesis 4.2.1); a voter may leave,
  // or be demoted to a learner.
  const join = prng.chance(0.5) ? ConfChangeKind.AddVoter : ConfChangeKind.AddLearner;
  const leave = prng.chance(0.7) ? ConfChangeKind.Remove : ConfChangeKind.AddLearner;
  if (voters.includes(id) && voters.length > 3) changes.push({ kind: leave, node: id });
  else if (!voters.includes(id)) changes.push({ kind: join, node: id });
  const other = outsiders.find((v) => v !== id);
  if (prng.chance(0.3) && other !== undefined) {
    changes.push({ kind: ConfChangeKind.AddVoter, node: other });
  }
  if (changes.length === 0) return false;
  return c.node(leader).group.proposeConfChange({ changes, leaveJoint: false }) === null;
}

function run(seed: number, rounds: number): { confChanges: number; servedReads: number } {
  const prng = new SeededPrng(seed);
  const checkQuorum = prng.chance(0.5);
  const over: Partial<RaftConfig> = {
    preVote: prng.chance(0.5), checkQuorum, msgBytesMax: 8, inflightMsgsMax: 4,
    readOnly: checkQuorum && prng.chance(0.5) ? 'lease' : 'safe',
  };
  const c = new Cluster(ids, over);
  // Async storage writes: Readys are written late, several may be in flight, and a restart
  // loses the unwritten ones (a crash before fsync).
  if (prng.chance(0.5)) c.persistNow = () => prng.chance(0.4);
  // Reordering (a random one of the first few queued) and duplication.
  const chaos = prng.chance(0.5);
  if (chaos) c.pick = (length) => prng.nextInt(Math.min(length, 4));
  // ReadIndex safety (thesis 6.4): a read state's index covers every entry committed anywhere
  // before the read was issued.
  const reads = new Map<string, number>();
  let readCount = 0;
  const inv: Invariants = { leaderOf: new Map(), committed: new Map(), checkedTo: new WeakMap() };
  let dropRate = 0.05;
  c.filter = (m) => {
    if (chaos && prng.chance(0.02)) c.queue.push(m);
    return !prng.chance(dropRate);
  };
  let proposals = 0;
  let servedReads = 0;
  let confChanges = 0;
  for (let round = 0; round < rounds; round++) {
    const op = prng.nextInt(100);
    const id = ids[prng.nextInt(ids.length)]!;
    if (op < 20) {
      for (const leader of c.leaders()) c.node(leader).group.propose(data(`p${proposals++}`));
    } else if (op < 24) {
      c.isolate(id);
    } else if (op < 28) {
      c.heal();
    } else if (op < 30) {
      const n = c.node(id);
      if (n.appliedIndex > n.storage.snapshot().meta.index) c.compact(id);
    } else if (op < 32) {
      c.restart(id, over);
    } else if (op < 34) {
      dropRate = prng.chance(0.5) ? 0 : 0.2;
    } else if (op < 36) {
      for (const leader of c.leaders()) c.node(leader).group.transferLeader(id);
    } else if (op < 38) {
      if (changeMembership(c, id, prng)) confChanges++;
    } else if (op < 46) {
      const ctx = `r${readCount++}`;
      reads.set(ctx, Math.max(...[...c.nodes.values()].map((n) => n.group.raft.log.committed)));
      c.node(id).group.readIndex(new TextEncoder().encode(ctx));
    }
    if (over.readOnly === 'lease') {
      c.tickAll();
    } else {
      // Clocks drift (a node misses a tick now and then): harmless without leases.
      for (const n of c.nodes.values()) if (!prng.chance(0.1)) n.group.tick();
      c.deliver();
    }
    check(c, inv, seed);
    for (const n of c.nodes.values()) {
      for (const rs of n.readStates) {
        const ctx = text.decode(rs.context);
        const floor = reads.get(ctx);
        expect(floor, `SEED=${seed} unknown read ${ctx}`).not.toBe(undefined);
        if (rs.index < floor!) {
          expect(rs.index, `SEED=${seed} n${n.id} stale read ${ctx}`)
            .toBeGreaterThanOrEqual(floor!);
        }
        // (A duplicated ReadIndex or response may serve a context twice: still checked.)
        servedReads++;
      }
      n.readStates = [];
    }
  }
  // Liveness: heal everything; a client retries 'final' until every node applies it.
  c.heal();
  c.filter = null;
  const members = (): TestNode[] => {
    const leader = c.leaders()[0];
    if (leader === undefined) return [...c.nodes.values()];
    const conf = c.node(leader).conf;
    return [...conf.voters, ...conf.learners].map((m) => c.node(m));
  };
  const done = (): boolean => members().every((n) => n.applied.includes('final'));
  for (let attempt = 0; attempt < 10 && !done(); attempt++) {
    const leader = c.tickUntilLeader(300);
    // The caller snapshots now and then: a node added after the last snapshot needs a newer
    // one that includes it (the leader never sends it one it would ignore).
    const n = c.node(leader);
    if (n.appliedIndex > n.storage.snapshot().meta.index) c.compact(leader);
    c.node(leader).group.propose(data('final'));
    c.tickAll(30);
  }
  check(c, inv, seed);
  for (const n of members()) {
    expect(n.applied.includes('final'), `SEED=${seed} n${n.id} did not converge`).toBe(true);
  }
  expect(inv.committed.size, `SEED=${seed}`).toBeGreaterThan(1);
  return { confChanges, servedReads };
}

describe('randomized safety', () => {
  it('[paper 5.2, 5.3, 5.4, thesis 6.4, 10.2.1] election, log and state machine safety, and ' +
    'fresh reads, under loss, reordering, duplication, partitions, compaction, late writes, ' +
    'crashes, transfers and membership changes',
  () => {
    const seeds = [11, 12, 13, 14, 15, 16, 17, 18];
    const fresh = Number(process.env['RAFT_SEED'] ?? 0);
    if (fresh > 0) seeds.push(fresh);
    let confChanges = 0;
    let servedReads = 0;
    for (const seed of seeds) {
      const r = run(seed, 400);
      confChanges += r.confChanges;
      servedReads += r.servedReads;
    }
    expect(confChanges).toBeGreaterThan(0);
    expect(servedReads).toBeGreaterThan(0);
  });
});
