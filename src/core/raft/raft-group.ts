// RaftGroup: the caller's handle on one group (etcd RawNode, async storage writes). Synchronous
// and deterministic; the caller owns every I/O. Contract, per Ready (types.ts, Ready):
//   const rd = g.ready();  send rd.messages; persist rd.snapshot, rd.entries, rd.hardState
//   (fsync if rd.mustSync; restore the state machine from rd.snapshot); g.onPersisted(rd.number);
//   then send rd.messagesAfterPersist; apply rd.committedEntries (a ConfChange entry through
//   g.applyConfChange); g.onApplied(last applied index).
// Readys may be persisted in a pipeline: onPersisted(n) acknowledges every Ready up to n.
import { assert } from '../../assert.js';
import { decodeConfChange, encodeConfChange } from './conf-change.js';
import type { HostedProgress, HostedRaft, HostedStatus } from './multi/hosted-raft.js';
import { confStateFromConfig } from './progress.js';
import { Raft } from './raft.js';
import { payloadBytes } from './raft-log.js';
import { makeMessage } from './message.js';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryKind,
  type HardState,
  type Message,
  MsgKind,
  type NodeId,
  type Prng,
  ProposeError,
  type ProposeErrorValue,
  type RaftConfig,
  type Ready,
  Role,
  type SoftState,
  type StorageView,
} from './types.js';
import { raftReadiesInFlightMax } from '../../limits.js';

/** What a handed-out Ready asked the caller to persist, to settle on onPersisted. */
interface InFlight {
  readonly number: number;
  readonly lastIndex: number; // 0: no entries
  readonly lastTerm: number;
  readonly snapshotIndex: number; // 0: no snapshot
  /** The Ready persisted our vote for ourselves in this term (0: it did not). */
  readonly selfVoteTerm: number;
}

const localKinds: ReadonlySet<number> = new Set([
  MsgKind.Hup, MsgKind.Beat, MsgKind.Prop, MsgKind.Unreachable, MsgKind.SnapStatus,
  MsgKind.CheckQuorum,
]);

export class RaftGroup implements HostedRaft {
  readonly raft: Raft;
  private readyNumber = 0;
  private prevHard: HardState;
  private prevSoft: SoftState;
  private readonly inFlight: InFlight[] = [];

  constructor(config: RaftConfig, storage: StorageView, prng: Prng) {
    this.raft = new Raft(config, storage, prng);
    this.prevHard = storage.initialState().hardState;
    this.prevSoft = { leader: 0, role: Role.Follower };
  }

  get id(): NodeId {
    return this.raft.id;
  }

  tick(): void {
    this.raft.tick();
  }

  /** A message from a peer. Local-only kinds and messages from unknown senders for
   *  responses are dropped (a peer cannot inject a Hup or a proposal outcome). */
  step(m: Message): void {
    if (localKinds.has(m.kind) && !(m.kind === MsgKind.Prop && m.from !== this.raft.id)) return;
    assert(m.to === this.raft.id, 'message delivered to the wrong node');
    assert(m.group === this.raft.group, 'message delivered to the wrong group');
    this.raft.step(m);
  }

  campaign(): void {
    this.raft.step(this.local(MsgKind.Hup, {}));
  }

  propose(data: Uint8Array): ProposeErrorValue | null {
    return this.proposeEntries([{ term: 0, index: 0, kind: EntryKind.Normal, data }]);
  }

  /** Several normal entries in one step (one append, one broadcast). */
  proposeMany(datas: readonly Uint8Array[]): ProposeErrorValue | null {
    if (datas.length === 0) return null;
    return this.proposeEntries(datas.map((data) => (
      { term: 0, index: 0, kind: EntryKind.Normal, data })));
  }

  proposeConfChange(cc: ConfChange): ProposeErrorValue | null {
    const data = encodeConfChange(cc);
    return this.proposeEntries([{ term: 0, index: 0, kind: EntryKind.ConfChange, data }]);
  }

  private proposeEntries(entries: Entry[]): ProposeErrorValue | null {
    if (!this.raft.trk.progress.has(this.raft.id) && this.raft.role === Role.Leader) {
      return ProposeError.NotMember;
    }
    return this.raft.step(this.local(MsgKind.Prop, { entries }));
  }

  /** The caller applied a committed ConfChange entry: the group switches configuration. */
  applyConfChange(e: Entry): ConfState {
    assert(e.kind === EntryKind.ConfChange, 'applyConfChange of a normal entry');
    return this.raft.applyConfChange(decodeConfChange(e.data));
  }

  transferLeader(to: NodeId): void {
    this.raft.step(this.local(MsgKind.TransferLeader, { index: to }));
  }

  /** A linearizable read (thesis 6.4): a ReadState with `context` comes back in a later
   *  Ready; serve the read once applied >= its index. Dropped silently when no leader is
   *  known: the caller times the read out and retries. */
  readIndex(context: Uint8Array): void {
    assert(context.length > 0, 'readIndex needs a non-empty context');
    this.raft.step(this.local(MsgKind.ReadIndex, { context }));
  }

  reportUnreachable(to: NodeId): void {
    this.raft.step(this.local(MsgKind.Unreachable, { from: to }));
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    this.raft.step(this.local(MsgKind.SnapStatus, { from: to, reject: !ok }));
  }

  private local(kind: Message['kind'], fields: Partial<Message>): Message {
    return makeMessage({ kind, group: this.raft.group, from: this.raft.id, to: this.raft.id,
      ...fields });
  }

  hasReady(): boolean {
    const r = this.raft;
    if (r.bcastPending || r.msgs.length > 0 || r.msgsAfterPersist.length > 0) return true;
    if (r.readStates.length > 0) return true;
    if (r.log.unstable.nextEntries().length > 0 || r.log.unstable.nextSnapshot() !== null) {
      return true;
    }
    if (r.log.hasNextCommittedEntries()) return true;
    if (r.lead !== this.prevSoft.leader || r.role !== this.prevSoft.role) return true;
    const hs = this.prevHard;
    return r.term !== hs.term || r.vote !== hs.vote || r.log.committed !== hs.commit;
  }

  ready(): Ready {
    const r = this.raft;
    assert(this.inFlight.length < raftReadiesInFlightMax, 'too many Readys not yet persisted');
    r.flushBroadcast();
    const log = r.log;
    const entries = log.unstable.nextEntries();
    const snapshot = log.unstable.nextSnapshot();
    const hard: HardState = { term: r.term, vote: r.vote, commit: log.committed };
    const hs = this.prevHard;
    const hardChanged = hard.term !== hs.term || hard.vote !== hs.vote ||
      hard.commit !== hs.commit;
    const soft = r.lead !== this.prevSoft.leader || r.role !== this.prevSoft.role
      ? { leader: r.lead, role: r.role } : null;
    const committedEntries = log.nextCommittedEntries(r.cfg.committedBytesPerReadyMax);
    const number = ++this.readyNumber;
    const last = entries[entries.length - 1];
    const selfVote = hardChanged && hard.vote === r.id && r.role === Role.Candidate;
    this.inFlight.push({
      number, lastIndex: last?.index ?? 0, lastTerm: last?.term ?? 0,
      snapshotIndex: snapshot?.meta.index ?? 0, selfVoteTerm: selfVote ? hard.term : 0,
    });
    const rd: Ready = {
      number, softState: soft, hardState: hardChanged ? hard : null, entries, snapshot,
      messages: r.msgs, messagesAfterPersist: r.msgsAfterPersist, committedEntries,
      readStates: r.readStates,
      mustSync: entries.length > 0 || snapshot !== null || hard.term !== hs.term ||
        hard.vote !== hs.vote,
    };
    this.acceptReady(rd, hard, soft);
    return rd;
  }

  private acceptReady(rd: Ready, hard: HardState, soft: SoftState | null): void {
    const r = this.raft;
    r.msgs = [];
    r.msgsAfterPersist = [];
    r.readStates = [];
    r.log.unstable.acceptInProgress();
    this.prevHard = hard;
    if (soft !== null) this.prevSoft = soft;
    const handed = rd.committedEntries;
    if (handed.length > 0) {
      const lastHanded = handed[handed.length - 1]!.index;
      assert(lastHanded > r.log.applying, 'committed entries handed out twice');
      r.log.applying = lastHanded;
      if (r.role === Role.Leader) r.reduceUncommittedBytes(payloadBytes(handed));
    }
  }

  /** The caller persisted every Ready up to `readyNumber` (in order). */
  onPersisted(readyNumber: number): void {
    const r = this.raft;
    while (this.inFlight.length > 0 && this.inFlight[0]!.number <= readyNumber) {
      const f = this.inFlight.shift()!;
      if (f.snapshotIndex > 0) {
        r.log.unstable.stableSnapTo(f.snapshotIndex);
        // The caller restored its state machine from the snapshot before acknowledging it.
        if (r.log.applied < f.snapshotIndex) r.log.applied = f.snapshotIndex;
        if (r.log.applying < f.snapshotIndex) r.log.applying = f.snapshotIndex;
      }
      if (f.lastIndex > 0) {
        r.log.unstable.stableTo(f.lastIndex, f.lastTerm);
        r.onSelfPersisted(f.lastIndex, f.lastTerm);
      }
      if (f.selfVoteTerm > 0) r.onVotePersisted(f.selfVoteTerm);
    }
  }

  /** The caller applied committed entries up to `index`. */
  onApplied(index: number): void {
    const r = this.raft;
    assert(index <= r.log.applying, `applied ${index} beyond what was handed out`);
    r.log.appliedTo(index);
    r.maybeAutoLeave();
  }

  /** Nothing in flight here: no Ready to collect or to persist, no read or transfer open. */
  isIdle(): boolean {
    const r = this.raft;
    return !this.hasReady() && this.inFlight.length === 0 && r.readOnly.size === 0 &&
      r.pendingReadIndexMessages.length === 0 && r.leadTransferee === 0;
  }

  status(): HostedStatus {
    const r = this.raft;
    let progress: Map<NodeId, HostedProgress> | undefined;
    if (r.role === Role.Leader) {
      progress = new Map();
      for (const [id, pr] of r.trk.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state });
      }
    }
    return {
      id: r.id, group: r.group, term: r.term, role: r.role, leader: r.lead,
      commit: r.log.committed, applied: r.log.applied, lastIndex: r.log.lastIndex(),
      conf: confStateFromConfig(r.trk.config), progress,
    };
  }
}
