// The RawNode contract with asynchronous storage writes (thesis 10.2.1; etcd AsyncStorageWrites):
// the leader writes in parallel with its appends, counts itself only once durable, and no
// entry is applied before it is persisted locally.
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/core/raft/memory-storage.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { RaftGroup } from '../../src/core/raft/raft-group.js';
import { type Message, MsgKind, type Ready, Role } from '../../src/core/raft/types.js';
import { Cluster, confOf, data, raftConfig } from './harness.js';

function persist(g: RaftGroup, storage: MemoryStorage, rd: Ready): void {
  if (rd.snapshot !== null) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState !== null) storage.setHardState(rd.hardState);
  g.onPersisted(rd.number);
}

/** The follower steps `m`, persists, and returns its after-persist messages. */
function ackFrom(c: Cluster, id: number, m: Message): Message[] {
  const n = c.node(id);
  n.group.step(m);
  const rd = n.group.ready();
  persist(n.group, n.storage, rd);
  return [...rd.messagesAfterPersist];
}

describe('async storage writes', () => {
  it('[thesis 10.2.1] the leader sends appends before its own write and counts itself only ' +
    'once it is persisted', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    const leader = c.node(1);
    const commitBefore = leader.group.raft.log.committed;
    leader.group.propose(data('x'));
    const rd = leader.group.ready();
    expect(rd.entries.length).toBe(1);
    const app = rd.messages.find((m) => m.kind === MsgKind.App && m.to === 2)!;
    expect(app.entries.map((e) => e.index)).toEqual([rd.entries[0]!.index]);
    // One follower acks: with the leader's own entry not durable, that is 1 of 3.
    for (const m of ackFrom(c, 2, app)) leader.group.step(m);
    expect(leader.group.raft.log.committed).toBe(commitBefore);
    persist(leader.group, leader.storage, rd);
    expect(leader.group.raft.log.committed).toBe(rd.entries[0]!.index);
  });

  it('[thesis 10.2.1] two followers can commit an entry the leader has not yet persisted, ' +
    'but the leader applies it only after its own write', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    const leader = c.node(1);
    leader.group.propose(data('y'));
    const rd = leader.group.ready();
    const index = rd.entries[0]!.index;
    for (const to of [2, 3]) {
      const app = rd.messages.find((m) => m.kind === MsgKind.App && m.to === to)!;
      for (const m of ackFrom(c, to, app)) leader.group.step(m);
    }
    expect(leader.group.raft.log.committed).toBe(index);
    const next = leader.group.ready();
    expect(next.committedEntries).toEqual([]); // not persisted here yet
    persist(leader.group, leader.storage, rd);
    persist(leader.group, leader.storage, next);
    const after = leader.group.ready();
    expect(after.committedEntries.map((e) => e.index)).toEqual([index]);
  });

  it('[thesis 10.2.1] Readys may be pipelined: onPersisted(n) acknowledges every Ready up to n',
    () => {
      const storage = new MemoryStorage(confOf([1]));
      const g = new RaftGroup(raftConfig(1), storage, new SeededPrng(3));
      g.campaign();
      persist(g, storage, g.ready());
      expect(g.raft.role).toBe(Role.Leader);
      g.propose(data('p1'));
      const rd1 = g.ready();
      g.propose(data('p2'));
      const rd2 = g.ready();
      expect(rd2.number).toBe(rd1.number + 1);
      storage.append(rd1.entries);
      storage.append(rd2.entries);
      expect(g.raft.log.committed).toBeLessThan(rd2.entries[0]!.index);
      g.onPersisted(rd2.number); // both at once
      expect(g.raft.log.committed).toBe(rd2.entries[0]!.index);
      const rd3 = g.ready();
      expect(rd3.committedEntries.map((e) => new TextDecoder().decode(e.data)))
        .toEqual(['', 'p1', 'p2']); // the no-op (in rd1 with p1), then p2
    });

  it('[thesis 3.8] a crash before the vote is written loses the vote, which was never sent',
    () => {
      const c = new Cluster([1, 2, 3]);
      c.persistNow = (n) => n.id !== 2; // node 2's disk never finishes
      c.isolate(3);
      c.node(1).group.campaign();
      c.settle();
      const req = c.queue.find((m) => m.kind === MsgKind.Vote && m.to === 2)!;
      c.queue = [];
      c.node(2).group.step(req);
      c.settle();
      expect(c.node(2).unpersisted.length).toBe(1);
      expect(c.queue.filter((m) => m.kind === MsgKind.VoteResp)).toEqual([]);
      expect(c.node(1).group.raft.role).toBe(Role.Candidate);
      c.restart(2); // the unwritten Ready (term 1, vote 1) is lost
      expect(c.node(2).group.raft.vote).toBe(0);
      expect(c.node(2).storage.hardStateNow().vote).toBe(0);
      c.persistNow = null;
      c.heal();
      c.queue = [];
      // Free to vote in term 1 again: no candidate was ever promised its vote.
      c.node(2).group.step({ ...req, from: 3 });
      c.settle();
      const resp = c.queue.find((m) => m.kind === MsgKind.VoteResp && m.to === 3)!;
      expect(resp.reject).toBe(false);
    });

  it('[paper 5.3, thesis 3.8] a restarted node resumes from its persisted log and hard state',
    () => {
      const c = new Cluster([1, 2, 3]);
      c.elect(1);
      for (const s of ['a', 'b']) c.node(1).group.propose(data(s));
      c.deliver();
      const term = c.node(2).group.raft.term;
      const last = c.node(2).group.raft.log.lastIndex();
      const g = c.restart(2).group;
      expect(g.raft.term).toBe(term);
      expect(g.raft.log.lastIndex()).toBe(last);
      expect(g.raft.log.committed).toBe(c.node(2).storage.hardStateNow().commit);
      c.node(2).applied = [];
      c.node(2).appliedIndex = 0;
      c.node(1).group.propose(data('c'));
      c.deliver();
      c.tickAll(2);
      expect(c.node(2).applied).toEqual(['a', 'b', 'c']); // re-applied from the log
    });
});
