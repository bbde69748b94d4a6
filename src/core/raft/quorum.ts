// Quorum arithmetic (etcd quorum/): the commit index and vote outcome of a majority
// configuration, and of a joint one (thesis 4.3: both majorities must agree).
import type { NodeId } from './types.js';

export const VoteResult = { Pending: 0, Lost: 1, Won: 2 } as const;
export type VoteResultValue = (typeof VoteResult)[keyof typeof VoteResult];

/** [incoming, outgoing]; outgoing is empty unless the configuration is joint. */
export type JointVoters = readonly [ReadonlySet<NodeId>, ReadonlySet<NodeId>];

/** Largest index acknowledged by a majority of voters. An empty config commits everything
 *  (Infinity), so that it never holds back the other half of a joint config. */
export function majorityCommitted(voters: ReadonlySet<NodeId>,
  matchOf: (id: NodeId) => number): number {
  const n = voters.size;
  if (n === 0) return Infinity;
  if (n === 1) {
    for (const id of voters) return matchOf(id);
  }
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id));
  matches.sort((a, b) => b - a);
  // The (n/2+1)-th largest match is held by a majority.
  return matches[(n >> 1)]!;
}

export function jointCommitted(voters: JointVoters, matchOf: (id: NodeId) => number): number {
  const a = majorityCommitted(voters[0], matchOf);
  const b = majorityCommitted(voters[1], matchOf);
  return Math.min(a, b);
}

/** votes: true granted, false rejected, absent still missing. An empty config wins. */
export function majorityVoteResult(voters: ReadonlySet<NodeId>,
  votes: ReadonlyMap<NodeId, boolean>): VoteResultValue {
  if (voters.size === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const quorum = (voters.size >> 1) + 1;
  if (granted >= quorum) return VoteResult.Won;
  if (granted + missing >= quorum) return VoteResult.Pending;
  return VoteResult.Lost;
}

export function jointVoteResult(voters: JointVoters,
  votes: ReadonlyMap<NodeId, boolean>): VoteResultValue {
  const a = majorityVoteResult(voters[0], votes);
  const b = majorityVoteResult(voters[1], votes);
  if (a === b) return a;
  if (a === VoteResult.Lost || b === VoteResult.Lost) return VoteResult.Lost;
  return VoteResult.Pending;
}
