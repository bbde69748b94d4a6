// One transport message per peer per turn (style.md rule 10): every group's Raft messages to a
// node travel together, and the per-group heartbeats inside are coalesced into short entries
// (CockroachDB's coalesced heartbeats): a MsgHeartbeat is four numbers, not a Message.
import { assert } from '../../../assert.js';
import {
  MsgKind, type GroupId, type Message, type MsgKindValue, type NodeId,
} from '../types.js';

/** A group's MsgHeartbeat (or MsgHeartbeatResp) reduced to what differs between groups. */
export interface CoalescedHeartbeat {
  readonly group: GroupId;
  readonly term: number;
  readonly commit: number;
  /** ReadIndex context (thesis 6.4): a heartbeat round confirms leadership for a read. */
  readonly context: Uint8Array | null;
}

/** A quiescing leader's last heartbeat (CockroachDB's Quiesce flag): a follower whose log and
 *  commit equal these stops ticking the group (see multi-raft-node.ts, "Quiescence"). */
export interface QuiesceHeartbeat {
  readonly group: GroupId;
  readonly term: number;
  readonly commit: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
}

export interface PeerBatch {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's incarnation: a change means it restarted (its groups lost their timers). */
  readonly epoch: number;
  /** The sender's node tick count when the batch was built (diagnostics only). */
  readonly tick: number;
  /** Every other Raft message, in the order the groups produced them. */
  readonly messages: readonly Message[];
  readonly heartbeats: readonly CoalescedHeartbeat[];
  readonly heartbeatResps: readonly CoalescedHeartbeat[];
  readonly quiesce: readonly QuiesceHeartbeat[];
  /** Groups whose leader on the receiver must wake (a follower woke up on its own). */
  readonly wakes: readonly GroupId[];
}

/** True if `m` is a plain heartbeat (or response) that the coalesced form carries exactly:
 *  nothing but group, term, commit and context. Anything else travels whole. */
export function isCoalescible(m: Message): boolean {
  if (m.kind !== MsgKind.Heartbeat && m.kind !== MsgKind.HeartbeatResp) return false;
  return m.entries.length === 0 && m.snapshot === null && !m.reject && m.index === 0 &&
    m.logTerm === 0 && m.rejectHint === 0 && m.rejectHintTerm === 0;
}

export function coalesce(m: Message): CoalescedHeartbeat {
  assert(isCoalescible(m), 'only plain heartbeats are coalesced');
  return { group: m.group, term: m.term, commit: m.commit, context: m.context };
}

/** The inverse of coalesce: the Message the sending group produced. */
export function fanOut(
  h: CoalescedHeartbeat, kind: MsgKindValue, from: NodeId, to: NodeId,
): Message {
  assert(kind === MsgKind.Heartbeat || kind === MsgKind.HeartbeatResp, 'heartbeat kinds only');
  return {
    kind, group: h.group, from, to, term: h.term, logTerm: 0, index: 0, entries: [],
    commit: h.commit, reject: false, rejectHint: 0, rejectHintTerm: 0, snapshot: null,
    context: h.context,
  };
}

/** Messages of every kind counted in a batch (a coalesced heartbeat counts as one). */
export function batchMessageCount(b: PeerBatch): number {
  return b.messages.length + b.heartbeats.length + b.heartbeatResps.length + b.quiesce.length +
    b.wakes.length;
}

/** Builds batches for one node; one instance per node, reused every turn. */
export class PeerOutbox {
  private readonly self: NodeId;
  private readonly peers = new Map<NodeId, MutableBatch>();

  constructor(self: NodeId) {
    assert(self > 0, 'node ids are positive');
    this.self = self;
  }

  add(m: Message): void {
    assert(m.to !== this.self, 'a group never messages its own node');
    assert(m.from === this.self, 'messages leave from this node');
    const b = this.batch(m.to);
    if (m.kind === MsgKind.Heartbeat && isCoalescible(m)) b.heartbeats.push(coalesce(m));
    else if (m.kind === MsgKind.HeartbeatResp && isCoalescible(m)) {
      b.heartbeatResps.push(coalesce(m));
    } else b.messages.push(m);
  }

  addQuiesce(to: NodeId, q: QuiesceHeartbeat): void {
    this.batch(to).quiesce.push(q);
  }

  addWake(to: NodeId, group: GroupId): void {
    const b = this.batch(to);
    if (!b.wakes.includes(group)) b.wakes.push(group);
  }

  has(to: NodeId): boolean {
    return this.peers.has(to);
  }

  /** Takes every non-empty batch, plus an empty one (a liveness beacon) to each of `beacons`. */
  take(epoch: number, tick: number, beacons: readonly NodeId[]): PeerBatch[] {
    for (const to of beacons) this.batch(to);
    const out: PeerBatch[] = [];
    for (const [to, b] of this.peers) {
      out.push({ from: this.self, to, epoch, tick, ...b });
    }
    this.peers.clear();
    return out;
  }

  private batch(to: NodeId): MutableBatch {
    assert(to > 0 && to !== this.self, 'batches go to other nodes');
    let b = this.peers.get(to);
    if (b === undefined) {
      b = { messages: [], heartbeats: [], heartbeatResps: [], quiesce: [], wakes: [] };
      this.peers.set(to, b);
    }
    return b;
  }
}

interface MutableBatch {
  messages: Message[];
  heartbeats: CoalescedHeartbeat[];
  heartbeatResps: CoalescedHeartbeat[];
  quiesce: QuiesceHeartbeat[];
  wakes: GroupId[];
}
