// Lazy commit broadcast (RaftConfig.lazyCommitBroadcast, what partitions run): a commit advance
// is not sent on its own; followers learn it with the next append or heartbeat. Conf changes,
// a new leader's no-op and a removed leader still tell followers at once.
import { describe, expect, it } from 'vitest';
import { type ConfChange, ConfChangeKind, MsgKind, Role } from '../../src/core/raft/types.js';
import { Cluster, data } from './harness.js';

const lazy = { lazyCommitBroadcast: true };
const change = (kind: 0 | 1 | 2, node: number): ConfChange =>
  ({ changes: [{ kind, node }], leaveJoint: false });

/** A 3-node cluster led by 1 whose followers know the no-op's commit. */
function steady(over = lazy): Cluster {
  const c = new Cluster([1, 2, 3], over);
  c.elect(1);
  c.tickAll(1);
  c.trace = [];
  return c;
}

describe('lazy commit broadcast', () => {
  it('a write costs one append and one ack per follower; followers apply at the heartbeat',
    () => {
      const c = steady();
      c.node(1).group.propose(data('a'));
      c.deliver();
      expect(c.node(1).applied).toEqual(['a']);
      for (const id of [2, 3]) {
        expect(c.traced(MsgKind.App, 1, id).length, `appends to n${id}`).toBe(1);
        expect(c.traced(MsgKind.AppResp, id, 1).length, `acks from n${id}`).toBe(1);
        expect(c.node(id).applied, `n${id} before the heartbeat`).toEqual([]);
      }
      c.tickAll(1);
      for (const id of [2, 3]) expect(c.node(id).applied, `n${id}`).toEqual(['a']);
    });

  it('eager mode (the default) sends a commit-only append per follower as well', () => {
    const c = steady({ lazyCommitBroadcast: false });
    c.node(1).group.propose(data('a'));
    c.deliver();
    for (const id of [2, 3]) {
      expect(c.traced(MsgKind.App, 1, id).length, `appends to n${id}`).toBe(2);
      expect(c.node(id).applied, `n${id}`).toEqual(['a']);
    }
  });

  it('the next append carries the previous commit', () => {
    const c = steady();
    c.node(1).group.propose(data('a'));
    c.deliver();
    c.node(1).group.propose(data('b'));
    c.deliver();
    for (const id of [2, 3]) expect(c.node(id).applied, `n${id}`).toEqual(['a']);
    c.tickAll(1);
    for (const id of [2, 3]) expect(c.node(id).applied, `n${id}`).toEqual(['a', 'b']);
  });

  it("a new leader's no-op commit reaches followers at once: they apply the old terms", () => {
    const c = steady();
    c.node(1).group.propose(data('a'));
    c.deliver();
    c.node(1).group.transferLeader(2);
    c.deliver();
    expect(c.leaders()).toEqual([2]);
    for (const id of [1, 2, 3]) expect(c.node(id).applied, `n${id}`).toEqual(['a']);
  });

  it('a committed conf change reaches followers without waiting for a heartbeat', () => {
    const c = steady();
    c.add(4, lazy, c.node(1).conf);
    expect(c.node(1).group.proposeConfChange(change(ConfChangeKind.AddLearner, 4))).toBe(null);
    c.deliver();
    for (const id of [1, 2, 3, 4]) expect(c.node(id).conf.learners, `n${id}`).toEqual([4]);
    expect(c.node(1).group.proposeConfChange(change(ConfChangeKind.AddVoter, 4))).toBe(null);
    c.deliver();
    for (const id of [1, 2, 3, 4]) expect(c.node(id).conf.voters, `n${id}`).toEqual([1, 2, 3, 4]);
  });

  it('a leader that removes itself steps down and the rest elect a leader', () => {
    const c = steady();
    c.node(1).group.propose(data('a'));
    c.deliver();
    c.node(1).group.proposeConfChange(change(ConfChangeKind.Remove, 1));
    c.deliver();
    expect(c.node(1).group.raft.role).toBe(Role.Follower);
    for (const id of [2, 3]) expect(c.node(id).conf.voters, `n${id}`).toEqual([2, 3]);
    c.isolate(1);
    const leader = c.tickUntilLeader();
    expect([2, 3]).toContain(leader);
    c.node(leader).group.propose(data('b'));
    c.deliver();
    c.tickAll(1);
    for (const id of [2, 3]) expect(c.node(id).applied, `n${id}`).toEqual(['a', 'b']);
  });

  it('a follower that missed the commit learns it from the heartbeat after a partition', () => {
    const c = steady();
    c.isolate(3);
    for (const s of ['a', 'b']) c.node(1).group.propose(data(s));
    c.deliver();
    c.heal();
    c.tickAll(2);
    expect(c.node(3).applied).toEqual(['a', 'b']);
  });
});
