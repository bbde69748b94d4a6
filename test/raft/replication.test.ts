// Log replication (paper 5.3, 5.4.2; thesis 3.5, 5.3, 10.2): commit rules, the Figure 8 case,
// fast conflict backtracking, flow control and proposal backpressure.
import { describe, expect, it } from 'vitest';
import { ProgressState } from '../../src/core/raft/progress.js';
import { type Message, MsgKind, ProposeError, Role } from '../../src/core/raft/types.js';
import { Cluster, confOf, data, logTerms, storageWithLog } from './harness.js';

const five = [1, 2, 3, 4, 5];

/** Paper Figure 8, state (c): S1 leads term 4 with log [1@1, 2@2]; S2 already holds 2@2; S5
 *  (leader of term 3) holds 2@3 that nobody else has. Index 1 is committed. */
function figure8(): Cluster {
  const c = new Cluster([], { msgBytesMax: 1 });
  const logs: Record<number, number[]> = { 1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1, 3] };
  for (const id of five) {
    const hard = id === 5 ? { term: 3, vote: 5, commit: 1 } : { term: 3, commit: 1 };
    c.add(id, { msgBytesMax: 1 }, confOf(five), storageWithLog(confOf(five), logs[id]!, hard));
  }
  return c;
}

const hasTerm = (m: Message, term: number): boolean => m.entries.some((e) => e.term === term);

describe('replication', () => {
  it('[paper 5.3] entries committed on a majority are applied everywhere, in order', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    for (const s of ['a', 'b', 'c']) expect(c.node(1).group.propose(data(s))).toBe(null);
    c.deliver();
    for (const id of [1, 2, 3]) {
      expect(c.node(id).applied).toEqual(['a', 'b', 'c']);
      expect(c.node(id).group.raft.log.committed).toBe(4); // the no-op and three entries
    }
  });

  it('[paper 5.3] a leader commits with a majority while a minority is down', () => {
    const c = new Cluster(five);
    c.elect(1);
    c.isolate(4);
    c.isolate(5);
    c.node(1).group.propose(data('a'));
    c.deliver();
    expect(c.node(1).applied).toEqual(['a']);
    expect(c.node(4).applied).toEqual([]);
    c.isolate(3); // now only 1 and 2: no majority
    c.node(1).group.propose(data('b'));
    c.deliver();
    expect(c.node(1).applied).toEqual(['a']);
    c.heal();
    c.tickAll(3);
    for (const id of five) expect(c.node(id).applied).toEqual(['a', 'b']);
  });

  it('[paper 5.4.2] Figure 8: a leader does not commit an old-term entry by counting replicas',
    () => {
      const c = figure8();
      // S1 reaches S2, S3, S4 for votes; its appends may carry only old entries (2@2) to S3
      // (state c: the term-2 entry is on S1, S2, S3, a majority, the new no-op on S1 alone).
      c.cut.add('1-5').add('5-1');
      c.filter = (m) => !(m.kind === MsgKind.App && hasTerm(m, 4) &&
        (m.to !== 3 || c.node(3).storage.lastIndex() >= 2));
      c.electEventually(1);
      expect(c.node(1).group.raft.term).toBe(4);
      c.cut.add('1-4').add('4-1');
      c.tickAll(3);
      expect(logTerms(c.node(3).storage)).toEqual([1, 2]);
      const s1 = c.node(1).group.raft;
      expect(s1.trk.progress.get(3)!.match).toBe(2);
      // A majority (S1, S3 acked; S2 holds it too) has index 2, but its term is 2, not 4.
      expect(s1.log.committed).toBe(1);
      expect(c.node(1).applied).toEqual(['t1i1']); // not 't2i2'
      // State (d): S1 crashes; S5 (last term 3) wins S2, S3, S4 and overwrites index 2.
      c.filter = null;
      c.isolate(1);
      c.electEventually(5);
      c.node(5).group.propose(data('s5'));
      c.deliver();
      for (const id of [2, 3, 4, 5]) {
        expect(logTerms(c.node(id).storage).slice(0, 2), `S${id}`).toEqual([1, 3]);
        expect(c.node(id).applied, `S${id}`).toEqual(['t1i1', 't3i2', 's5']);
      }
      // S1 comes back, learns the new term and takes S5's log: 2@2 was never committed.
      c.heal();
      c.tickAll(5);
      expect(c.leaders()).toEqual([5]);
      expect(logTerms(c.node(1).storage).slice(0, 2)).toEqual([1, 3]);
      expect(c.node(1).applied).toEqual(['t1i1', 't3i2', 's5']);
    });

  it('[paper 5.4.2] Figure 8 (e): once an entry of the current term is on a majority, ' +
    'the older entries are committed and S5 cannot win', () => {
    const c = figure8();
    c.cut.add('1-5').add('5-1');
    c.electEventually(1);
    c.node(1).group.propose(data('s1'));
    c.deliver();
    expect(c.node(1).group.raft.log.committed).toBe(4); // 2@2, the no-op 3@4, and 4@4
    for (const id of [1, 2, 3, 4]) {
      expect(c.node(id).applied, `S${id}`).toEqual(['t1i1', 't2i2', 's1']);
    }
    c.isolate(1);
    for (let i = 0; i < 3; i++) {
      c.node(5).group.campaign();
      c.deliver();
      expect(c.node(5).group.raft.role).not.toBe(Role.Leader);
    }
    expect(c.leaders()).toEqual([1]); // only the isolated S1 (no check-quorum here)
    for (const id of [2, 3, 4]) expect(logTerms(c.node(id).storage)).toEqual([1, 2, 4, 4]);
  });

  it('[paper 5.3] a follower\'s conflicting uncommitted entries are overwritten by the leader',
    () => {
      const c = new Cluster([], {});
      const conf = confOf([1, 2, 3]);
      c.add(1, {}, conf, storageWithLog(conf, [1, 1, 2], { term: 3, commit: 2 }));
      c.add(2, {}, conf, storageWithLog(conf, [1, 1, 2], { term: 3, commit: 2 }));
      c.add(3, {}, conf, storageWithLog(conf, [1, 1, 3, 3, 3], { term: 3, commit: 2 }));
      // Node 3's uncommitted tail 3@3..5@3 (an old leader's) would win it any election, so
      // node 1 is elected with node 2 while node 3 is cut off.
      c.isolate(3);
      c.electEventually(1);
      c.heal();
      c.tickAll(3);
      expect(c.leaders()).toEqual([1]);
      expect(logTerms(c.node(3).storage)).toEqual(logTerms(c.node(1).storage));
      expect(logTerms(c.node(3).storage).slice(0, 3)).toEqual([1, 1, 2]);
      expect(c.node(3).applied).toEqual(c.node(1).applied);
    });
});

describe('fast conflict backtracking', () => {
  /** Rejected appends from the leader (1) to the follower (2) until the follower matches. */
  function rejections(leaderTerms: number[], followerTerms: number[]): { rejects: number;
    apps: number; c: Cluster; } {
    const conf = confOf([1, 2, 3]);
    const top = Math.max(...leaderTerms, ...followerTerms);
    const c = new Cluster([]);
    c.add(1, {}, conf, storageWithLog(conf, leaderTerms, { term: top, commit: 1 }));
    c.add(2, {}, conf, storageWithLog(conf, followerTerms, { term: top, commit: 1 }));
    c.add(3, {}, conf, storageWithLog(conf, leaderTerms, { term: top, commit: 1 }));
    c.electEventually(1);
    c.tickAll(2);
    const rejects = c.traced(MsgKind.AppResp, 2, 1).filter((m) => m.reject).length;
    return { rejects, apps: c.traced(MsgKind.App, 1, 2).length, c };
  }

  const run = (term: number, count: number): number[] => new Array<number>(count).fill(term);

  it('[thesis 5.3] a follower with a long divergent tail of few terms needs a round trip per ' +
    'term, not per entry', () => {
    // Common prefix 1..21; then the leader has 20 entries of term 5, the follower 60 entries
    // of terms 3 and 4 (an old leader's uncommitted tail).
    const leader = [1, ...run(2, 20), ...run(5, 20)];
    const follower = [1, ...run(2, 20), ...run(3, 20), ...run(4, 20)];
    const { rejects, apps, c } = rejections(leader, follower);
    expect(rejects).toBe(1); // the leader's hint search skips the follower's terms 3 and 4
    expect(apps).toBeLessThan(5); // per-entry probing would take ~40 round trips
    expect(logTerms(c.node(2).storage)).toEqual(logTerms(c.node(1).storage));
    expect(c.node(2).applied).toEqual(c.node(1).applied);
  });

  it('[thesis 5.3] interleaved divergent terms: each rejection skips one whole term', () => {
    // The follower's and the leader's tails alternate terms (2,4,6,8 vs 3,5,7,9), 5 entries
    // each: every hint lands one term further back, so 4 round trips instead of 20.
    const follower = [1, ...run(2, 5), ...run(4, 5), ...run(6, 5), ...run(8, 5)];
    const leader = [1, ...run(3, 5), ...run(5, 5), ...run(7, 5), ...run(9, 5)];
    const { rejects, c } = rejections(leader, follower);
    expect(rejects).toBe(4);
    expect(logTerms(c.node(2).storage)).toEqual(logTerms(c.node(1).storage));
    expect(c.node(2).applied).toEqual(c.node(1).applied);
  });

  it('[thesis 5.3] a shorter follower log: the hint is its last entry, and the leader skips ' +
    'its own run of a newer term at once', () => {
    const follower = [1];
    for (let t = 2; t <= 9; t++) follower.push(...run(t, 5));
    const leader = [1, ...run(10, 60)];
    const { rejects, c } = rejections(leader, follower);
    expect(rejects).toBe(1);
    expect(logTerms(c.node(2).storage)).toEqual(logTerms(c.node(1).storage));
  });
});

describe('flow control', () => {
  it('[thesis 10.2.1] inflightMsgsMax caps the append messages in flight to one follower',
    () => {
      const c = new Cluster([1, 2, 3], { inflightMsgsMax: 2 });
      c.elect(1);
      const leader = c.node(1).group.raft;
      expect(leader.trk.progress.get(2)!.state).toBe(ProgressState.Replicate);
      for (let i = 0; i < 6; i++) {
        expect(c.node(1).group.propose(data(`p${i}`))).toBe(null);
        c.settle(); // one Ready (one broadcast) per proposal; nothing is delivered
      }
      const appsTo = (id: number): Message[] =>
        c.queue.filter((m) => m.kind === MsgKind.App && m.to === id && m.entries.length > 0);
      expect(appsTo(2).length).toBe(2);
      expect(appsTo(3).length).toBe(2);
      expect(leader.trk.progress.get(2)!.inflights.full()).toBe(true);
      let maxInflight = 0;
      c.onStep = () => {
        const pr = c.node(1).group.raft.trk.progress.get(2);
        if (pr !== undefined) maxInflight = Math.max(maxInflight, pr.inflights.count);
      };
      c.deliver();
      expect(maxInflight).toBeLessThanOrEqual(2);
      for (const id of [1, 2, 3]) {
        expect(c.node(id).applied).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
      }
    });

  it('[thesis 10.2.1] msgBytesMax splits a backlog into several appends (at least one entry ' +
    'each)', () => {
      const c = new Cluster([1, 2, 3], { msgBytesMax: 4 });
      c.elect(1);
      c.isolate(3);
      for (let i = 0; i < 5; i++) c.node(1).group.propose(data(`e${i}xx`)); // 4 bytes each
      c.deliver();
      c.heal();
      c.trace = [];
      c.tickAll(3);
      const apps = c.traced(MsgKind.App, 1, 3).filter((m) => m.entries.length > 0);
      expect(apps.length).toBeGreaterThanOrEqual(5);
      for (const m of apps) expect(m.entries.length).toBe(1);
      expect(c.node(3).applied).toEqual(c.node(1).applied);
    });

  it('[thesis 10.2.3] proposals are refused while uncommittedBytesMax bytes are uncommitted',
    () => {
      const c = new Cluster([1, 2, 3], { uncommittedBytesMax: 10 });
      c.elect(1);
      c.isolate(1);
      const g = c.node(1).group;
      expect(g.propose(data('aaaaaa'))).toBe(null); // 6 bytes
      expect(g.propose(data('bbbb'))).toBe(null); // 10: at the limit
      expect(g.propose(data('c'))).toBe(ProposeError.TooManyUncommittedBytes);
      expect(g.propose(new Uint8Array(0))).toBe(null); // an empty entry costs nothing
      c.heal();
      c.tickAll(2);
      expect(c.node(2).applied).toEqual(['aaaaaa', 'bbbb']);
      expect(g.raft.uncommittedBytes).toBe(0);
      expect(g.propose(data('c'))).toBe(null);
    });

  it('[thesis 10.2.3] a single proposal larger than uncommittedBytesMax is accepted when ' +
    'nothing is uncommitted (no livelock)', () => {
    const c = new Cluster([1, 2, 3], { uncommittedBytesMax: 4 });
    c.elect(1);
    expect(c.node(1).group.propose(data('0123456789'))).toBe(null);
    expect(c.node(1).group.propose(data('x'))).toBe(ProposeError.TooManyUncommittedBytes);
    c.deliver();
    expect(c.node(3).applied).toEqual(['0123456789']);
  });
});
