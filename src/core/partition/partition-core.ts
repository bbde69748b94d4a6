// The pure core of a partition worker (style.md "One turn of PartitionCore"): every partition
// it owns is a Raft group over an in-memory log (restored from RocksDB), a persistent
// KahunaStateStore fed by committed entries, and an ephemeral one that lives in the leader's
// memory only. The worker glue feeds it requests, writer acks and ticks, and carries out what
// it asks through the sink (persist a batch, reply, publish a leader change). No I/O, no clock.
//
// Per request: persistent writes are stamped with the leader's HLC and proposed; the reply
// goes out when the entry is applied (after the writer's fsync: persist before you promise).
// Persistent reads wait for a ReadIndex (thesis 6.4) and the apply of that index. Ephemeral
// operations run at once on the leader. A partition that is not the leader, or a proposal that
// lost its leader, answers MustRetry (the caller repeats the request).
import { assert } from '../../assert.js';
import { errorData, type ErrorCode, type ErrorData } from '../../errors.js';
import type { WriteOpInput } from '../../ipc/writer-client.js';
import { decode, encode } from '../../ipc/messages/codec.js';
import { isKahunaOp, type KahunaOpValue, opCodecs } from '../../ipc/messages/kahuna.js';
import type { Hlc } from '../api/types.js';
import { PartitionStorage, type Proposal, type Replica } from './replica.js';
import { RaftGroup } from '../raft/raft-group.js';
import { decodePeerBatch, encodePeerBatch } from '../raft/multi/batch-codec.js';
import { MultiRaftNode } from '../raft/multi/multi-raft-node.js';
import { decodeConfChange } from '../raft/conf-change.js';
import {
  type ConfChange, ConfChangeKind, type ConfChangeKindValue, type ConfChangeSingle,
  type ConfState, type Entry, EntryKind, type HardState, MsgKind, type Prng,
  type Ready, Role, type Snapshot,
} from '../raft/types.js';
import type { KahunaStateStore, StateRecord } from '../state/kahuna-state.js';
import {
  checkpointKey, hardStateKey, raftLogKey, raftLogRange, stateKey, stateRange,
} from '../writer/keys.js';
import { HlcClock } from './hlc-clock.js';
import { logTrimChunkEntries, logTrimPerPersistEntries } from '../../limits.js';
import { defaultReadMode, partitionRaftConfig, type ReadMode } from './raft-config.js';
import { compareHlc } from '../state/hlc.js';
import { dispatchRead, dispatchWrite, isReadOp, durabilityOf } from './dispatch.js';
import {
  type Checkpoint, decodeCommand, decodeSnapshotData, encodeCheckpoint, encodeCommand,
  encodeConfState, encodeEntry, encodeHardState, encodeSnapshotData,
} from './raft-records.js';

/** What a partition's disk held at start (read back by the worker through the writer). */
export interface RestoredPartition {
  readonly partition: number;
  readonly hardState: HardState | null;
  readonly checkpoint: Checkpoint | null;
  readonly records: readonly StateRecord[];
  /** The log after the checkpoint. */
  readonly entries: readonly Entry[];
  /** The lowest log index on disk (null: none): below the checkpoint, the rest of a trim the
   *  last run did not finish, which this one finishes. */
  readonly logStart: number | null;
}

export interface CoreSink {
  reply(id: number, payload: Uint8Array): void;
  /**
   * Inline hosts only: a Kahuna op's answer as the response object itself, instead of its
   * encoding through reply(): the main thread on the same thread takes it as it is (and
   * encodes it only where it needs bytes, a forwarded request's reply). The object may share
   * immutable parts (Hlc stamps, value bytes, constant answers) with the state: a consumer
   * never mutates it.
   */
  replyValue?(id: number, op: KahunaOpValue, value: unknown): void;
  replyError(id: number, error: ErrorData): void;
  /** Persist `ops` as one atomic batch; call core.onPersisted(partition, token) when durable. */
  persist(partition: number, ops: WriteOpInput[], token: number): void;
  /** The partition's leader as this replica knows it changed (0: none known). */
  leaderChanged(partition: number, leader: number, term: number): void;
  /** One encoded PeerBatch (batch-codec.ts) for node `to`: every group's messages of a turn. */
  sendRaft(to: number, batch: Uint8Array): void;
  /** This replica replaced its state with a leader's snapshot at `index`. */
  snapshotInstalled?(partition: number, index: number): void;
  /** A membership change was applied: the partition's members now, the change and its
   *  context (Honu: the added node's address). */
  membersChanged?(partition: number, conf: ConfState, changes: readonly ConfChangeSingle[],
    context: Uint8Array | null): void;
}

export interface PartitionCoreOptions {
  readonly nodeId: number;
  /** Members of every group when a partition starts with no checkpoint (bootstrap). A node
   *  that joined a running cluster is not one of them: it learns its own role from the log or
   *  a snapshot. */
  readonly voters: readonly number[];
  readonly newStore: (partition: number, persistent: boolean) => KahunaStateStore;
  readonly prng: (partition: number) => Prng;
  /** Checkpoint after this many applied entries (and on demand). */
  readonly checkpointEntries: number;
  /** This node's incarnation, larger after every restart (MultiRaftNode liveness). */
  readonly epoch?: number;
  /** How a leader confirms a linearizable read (--reads; raft-config.ts). */
  readonly reads?: ReadMode;
  /** Raft ticks the host's monotonic clock has passed but not run yet (0 if absent): a read
   *  granted under the lease is served only if the lease still holds counting them. */
  readonly ticksDue?: () => number;
}

/** Ticks after handing a snapshot to the transport before its progress is reported: the
 *  leader then probes the follower again (a lost snapshot is sent anew). */
const snapshotReportTicks = 20;
/** Auto-promotion: a learner within this many entries of the leader's last index ... */
const learnerCatchUpEntries = 10;
/** ... for this many ticks in a row (3 s) becomes a voter. */
const learnerCatchUpTicks = 30;
/** Liveness of peer nodes, in ticks (MultiRaftNode; quiescence is off here). */
const peerDownAfterTicks = 30;
const peerBeaconIntervalTicks = 10;

const emptyData = new Uint8Array(0);

export class PartitionCore {
  private readonly replicas = new Map<number, Replica>();
  private readonly opts: PartitionCoreOptions;
  private readonly sink: CoreSink;
  private readonly node: MultiRaftNode;
  private readCtx = 0;
  private ticks = 0;
  /** Snapshots handed to the transport: reported to Raft snapshotReportTicks later. */
  private readonly snapshotsSent: { partition: number; to: number; dueTick: number }[] = [];

  constructor(opts: PartitionCoreOptions, restored: readonly RestoredPartition[], sink: CoreSink) {
    this.opts = opts;
    this.sink = sink;
    const peers = new Set(opts.voters);
    for (const r of restored) {
      const conf = r.checkpoint?.conf;
      if (conf !== undefined) {
        for (const id of [...conf.voters, ...conf.learners, ...conf.votersOutgoing]) peers.add(id);
      }
    }
    peers.delete(opts.nodeId);
    this.node = new MultiRaftNode({
      id: opts.nodeId, epoch: opts.epoch ?? 0, peers: [...peers].sort((a, b) => a - b),
      quiesce: false, quiesceAfterIdleTicks: 1, peerDownAfterTicks, peerBeaconIntervalTicks,
    });
    for (const r of restored) {
      const rep = this.restore(r);
      this.replicas.set(r.partition, rep);
      this.node.addGroup(r.partition, rep.raft, false);
    }
  }

  private restore(r: RestoredPartition): Replica {
    const cp = r.checkpoint;
    const conf: ConfState = cp?.conf ?? { voters: [...this.opts.voters], learners: [],
      votersOutgoing: [], learnersNext: [], autoLeave: false };
    const storage = new PartitionStorage(conf);
    if (cp !== null) {
      storage.applySnapshot({ meta: { index: cp.index, term: cp.term, conf }, data: emptyData });
    }
    storage.append(r.entries.filter((e) => e.index > (cp?.index ?? 0)));
    if (r.hardState !== null) storage.setHardState(r.hardState);
    const applied = cp?.index ?? 0;
    const persistent = this.opts.newStore(r.partition, true);
    for (const rec of r.records) persistent.load(rec);
    const clock = new HlcClock(this.opts.nodeId);
    if (cp !== null) clock.observe(cp.hlc);
    const raft = new RaftGroup(partitionRaftConfig(this.opts.nodeId, r.partition, applied,
      this.opts.reads ?? defaultReadMode), storage,
      this.opts.prng(r.partition));
    const rep: Replica = {
      partition: r.partition, raft, storage, persistent,
      ephemeral: this.opts.newStore(r.partition, false), clock, proposals: new Map(),
      readBatches: new Map(), queuedReads: [], servable: [], inflight: [],
      persistedLast: storage.lastIndex(),
      hardState: r.hardState, hardStateWritten: true, writtenTerm: r.hardState?.term ?? 0,
      writtenVote: r.hardState?.vote ?? 0,
      applied, appliedHlc: cp?.hlc ?? { n: 0, l: 0, c: 0 }, conf, checkpointIndex: applied,
      // Entries below the checkpoint still on disk (a trim the last run did not finish).
      trimFrom: Math.min(r.logStart ?? applied + 1, applied + 1),
      leader: 0, term: 0, learnerTicks: new Map(),
    };
    storage.source = () => this.snapshotOf(rep);
    return rep;
  }

  /** A snapshot at the applied index: every persistent record, the membership there. */
  private snapshotOf(rep: Replica): Snapshot {
    const index = rep.applied;
    return {
      meta: { index, term: rep.storage.term(index), conf: rep.conf },
      data: encodeSnapshotData({ hlc: rep.appliedHlc, records: rep.persistent.allRecords() }),
    };
  }

  partitions(): number[] {
    return [...this.replicas.keys()];
  }

  /** Starts elections at once where this node is the only voter (it elects itself without a
   *  timeout); groups with peers elect on their election timers. */
  campaignAll(): void {
    for (const rep of this.replicas.values()) {
      const voters = rep.conf.voters;
      if (voters.length === 1 && voters[0] === this.opts.nodeId) rep.raft.campaign();
    }
  }

  tick(): void {
    this.ticks += 1;
    this.node.tick();
    for (const rep of this.replicas.values()) this.persistTrim(rep, logTrimChunkEntries);
    this.promoteLearners();
    while (this.snapshotsSent.length > 0 && this.snapshotsSent[0]!.dueTick <= this.ticks) {
      const s = this.snapshotsSent.shift()!;
      this.node.reportSnapshot(s.partition, s.to, true);
    }
  }

  /** One encoded PeerBatch from another node (its groups that live in this worker). */
  onRaft(batch: Uint8Array): void {
    let decoded;
    try {
      decoded = decodePeerBatch(batch);
    } catch {
      return; // a damaged batch is a lost message: Raft retransmits
    }
    if (decoded.to !== this.opts.nodeId || decoded.from === this.opts.nodeId) return;
    this.node.step(decoded);
  }

  /** The transport could not reach `peer`. */
  reportUnreachable(peer: number): void {
    this.node.reportUnreachable(peer);
  }

  isLeader(partition: number): boolean {
    const rep = this.replicas.get(partition);
    return rep !== undefined && rep.raft.raft.role === Role.Leader;
  }

  /** Leader balancing: hands `partition`'s leadership to `to` if this node leads it (Raft
   *  catches `to` up first, then tells it to campaign; the transfer lapses after an election
   *  timeout). Returns false when this node does not lead the partition. */
  transferLeader(partition: number, to: number): boolean {
    const rep = this.replicas.get(partition);
    if (rep === undefined || rep.raft.raft.role !== Role.Leader || to === this.opts.nodeId) {
      return false;
    }
    if (!rep.conf.voters.includes(to)) return false;
    this.node.transferLeader(partition, to);
    return true;
  }

  /** The leader this replica knows of (0: none). */
  leaderOf(partition: number): number {
    return this.replicas.get(partition)?.leader ?? 0;
  }

  /** One client request (op and payload as the main thread encoded them). */
  onRequest(id: number, partition: number, op: number, payload: Uint8Array, nowMs: number): void {
    const rep = this.replicas.get(partition);
    if (rep === undefined) return this.fail(id, 'HONU_ERR_MUST_RETRY', `partition ${partition}`);
    if (!isKahunaOp(op)) return this.fail(id, 'HONU_ERR_INVALID_INPUT', `unknown op ${op}`);
    if (rep.raft.raft.role !== Role.Leader) {
      return this.fail(id, 'HONU_ERR_MUST_RETRY', `partition ${partition} has no leader here`);
    }
    let req: unknown;
    try {
      req = decode(opCodecs[op].request, payload);
    } catch (e) {
      return this.fail(id, 'HONU_ERR_INVALID_INPUT', `malformed request: ${String(e)}`);
    }
    const persistent = durabilityOf(op, req) === 1;
    if (!persistent) return this.runEphemeral(rep, id, op, req, nowMs);
    if (isReadOp(op)) {
      rep.queuedReads.push({ id, op, req });
      return;
    }
    this.propose(rep, id, op, payload, req, nowMs);
  }

  private fail(id: number, code: ErrorCode, detail: string): void {
    this.sink.replyError(id, errorData(code, detail));
  }

  private runEphemeral(rep: Replica, id: number, op: KahunaOpValue, req: unknown,
    nowMs: number): void {
    observeCommitTs(rep.clock, req);
    const now = rep.clock.now(nowMs);
    const res = isReadOp(op) ? dispatchRead(rep.ephemeral, op, req, now)
      : dispatchWrite(rep.ephemeral, op, req, now);
    this.answer(id, op, res);
  }

  /** A Kahuna op's answer: the object itself to an inline host, else its encoding. */
  private answer(id: number, op: KahunaOpValue, res: unknown): void {
    if (this.sink.replyValue !== undefined) this.sink.replyValue(id, op, res);
    else this.sink.reply(id, encode(opCodecs[op].response, res));
  }

  private propose(rep: Replica, id: number, op: KahunaOpValue, payload: Uint8Array,
    req: unknown, nowMs: number): void {
    const data = encodeCommand({ op, hlc: rep.clock.now(nowMs), payload });
    const refused = rep.raft.propose(data);
    if (refused !== null) return this.fail(id, 'HONU_ERR_MUST_RETRY', `proposal: ${refused}`);
    const index = rep.raft.raft.log.lastIndex();
    rep.proposals.set(index, { id, term: rep.raft.raft.term, op, req });
  }

  /** The writer made the batch with `token` (a Ready number) durable. */
  onPersisted(partition: number, token: number): void {
    const rep = this.replicas.get(partition);
    if (rep === undefined) return;
    while (rep.inflight.length > 0 && rep.inflight[0]!.token <= token) {
      this.node.onPersisted(partition, rep.inflight.shift()!.ack);
    }
  }

  /** One turn: start the reads queued this turn, handle every Ready, checkpoint when due. */
  process(nowMs: number): void {
    for (const rep of this.replicas.values()) this.startReads(rep);
    for (let rounds = 0; ; rounds++) {
      assert(rounds < 10_000, 'groups never stopped producing Readys');
      const readys = this.node.readyGroups();
      if (readys.length === 0) break;
      for (const { group, ready } of readys) {
        const rep = this.replicas.get(group);
        assert(rep !== undefined, 'a Ready of a group not hosted here');
        this.handleReady(rep, ready, nowMs);
      }
    }
    for (const rep of this.replicas.values()) {
      if (rep.applied - rep.checkpointIndex >= this.opts.checkpointEntries) this.checkpoint(rep);
    }
    for (const batch of this.node.takeBatches()) {
      for (const m of batch.messages) {
        if (m.kind === MsgKind.Snap) {
          this.snapshotsSent.push({ partition: m.group, to: m.to,
            dueTick: this.ticks + snapshotReportTicks });
        }
      }
      this.sink.sendRaft(batch.to, encodePeerBatch(batch));
    }
  }

  private startReads(rep: Replica): void {
    if (rep.queuedReads.length === 0) return;
    if (rep.raft.raft.role !== Role.Leader) {
      for (const r of rep.queuedReads) this.fail(r.id, 'HONU_ERR_MUST_RETRY', 'leader changed');
      rep.queuedReads = [];
      return;
    }
    const ctx = ++this.readCtx;
    rep.readBatches.set(ctx, rep.queuedReads);
    rep.queuedReads = [];
    rep.raft.readIndex(ctxBytes(ctx));
  }

  private handleReady(rep: Replica, rd: Ready, nowMs: number): void {
    if (rd.softState !== null) this.onSoftState(rep, rd);
    const ops: WriteOpInput[] = [];
    this.persistOps(rep, rd, ops);
    if (ops.length > 0 && rep.trimFrom <= rep.checkpointIndex) {
      // The trim rides with the writes, twice as fast as they append: spread over flushes, as
      // one batch of a checkpoint's worth held every write behind it (bench/RESULTS.md, stop 20).
      this.trimLog(rep, ops, Math.max(logTrimPerPersistEntries, 2 * rd.entries.length));
    }
    if (ops.length > 0) {
      rep.inflight.push({ token: rd.number, ack: rd.number });
      this.sink.persist(rep.partition, ops, rd.number);
    } else if (rep.inflight.length > 0) {
      rep.inflight[rep.inflight.length - 1]!.ack = rd.number;
    } else {
      this.node.onPersisted(rep.partition, rd.number);
    }
    for (const e of rd.committedEntries) this.apply(rep, e);
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    if (last !== undefined) this.node.onApplied(rep.partition, last.index);
    for (const rs of rd.readStates) {
      const ctx = ctxOf(rs.context);
      const reads = rep.readBatches.get(ctx);
      if (reads === undefined) continue;
      rep.readBatches.delete(ctx);
      rep.servable.push({ index: rs.index, lease: rs.lease === true, reads });
    }
    this.serveReads(rep, nowMs);
  }

  private onSoftState(rep: Replica, rd: Ready): void {
    const soft = rd.softState!;
    const term = rep.raft.raft.term;
    const leading = soft.role === Role.Leader;
    const wasLeading = rep.leader === this.opts.nodeId;
    const before = rep.leader;
    rep.leader = leading ? this.opts.nodeId : soft.leader;
    rep.term = term;
    if (!leading && wasLeading) this.abandonAll(rep, 'leadership lost');
    if (rep.leader !== before) this.sink.leaderChanged(rep.partition, rep.leader, term);
  }

  /** Everything in flight on this replica gets MustRetry: no decision was made here. */
  private abandonAll(rep: Replica, why: string): void {
    for (const p of rep.proposals.values()) this.fail(p.id, 'HONU_ERR_MUST_RETRY', why);
    rep.proposals.clear();
    for (const reads of rep.readBatches.values()) {
      for (const r of reads) this.fail(r.id, 'HONU_ERR_MUST_RETRY', why);
    }
    rep.readBatches.clear();
    for (const s of rep.servable) for (const r of s.reads) this.fail(r.id, 'HONU_ERR_MUST_RETRY', why);
    rep.servable.length = 0;
  }

  private persistOps(rep: Replica, rd: Ready, ops: WriteOpInput[]): void {
    if (rd.snapshot !== null) this.installSnapshot(rep, rd.snapshot, ops);
    const first = rd.entries[0];
    if (first !== undefined) {
      const lastNew = rd.entries[rd.entries.length - 1]!.index;
      if (first.index <= rep.persistedLast && lastNew < rep.persistedLast) {
        // A new leader replaced our tail: drop the stale entries after the new last one, by
        // key (they are known; a delete range would make the writer enumerate them and scan
        // its open batch for those of them it holds).
        for (let i = lastNew + 1; i <= rep.persistedLast; i++) {
          ops.push({ kind: 'delete', key: raftLogKey(rep.partition, i) });
        }
      }
      for (const e of rd.entries) {
        ops.push({ kind: 'put', key: raftLogKey(rep.partition, e.index), value: encodeEntry(e) });
      }
      rep.persistedLast = lastNew;
      rep.storage.append(rd.entries);
    }
    if (rd.hardState !== null) {
      rep.storage.setHardState(rd.hardState);
      rep.hardState = rd.hardState;
      rep.hardStateWritten = false;
    }
    const hs = rep.hardState;
    if (hs === null || rep.hardStateWritten) return;
    const voteChanged = hs.term !== rep.writtenTerm || hs.vote !== rep.writtenVote;
    if (voteChanged || ops.length > 0) this.writeHardState(rep, ops);
  }

  /** A follower too far behind got the leader's state: it replaces this replica's state and
   *  log, on disk in the same atomic batch (state range and log cleared, the records and a
   *  checkpoint at the snapshot's index written) and in memory at once. */
  private installSnapshot(rep: Replica, snap: Snapshot, ops: WriteOpInput[]): void {
    const data = decodeSnapshotData(snap.data);
    const { index, term, conf } = snap.meta;
    const state = stateRange(rep.partition);
    ops.push({ kind: 'deleteRange', start: state.start, end: state.end ?? state.start });
    const log = raftLogRange(rep.partition);
    ops.push({ kind: 'deleteRange', start: log.start, end: log.end ?? log.start });
    const store = this.opts.newStore(rep.partition, true);
    for (const rec of data.records) {
      store.load(rec);
      ops.push({ kind: 'put', key: stateKey(rep.partition, rec.namespace, rec.key),
        value: rec.value! });
    }
    store.takeDirty(); // loaded records are on disk already (this batch)
    ops.push({ kind: 'put', key: checkpointKey(rep.partition),
      value: encodeCheckpoint({ index, term, conf, hlc: data.hlc }) });
    rep.storage.applySnapshot(snap);
    rep.persistent = store;
    rep.applied = index;
    rep.checkpointIndex = index;
    rep.trimFrom = index + 1; // this batch clears the whole log
    rep.persistedLast = index;
    rep.conf = conf;
    rep.appliedHlc = data.hlc;
    rep.clock.observe(data.hlc);
    this.abandonAll(rep, 'replaced by a snapshot');
    rep.hardStateWritten = false; // the hard state rides in this batch
    this.sink.snapshotInstalled?.(rep.partition, index);
  }

  private writeHardState(rep: Replica, ops: WriteOpInput[]): void {
    const hs = rep.hardState;
    if (hs === null || rep.hardStateWritten) return;
    ops.push({ kind: 'put', key: hardStateKey(rep.partition), value: encodeHardState(hs) });
    rep.hardStateWritten = true;
    rep.writtenTerm = hs.term;
    rep.writtenVote = hs.vote;
  }

  private apply(rep: Replica, e: Entry): void {
    if (e.index <= rep.applied) return;
    rep.applied = e.index;
    if (e.kind === EntryKind.ConfChange) return this.applyConfChange(rep, e);
    if (e.data.length === 0) {
      // A new leader's no-op, or a membership change Raft refused (one was pending).
      const refused = rep.proposals.get(e.index);
      if (refused !== undefined) {
        rep.proposals.delete(e.index);
        this.fail(refused.id, 'HONU_ERR_MUST_RETRY', 'another membership change was pending');
      }
      return;
    }
    const proposal = rep.proposals.get(e.index);
    if (proposal !== undefined) rep.proposals.delete(e.index);
    const mine = proposal !== undefined && proposal.term === e.term ? proposal : undefined;
    if (proposal !== undefined && mine === undefined) {
      this.fail(proposal.id, 'HONU_ERR_MUST_RETRY', 'the proposal was replaced');
    }
    this.applyCommand(rep, e, mine);
  }

  private applyConfChange(rep: Replica, e: Entry): void {
    const before = rep.conf;
    rep.conf = rep.raft.applyConfChange(e);
    const cc = decodeConfChange(e.data);
    const proposal = rep.proposals.get(e.index);
    if (proposal !== undefined) {
      rep.proposals.delete(e.index);
      if (proposal.term === e.term) this.sink.reply(proposal.id, encodeConfState(rep.conf));
      else this.fail(proposal.id, 'HONU_ERR_MUST_RETRY', 'the proposal was replaced');
    }
    if (rep.conf !== before) {
      this.sink.membersChanged?.(rep.partition, rep.conf, cc.changes, cc.context ?? null);
    }
  }

  /** A membership change of one partition (main thread: join, leave). Answered with the
   *  partition's members once applied (encodeConfState); MustRetry if not the leader or if
   *  another change is still pending. */
  proposeMembership(id: number, partition: number, kind: ConfChangeKindValue, node: number,
    context: Uint8Array | null): void {
    const rep = this.replicas.get(partition);
    if (rep === undefined) return this.fail(id, 'HONU_ERR_MUST_RETRY', `partition ${partition}`);
    if (rep.raft.raft.role !== Role.Leader) {
      return this.fail(id, 'HONU_ERR_MUST_RETRY', `partition ${partition} has no leader here`);
    }
    const cc: ConfChange = { changes: [{ kind, node }], leaveJoint: false,
      ...(context === null ? {} : { context }) };
    const refused = rep.raft.proposeConfChange(cc);
    if (refused !== null) return this.fail(id, 'HONU_ERR_MUST_RETRY', `proposal: ${refused}`);
    rep.proposals.set(rep.raft.raft.log.lastIndex(), { id, term: rep.raft.raft.term, op: 0,
      req: null });
  }

  /** The members of a partition as this replica applied them. */
  membersOf(partition: number): ConfState | null {
    return this.replicas.get(partition)?.conf ?? null;
  }

  /** On each partition led here: a learner whose log is within learnerCatchUpEntries of the
   *  leader's for learnerCatchUpTicks in a row becomes a voter (Kahuna's auto-promotion). */
  private promoteLearners(): void {
    for (const rep of this.replicas.values()) {
      if (rep.conf.learners.length === 0 || rep.raft.raft.role !== Role.Leader) {
        rep.learnerTicks.clear();
        continue;
      }
      const progress = rep.raft.status().progress;
      const last = rep.raft.raft.log.lastIndex();
      for (const learner of rep.conf.learners) {
        // match > 0: the learner answered at least once (a node that never did is not
        // "caught up" just because the log is short).
        const match = progress?.get(learner)?.match ?? 0;
        const ticks = match > 0 && last - match <= learnerCatchUpEntries
          ? (rep.learnerTicks.get(learner) ?? 0) + 1 : 0;
        rep.learnerTicks.set(learner, ticks);
        if (ticks < learnerCatchUpTicks) continue;
        rep.learnerTicks.set(learner, 0);
        rep.raft.proposeConfChange({ changes: [{ kind: ConfChangeKind.AddVoter, node: learner }],
          leaveJoint: false });
      }
    }
  }

  /** Applies one command entry; the same bytes give the same result on every replica.
   *  `mine`: this leader's proposal of the entry, with its own decoding of the same payload;
   *  it gets the answer (without one, a follower's, the answer is dropped unencoded). */
  private applyCommand(rep: Replica, e: Entry, mine: Proposal | undefined): void {
    const cmd = decodeCommand(e.data);
    const stamp = stampAfter(cmd.hlc, rep.appliedHlc);
    rep.clock.observe(stamp);
    rep.appliedHlc = stamp;
    assert(isKahunaOp(cmd.op), `entry ${e.index} holds unknown op ${cmd.op}`);
    const codec = opCodecs[cmd.op];
    const req = mine?.req ?? decode(codec.request, cmd.payload);
    observeCommitTs(rep.clock, req);
    const res = dispatchWrite(rep.persistent, cmd.op, req, stamp);
    if (mine !== undefined) this.answer(mine.id, cmd.op, res);
  }

  private serveReads(rep: Replica, nowMs: number): void {
    while (rep.servable.length > 0 && rep.servable[0]!.index <= rep.applied) {
      const { reads, lease } = rep.servable.shift()!;
      const now = rep.clock.now(nowMs);
      if (!lease) {
        for (const r of reads) {
          this.answer(r.id, r.op, dispatchRead(rep.persistent, r.op, r.req, now));
        }
        continue;
      }
      // Granted at the group's tick count, which may lag the clock (the thread stalled after
      // its catch-up): read first, then check the lease against the clock as it is now. If
      // it held now, it held when the read was granted (or a later heartbeat round confirmed
      // this leader after that), so the replies are linearizable; if not, the reads go back
      // to the queue and the next turn confirms them with a heartbeat round.
      const replies = reads.map((r) => dispatchRead(rep.persistent, r.op, r.req, now));
      if (!rep.raft.raft.leaseValid(this.opts.ticksDue?.() ?? 0)) {
        rep.queuedReads.push(...reads);
        continue;
      }
      reads.forEach((r, i) => this.answer(r.id, r.op, replies[i]));
    }
  }

  /** Materializes what changed since the last checkpoint in one atomic batch (the restore
   *  path: checkpoint + replay of the log after it); the log up to it is trimmed later. */
  checkpoint(rep: Replica): void {
    const index = rep.applied;
    if (index <= rep.checkpointIndex) return;
    const ops: WriteOpInput[] = [];
    for (const rec of rep.persistent.takeDirty()) {
      const key = stateKey(rep.partition, rec.namespace, rec.key);
      ops.push(rec.value === null ? { kind: 'delete', key } : { kind: 'put', key, value: rec.value });
    }
    const term = rep.storage.term(index);
    this.writeHardState(rep, ops);
    ops.push({ kind: 'put', key: checkpointKey(rep.partition),
      value: encodeCheckpoint({ index, term, conf: rep.conf, hlc: rep.appliedHlc }) });
    this.sink.persist(rep.partition, ops, 0);
    rep.storage.createSnapshot(index, rep.conf, emptyData);
    rep.storage.compact(index);
    rep.checkpointIndex = index;
  }

  /** Deletes (into `ops`) up to `max` more log entries below the checkpoint, by key: no range
   *  for the writer to enumerate. Those entries are never read again (a restore replays only
   *  what follows its checkpoint) nor rewritten (they are committed), so the trim needs no
   *  atomicity with the checkpoint: a crash leaves a rest the restarted replica trims. */
  private trimLog(rep: Replica, ops: WriteOpInput[], max: number): void {
    const end = Math.min(rep.checkpointIndex + 1, rep.trimFrom + max);
    for (let i = rep.trimFrom; i < end; i++) {
      ops.push({ kind: 'delete', key: raftLogKey(rep.partition, i) });
    }
    rep.trimFrom = end;
  }

  /** Up to `max` more of the trim as a batch of its own (an idle partition, a clean stop). */
  private persistTrim(rep: Replica, max: number): void {
    if (rep.trimFrom > rep.checkpointIndex) return;
    const ops: WriteOpInput[] = [];
    this.trimLog(rep, ops, max);
    this.sink.persist(rep.partition, ops, 0);
  }

  /** Checkpoints every partition with applied entries since its last one, and trims its log
   *  (shutdown). */
  checkpointAll(): void {
    for (const rep of this.replicas.values()) {
      this.checkpoint(rep);
      this.persistTrim(rep, Infinity); // a clean stop leaves no rest
    }
  }

  /** Abandons everything in flight (the worker is stopping or the writer failed). */
  failAll(why: string): void {
    for (const rep of this.replicas.values()) {
      this.abandonAll(rep, why);
      for (const r of rep.queuedReads) this.fail(r.id, 'HONU_ERR_MUST_RETRY', why);
      rep.queuedReads = [];
    }
  }

  /** Deterministic digest of a partition's persistent state (tests). */
  stateHash(partition: number): number {
    const rep = this.replicas.get(partition);
    assert(rep !== undefined, 'partition not hosted');
    return rep.persistent.hash();
  }
}

/** The stamp an entry applies with: its proposer's, unless that is not after the previous
 *  entry's. A new leader may propose before it has applied its predecessor's last entries
 *  (followers learn commits lazily) and so before its clock has seen their stamps; with a
 *  wall clock behind theirs its stamp would go back in log order. Every replica computes the
 *  same result from the same log. */
function stampAfter(proposed: Hlc, previous: Hlc): Hlc {
  if (compareHlc(proposed, previous) > 0) return proposed;
  return { n: proposed.n, l: previous.l, c: previous.c + 1 };
}

function ctxBytes(ctx: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, ctx);
  return b;
}

function ctxOf(b: Uint8Array): number {
  return b.length === 8 ? new DataView(b.buffer, b.byteOffset, 8).getFloat64(0) : -1;
}

/** A transaction's commit timestamp (TxPrepare, TxFinish) moves the clock past it, so later
 *  writes here are stamped after the transaction's. */
function observeCommitTs(clock: HlcClock, req: unknown): void {
  const ts = (req as { commitTs?: Hlc }).commitTs;
  if (ts !== undefined && ts.l !== 0) clock.observe(ts);
}
