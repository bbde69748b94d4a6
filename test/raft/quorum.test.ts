// Quorum arithmetic (paper 5.3, 5.2; thesis 4.3 joint majorities) against a dumb reference
// implementation (etcd quorum/quick_test.go): the reference tries every candidate index and
// counts, the real one sorts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  jointCommitted, jointVoteResult, majorityCommitted, majorityVoteResult, VoteResult,
  type VoteResultValue,
} from '../../src/core/raft/quorum.js';

/** The largest index acknowledged by more than half of `voters` (Infinity when empty). */
function dumbCommitted(voters: ReadonlySet<number>, match: ReadonlyMap<number, number>): number {
  if (voters.size === 0) return Infinity;
  const idxs = [...voters].map((id) => match.get(id) ?? 0);
  let best = 0;
  for (const candidate of idxs) {
    const acks = idxs.filter((i) => i >= candidate).length;
    if (acks * 2 > voters.size && candidate > best) best = candidate;
  }
  return best;
}

function dumbVote(voters: ReadonlySet<number>, votes: ReadonlyMap<number, boolean>):
  VoteResultValue {
  if (voters.size === 0) return VoteResult.Won;
  let yes = 0;
  let no = 0;
  for (const id of voters) {
    if (votes.get(id) === true) yes++;
    if (votes.get(id) === false) no++;
  }
  if (yes * 2 > voters.size) return VoteResult.Won;
  if (no * 2 >= voters.size) return VoteResult.Lost; // the rest cannot make a majority
  return VoteResult.Pending;
}

function dumbJointVote(a: VoteResultValue, b: VoteResultValue): VoteResultValue {
  if (a === VoteResult.Lost || b === VoteResult.Lost) return VoteResult.Lost;
  if (a === VoteResult.Won && b === VoteResult.Won) return VoteResult.Won;
  return VoteResult.Pending;
}

const ids = fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 9 });
const matches = fc.dictionary(fc.integer({ min: 1, max: 12 }).map(String),
  fc.integer({ min: 0, max: 20 }));
const voteMap = fc.dictionary(fc.integer({ min: 1, max: 12 }).map(String), fc.boolean());
const toMap = <V>(d: Record<string, V>): Map<number, V> =>
  new Map(Object.entries(d).map(([k, v]) => [Number(k), v]));
const limits = { numRuns: 2000, interruptAfterTimeLimit: 3000, markInterruptAsFailure: false };

describe('quorum vs a dumb reference', () => {
  it('[paper 5.3] majorityCommitted is the largest index a majority acknowledged', () => {
    fc.assert(fc.property(ids, matches, (voters, m) => {
      const set = new Set(voters);
      const match = toMap(m);
      expect(majorityCommitted(set, (id) => match.get(id) ?? 0)).toBe(dumbCommitted(set, match));
    }), limits);
  });

  it('[thesis 4.3] jointCommitted needs both majorities (an empty half never holds back)', () => {
    fc.assert(fc.property(ids, ids, matches, (inc, out, m) => {
      const a = new Set(inc);
      const b = new Set(out);
      const match = toMap(m);
      const want = Math.min(dumbCommitted(a, match), dumbCommitted(b, match));
      expect(jointCommitted([a, b], (id) => match.get(id) ?? 0)).toBe(want);
    }), limits);
  });

  it('[paper 5.2] majorityVoteResult: won, lost or pending as a count would say', () => {
    fc.assert(fc.property(ids, voteMap, (voters, v) => {
      const set = new Set(voters);
      const votes = toMap(v);
      expect(majorityVoteResult(set, votes)).toBe(dumbVote(set, votes));
    }), limits);
  });

  it('[thesis 4.3] jointVoteResult: lost if either half lost, won only if both won', () => {
    fc.assert(fc.property(ids, ids, voteMap, (inc, out, v) => {
      const a = new Set(inc);
      const b = new Set(out);
      const votes = toMap(v);
      const want = dumbJointVote(dumbVote(a, votes), dumbVote(b, votes));
      expect(jointVoteResult([a, b], votes)).toBe(want);
    }), limits);
  });

  it('[paper 5.2] a vote result never goes back: more votes only settle it', () => {
    fc.assert(fc.property(ids, voteMap, fc.integer({ min: 1, max: 12 }), fc.boolean(),
      (voters, v, extraId, extraVote) => {
        const set = new Set(voters);
        const votes = toMap(v);
        const before = majorityVoteResult(set, votes);
        if (!votes.has(extraId)) votes.set(extraId, extraVote);
        const after = majorityVoteResult(set, votes);
        if (before !== VoteResult.Pending) expect(after).toBe(before);
      }), limits);
  });

  it('[paper 5.3] examples: 3 and 5 voters, and a joint config', () => {
    const m = new Map([[1, 5], [2, 3], [3, 1], [4, 4], [5, 0]]);
    const at = (id: number): number => m.get(id) ?? 0;
    expect(majorityCommitted(new Set([1, 2, 3]), at)).toBe(3);
    expect(majorityCommitted(new Set([1, 2, 3, 4, 5]), at)).toBe(3);
    expect(majorityCommitted(new Set([1, 2, 3, 4]), at)).toBe(3);
    expect(majorityCommitted(new Set([1]), at)).toBe(5);
    expect(jointCommitted([new Set([1, 4]), new Set([2, 3, 5])], at)).toBe(1);
    expect(majorityVoteResult(new Set([1, 2, 3]), new Map([[1, true], [2, false]])))
      .toBe(VoteResult.Pending);
    expect(majorityVoteResult(new Set([1, 2, 3, 4]), new Map([[1, false], [2, false]])))
      .toBe(VoteResult.Lost);
  });
});
