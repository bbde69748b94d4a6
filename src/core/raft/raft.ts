// The Raft state machine of one group (etcd raft.go): terms, roles, elections, replication,
// commit, snapshots, membership, leader transfer and ReadIndex. Pure and synchronous: it only
// queues messages and read states; RaftGroup turns them into Readys. Message handlers live in
// step-*.ts and are dispatched through `handlers[role][kind]` tables.
import { assert } from '../../assert.js';
import { changeConfig, trackedNodes } from './conf-change.js';
import { isTransferContext, makeMessage, type MessageFields, transferContext } from
  './message.js';
import {
  allVoters,
  configFromConfState,
  confStateFromConfig,
  isVoter,
  type Progress,
  ProgressState,
  ProgressTracker,
  type TrackerConfig,
} from './progress.js';
import { jointVoteResult, VoteResult, type VoteResultValue } from './quorum.js';
import { RaftLog, payloadBytes } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import { handlers, type StepResult } from './step-tables.js';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryKind,
  type Message,
  MsgKind,
  type NodeId,
  type Prng,
  type RaftConfig,
  type ReadState,
  Role,
  type RoleValue,
  type Snapshot,
  type StorageView,
} from './types.js';
import { raftReadIndexPendingMax } from '../../limits.js';

export class Raft {
  readonly id: NodeId;
  readonly group: number;
  readonly cfg: RaftConfig;
  readonly prng: Prng;
  readonly log: RaftLog;
  readonly trk: ProgressTracker;
  term = 0;
  vote: NodeId = 0;
  lead: NodeId = 0;
  role: RoleValue = Role.Follower;
  isLearner = false;
  /** Messages to send now, and messages to send once this Ready is persisted. */
  msgs: Message[] = [];
  msgsAfterPersist: Message[] = [];
  readStates: ReadState[] = [];
  readOnly: ReadOnly;
  /** ReadIndex requests that arrived before the leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Ticks since this group was created (lease arithmetic, restart quiet period). */
  tickCount = 0;
  leadTransferee: NodeId = 0;
  /** Index of the last conf change appended by this leader (one pending at a time). */
  pendingConfIndex = 0;
  uncommittedBytes = 0;
  /** Leader lease (thesis 6.4.1): a quorum heard heartbeats sent at or after this tick. */
  leaseStartTick = -Infinity;
  quiesced = false;
  /** Proposals or a commit advance are waiting for one broadcast, sent by flushBroadcast()
   *  when the caller collects a Ready (one append per follower per turn). */
  bcastPending = false;
  /** Lazy commit broadcast (cfg.lazyCommitBroadcast): the index of an entry whose commit
   *  followers must learn at once (this term's no-op, a conf change; 0 = none), and the last
   *  such index already committed (followers told below it get a commit-only append). */
  eagerCommitIndex = 0;
  eagerCommitReached = 0;
  /** This leader sent (or started) a leader transfer in this term: its lease is void, as the
   *  transferee's election bypasses the followers' leases (thesis 3.10, 6.4.1). */
  transferAttempted = false;

  constructor(cfg: RaftConfig, storage: StorageView, prng: Prng) {
    validateConfig(cfg);
    this.id = cfg.id;
    this.group = cfg.group;
    this.cfg = cfg;
    this.prng = prng;
    this.log = new RaftLog(storage, cfg.applied);
    const { hardState, confState } = storage.initialState();
    this.trk = new ProgressTracker(configFromConfState(confState), cfg.inflightMsgsMax,
      cfg.inflightBytesMax);
    this.readOnly = new ReadOnly(raftReadIndexPendingMax);
    this.switchToConfig(this.trk.config);
    this.becomeFollower(hardState.term, 0);
    this.vote = hardState.vote;
  }

  // ------------------------------------------------------------------ sending

  send(fields: MessageFields): void {
    const m = makeMessage({ group: this.group, from: this.id, term: this.term, ...fields });
    assert(m.to !== this.id, 'a group never sends a message to itself');
    // Persist before you promise (style.md rule 2): append acks and votes wait for the write.
    if (m.kind === MsgKind.AppResp || m.kind === MsgKind.VoteResp) this.msgsAfterPersist.push(m);
    else this.msgs.push(m);
  }

  /** Sends entries (or a probe, or a snapshot) to `to`; false when nothing was sent. */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    assert(pr !== undefined, `no progress for ${to}`);
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let entries: Entry[] | undefined = [];
    if (pr.state !== ProgressState.Replicate || !pr.inflights.full()) {
      entries = this.log.entriesFrom(pr.next, this.cfg.msgBytesMax);
    }
    if (entries !== undefined && entries.length === 0 && !sendIfEmpty) return false;
    if (prevTerm === undefined || entries === undefined) return this.maybeSendSnapshot(to, pr);
    const commit = this.log.committed;
    this.send({ kind: MsgKind.App, to, index: prevIndex, logTerm: prevTerm, entries, commit });
    pr.sentEntries(entries.length, payloadBytes(entries));
    pr.sentCommit = Math.max(pr.sentCommit, commit);
    return true;
  }

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /** Paper 7: the entries a follower needs were compacted; send the snapshot instead. */
  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false; // wait until the follower is heard from
    const snapshot = this.log.snapshot();
    assert(snapshot.meta.index > 0, 'entries compacted without a snapshot');
    assert(snapshot.meta.index >= this.log.firstIndex() - 1, 'snapshot older than the log');
    // The follower would ignore a snapshot of a config it is not in (restore), and the ack of
    // its commit index would send it again at once: wait for the caller's next snapshot.
    if (!inConfState(snapshot.meta.conf, to)) return false;
    pr.becomeSnapshot(snapshot.meta.index);
    this.send({ kind: MsgKind.Snap, to, snapshot });
    return true;
  }

  bcastAppend(): void {
    for (const id of this.trk.ids) if (id !== this.id) this.sendAppend(id);
  }

  bcastHeartbeat(): void {
    const context = this.readOnly.lastPendingContext();
    for (const id of this.trk.ids) if (id !== this.id) this.sendHeartbeat(id, context);
  }

  sendHeartbeat(to: NodeId, context: Uint8Array | null): void {
    const pr = this.trk.progress.get(to)!;
    // Never tell a follower a commit index beyond what it is known to hold (etcd).
    const commit = Math.min(pr.match, this.log.committed);
    this.send({ kind: MsgKind.Heartbeat, to, commit, context });
  }

  sendTimeoutNow(to: NodeId): void {
    this.send({ kind: MsgKind.TimeoutNow, to });
  }

  // ------------------------------------------------------------------ roles

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = 0;
    }
    this.lead = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTicks +
      this.prng.nextInt(this.cfg.electionTicks);
    this.leadTransferee = 0;
    this.trk.resetVotes();
    const next = this.log.lastIndex() + 1;
    const progress = new Map<NodeId, Progress>();
    for (const id of this.trk.ids) {
      const pr = this.trk.newProgress(next, this.trk.config.learners.has(id));
      if (id === this.id) pr.match = this.log.persistedLastIndex();
      progress.set(id, pr);
    }
    this.trk.setProgress(progress);
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnly(raftReadIndexPendingMax);
    this.pendingReadIndexMessages = [];
    this.leaseStartTick = -Infinity;
    this.bcastPending = false;
    this.eagerCommitIndex = 0;
    this.eagerCommitReached = 0;
    this.transferAttempted = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = Role.Follower;
  }

  becomePreCandidate(): void {
    assert(this.role !== Role.Leader, 'invalid transition: leader -> pre-candidate');
    // Pre-vote changes neither the term nor the vote (thesis 9.6).
    this.role = Role.PreCandidate;
    this.trk.resetVotes();
    this.lead = 0;
  }

  becomeCandidate(): void {
    assert(this.role !== Role.Leader, 'invalid transition: leader -> candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  becomeLeader(): void {
    assert(this.role !== Role.Follower, 'invalid transition: follower -> leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    const self = this.trk.progress.get(this.id)!;
    self.becomeReplicate(); // sets next = match + 1; the leader never sends to itself
    self.recentActive = true;
    // Conservatively, any conf change in the uncommitted tail may still be pending.
    this.pendingConfIndex = this.log.lastIndex();
    // Paper 5.4.2 / thesis 6.4: a no-op of the new term commits the previous terms' entries.
    this.appendEntries([{ term: 0, index: 0, kind: EntryKind.Normal, data: new Uint8Array(0) }]);
    this.eagerCommitIndex = this.log.lastIndex();
  }

  // ------------------------------------------------------------------ elections

  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && this.log.unstable.snapshot === null;
  }

  /** Starts an election (or pre-election) unless this node cannot or should not. */
  hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return; // its config may not be the latest yet
    if (this.cfg.preVote && !transfer) this.campaign(true, false);
    else this.campaign(false, transfer);
  }

  private hasUnappliedConfChanges(): boolean {
    const lo = Math.max(this.log.applied, this.log.firstIndex() - 1) + 1;
    const hi = this.log.committed + 1;
    if (lo >= hi) return false;
    for (const e of this.log.slice(lo, hi, Infinity)) {
      if (e.kind === EntryKind.ConfChange) return true;
    }
    return false;
  }

  campaign(pre: boolean, transfer: boolean): void {
    let term: number;
    if (pre) {
      this.becomePreCandidate();
      term = this.term + 1;
      // A pre-vote for ourselves needs no persistence: nothing changed.
      if (this.poll(this.id, true) === VoteResult.Won) {
        this.campaign(false, transfer);
        return;
      }
    } else {
      this.becomeCandidate();
      term = this.term;
      // Our own vote counts only once it is persisted (onVotePersisted, thesis 3.8).
    }
    const kind = pre ? MsgKind.PreVote : MsgKind.Vote;
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    const context = transfer ? transferContext : null;
    for (const id of allVoters(this.trk.config)) {
      if (id === this.id) continue;
      this.send({ kind, to: id, term, index, logTerm, context });
    }
  }

  poll(id: NodeId, granted: boolean): VoteResultValue {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes();
  }

  /** The Ready holding our vote for ourselves in `term` was persisted. */
  onVotePersisted(term: number): void {
    if (this.role !== Role.Candidate || this.term !== term || this.vote !== this.id) return;
    this.onPollResult(this.poll(this.id, true));
  }

  onPollResult(result: VoteResultValue): void {
    if (result === VoteResult.Won) {
      if (this.role === Role.PreCandidate) {
        this.campaign(false, false);
      } else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (result === VoteResult.Lost) {
      // A pre-candidate keeps its term; a candidate stays in the term it lost.
      this.becomeFollower(this.term, 0);
    }
  }

  /** With check-quorum, a follower that heard from a leader within an election timeout
   *  ignores votes (thesis 4.2.3), and so does a lease-mode node that just started. */
  inLease(): boolean {
    if (!this.cfg.checkQuorum) return false;
    if (this.lead !== 0 && this.electionElapsed < this.cfg.electionTicks) return true;
    return this.cfg.readOnly === 'lease' && this.tickCount < this.cfg.electionTicks;
  }

  // ------------------------------------------------------------------ stepping

  step(m: Message): StepResult {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return null;
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepLowerTerm(m);
      return null;
    }
    const handler = handlers[this.role]?.[m.kind];
    return handler === undefined ? null : handler(this, m);
  }

  /** Returns false when the message is to be ignored. */
  private stepHigherTerm(m: Message): boolean {
    const isVote = m.kind === MsgKind.Vote || m.kind === MsgKind.PreVote;
    if (isVote && !isTransferContext(m.context) && this.inLease()) return false;
    if (m.kind === MsgKind.PreVote) return true; // a pre-vote never changes our term
    if (m.kind === MsgKind.PreVoteResp && !m.reject) return true; // the term bumps on a win
    const fromLeader = m.kind === MsgKind.App || m.kind === MsgKind.Heartbeat ||
      m.kind === MsgKind.Snap;
    this.becomeFollower(m.term, fromLeader ? m.from : 0);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    const fromLeader = m.kind === MsgKind.App || m.kind === MsgKind.Heartbeat;
    if ((this.cfg.checkQuorum || this.cfg.preVote) && fromLeader) {
      // A stale leader (partitioned, thesis 9.6) learns our term and steps down.
      this.send({ kind: MsgKind.AppResp, to: m.from });
    } else if (m.kind === MsgKind.PreVote) {
      this.send({ kind: MsgKind.PreVoteResp, to: m.from, reject: true });
    }
  }

  /** Vote and PreVote, in every role (paper 5.2, 5.4.1; thesis 9.6). */
  onVoteRequest(m: Message): void {
    const pre = m.kind === MsgKind.PreVote;
    const canVote = this.vote === m.from || (this.vote === 0 && this.lead === 0) ||
      (pre && m.term > this.term);
    const respKind = pre ? MsgKind.PreVoteResp : MsgKind.VoteResp;
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // Answer in the candidate's term, so a granted pre-vote is recognised.
      this.send({ kind: respKind, to: m.from, term: m.term });
      if (!pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ kind: respKind, to: m.from, reject: true });
    }
  }

  // ------------------------------------------------------------------ ticks

  tick(): void {
    if (this.quiesced) return;
    this.tickCount++;
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(makeMessage({ kind: MsgKind.Hup, group: this.group, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        this.step(makeMessage({ kind: MsgKind.CheckQuorum, group: this.group, from: this.id }));
      }
      // Thesis 3.10: a transfer that did not finish within an election timeout is aborted.
      if (this.role === Role.Leader && this.leadTransferee !== 0) this.leadTransferee = 0;
    }
    if (this.role !== Role.Leader) return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ kind: MsgKind.Beat, group: this.group, from: this.id }));
    }
  }

  // ------------------------------------------------------------------ leader: log

  /** Appends entries in this term; the leader's own match moves once they are persisted. */
  appendEntries(entries: readonly Entry[]): void {
    const last = this.log.lastIndex();
    const stamped: Entry[] = new Array<Entry>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      stamped[i] = { term: this.term, index: last + 1 + i, kind: e.kind, data: e.data };
    }
    this.log.append(stamped);
  }

  /** Paper 5.4.2: commit by counting replicas only an entry of the current term. */
  maybeCommit(): boolean {
    const index = this.trk.committed();
    if (index <= this.log.committed) return false;
    if (this.log.term(index) !== this.term) return false;
    this.log.commitTo(index);
    return true;
  }

  /** After the commit index moved: release reads waiting for it, tell followers (with the
   *  turn's broadcast). Under lazyCommitBroadcast followers learn an ordinary commit with the
   *  next append or heartbeat instead (their state machines lag by at most a heartbeat; only
   *  the leader serves reads), which saves an append and its ack per follower per write. */
  onCommitAdvanced(): void {
    this.releasePendingReadIndexMessages();
    if (this.cfg.lazyCommitBroadcast !== true || this.takeEagerCommit()) this.bcastPending = true;
  }

  /** Lazy mode: is this a commit followers need at once (each eager index is taken once)? A
   *  committed conf change (thesis 4.1: the voters elect under it; a removed leader steps down
   *  only once they know it), this term's no-op (a new leader's followers apply the previous
   *  terms), a leader outside the config. */
  takeEagerCommit(): boolean {
    if (!isVoter(this.trk.config, this.id)) return true;
    if (this.eagerCommitIndex === 0 || this.log.committed < this.eagerCommitIndex) return false;
    this.eagerCommitReached = this.eagerCommitIndex;
    this.eagerCommitIndex = 0;
    return true;
  }

  /** A follower's ack left it behind our commit index: send a commit-carrying append? */
  shouldBumpCommit(pr: Progress): boolean {
    if (!pr.canBumpCommit(this.log.committed)) return false;
    if (this.cfg.lazyCommitBroadcast !== true) return true;
    return pr.sentCommit < this.eagerCommitReached || !isVoter(this.trk.config, this.id);
  }

  /** Sends the broadcast that proposals and commit advances asked for. */
  flushBroadcast(): void {
    if (!this.bcastPending) return;
    this.bcastPending = false;
    if (this.role === Role.Leader) this.bcastAppend();
  }

  /** The caller persisted our log up to (index, term). */
  onSelfPersisted(index: number, term: number): void {
    if (this.role !== Role.Leader || !this.log.matchTerm(index, term)) return;
    const pr = this.trk.progress.get(this.id);
    if (pr === undefined || !pr.maybeUpdate(index)) return;
    if (this.maybeCommit()) this.onCommitAdvanced();
  }

  /** False when the proposal would exceed uncommittedBytesMax (thesis 10.2.3 backpressure). */
  increaseUncommittedBytes(entries: readonly Entry[]): boolean {
    const bytes = payloadBytes(entries);
    const max = this.cfg.uncommittedBytesMax;
    if (max > 0 && this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytes + bytes > max) {
      return false;
    }
    this.uncommittedBytes += bytes;
    return true;
  }

  reduceUncommittedBytes(bytes: number): void {
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  // ------------------------------------------------------------------ follower: log

  onAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send({ kind: MsgKind.AppResp, to: m.from, index: this.log.committed });
      return;
    }
    const last = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (last !== undefined) {
      this.send({ kind: MsgKind.AppResp, to: m.from, index: last });
      return;
    }
    // Thesis 5.3 fast backtracking: point the leader at our last entry of a term <= its
    // previous term, so it skips a whole term per round trip.
    const hintIndex = Math.min(m.index, this.log.lastIndex());
    const [rejectHint, rejectHintTerm] = this.log.findConflictByTerm(hintIndex, m.logTerm);
    this.send({ kind: MsgKind.AppResp, to: m.from, index: m.index, reject: true, rejectHint,
      rejectHintTerm });
  }

  onHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.send({ kind: MsgKind.HeartbeatResp, to: m.from, context: m.context });
  }

  onSnapshot(m: Message): void {
    assert(m.snapshot !== null, 'MsgSnap without a snapshot');
    if (this.restore(m.snapshot)) {
      this.send({ kind: MsgKind.AppResp, to: m.from, index: this.log.lastIndex() });
    } else {
      this.send({ kind: MsgKind.AppResp, to: m.from, index: this.log.committed });
    }
  }

  /** Installs a leader's snapshot (paper 7); false when it is not needed. */
  private restore(s: Snapshot): boolean {
    if (s.meta.index <= this.log.committed) return false;
    assert(this.role === Role.Follower, 'snapshot restore outside the follower role');
    const cs = s.meta.conf;
    const member = cs.voters.includes(this.id) || cs.learners.includes(this.id) ||
      cs.votersOutgoing.includes(this.id) || cs.learnersNext.includes(this.id);
    if (!member) return false; // a snapshot for a config we are not in: ignore it (etcd)
    if (this.log.matchTerm(s.meta.index, s.meta.term)) {
      // We already hold the snapshot's last entry: fast-forward the commit only.
      this.log.commitTo(s.meta.index);
      return false;
    }
    this.log.restore(s);
    this.trk.config = configFromConfState(cs);
    this.switchToConfig(this.trk.config);
    return true;
  }

  // ------------------------------------------------------------------ membership

  /** Applies a committed ConfChange (the caller calls this when it applies the entry). An
   *  invalid change is a no-op on every replica (they all see the same entry). */
  applyConfChange(cc: ConfChange): ConfState {
    const result = changeConfig(this.trk.config, cc);
    if (result.ok) this.switchToConfig(result.config);
    return confStateFromConfig(this.trk.config);
  }

  switchToConfig(cfg: TrackerConfig): void {
    this.trk.config = cfg;
    const next = Math.max(this.log.lastIndex(), 1);
    const progress = new Map<NodeId, Progress>();
    for (const id of trackedNodes(cfg)) {
      let pr = this.trk.progress.get(id);
      if (pr === undefined) {
        pr = this.trk.newProgress(next, false);
        pr.recentActive = true;
      }
      pr.isLearner = cfg.learners.has(id);
      progress.set(id, pr);
    }
    this.trk.setProgress(progress);
    this.isLearner = cfg.learners.has(this.id);
    this.leaseStartTick = -Infinity; // the lease was earned under the old config
    if (this.role !== Role.Leader) return;
    if (!isVoter(cfg, this.id)) {
      // Removed or demoted: tell followers the commit index, then step down (thesis 4.2.2).
      this.bcastAppend();
      this.maybeStepDownRemoved();
      return;
    }
    if (this.leadTransferee !== 0 && !isVoter(cfg, this.leadTransferee)) this.leadTransferee = 0;
    if (this.maybeCommit()) this.onCommitAdvanced();
    else for (const id of this.trk.ids) if (id !== this.id) this.maybeSendAppend(id, false);
  }

  /** Thesis 4.2.2: a leader no longer in the configuration steps down, but only once its
   *  whole log is committed in the new one. Before that, a voter that has not yet learned the
   *  commit of the removal still counts us as a voter, and we would refuse it our vote for
   *  its shorter log: with two voters left, no one could ever be elected. Until then we keep
   *  replicating (proposals and reads are refused: we are not a member). */
  maybeStepDownRemoved(): void {
    if (this.role !== Role.Leader || isVoter(this.trk.config, this.id)) return;
    if (this.trk.committed() >= this.log.lastIndex()) this.becomeFollower(this.term, 0);
  }

  /** Leader, after the caller applied up to `index`: leave an auto-leave joint config. */
  maybeAutoLeave(): void {
    const cfg = this.trk.config;
    if (this.role !== Role.Leader || !cfg.autoLeave || this.log.applied < this.pendingConfIndex) {
      return;
    }
    if (cfg.voters[1].size === 0) return;
    const data = encodeLeaveJoint;
    this.appendEntries([{ term: 0, index: 0, kind: EntryKind.ConfChange, data }]);
    this.pendingConfIndex = this.log.lastIndex();
    this.eagerCommitIndex = this.pendingConfIndex;
    this.bcastAppend();
  }

  // ------------------------------------------------------------------ reads

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /** Answers a ReadIndex request: a local read state, or a response to the follower. */
  respondToReadIndex(req: Message, index: number, lease = false): void {
    assert(req.context !== null, 'ReadIndex without a context');
    if (req.from === 0 || req.from === this.id) {
      this.readStates.push(lease ? { index, context: req.context, lease: true }
        : { index, context: req.context });
    } else {
      this.send({ kind: MsgKind.ReadIndexResp, to: req.from, index, context: req.context });
    }
  }

  releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.readIndexConfirmed(m);
  }

  /** Thesis 6.4: serve at the current commit index once leadership is confirmed (heartbeat
   *  quorum), or at once under a valid lease (thesis 6.4.1). */
  readIndexConfirmed(m: Message): void {
    if (this.cfg.readOnly === 'lease' && this.leaseValid()) {
      this.respondToReadIndex(m, this.log.committed, true);
      return;
    }
    if (!this.readOnly.addRequest(this.log.committed, m, this.tickCount)) return;
    this.readOnly.recvAck(this.id, m.context!);
    for (const id of this.trk.ids) if (id !== this.id) this.sendHeartbeat(id, m.context);
  }

  /** A heartbeat response carried `context`: count it for the read it confirms; a quorum
   *  releases that read and every read queued before it (thesis 6.4). */
  onHeartbeatAck(from: NodeId, context: Uint8Array): void {
    const acks = this.readOnly.recvAck(from, context);
    if (acks === undefined) return;
    if (jointVoteResult(this.trk.config.voters, acks) !== VoteResult.Won) return;
    for (const rs of this.readOnly.advance(context)) {
      // Those heartbeats left at rs.tick: no other leader can be elected for an election
      // timeout after it, less the drift bound (thesis 6.4.1).
      if (rs.tick > this.leaseStartTick) this.leaseStartTick = rs.tick;
      this.respondToReadIndex(rs.req, rs.index);
    }
  }

  /** The lease holds while no other leader can have been elected: followers that acked a
   *  heartbeat sent at leaseStartTick ignore votes for electionTicks of their own clocks, and
   *  their clocks run at most leaseDriftTicks per election timeout faster than ours.
   *  `ticksDue`: ticks the host's clock has passed that this group has not run yet. */
  leaseValid(ticksDue = 0): boolean {
    if (this.role !== Role.Leader || this.transferAttempted || this.quiesced) return false;
    const expires = this.leaseStartTick + this.cfg.electionTicks - this.cfg.leaseDriftTicks;
    return this.tickCount + ticksDue < expires && this.committedEntryInCurrentTerm();
  }
}

/** A leave-joint ConfChange (no changes), pre-encoded. */
const encodeLeaveJoint: Uint8Array = Uint8Array.of(1, 1, 0, 0, 0, 0);

function inConfState(cs: ConfState, id: NodeId): boolean {
  return cs.voters.includes(id) || cs.learners.includes(id) || cs.votersOutgoing.includes(id) ||
    cs.learnersNext.includes(id);
}

function validateConfig(cfg: RaftConfig): void {
  assert(cfg.id > 0, 'raft config: id must be > 0');
  assert(cfg.heartbeatTicks > 0, 'raft config: heartbeatTicks must be > 0');
  assert(cfg.electionTicks > cfg.heartbeatTicks, 'raft config: electionTicks <= heartbeatTicks');
  assert(cfg.inflightMsgsMax > 0, 'raft config: inflightMsgsMax must be > 0');
  assert(cfg.msgBytesMax > 0, 'raft config: msgBytesMax must be > 0');
  assert(cfg.committedBytesPerReadyMax > 0, 'raft config: committedBytesPerReadyMax <= 0');
  assert(cfg.applied >= 0, 'raft config: applied must be >= 0');
  if (cfg.readOnly === 'lease') {
    assert(cfg.checkQuorum, 'raft config: lease reads need checkQuorum (thesis 6.4.1)');
    assert(cfg.leaseDriftTicks >= 0 && cfg.leaseDriftTicks < cfg.electionTicks,
      'raft config: leaseDriftTicks must be in [0, electionTicks)');
  }
}
