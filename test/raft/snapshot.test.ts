// Log compaction and snapshots (paper 7; thesis 5.1-5.3): a follower too far behind for the
// leader's compacted log is sent the snapshot and ends with the same applied state.
import { describe, expect, it } from 'vitest';
import { makeMessage } from '../../src/core/raft/message.js';
import { ProgressState } from '../../src/core/raft/progress.js';
import { ConfChangeKind, MsgKind, Role } from '../../src/core/raft/types.js';
import { Cluster, confOf, data } from './harness.js';

/** Node 3 is cut off while the leader (1) commits `count` entries and compacts its log. */
function farBehind(count: number): { c: Cluster; snapIndex: number } {
  const c = new Cluster([1, 2, 3]);
  c.elect(1);
  c.node(1).group.propose(data('before'));
  c.deliver();
  c.isolate(3);
  for (let i = 0; i < count; i++) c.node(1).group.propose(data(`e${i}`));
  c.deliver();
  const snapIndex = c.compact(1);
  return { c, snapIndex };
}

describe('snapshot', () => {
  it('[paper 7] a follower far behind catches up by snapshot and ends with the same state',
    () => {
      const { c, snapIndex } = farBehind(20);
      const leader = c.node(1);
      expect(leader.storage.firstIndex()).toBe(snapIndex + 1);
      expect(c.node(3).group.raft.log.lastIndex()).toBeLessThan(snapIndex);
      c.heal();
      c.trace = [];
      c.tickAll(3);
      const snaps = c.traced(MsgKind.Snap, 1, 3);
      expect(snaps.length).toBe(1);
      expect(snaps[0]!.snapshot!.meta.index).toBe(snapIndex);
      const follower = c.node(3);
      expect(follower.storage.snapshot().meta.index).toBe(snapIndex);
      expect(follower.storage.firstIndex()).toBe(snapIndex + 1);
      expect(follower.applied).toEqual(leader.applied);
      expect(follower.appliedIndex).toBe(leader.appliedIndex);
      expect(leader.group.raft.trk.progress.get(3)!.state).toBe(ProgressState.Replicate);
      expect(leader.group.raft.trk.progress.get(3)!.match).toBe(leader.storage.lastIndex());
    });

  it('[paper 7] after the snapshot the follower receives the later entries by append', () => {
    const { c, snapIndex } = farBehind(10);
    c.node(1).group.propose(data('after-snap1'));
    c.deliver();
    c.heal();
    c.tickAll(3);
    c.node(1).group.propose(data('after-snap2'));
    c.deliver();
    const follower = c.node(3);
    expect(follower.applied.slice(-2)).toEqual(['after-snap1', 'after-snap2']);
    expect(follower.applied).toEqual(c.node(1).applied);
    // Entries past the snapshot arrived as entries, not in the snapshot.
    expect(follower.storage.lastIndex()).toBeGreaterThan(snapIndex + 1);
  });

  it('[paper 7] the snapshot carries the configuration; a restarted follower resumes from it',
    () => {
      const { c, snapIndex } = farBehind(5);
      c.heal();
      c.tickAll(3);
      expect(c.node(3).storage.snapshot().meta.conf.voters).toEqual([1, 2, 3]);
      const restarted = c.restart(3);
      expect(restarted.group.raft.log.committed).toBeGreaterThanOrEqual(snapIndex);
      c.node(1).group.propose(data('post-restart'));
      c.deliver();
      c.tickAll(2);
      expect(c.node(3).applied).toEqual(c.node(1).applied);
      expect(c.node(3).applied.at(-1)).toBe('post-restart');
    });

  it('[paper 7] a stale snapshot (at or below the follower\'s commit) is not installed', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    for (let i = 0; i < 5; i++) c.node(1).group.propose(data(`e${i}`));
    c.deliver();
    c.compact(1);
    const snap = c.node(1).storage.snapshot();
    const f = c.node(2);
    const before = f.storage.snapshot().meta.index;
    f.group.step(makeMessage({ kind: MsgKind.Snap, group: 1, from: 1, to: 2,
      term: c.node(1).group.raft.term, snapshot: snap }));
    const rd = f.group.ready();
    expect(rd.snapshot).toBe(null);
    const resp = rd.messagesAfterPersist.find((m) => m.kind === MsgKind.AppResp)!;
    expect(resp.index).toBe(f.group.raft.log.committed);
    expect(f.storage.snapshot().meta.index).toBe(before);
    expect(f.group.raft.role).toBe(Role.Follower);
  });

  it('[paper 7, thesis 4.2.1] a node added after the last compaction is not sent a snapshot ' +
    'that excludes it (it would ignore it) but the next one, which includes it', () => {
    const c = new Cluster([1, 2, 3]);
    const fresh = c.add(4, {}, confOf([1, 2, 3])); // the group's genesis configuration
    c.elect(1);
    for (let i = 0; i < 5; i++) c.node(1).group.propose(data(`e${i}`));
    c.deliver();
    c.compact(1); // the snapshot's configuration is 1, 2, 3
    c.trace = [];
    expect(c.node(1).group.proposeConfChange({
      changes: [{ kind: ConfChangeKind.AddLearner, node: 4 }], leaveJoint: false,
    })).toBe(null);
    c.deliver(); // used to livelock: Snap, ignored, SnapStatus, probe, Snap...
    c.tickAll(3);
    expect(c.traced(MsgKind.Snap, 1, 4)).toEqual([]);
    expect(c.node(1).conf.learners).toEqual([4]);
    // Once the leader snapshots a state that includes the learner, it is sent and installed.
    const snapIndex = c.compact(1);
    c.tickAll(3);
    expect(c.traced(MsgKind.Snap, 1, 4).length).toBe(1);
    expect(fresh.storage.snapshot().meta.index).toBe(snapIndex);
    expect(c.node(4).conf).toEqual(c.node(1).conf);
    expect(c.node(4).applied).toEqual(c.node(1).applied);
  });

  it('[paper 7] a snapshot for a configuration that excludes the receiver is ignored', () => {
    const { c } = farBehind(5);
    const snap = c.node(1).storage.snapshot();
    const outsider = c.add(9, {}, confOf([]));
    const excluded = { ...snap, meta: { ...snap.meta, conf: confOf([1, 2, 3]) } };
    outsider.group.step(makeMessage({ kind: MsgKind.Snap, group: 1, from: 1, to: 9,
      term: c.node(1).group.raft.term, snapshot: excluded }));
    expect(outsider.group.ready().snapshot).toBe(null);
  });
});
