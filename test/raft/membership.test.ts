// Membership changes (thesis 4.1-4.3): learners catch up without voting, single-step voter
// changes, joint consensus with automatic leave, and the changes that are refused.
import { describe, expect, it } from 'vitest';
import {
  type ConfChange, ConfChangeKind, EntryKind, type Message, MsgKind, ProposeError,
  type RaftConfig, Role,
} from '../../src/core/raft/types.js';
import { Cluster, confOf, data } from './harness.js';

const { AddVoter, AddLearner, Remove } = ConfChangeKind;
const change = (...changes: [kind: number, node: number][]): ConfChange => ({
  changes: changes.map(([kind, node]) => ({ kind: kind as 0 | 1 | 2, node })),
  leaveJoint: false,
});

/** Cluster 1,2,3 led by 1, plus new nodes `extra` with empty logs, and some committed entries.
 *  A new node starts from the group's genesis configuration (the bootstrap ConfState of the
 *  index-0 snapshot): replaying the log's conf changes onto it yields the leader's config. */
function grown(extra: number[], over: Partial<RaftConfig> = {}): Cluster {
  const c = new Cluster([1, 2, 3], over);
  for (const id of extra) c.add(id, over, confOf([1, 2, 3]));
  c.elect(1);
  for (const s of ['a', 'b', 'c']) c.node(1).group.propose(data(s));
  c.deliver();
  return c;
}

describe('membership', () => {
  it('[thesis 4.2.1] a new learner catches up on the whole log and does not vote', () => {
    const c = grown([4]);
    expect(c.node(1).group.proposeConfChange(change([AddLearner, 4]))).toBe(null);
    c.deliver();
    c.tickAll(2);
    for (const id of [1, 2, 3, 4]) {
      expect(c.node(id).conf.learners, `n${id}`).toEqual([4]);
      expect(c.node(id).conf.voters, `n${id}`).toEqual([1, 2, 3]);
    }
    expect(c.node(4).applied).toEqual(['a', 'b', 'c']);
    expect(c.node(4).group.raft.isLearner).toBe(true);
    // It never campaigns, and it does not count towards a commit quorum.
    c.isolate(1);
    c.tick(4, 100);
    expect(c.node(4).group.raft.role).toBe(Role.Follower);
    c.heal();
    c.isolate(2);
    c.isolate(3);
    c.node(1).group.propose(data('no-quorum'));
    c.deliver();
    expect(c.node(4).group.raft.log.lastIndex()).toBe(c.node(1).group.raft.log.lastIndex());
    expect(c.node(1).applied).toEqual(['a', 'b', 'c']); // 1 + learner is not a majority
  });

  it('[thesis 4.2.1, paper 7] a new node with no configuration at all joins by snapshot, ' +
    'which carries the configuration', () => {
    const c = grown([]);
    const fresh = c.add(4, {}, confOf([]));
    c.cut.add('1-4'); // the learner is reached only once the leader has compacted
    c.node(1).group.proposeConfChange(change([AddLearner, 4]));
    c.deliver();
    expect(c.node(1).conf.learners).toEqual([4]);
    const snapIndex = c.compact(1);
    c.heal();
    c.trace = [];
    c.tickAll(3);
    expect(c.traced(MsgKind.Snap, 1, 4).length).toBe(1);
    expect(fresh.storage.snapshot().meta.index).toBe(snapIndex);
    expect(c.node(4).conf).toEqual(c.node(1).conf);
    expect(c.node(4).group.raft.isLearner).toBe(true);
    expect(c.node(4).applied).toEqual(['a', 'b', 'c']);
  });

  it('[thesis 4.2.1, 4.1] a caught-up learner is promoted to voter in a single step', () => {
    const c = grown([4]);
    c.node(1).group.proposeConfChange(change([AddLearner, 4]));
    c.deliver();
    expect(c.node(1).group.proposeConfChange(change([AddVoter, 4]))).toBe(null);
    c.deliver();
    for (const id of [1, 2, 3, 4]) {
      expect(c.node(id).conf.voters, `n${id}`).toEqual([1, 2, 3, 4]);
      expect(c.node(id).conf.learners, `n${id}`).toEqual([]);
    }
    expect(c.node(4).group.raft.isLearner).toBe(false);
    // Four voters: a quorum is three. Leader plus one is not enough any more.
    c.isolate(3);
    c.isolate(4);
    c.node(1).group.propose(data('x'));
    c.deliver();
    expect(c.node(1).applied).toEqual(['a', 'b', 'c']);
    c.heal();
    c.tickAll(2);
    for (const id of [1, 2, 3, 4]) expect(c.node(id).applied).toEqual(['a', 'b', 'c', 'x']);
    // The new voter can lead.
    c.node(1).group.transferLeader(4);
    c.deliver();
    expect(c.leaders()).toEqual([4]);
  });

  it('[thesis 4.1] removing a voter: the rest commit without it, and it stays quiet', () => {
    const c = grown([]);
    expect(c.node(1).group.proposeConfChange(change([Remove, 3]))).toBe(null);
    c.deliver();
    expect(c.node(1).conf.voters).toEqual([1, 2]);
    const term = c.node(1).group.raft.term;
    c.isolate(3);
    c.node(1).group.propose(data('d'));
    c.deliver();
    expect(c.node(2).applied).toEqual(['a', 'b', 'c', 'd']);
    c.heal();
    c.tick(3, 100); // the removed node is not promotable: it does not campaign
    c.tickAll(20);
    expect(c.leaders()).toEqual([1]);
    expect(c.node(1).group.raft.term).toBe(term);
  });

  it('[thesis 4.2.2] a leader that removes itself steps down once the change applies', () => {
    const c = grown([]);
    c.node(1).group.proposeConfChange(change([Remove, 1]));
    c.deliver();
    expect(c.node(1).group.raft.role).toBe(Role.Follower);
    for (const id of [2, 3]) expect(c.node(id).conf.voters).toEqual([2, 3]);
    c.node(1).group.tick(); // no longer a member: it never campaigns
    const leader = c.tickUntilLeader();
    expect([2, 3]).toContain(leader);
    c.node(leader).group.propose(data('d'));
    c.deliver();
    expect(c.node(leader === 2 ? 3 : 2).applied).toEqual(['a', 'b', 'c', 'd']);
  });

  it('[thesis 4.2.2] a removed leader with a longer log keeps leading until its log is ' +
    'committed in the new config (else the last voter could never be elected)', () => {
    // Two voters; leader 3 removes itself and appends 'x'. Node 1 receives the removal but
    // neither 'x' nor the news that the removal committed: it still counts 3 as a voter, and
    // 3 would refuse it a vote (3's log is longer) once 3 stepped down.
    const c = new Cluster([1, 3], { msgBytesMax: 1 });
    c.elect(3);
    c.node(3).group.propose(data('a'));
    c.deliver();
    const hasX = (m: Message): boolean => m.entries.some((e) => e.data.length === 1 &&
      e.data[0] === 0x78);
    c.filter = (m) => !(m.kind === MsgKind.App && m.from === 3 && hasX(m));
    expect(c.node(3).group.proposeConfChange(change([Remove, 3]))).toBe(null);
    expect(c.node(3).group.propose(data('x'))).toBe(null);
    c.deliver();
    expect(c.node(3).conf.voters).toEqual([1]);
    expect(c.node(1).conf.voters).toEqual([1, 3]); // the removal is not known committed
    expect(c.node(3).group.raft.role).toBe(Role.Leader); // it waits to hand 'x' over
    expect(c.node(3).group.propose(data('y'))).toBe(ProposeError.NotMember);
    // Its config [1] is a single voter, but not itself: it must not answer reads at once.
    c.node(3).group.readIndex(new Uint8Array([1]));
    c.deliver();
    expect(c.node(3).readStates).toEqual([]);
    c.filter = null;
    c.tickAll(50);
    expect(c.leaders()).toEqual([1]);
    expect(c.node(1).conf.voters).toEqual([1]);
    expect(c.node(1).applied).toEqual(['a', 'x']);
    expect(c.node(1).group.propose(data('z'))).toBe(null);
    c.deliver();
    expect(c.node(1).applied).toEqual(['a', 'x', 'z']);
  });

  it('[thesis 4.3] joint consensus replaces two voters; autoLeave leaves C_old,new at once',
    () => {
      const c = grown([4, 5]);
      const cc = change([AddVoter, 4], [AddVoter, 5], [Remove, 2], [Remove, 3]);
      expect(c.node(1).group.proposeConfChange(cc)).toBe(null);
      const joint: string[] = [];
      c.onStep = () => {
        const conf = c.node(1).conf;
        if (conf.votersOutgoing.length > 0) {
          joint.push(`${conf.voters.join(',')}|${conf.votersOutgoing.join(',')}`);
        }
      };
      c.deliver();
      c.tickAll(2);
      expect(joint.length).toBeGreaterThan(0); // it went through the joint configuration
      expect(joint[0]).toBe('1,4,5|1,2,3');
      for (const id of [1, 4, 5]) {
        expect(c.node(id).conf.voters, `n${id}`).toEqual([1, 4, 5]);
        expect(c.node(id).conf.votersOutgoing, `n${id}`).toEqual([]);
      }
      expect(c.node(4).applied).toEqual(['a', 'b', 'c']);
      // C_new alone decides now.
      c.isolate(2);
      c.isolate(3);
      c.node(1).group.propose(data('new-conf'));
      c.deliver();
      expect(c.node(5).applied.at(-1)).toBe('new-conf');
    });

  it('[thesis 4.3] in a joint configuration a commit needs both majorities; an explicit ' +
    'leave ends it', () => {
    const c = grown([4, 5]);
    const cc = { ...change([AddVoter, 4], [AddVoter, 5], [Remove, 2], [Remove, 3]),
      autoLeave: false };
    c.node(1).group.proposeConfChange(cc);
    c.deliver();
    expect(c.node(1).conf.votersOutgoing).toEqual([1, 2, 3]);
    expect(c.node(1).conf.voters).toEqual([1, 4, 5]);
    // Old majority (1, 2, 3) alone: not committed.
    c.isolate(4);
    c.isolate(5);
    c.node(1).group.propose(data('x'));
    c.deliver();
    expect(c.node(1).applied).toEqual(['a', 'b', 'c']);
    // New majority (1, 4, 5) alone: not committed either.
    c.heal();
    c.isolate(2);
    c.isolate(3);
    c.node(1).group.propose(data('y'));
    c.deliver();
    expect(c.node(1).group.raft.log.committed).toBeLessThan(c.node(1).group.raft.log.lastIndex());
    c.heal();
    c.tickAll(2);
    expect(c.node(1).applied).toEqual(['a', 'b', 'c', 'x', 'y']);
    expect(c.node(1).conf.votersOutgoing).toEqual([1, 2, 3]); // no automatic leave
    // A simple change cannot be applied to a joint configuration.
    expect(c.node(1).group.proposeConfChange(change([AddLearner, 6])))
      .toBe(ProposeError.InvalidConfChange);
    expect(c.node(1).group.proposeConfChange({ changes: [], leaveJoint: true })).toBe(null);
    c.deliver();
    for (const id of [1, 4, 5]) {
      expect(c.node(id).conf.voters).toEqual([1, 4, 5]);
      expect(c.node(id).conf.votersOutgoing).toEqual([]);
    }
  });

  it('[thesis 4.3] a new leader elected in an autoLeave joint config leaves it', () => {
    // msgBytesMax 1: the (6-byte) leave entry always travels alone, so it can be dropped alone.
    const c = grown([4], { msgBytesMax: 1 });
    const isLeave = (d: Uint8Array): boolean => d.length === 6 && d[1] === 1;
    // The old leader's leave entry never gets out; then the old leader is cut off.
    c.filter = (m) => !(m.kind === MsgKind.App && m.from === 1 &&
      m.entries.some((e) => e.kind === EntryKind.ConfChange && isLeave(e.data)));
    c.node(1).group.proposeConfChange(change([AddVoter, 4], [Remove, 3]));
    c.deliver();
    for (const id of [2, 4]) {
      expect(c.node(id).conf.voters, `n${id}`).toEqual([1, 2, 4]);
      expect(c.node(id).conf.votersOutgoing, `n${id}`).toEqual([1, 2, 3]);
    }
    c.filter = null;
    c.isolate(1);
    c.electEventually(2); // votes of 2, 4 (incoming) and 2, 3 (outgoing)
    c.deliver();
    for (const id of [2, 3, 4]) {
      expect(c.node(id).conf.voters, `n${id}`).toEqual([1, 2, 4]);
      expect(c.node(id).conf.votersOutgoing, `n${id}`).toEqual([]);
    }
  });

  it('[thesis 4.1] a change that removes every voter is refused', () => {
    const solo = new Cluster([1]);
    solo.elect(1);
    expect(solo.node(1).group.proposeConfChange(change([Remove, 1])))
      .toBe(ProposeError.InvalidConfChange);
    const c = grown([]);
    expect(c.node(1).group.proposeConfChange(change([Remove, 1], [Remove, 2], [Remove, 3])))
      .toBe(ProposeError.InvalidConfChange);
    expect(c.node(1).group.proposeConfChange({ changes: [], leaveJoint: true }))
      .toBe(ProposeError.InvalidConfChange); // not joint: nothing to leave
    c.deliver();
    expect(c.node(1).conf.voters).toEqual([1, 2, 3]);
  });

  it('[thesis 4.1] only one configuration change may be pending at a time', () => {
    const c = grown([4, 5]);
    const g = c.node(1).group;
    expect(g.proposeConfChange(change([AddLearner, 4]))).toBe(null);
    expect(g.proposeConfChange(change([AddLearner, 5]))).toBe(ProposeError.ConfChangePending);
    expect(g.propose(data('normal'))).toBe(null); // normal proposals still flow
    c.deliver();
    expect(g.proposeConfChange(change([AddLearner, 5]))).toBe(null);
    c.deliver();
    expect(c.node(1).conf.learners).toEqual([4, 5]);
  });

  it('[thesis 4.1] a follower proposal of a conf change is refused (no leader role)', () => {
    const c = grown([]);
    expect(c.node(2).group.proposeConfChange(change([Remove, 3]))).toBe(ProposeError.NotLeader);
  });
});
