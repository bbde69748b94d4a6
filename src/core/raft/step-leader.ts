// Messages a leader handles (etcd stepLeader). Each handler is one message kind; the table in
// step-tables.ts dispatches to them.
import { changeConfig, decodeConfChange } from './conf-change.js';
import { isVoter, ProgressState } from './progress.js';
import type { Raft } from './raft.js';
import type { StepResult } from './step-tables.js';
import { EntryKind, type Message, ProposeError } from './types.js';
import { raftReadIndexParkedMax } from '../../limits.js';

export function onLeaderBeat(r: Raft): StepResult {
  r.bcastHeartbeat();
  return null;
}

/** Thesis 6.2: a leader that has not heard from a quorum within an election timeout steps
 *  down, so a partitioned leader stops serving (and stops blocking lease reads elsewhere). */
export function onLeaderCheckQuorum(r: Raft): StepResult {
  // A removed leader is in no quorum: it leads only to hand over its log (thesis 4.2.2).
  if (!r.trk.quorumActive(r.id) && isVoter(r.trk.config, r.id)) {
    r.becomeFollower(r.term, 0);
    return null;
  }
  for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recentActive = false;
  return null;
}

/** Paper 5.3: append the proposal to the leader's log; followers get it with the next
 *  broadcast (deferred to ready(): one append per follower per turn, not per proposal). */
export function onLeaderProp(r: Raft, m: Message): StepResult {
  if (!r.trk.progress.has(r.id)) return ProposeError.NotMember;
  if (r.leadTransferee !== 0) return ProposeError.Transferring;
  for (const e of m.entries) {
    if (e.kind !== EntryKind.ConfChange) continue;
    if (m.entries.length !== 1) return ProposeError.InvalidConfChange;
    // Thesis 4.1: one configuration change at a time; the next waits for this one's apply.
    if (r.pendingConfIndex > r.log.applied) return ProposeError.ConfChangePending;
    if (!changeConfig(r.trk.config, decodeConfChange(e.data)).ok) {
      return ProposeError.InvalidConfChange;
    }
  }
  if (!r.increaseUncommittedBytes(m.entries)) return ProposeError.TooManyUncommittedBytes;
  r.appendEntries(m.entries);
  if (m.entries.some((e) => e.kind === EntryKind.ConfChange)) {
    r.pendingConfIndex = r.log.lastIndex();
    r.eagerCommitIndex = r.pendingConfIndex;
  }
  r.bcastPending = true;
  return null;
}

export function onLeaderReadIndex(r: Raft, m: Message): StepResult {
  if (!isVoter(r.trk.config, r.id)) return null; // removed, stepping down: the read retries
  if (r.trk.isSingleton()) {
    // A lone voter is its own quorum: the commit index is safe as it is (etcd).
    r.respondToReadIndex(m, r.log.committed);
    return null;
  }
  if (!r.committedEntryInCurrentTerm()) {
    // Thesis 6.4 step 1: a new leader does not know the commit index until its no-op commits.
    if (r.pendingReadIndexMessages.length < raftReadIndexParkedMax) {
      r.pendingReadIndexMessages.push(m);
    }
    return null;
  }
  r.readIndexConfirmed(m);
  return null;
}

export function onLeaderAppResp(r: Raft, m: Message): StepResult {
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return null;
  pr.recentActive = true;
  if (m.reject) {
    // Thesis 5.3 fast backtracking: skip to the follower's hint, or further back to our last
    // entry of a term no newer than the follower's conflicting term.
    let probe = m.rejectHint;
    if (m.rejectHintTerm > 0) probe = r.log.findConflictByTerm(m.rejectHint, m.rejectHintTerm)[0];
    if (pr.maybeDecrTo(m.index, probe)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      r.sendAppend(m.from);
    }
    return null;
  }
  const probing = pr.state === ProgressState.Probe;
  if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && probing)) return null;
  if (probing) pr.becomeReplicate();
  else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= r.log.firstIndex()) {
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) pr.inflights.freeLE(m.index);
  if (r.maybeCommit()) r.onCommitAdvanced();
  else if (r.shouldBumpCommit(pr)) r.sendAppend(m.from);
  // Flow control may have room again: send as many (size-limited) appends as fit.
  while (r.maybeSendAppend(m.from, false)) { /* until paused or caught up */ }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) r.sendTimeoutNow(m.from);
  r.maybeStepDownRemoved();
  return null;
}

export function onLeaderHeartbeatResp(r: Raft, m: Message): StepResult {
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return null;
  pr.recentActive = true;
  pr.msgAppFlowPaused = false;
  if (pr.match < r.log.lastIndex() || pr.state === ProgressState.Probe) r.sendAppend(m.from);
  if (m.context !== null && m.context.length > 0) r.onHeartbeatAck(m.from, m.context);
  return null;
}

export function onLeaderSnapStatus(r: Raft, m: Message): StepResult {
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined || pr.state !== ProgressState.Snapshot) return null;
  if (m.reject) pr.pendingSnapshot = 0;
  // Wait for a heartbeat response before probing again (etcd).
  pr.becomeProbe();
  pr.msgAppFlowPaused = true;
  return null;
}

export function onLeaderUnreachable(r: Raft, m: Message): StepResult {
  const pr = r.trk.progress.get(m.from);
  // Optimistic replication is wasted on a peer we cannot reach: probe it instead.
  if (pr !== undefined && pr.state === ProgressState.Replicate) pr.becomeProbe();
  return null;
}

/** Thesis 3.10: bring the transferee up to date, then tell it to campaign at once. The
 *  transferee travels in `index` (so a follower can forward the request unchanged). */
export function onLeaderTransferLeader(r: Raft, m: Message): StepResult {
  const to = m.index;
  const pr = r.trk.progress.get(to);
  if (pr === undefined || pr.isLearner) return null;
  if (r.leadTransferee !== 0) {
    if (r.leadTransferee === to) return null;
    r.leadTransferee = 0;
  }
  if (to === r.id) return null;
  r.electionElapsed = 0;
  r.leadTransferee = to;
  r.transferAttempted = true;
  if (pr.match === r.log.lastIndex()) r.sendTimeoutNow(to);
  else r.sendAppend(to);
  return null;
}
