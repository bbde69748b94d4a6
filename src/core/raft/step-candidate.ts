// Messages a (pre-)candidate handles (etcd stepCandidate): a leader of its term or newer
// makes it a follower; votes are tallied.
import { onFollowerApp, onFollowerHeartbeat, onFollowerSnap } from './step-follower.js';
import type { Raft } from './raft.js';
import type { StepResult } from './step-tables.js';
import { type Message, ProposeError } from './types.js';

export function onCandidateProp(): StepResult {
  return ProposeError.NotLeader;
}

/** Paper 5.2: a candidate that hears from a leader of its own term steps down. */
export function onCandidateApp(r: Raft, m: Message): StepResult {
  r.becomeFollower(m.term, m.from);
  return onFollowerApp(r, m);
}

export function onCandidateHeartbeat(r: Raft, m: Message): StepResult {
  r.becomeFollower(m.term, m.from);
  return onFollowerHeartbeat(r, m);
}

export function onCandidateSnap(r: Raft, m: Message): StepResult {
  r.becomeFollower(m.term, m.from);
  return onFollowerSnap(r, m);
}

/** The vote response of this candidate's kind (VoteResp, or PreVoteResp when pre-voting). */
export function onCandidateVoteResp(r: Raft, m: Message): StepResult {
  r.onPollResult(r.poll(m.from, !m.reject));
  return null;
}
