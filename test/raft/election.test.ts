// Elections (paper 5.2, 5.4.1; thesis 3.4, 3.6, 3.8, 9.6): who may win, votes are persisted
// before they are announced, and a candidate counts itself only once its vote is durable.
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/core/raft/memory-storage.js';
import { makeMessage } from '../../src/core/raft/message.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { RaftGroup } from '../../src/core/raft/raft-group.js';
import { MsgKind, type Ready, Role } from '../../src/core/raft/types.js';
import { Cluster, confOf, data, raftConfig } from './harness.js';

/** Persists a Ready into `storage` the way a caller must (types.ts Ready contract). */
function persist(g: RaftGroup, storage: MemoryStorage, rd: Ready): void {
  if (rd.snapshot !== null) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState !== null) storage.setHardState(rd.hardState);
  g.onPersisted(rd.number);
}

function voteRequest(from: number, to: number, term: number, index = 0, logTerm = 0) {
  return makeMessage({ kind: MsgKind.Vote, group: 1, from, to, term, index, logTerm });
}

describe('election', () => {
  it('[paper 5.2] a follower times out, campaigns in a new term and wins a majority', () => {
    const c = new Cluster([1, 2, 3]);
    const leader = c.tickUntilLeader();
    const term = c.node(leader).group.raft.term;
    expect(term).toBeGreaterThanOrEqual(1);
    for (const n of c.nodes.values()) {
      expect(n.group.raft.term).toBe(term);
      expect(n.group.raft.lead).toBe(leader);
    }
    expect(c.leaders()).toEqual([leader]);
  });

  it('[paper 5.2] election timeouts are randomized in [electionTicks, 2*electionTicks)', () => {
    const c = new Cluster([1, 2, 3, 4, 5]);
    const timeouts = [...c.nodes.values()].map((n) => n.group.raft.randomizedElectionTimeout);
    for (const t of timeouts) {
      expect(t).toBeGreaterThanOrEqual(10);
      expect(t).toBeLessThan(20);
    }
    expect(new Set(timeouts).size).toBeGreaterThan(1);
  });

  it('[paper 5.2] a node grants at most one vote per term', () => {
    const c = new Cluster([1, 2, 3]);
    const g = c.node(1).group;
    g.step(voteRequest(2, 1, 5));
    g.step(voteRequest(3, 1, 5));
    const rd = g.ready();
    const resps = rd.messagesAfterPersist.filter((m) => m.kind === MsgKind.VoteResp);
    expect(resps.map((m) => [m.to, m.reject])).toEqual([[2, false], [3, true]]);
    expect(rd.hardState?.vote).toBe(2);
    // The same candidate asking again (a retry) is granted again.
    g.onPersisted(rd.number);
    g.step(voteRequest(2, 1, 5));
    expect(g.ready().messagesAfterPersist.map((m) => m.reject)).toEqual([false]);
  });

  it('[paper 5.2] a restarted node remembers its vote (the hard state is persisted)', () => {
    const c = new Cluster([1, 2, 3]);
    c.node(2).group.step(voteRequest(1, 2, 4));
    c.settle();
    expect(c.node(2).storage.hardStateNow()).toEqual({ term: 4, vote: 1, commit: 0 });
    const g = c.restart(2).group;
    expect(g.raft.term).toBe(4);
    expect(g.raft.vote).toBe(1);
    g.step(voteRequest(3, 2, 4));
    expect(g.ready().messagesAfterPersist.map((m) => [m.to, m.reject])).toEqual([[3, true]]);
  });

  it('[paper 5.4.1] a candidate whose log is behind a majority cannot win', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    c.node(1).group.propose(data('a'));
    c.deliver();
    expect(c.node(2).applied).toEqual(['a']);
    c.heal();
    // Node 3 missed 'a': nodes 1 and 2 refuse it, though its term is the newest.
    c.node(3).group.campaign();
    c.deliver();
    const votes = c.traced(MsgKind.VoteResp, undefined, 3);
    expect(votes.length).toBe(2);
    expect(votes.every((m) => m.reject)).toBe(true);
    expect(c.node(3).group.raft.role).toBe(Role.Follower);
    // An up-to-date node then wins the next term, and 'a' survives.
    const leader = c.tickUntilLeader();
    expect(leader).not.toBe(3);
    c.node(leader).group.propose(data('b'));
    c.deliver();
    for (const id of [1, 2, 3]) expect(c.node(id).applied).toEqual(['a', 'b']);
  });

  it('[paper 5.2] a candidate that hears from a leader of its term steps down', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    const term = c.node(1).group.raft.term;
    c.isolate(3);
    c.node(3).group.campaign(); // term + 1, nobody hears it
    c.settle();
    c.queue = [];
    expect(c.node(3).group.raft.role).toBe(Role.Candidate);
    c.node(3).group.step(makeMessage({ kind: MsgKind.App, group: 1, from: 2, to: 3,
      term: term + 1, index: 0, logTerm: 0 }));
    expect(c.node(3).group.raft.role).toBe(Role.Follower);
    expect(c.node(3).group.raft.lead).toBe(2);
  });

  it('[paper 5.2] election safety: at most one leader per term under random message loss',
    () => {
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const prng = new SeededPrng(seed);
        const c = new Cluster([1, 2, 3, 4, 5]);
        const leaderOf = new Map<number, number>();
        c.filter = () => !prng.chance(0.3);
        c.onStep = () => {
          for (const n of c.nodes.values()) {
            if (n.group.raft.role !== Role.Leader) continue;
            const seen = leaderOf.get(n.group.raft.term);
            expect(seen ?? n.id, `SEED=${seed} two leaders`).toBe(n.id);
            leaderOf.set(n.group.raft.term, n.id);
          }
        };
        for (let i = 0; i < 200; i++) {
          c.tickAll();
          if (i % 37 === 0) {
            const leader = c.leaders()[0];
            if (leader !== undefined) c.node(leader).group.propose(data(`v${i}`));
          }
        }
        expect(leaderOf.size, `SEED=${seed}`).toBeGreaterThan(0);
      }
    });
});

describe('votes are persisted before they are sent', () => {
  it('[paper 5.2, thesis 3.8] a VoteResp appears only in messagesAfterPersist', () => {
    const c = new Cluster([1, 2, 3]);
    const g = c.node(2).group;
    g.step(voteRequest(1, 2, 1));
    const rd = g.ready();
    expect(rd.messages.filter((m) => m.kind === MsgKind.VoteResp)).toEqual([]);
    expect(rd.messagesAfterPersist.map((m) => [m.kind, m.to, m.term, m.reject]))
      .toEqual([[MsgKind.VoteResp, 1, 1, false]]);
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    expect(rd.mustSync).toBe(true);
  });

  it('[paper 5.3] an append ack (AppResp) is also sent only after persistence', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).group.propose(data('x'));
    c.settle();
    const app = c.queue.find((m) => m.kind === MsgKind.App && m.to === 2)!;
    expect(app.entries.length).toBe(1);
    c.queue = [];
    const g = c.node(2).group;
    g.step(app);
    const rd = g.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([app.index + 1]);
    expect(rd.messages.filter((m) => m.kind === MsgKind.AppResp)).toEqual([]);
    expect(rd.messagesAfterPersist.map((m) => [m.kind, m.index]))
      .toEqual([[MsgKind.AppResp, app.index + 1]]);
  });

  it('[thesis 3.8] a lone candidate becomes leader only once its own vote is persisted', () => {
    const storage = new MemoryStorage(confOf([1]));
    const g = new RaftGroup(raftConfig(1), storage, new SeededPrng(1));
    g.campaign();
    expect(g.raft.role).toBe(Role.Candidate);
    const rd = g.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    expect(g.raft.role).toBe(Role.Candidate); // handed out, not yet durable
    persist(g, storage, rd);
    expect(g.raft.role).toBe(Role.Leader);
  });

  it('[thesis 3.8] a candidate with one peer vote still waits for its own vote to persist',
    () => {
      const stores = [1, 2, 3].map(() => new MemoryStorage(confOf([1, 2, 3])));
      const groups = [1, 2, 3].map((id) =>
        new RaftGroup(raftConfig(id), stores[id - 1]!, new SeededPrng(id)));
      const [g1, g2] = [groups[0]!, groups[1]!];
      g1.campaign();
      const rd1 = g1.ready();
      // Vote requests go out at once, in parallel with the candidate's own write.
      const req = rd1.messages.find((m) => m.kind === MsgKind.Vote && m.to === 2)!;
      expect(req.term).toBe(1);
      g2.step(req);
      const rd2 = g2.ready();
      persist(g2, stores[1]!, rd2);
      const resp = rd2.messagesAfterPersist.find((m) => m.kind === MsgKind.VoteResp)!;
      expect(resp.reject).toBe(false);
      g1.step(resp);
      expect(g1.raft.role).toBe(Role.Candidate); // 1 of 3 counted: its own is not durable
      persist(g1, stores[0]!, rd1);
      expect(g1.raft.role).toBe(Role.Leader);
    });
});
