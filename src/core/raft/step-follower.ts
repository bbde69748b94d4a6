// Messages a follower handles (etcd stepFollower): the leader's appends, heartbeats and
// snapshots, and requests it forwards to the leader.
import type { Raft } from './raft.js';
import type { StepResult } from './step-tables.js';
import { type Message, MsgKind, ProposeError } from './types.js';

export function onFollowerProp(r: Raft, m: Message): StepResult {
  if (r.lead === 0 || r.cfg.forwardProposals !== true) return ProposeError.NotLeader;
  r.send({ kind: MsgKind.Prop, to: r.lead, entries: m.entries });
  return null;
}

export function onFollowerApp(r: Raft, m: Message): StepResult {
  r.electionElapsed = 0;
  r.lead = m.from;
  r.onAppendEntries(m);
  return null;
}

export function onFollowerHeartbeat(r: Raft, m: Message): StepResult {
  r.electionElapsed = 0;
  r.lead = m.from;
  r.onHeartbeat(m);
  return null;
}

export function onFollowerSnap(r: Raft, m: Message): StepResult {
  r.electionElapsed = 0;
  r.lead = m.from;
  r.onSnapshot(m);
  return null;
}

export function onFollowerTransferLeader(r: Raft, m: Message): StepResult {
  if (r.lead === 0) return null;
  r.send({ kind: MsgKind.TransferLeader, to: r.lead, index: m.index });
  return null;
}

/** Thesis 3.10: the leader handed over; campaign now, without pre-vote, bypassing leases. */
export function onFollowerTimeoutNow(r: Raft): StepResult {
  r.hup(true);
  return null;
}

export function onFollowerReadIndex(r: Raft, m: Message): StepResult {
  if (r.lead === 0) return null; // no leader to ask: the caller's read times out and retries
  r.send({ kind: MsgKind.ReadIndex, to: r.lead, context: m.context });
  return null;
}

export function onFollowerReadIndexResp(r: Raft, m: Message): StepResult {
  if (m.context !== null) r.readStates.push({ index: m.index, context: m.context });
  return null;
}
