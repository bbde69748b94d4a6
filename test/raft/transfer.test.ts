// Leadership transfer (thesis 3.10): the leader brings the transferee up to date, sends it
// TimeoutNow, and the transferee campaigns at once (bypassing pre-vote and leases).
import { describe, expect, it } from 'vitest';
import { MsgKind, ProposeError, Role } from '../../src/core/raft/types.js';
import { Cluster, confOf, data } from './harness.js';

describe('leader transfer', () => {
  it('[thesis 3.10] an up-to-date follower is told to campaign and becomes leader', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.node(1).group.propose(data('a'));
    c.deliver();
    const term = c.node(1).group.raft.term;
    c.trace = [];
    c.node(1).group.transferLeader(2);
    c.deliver();
    expect(c.traced(MsgKind.TimeoutNow, 1, 2).length).toBe(1);
    expect(c.leaders()).toEqual([2]);
    expect(c.node(2).group.raft.term).toBe(term + 1);
    expect(c.node(1).group.raft.role).toBe(Role.Follower);
    expect(c.node(1).group.raft.lead).toBe(2);
    c.node(2).group.propose(data('b'));
    c.deliver();
    for (const id of [1, 2, 3]) expect(c.node(id).applied).toEqual(['a', 'b']);
  });

  it('[thesis 3.10] a lagging transferee is caught up first; proposals wait meanwhile', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 5; i++) c.node(1).group.propose(data(`e${i}`));
    c.deliver();
    expect(c.node(3).applied).toEqual([]);
    c.heal();
    c.trace = [];
    c.node(1).group.transferLeader(3);
    expect(c.node(1).group.raft.leadTransferee).toBe(3);
    // Thesis 3.10: the old leader stops accepting client requests during the transfer.
    expect(c.node(1).group.propose(data('refused'))).toBe(ProposeError.Transferring);
    c.deliver();
    c.tickAll(2);
    const appsBeforeTimeout = c.trace.findIndex((m) => m.kind === MsgKind.TimeoutNow);
    expect(appsBeforeTimeout).toBeGreaterThan(0);
    expect(c.trace.slice(0, appsBeforeTimeout).some((m) => m.kind === MsgKind.App &&
      m.to === 3 && m.entries.length > 0)).toBe(true);
    expect(c.leaders()).toEqual([3]);
    expect(c.node(3).applied).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    c.node(3).group.propose(data('by3'));
    c.deliver();
    expect(c.node(1).applied.at(-1)).toBe('by3');
  });

  it('[thesis 3.10] a transfer that does not finish within an election timeout is aborted',
    () => {
      const c = new Cluster([1, 2, 3]);
      c.elect(1);
      c.isolate(3);
      c.node(1).group.transferLeader(3);
      expect(c.node(1).group.propose(data('x'))).toBe(ProposeError.Transferring);
      c.tickAll(10);
      expect(c.node(1).group.raft.leadTransferee).toBe(0);
      expect(c.leaders()).toEqual([1]);
      expect(c.node(1).group.propose(data('y'))).toBe(null);
      c.deliver();
      expect(c.node(2).applied).toEqual(['y']);
    });

  it('[thesis 3.10] a follower forwards a transfer request to the leader', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    c.trace = [];
    c.node(2).group.transferLeader(3);
    c.deliver();
    expect(c.traced(MsgKind.TransferLeader, 2, 1).length).toBe(1);
    expect(c.leaders()).toEqual([3]);
  });

  it('[thesis 3.10] transfers to the leader itself, a learner or a stranger are ignored', () => {
    const c = new Cluster([1, 2, 3], {}, confOf([1, 2, 3], [4]));
    c.add(4, {}, confOf([1, 2, 3], [4]));
    c.elect(1);
    for (const to of [1, 4, 9]) {
      c.node(1).group.transferLeader(to);
      expect(c.node(1).group.raft.leadTransferee).toBe(0);
    }
    c.deliver();
    expect(c.leaders()).toEqual([1]);
  });

  it('[thesis 3.10, 9.6] TimeoutNow skips pre-vote and is not blocked by followers\' ' +
    'check-quorum leases', () => {
    const c = new Cluster([1, 2, 3], { preVote: true, checkQuorum: true });
    const leader = c.tickUntilLeader();
    const to = leader === 1 ? 2 : 1;
    c.trace = [];
    c.node(leader).group.transferLeader(to);
    c.deliver();
    expect(c.traced(MsgKind.PreVote, to).length).toBe(0);
    expect(c.traced(MsgKind.Vote, to).length).toBe(2);
    expect(c.leaders()).toEqual([to]);
  });
});
