// Partitions (paper 5.3, 5.4; thesis 6.2 check-quorum, 9.6 pre-vote): a leader that lost its
// quorum steps down, a stale leader rejoining is demoted and its uncommitted tail discarded,
// and with pre-vote a node coming back from a partition does not disrupt the cluster.
import { describe, expect, it } from 'vitest';
import { MsgKind, Role } from '../../src/core/raft/types.js';
import { Cluster, data } from './harness.js';

const electionTicks = 10;

describe('check-quorum', () => {
  it('[thesis 6.2] a leader that cannot hear from a quorum steps down within two election ' +
    'timeouts', () => {
    const c = new Cluster([1, 2, 3], { checkQuorum: true });
    c.elect(1);
    c.isolate(1);
    c.tick(1, electionTicks); // one timeout: followers were active in the last round
    expect(c.node(1).group.raft.role).toBe(Role.Leader);
    c.tick(1, electionTicks); // a full timeout without hearing anyone
    expect(c.node(1).group.raft.role).toBe(Role.Follower);
    expect(c.node(1).group.raft.lead).toBe(0);
  });

  it('[thesis 6.2] without check-quorum an isolated leader believes it leads forever', () => {
    const c = new Cluster([1, 2, 3], { checkQuorum: false });
    c.elect(1);
    c.isolate(1);
    c.tick(1, electionTicks * 5);
    expect(c.node(1).group.raft.role).toBe(Role.Leader);
  });

  it('[thesis 6.2] a leader hearing from one follower of two keeps leading', () => {
    const c = new Cluster([1, 2, 3], { checkQuorum: true });
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < electionTicks * 5; i++) {
      c.tick(1);
      c.tick(2);
      c.deliver();
    }
    expect(c.node(1).group.raft.role).toBe(Role.Leader);
  });

  it('[thesis 6.2, 4.2.3] with check-quorum a follower in touch with its leader ignores ' +
    'a disruptive vote request', () => {
    const c = new Cluster([1, 2, 3], { checkQuorum: true });
    c.tickAll(electionTicks); // lease mode off; let ticks pass
    const leader = c.tickUntilLeader();
    const term = c.node(leader).group.raft.term;
    const other = [1, 2, 3].find((id) => id !== leader)!;
    const rogue = [1, 2, 3].find((id) => id !== leader && id !== other)!;
    // Rogue's vote request in a higher term reaches `other` only (it cannot reach the leader).
    c.cut.add(`${rogue}-${leader}`).add(`${leader}-${rogue}`);
    c.node(rogue).group.campaign();
    c.deliver();
    expect(c.node(other).group.raft.term).toBe(term); // the request was ignored
    expect(c.node(leader).group.raft.role).toBe(Role.Leader);
    expect(c.node(rogue).group.raft.role).toBe(Role.Candidate);
  });
});

describe('a partitioned old leader rejoining', () => {
  it('[paper 5.3, 5.4] it steps down and its uncommitted entries are overwritten', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).group.propose(data('committed'));
    c.deliver();
    c.isolate(1);
    expect(c.node(1).group.propose(data('lost1'))).toBe(null);
    expect(c.node(1).group.propose(data('lost2'))).toBe(null);
    c.deliver();
    const oldTerm = c.node(1).group.raft.term;
    // The majority side elects a new leader and commits new entries at the same indexes.
    c.electEventually(2);
    c.node(2).group.propose(data('new'));
    c.deliver();
    expect(c.node(3).applied).toEqual(['committed', 'new']);
    expect(c.node(1).group.raft.role).toBe(Role.Leader); // still believes it leads
    c.heal();
    c.tickAll(3);
    const old = c.node(1);
    expect(old.group.raft.role).toBe(Role.Follower);
    expect(old.group.raft.term).toBeGreaterThan(oldTerm);
    expect(old.group.raft.lead).toBe(2);
    expect(old.applied).toEqual(['committed', 'new']);
    const text = new TextDecoder();
    const held: string[] = [];
    for (let i = old.storage.firstIndex(); i <= old.storage.lastIndex(); i++) {
      held.push(text.decode(old.storage.entries(i, i + 1, Infinity)[0]!.data));
    }
    expect(held.filter((s) => s.startsWith('lost'))).toEqual([]);
  });

  it('[thesis 9.6] with check-quorum and pre-vote the stale leader steps down when it hears ' +
    'the higher term (the followers answer its appends)', () => {
    const c = new Cluster([1, 2, 3], { checkQuorum: true, preVote: true });
    const first = c.tickUntilLeader();
    c.isolate(first);
    c.node(first).group.propose(data('lost'));
    c.deliver();
    // Tick only the majority: the old leader's clock stands still (a paused process).
    const rest = [1, 2, 3].filter((id) => id !== first);
    let second = 0;
    for (let i = 0; i < 100 && second === 0; i++) {
      for (const id of rest) c.tick(id);
      c.deliver();
      second = rest.find((id) => c.node(id).group.raft.role === Role.Leader) ?? 0;
    }
    expect(second).not.toBe(0);
    c.node(second).group.propose(data('new'));
    c.deliver();
    expect(c.node(first).group.raft.role).toBe(Role.Leader);
    c.heal();
    c.trace = [];
    c.tick(first); // its heartbeat carries the old term; the reply teaches it the new one
    c.deliver();
    expect(c.node(first).group.raft.role).toBe(Role.Follower);
    c.tickAll(3);
    expect(c.leaders()).toEqual([second]);
    expect(c.node(first).applied).toEqual(['new']);
  });

  it('[thesis 9.6] with pre-vote a node back from a partition does not disrupt the leader', () => {
    const c = new Cluster([1, 2, 3], { preVote: true, checkQuorum: true });
    const leader = c.tickUntilLeader();
    const term = c.node(leader).group.raft.term;
    const lone = [1, 2, 3].find((id) => id !== leader)!;
    c.isolate(lone);
    c.tickAll(electionTicks * 6);
    // Its pre-votes failed: its term did not move, so it cannot force a new election.
    expect(c.node(lone).group.raft.term).toBe(term);
    expect(c.traced(MsgKind.Vote, lone).length).toBe(0);
    c.heal();
    c.trace = [];
    c.tickAll(electionTicks * 3);
    expect(c.leaders()).toEqual([leader]);
    for (const n of c.nodes.values()) expect(n.group.raft.term).toBe(term);
    expect(c.node(lone).group.raft.lead).toBe(leader);
    c.node(leader).group.propose(data('after'));
    c.deliver();
    expect(c.node(lone).applied).toEqual(['after']);
  });

  it('[thesis 9.6] without pre-vote the same node bumps its term and deposes the leader', () => {
    const c = new Cluster([1, 2, 3], { preVote: false, checkQuorum: false });
    c.elect(1);
    const term = c.node(1).group.raft.term;
    c.isolate(3);
    c.tickAll(electionTicks * 6);
    expect(c.node(3).group.raft.term).toBeGreaterThan(term + 1);
    c.heal();
    c.tickAll(electionTicks * 3);
    expect(c.node(1).group.raft.term).toBeGreaterThan(term + 1); // an election was forced
    expect(c.leaders().length).toBe(1);
  });
});
