// Linearizable reads without log writes (thesis 6.4 ReadIndex, 6.4.1 leases): a read state's
// index is the leader's commit index once leadership is confirmed by a heartbeat quorum.
import { describe, expect, it } from 'vitest';
import { MsgKind, Role } from '../../src/core/raft/types.js';
import { Cluster, data } from './harness.js';

const ctx = (s: string): Uint8Array => new TextEncoder().encode(s);
const ctxText = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('ReadIndex (safe)', () => {
  it('[thesis 6.4] a leader read is answered at the commit index after a heartbeat round',
    () => {
      const c = new Cluster([1, 2, 3]);
      c.elect(1);
      c.node(1).group.propose(data('a'));
      c.deliver();
      const g = c.node(1).group;
      const commit = g.raft.log.committed;
      g.readIndex(ctx('r1'));
      const rd = g.ready();
      expect(rd.readStates).toEqual([]); // not before leadership is confirmed
      const beats = rd.messages.filter((m) => m.kind === MsgKind.Heartbeat);
      expect(beats.map((m) => m.to).sort()).toEqual([2, 3]);
      for (const m of beats) expect(ctxText(m.context!)).toBe('r1');
      c.queue.push(...rd.messages);
      g.onPersisted(rd.number);
      c.deliver();
      expect(c.node(1).readStates.map((rs) => [rs.index, ctxText(rs.context)]))
        .toEqual([[commit, 'r1']]);
      expect(c.node(1).appliedIndex).toBeGreaterThanOrEqual(commit);
    });

  it('[thesis 6.4] one quorum of acks releases every read queued before it, in order', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    // Hold the heartbeat acks for r1 so r2 and r3 queue behind it.
    c.filter = (m) => m.kind !== MsgKind.HeartbeatResp || ctxText(m.context!) === 'r3';
    c.node(1).group.readIndex(ctx('r1'));
    c.node(1).group.readIndex(ctx('r2'));
    c.deliver();
    expect(c.node(1).readStates).toEqual([]);
    c.node(1).group.readIndex(ctx('r3'));
    c.deliver();
    expect(c.node(1).readStates.map((rs) => ctxText(rs.context))).toEqual(['r1', 'r2', 'r3']);
  });

  it('[thesis 6.4] a new leader parks reads until its no-op of the current term commits', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).group.propose(data('a'));
    c.deliver();
    // Node 2 wins a new term, but hears no append acks yet: its no-op is not committed.
    c.filter = (m) => !(m.kind === MsgKind.AppResp && m.to === 2);
    c.electEventually(2);
    const g = c.node(2).group;
    expect(g.raft.committedEntryInCurrentTerm()).toBe(false);
    c.trace = [];
    g.readIndex(ctx('early'));
    c.deliver();
    expect(g.raft.pendingReadIndexMessages.length).toBe(1);
    expect(c.node(2).readStates).toEqual([]);
    expect(c.traced(MsgKind.Heartbeat, 2).filter((m) => m.context !== null)).toEqual([]);
    c.filter = null;
    c.tickAll(2);
    const noop = g.raft.log.lastIndex();
    expect(g.raft.log.term(noop)).toBe(g.raft.term);
    expect(c.node(2).readStates.map((rs) => [rs.index, ctxText(rs.context)]))
      .toEqual([[noop, 'early']]);
    expect(g.raft.pendingReadIndexMessages).toEqual([]);
  });

  it('[thesis 6.4] a follower\'s read goes through the leader and returns its commit index',
    () => {
      const c = new Cluster([1, 2, 3]);
      c.elect(1);
      c.isolate(3);
      c.node(1).group.propose(data('a'));
      c.deliver();
      c.heal();
      c.cut.add('1-3'); // node 3 knows the leader but lags: the index must be the leader's
      c.trace = [];
      const leaderCommit = c.node(1).group.raft.log.committed;
      expect(c.node(3).group.raft.log.committed).toBeLessThan(leaderCommit);
      c.node(3).group.readIndex(ctx('f'));
      c.deliver();
      expect(c.traced(MsgKind.ReadIndex, 3, 1).length).toBe(1);
      // The response is cut too (1-3): heal and let the leader answer the retried read.
      expect(c.node(3).readStates).toEqual([]);
      c.heal();
      c.node(3).group.readIndex(ctx('f2'));
      c.deliver();
      expect(c.traced(MsgKind.ReadIndexResp, 1, 3).length).toBe(1);
      expect(c.node(3).readStates.map((rs) => [rs.index, ctxText(rs.context)]))
        .toEqual([[leaderCommit, 'f2']]);
      c.tickAll(2);
      expect(c.node(3).appliedIndex).toBeGreaterThanOrEqual(leaderCommit);
    });

  it('[thesis 6.4] a read with no known leader is dropped (the caller retries)', () => {
    const c = new Cluster([1, 2, 3]);
    c.node(2).group.readIndex(ctx('x'));
    c.deliver();
    expect(c.trace).toEqual([]);
    expect(c.node(2).readStates).toEqual([]);
  });

  it('[thesis 6.4] a stale leader cut off from the majority cannot answer a read', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.isolate(1);
    c.electEventually(2);
    c.node(2).group.propose(data('newer'));
    c.deliver();
    expect(c.node(1).group.raft.role).toBe(Role.Leader);
    c.node(1).group.readIndex(ctx('stale'));
    c.tickAll(3);
    expect(c.node(1).readStates).toEqual([]);
  });

  it('[thesis 6.4] a single voter answers reads at once', () => {
    const c = new Cluster([1]);
    c.elect(1);
    c.node(1).group.readIndex(ctx('solo'));
    const rd = c.node(1).group.ready();
    expect(rd.readStates.map((rs) => [rs.index, ctxText(rs.context)]))
      .toEqual([[c.node(1).group.raft.log.committed, 'solo']]);
  });
});

describe('lease reads', () => {
  const lease = { readOnly: 'lease', checkQuorum: true, leaseDriftTicks: 2 } as const;

  /** A leader with an established lease (one read confirmed by a heartbeat round). */
  function leased(): { c: Cluster; leader: number } {
    const c = new Cluster([1, 2, 3], lease);
    const leader = c.tickUntilLeader();
    c.node(leader).group.propose(data('a'));
    c.deliver();
    c.node(leader).group.readIndex(ctx('first'));
    c.deliver();
    expect(c.node(leader).readStates.map((rs) => ctxText(rs.context))).toEqual(['first']);
    return { c, leader };
  }

  it('[thesis 6.4.1] inside the lease a read is answered without a heartbeat round', () => {
    const { c, leader } = leased();
    const g = c.node(leader).group;
    g.readIndex(ctx('fast'));
    const rd = g.ready();
    expect(rd.readStates.map((rs) => [rs.index, ctxText(rs.context)]))
      .toEqual([[g.raft.log.committed, 'fast']]);
    expect(rd.messages.filter((m) => m.kind === MsgKind.Heartbeat)).toEqual([]);
  });

  it('[thesis 6.4.1] after the lease runs out (electionTicks - drift) reads need a round again',
    () => {
      const { c, leader } = leased();
      c.tickAll(8); // 10 election ticks less 2 of drift
      const g = c.node(leader).group;
      expect(g.raft.role).toBe(Role.Leader);
      g.readIndex(ctx('late'));
      const rd = g.ready();
      expect(rd.readStates).toEqual([]);
      expect(rd.messages.some((m) => m.kind === MsgKind.Heartbeat &&
        ctxText(m.context!) === 'late')).toBe(true);
    });

  it('[thesis 6.4.1, 3.10] after a transfer attempt the lease is void: reads take a round',
    () => {
      const { c, leader } = leased();
      const to = [1, 2, 3].find((id) => id !== leader)!;
      c.isolate(to); // the transfer cannot complete
      c.node(leader).group.transferLeader(to);
      c.deliver();
      const g = c.node(leader).group;
      expect(g.raft.role).toBe(Role.Leader);
      g.readIndex(ctx('after-transfer'));
      const rd = g.ready();
      expect(rd.readStates).toEqual([]);
      expect(rd.messages.some((m) => m.kind === MsgKind.Heartbeat &&
        ctxText(m.context!) === 'after-transfer')).toBe(true);
      c.queue.push(...rd.messages);
      g.onPersisted(rd.number);
      c.deliver(); // the third node confirms: still answered, with a round
      expect(c.node(leader).readStates.map((rs) => ctxText(rs.context)).at(-1))
        .toBe('after-transfer');
    });

  /** Isolates the leased leader, then ticks: each node ticks unless `skips(id, round)`.
   *  Returns the rounds in which another leader existed while the old one's lease held. */
  function overlapAfterIsolation(drift: number, skips: (id: number, round: number) => boolean):
    number[] {
    const c = new Cluster([1, 2, 3], { ...lease, leaseDriftTicks: drift });
    const leader = c.tickUntilLeader();
    c.node(leader).group.propose(data('a'));
    c.deliver();
    c.node(leader).group.readIndex(ctx('renew'));
    c.deliver();
    expect(c.node(leader).group.raft.leaseValid()).toBe(true);
    c.isolate(leader);
    const overlap: number[] = [];
    let otherLeader = false;
    for (let round = 0; round < 60; round++) {
      for (const n of c.nodes.values()) {
        if (!skips(n.id === leader ? 0 : n.id, round)) n.group.tick(); // 0: the old leader
      }
      c.deliver();
      otherLeader ||= c.leaders().some((id) => id !== leader);
      if (otherLeader && c.node(leader).group.raft.leaseValid()) overlap.push(round);
    }
    expect(otherLeader).toBe(true);
    return overlap;
  }

  it('[thesis 6.4.1] an isolated leader\'s lease ends before anyone else can be elected, ' +
    'with clocks drifting within leaseDriftTicks', () => {
    expect(overlapAfterIsolation(0, () => false)).toEqual([]);
    // The old leader's clock is slow by one tick in every ten; drift allowance 2.
    expect(overlapAfterIsolation(2, (id, round) => id === 0 && round % 10 === 3)).toEqual([]);
  });

  it('[thesis 6.4.1] the lease relies on the drift bound: a leader whose clock runs at half ' +
    'speed, with no drift allowance, still trusts its lease under a new leader', () => {
    expect(overlapAfterIsolation(0, (id, round) => id === 0 && round % 2 === 1).length)
      .toBeGreaterThan(0);
  });

  it('[thesis 6.4.1] a node in lease mode ignores votes during its first election timeout',
    () => {
      const c = new Cluster([1, 2, 3], lease);
      c.node(1).group.campaign();
      c.deliver();
      expect(c.node(1).group.raft.role).not.toBe(Role.Leader);
      expect(c.traced(MsgKind.VoteResp, undefined, 1)).toEqual([]);
    });
});
