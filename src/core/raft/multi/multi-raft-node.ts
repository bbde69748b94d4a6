// A node hosting many Raft groups: the pure core of a partition worker (dragonboat's
// execution engine, CockroachDB's Store). One turn is: step() the batches that arrived, tick()
// if a tick is due, readyGroups() and persist them, onPersisted() as the writes complete,
// onApplied() after applying, and takeBatches() to send. The node adds three things on top of
// the groups (issue 3, deliverable 3):
//
// Batching: every message of every group to one peer goes in one PeerBatch per turn.
// Heartbeat coalescing: a group's MsgHeartbeat/MsgHeartbeatResp become four numbers in the
//   batch's heartbeat lists and are fanned out to the groups on receipt (peer-batch.ts).
// Quiescence (CockroachDB): a leader idle for quiesceAfterIdleTicks, with every follower's
//   match at its last index and everything committed and applied, sends each follower a
//   QuiesceHeartbeat and stops ticking. A follower whose term, leader, last index and commit
//   equal the notice's stops ticking too. A quiesced group costs nothing per tick.
//   Waking: any proposal, read, transfer or campaign on the group; any incoming message for it
//   except a heartbeat response (to the leader) or a quiesce notice (to a follower); a wake
//   notice from a follower; and node liveness: when the leader's node goes down (silent for
//   peerDownAfterTicks, or reported unreachable) its followers wake, and when a node comes
//   back or restarts, the groups led here or by it wake.
//   Safety: Raft's safety never depends on timing, so not ticking cannot break election
//   safety, log matching or leader completeness; it can only delay elections (liveness).
//   Liveness: a follower stops ticking only while it hears from its leader's node, and every
//   node sends something to every peer each peerBeaconIntervalTicks; if the leader's node dies
//   or is cut off, within peerDownAfterTicks the followers wake and elect as usual. A follower
//   that missed the notice keeps ticking and its (pre)vote request wakes everyone. Lease reads
//   assume the leader ticks, so groups with readOnly 'lease' must be added with quiesce off.
//   Contract with RaftGroup: a group that is not ticked keeps its timers frozen; when ticks
//   resume it goes on from where it was, so it never elects early because of the pause.
import { assert } from '../../../assert.js';
import { multiRaftGroupsMax, multiRaftPendingReadiesMax } from '../../../limits.js';
import {
  MsgKind, Role, type ConfChange, type GroupId, type Message, type NodeId,
  type ProposeErrorValue, type Ready,
} from '../types.js';
import type { HostedRaft, HostedStatus } from './hosted-raft.js';
import { fanOut, PeerOutbox, type PeerBatch, type QuiesceHeartbeat } from './peer-batch.js';
import { PeerChange, PeerLiveness } from './peer-liveness.js';

export interface MultiRaftConfig {
  readonly id: NodeId;
  /** Incarnation of this node, larger after every restart (peers then wake its groups). */
  readonly epoch: number;
  readonly peers: readonly NodeId[];
  readonly quiesce: boolean;
  readonly quiesceAfterIdleTicks: number;
  readonly peerDownAfterTicks: number;
  readonly peerBeaconIntervalTicks: number;
}

export interface GroupReady {
  readonly group: GroupId;
  readonly ready: Ready;
}

export interface MultiRaftStats {
  groupTicks: number;
  groupTicksSkipped: number;
  quiesces: number;
  wakes: number;
  batchesSent: number;
  heartbeatsCoalesced: number;
  messagesUnknownGroup: number;
}

interface Hosted {
  readonly raft: HostedRaft;
  readonly quiesceAllowed: boolean;
  quiesced: boolean;
  idleTicks: number;
  /** Leader when quiesced (0 otherwise): whose death must wake this group. */
  quiescedLeader: NodeId;
  /** messagesAfterPersist by Ready number, released by onPersisted. */
  readonly pending: Map<number, readonly Message[]>;
}

export class MultiRaftNode {
  readonly id: NodeId;
  readonly epoch: number;
  readonly stats: MultiRaftStats = {
    groupTicks: 0, groupTicksSkipped: 0, quiesces: 0, wakes: 0, batchesSent: 0,
    heartbeatsCoalesced: 0, messagesUnknownGroup: 0,
  };
  private readonly config: MultiRaftConfig;
  private readonly groups = new Map<GroupId, Hosted>();
  private readonly outbox: PeerOutbox;
  private readonly liveness: PeerLiveness;
  private ticks = 0;

  constructor(config: MultiRaftConfig) {
    assert(config.id > 0 && config.epoch >= 0, 'node id positive, epoch non-negative');
    assert(config.quiesceAfterIdleTicks >= 1, 'quiesceAfterIdleTicks >= 1');
    assert(!config.peers.includes(config.id), 'peers exclude this node');
    this.config = config;
    this.id = config.id;
    this.epoch = config.epoch;
    this.outbox = new PeerOutbox(config.id);
    this.liveness = new PeerLiveness(config.peerDownAfterTicks, config.peerBeaconIntervalTicks);
    for (const p of config.peers) this.liveness.addPeer(p, 0);
  }

  get tickCount(): number {
    return this.ticks;
  }

  /** Hosts `raft` (constructed by the caller over its storage). `quiesce` false keeps it
   *  ticking always (required for readOnly 'lease'). */
  addGroup(group: GroupId, raft: HostedRaft, quiesce = true): void {
    assert(!this.groups.has(group), 'group already hosted');
    assert(this.groups.size < multiRaftGroupsMax, 'too many groups on one node');
    this.groups.set(group, {
      raft, quiesceAllowed: quiesce && this.config.quiesce, quiesced: false, idleTicks: 0,
      quiescedLeader: 0, pending: new Map(),
    });
  }

  /** Drops the group and its unsent messagesAfterPersist (its writes may still complete). */
  removeGroup(group: GroupId): void {
    assert(this.groups.has(group), 'removing a group not hosted');
    this.groups.delete(group);
  }

  hasGroup(group: GroupId): boolean {
    return this.groups.has(group);
  }

  group(group: GroupId): HostedRaft {
    return this.hosted(group).raft;
  }

  groupIds(): GroupId[] {
    return [...this.groups.keys()];
  }

  isQuiesced(group: GroupId): boolean {
    return this.hosted(group).quiesced;
  }

  isPeerDown(peer: NodeId): boolean {
    return this.liveness.isDown(peer);
  }

  /** One logical tick: quiesces idle leaders (judged on the state the last turn left, before
   *  this tick queues its heartbeats), then ticks every group that is not quiesced. */
  tick(): void {
    this.ticks += 1;
    for (const peer of this.liveness.expire(this.ticks)) this.onPeerDown(peer);
    for (const [group, h] of this.groups) {
      if (h.quiesceAllowed && !h.quiesced) this.maybeQuiesce(group, h);
      if (h.quiesced) {
        this.stats.groupTicksSkipped += 1;
        continue;
      }
      h.raft.tick();
      this.stats.groupTicks += 1;
    }
  }

  /** Everything one peer sent in one batch. Delayed or duplicated batches are fine: Raft
   *  tolerates both, and liveness ignores epochs older than the newest seen. */
  step(batch: PeerBatch): void {
    assert(batch.to === this.id, 'batch delivered to the wrong node');
    assert(batch.from !== this.id, 'a node does not send to itself');
    const change = this.liveness.heard(batch.from, batch.epoch, this.ticks);
    if (change !== PeerChange.None) this.onPeerUp(batch.from);
    for (const m of batch.messages) this.stepMessage(m, m.kind !== MsgKind.HeartbeatResp);
    for (const h of batch.heartbeats) {
      this.stepMessage(fanOut(h, MsgKind.Heartbeat, batch.from, this.id), true);
    }
    for (const h of batch.heartbeatResps) {
      this.stepMessage(fanOut(h, MsgKind.HeartbeatResp, batch.from, this.id), false);
    }
    for (const q of batch.quiesce) this.onQuiesceHeartbeat(batch.from, q);
    for (const group of batch.wakes) {
      const h = this.groups.get(group);
      if (h !== undefined) this.wake(group, h, false);
    }
  }

  propose(group: GroupId, data: Uint8Array): ProposeErrorValue | null {
    return this.wakeLocal(group).propose(data);
  }

  /** Several entries in one step: one append and one broadcast for all of them. */
  proposeMany(group: GroupId, datas: readonly Uint8Array[]): ProposeErrorValue | null {
    return this.wakeLocal(group).proposeMany(datas);
  }

  proposeConfChange(group: GroupId, cc: ConfChange): ProposeErrorValue | null {
    return this.wakeLocal(group).proposeConfChange(cc);
  }

  readIndex(group: GroupId, context: Uint8Array): void {
    this.wakeLocal(group).readIndex(context);
  }

  transferLeader(group: GroupId, to: NodeId): void {
    this.wakeLocal(group).transferLeader(to);
  }

  campaign(group: GroupId): void {
    this.wakeLocal(group).campaign();
  }

  /** Collects the Ready of every group that has one. `messages` go to the outbox now;
   *  `messagesAfterPersist` wait for onPersisted(group, number). */
  readyGroups(): GroupReady[] {
    const out: GroupReady[] = [];
    for (const [group, h] of this.groups) {
      if (!h.raft.hasReady()) continue;
      const ready = h.raft.ready();
      for (const m of ready.messages) this.send(m);
      if (ready.messagesAfterPersist.length > 0) {
        assert(h.pending.size < multiRaftPendingReadiesMax, 'too many unpersisted Readys');
        h.pending.set(ready.number, ready.messagesAfterPersist);
      }
      out.push({ group, ready });
    }
    return out;
  }

  /** The caller persisted Ready `readyNumber` of `group` (and every earlier one). */
  onPersisted(group: GroupId, readyNumber: number): void {
    const h = this.groups.get(group);
    if (h === undefined) return; // removed while its write was in flight
    h.raft.onPersisted(readyNumber);
    for (const [n, msgs] of h.pending) {
      if (n > readyNumber) continue;
      for (const m of msgs) this.send(m);
      h.pending.delete(n);
    }
  }

  onApplied(group: GroupId, index: number): void {
    this.hosted(group).raft.onApplied(index);
  }

  /** The transport could not reach `peer`: its groups' leaders here probe less, and the
   *  groups it led wake at once instead of after peerDownAfterTicks. */
  reportUnreachable(peer: NodeId): void {
    for (const h of this.groups.values()) h.raft.reportUnreachable(peer);
    if (this.liveness.markDown(peer)) this.onPeerDown(peer);
  }

  reportSnapshot(group: GroupId, peer: NodeId, ok: boolean): void {
    const h = this.groups.get(group);
    if (h !== undefined) h.raft.reportSnapshot(peer, ok);
  }

  /** One batch per peer with anything to say, plus liveness beacons. */
  takeBatches(): PeerBatch[] {
    const beacons = this.liveness.beaconsDue(this.ticks);
    const batches = this.outbox.take(this.epoch, this.ticks, beacons);
    for (const b of batches) {
      this.liveness.sent(b.to, this.ticks);
      this.stats.heartbeatsCoalesced += b.heartbeats.length + b.heartbeatResps.length;
    }
    this.stats.batchesSent += batches.length;
    return batches;
  }

  private hosted(group: GroupId): Hosted {
    const h = this.groups.get(group);
    assert(h !== undefined, 'group not hosted on this node');
    return h;
  }

  private send(m: Message): void {
    this.outbox.add(m);
  }

  private stepMessage(m: Message, wakes: boolean): void {
    const h = this.groups.get(m.group);
    if (h === undefined) {
      this.stats.messagesUnknownGroup += 1;
      return;
    }
    if (wakes && h.quiesced) this.wake(m.group, h, false);
    else if (wakes) h.idleTicks = 0;
    h.raft.step(m);
  }

  private wakeLocal(group: GroupId): HostedRaft {
    const h = this.hosted(group);
    this.wake(group, h, true);
    return h.raft;
  }

  /** Resumes ticking. A follower woken locally tells its leader, which may be quiesced. */
  private wake(group: GroupId, h: Hosted, local: boolean): void {
    h.idleTicks = 0;
    if (!h.quiesced) return;
    const leader = h.quiescedLeader;
    h.quiesced = false;
    h.quiescedLeader = 0;
    this.stats.wakes += 1;
    if (local && leader !== this.id && leader !== 0 && !this.liveness.isDown(leader)) {
      this.outbox.addWake(leader, group);
    }
  }

  private maybeQuiesce(group: GroupId, h: Hosted): void {
    if (h.raft.isIdle !== undefined && !h.raft.isIdle()) {
      h.idleTicks = 0;
      return;
    }
    const st = h.raft.status();
    if (st.role !== Role.Leader || !this.leaderIdle(h, st)) {
      h.idleTicks = 0;
      return;
    }
    h.idleTicks += 1;
    if (h.idleTicks < this.config.quiesceAfterIdleTicks) return;
    // An idle leader's last entry is committed and of its own term (its no-op at least).
    const q: QuiesceHeartbeat = { group, term: st.term, commit: st.commit,
      lastIndex: st.lastIndex, lastTerm: st.term };
    const c = st.conf;
    for (const peer of new Set([...c.voters, ...c.votersOutgoing, ...c.learners])) {
      if (peer !== this.id) this.outbox.addQuiesce(peer, q);
    }
    h.quiesced = true;
    h.quiescedLeader = this.id;
    this.stats.quiesces += 1;
  }

  /** A leader may quiesce only when nothing could still need a tick-driven message. */
  private leaderIdle(h: Hosted, st: HostedStatus): boolean {
    if (st.commit !== st.lastIndex || st.applied !== st.commit || h.raft.hasReady()) return false;
    if (h.pending.size > 0) return false;
    if (st.conf.votersOutgoing.length > 0) return false; // a joint config must be left first
    const progress = st.progress;
    if (progress === undefined) return false;
    for (const [peer, pr] of progress) {
      if (peer !== this.id && pr.match !== st.lastIndex) return false;
    }
    return true;
  }

  private onQuiesceHeartbeat(from: NodeId, q: QuiesceHeartbeat): void {
    const h = this.groups.get(q.group);
    if (h === undefined) return;
    const st = h.raft.status();
    const matches = st.role === Role.Follower && st.leader === from && st.term === q.term &&
      st.commit === q.commit && st.lastIndex === q.lastIndex && st.commit === st.lastIndex &&
      !h.raft.hasReady() && h.pending.size === 0;
    if (matches) {
      if (!h.quiesced) this.stats.quiesces += 1;
      h.quiesced = true;
      h.quiescedLeader = from;
      return;
    }
    // Out of step with the leader: stay awake, and wake the leader so it catches us up.
    this.wake(q.group, h, false);
    if (st.term <= q.term) this.outbox.addWake(from, q.group);
  }

  private onPeerDown(peer: NodeId): void {
    for (const [group, h] of this.groups) {
      if (h.quiesced && h.quiescedLeader === peer) this.wake(group, h, false);
    }
  }

  private onPeerUp(peer: NodeId): void {
    for (const [group, h] of this.groups) {
      if (h.quiesced && (h.quiescedLeader === this.id || h.quiescedLeader === peer)) {
        this.wake(group, h, false);
      }
    }
  }
}
