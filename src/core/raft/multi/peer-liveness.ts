// Node-level liveness: what lets groups quiesce safely. Every batch from a peer proves the peer
// is up, and each node sends a (possibly empty) batch to every peer at least every
// beaconIntervalTicks. A peer silent for downAfterTicks is down; the host wakes the groups it
// led, whose followers stopped ticking and so would otherwise never notice the leader died.
import { assert } from '../../../assert.js';
import type { NodeId } from '../types.js';

/** What hearing from a peer changed. */
export const PeerChange = { None: 0, CameUp: 1, Restarted: 2 } as const;
export type PeerChangeValue = (typeof PeerChange)[keyof typeof PeerChange];

interface PeerState {
  lastHeardTick: number;
  lastSentTick: number;
  epoch: number; // -1 until first heard
  down: boolean;
}

export class PeerLiveness {
  private readonly peers = new Map<NodeId, PeerState>();
  private readonly downAfterTicks: number;
  private readonly beaconIntervalTicks: number;

  constructor(downAfterTicks: number, beaconIntervalTicks: number) {
    assert(Number.isInteger(downAfterTicks) && downAfterTicks >= 2, 'downAfterTicks >= 2');
    assert(beaconIntervalTicks >= 1, 'beaconIntervalTicks >= 1');
    // A beacon interval at or above the down threshold would flap every live peer down.
    assert(beaconIntervalTicks < downAfterTicks, 'beacons must come faster than the timeout');
    this.downAfterTicks = downAfterTicks;
    this.beaconIntervalTicks = beaconIntervalTicks;
  }

  /** A new peer starts up (given the benefit of the doubt for downAfterTicks). */
  addPeer(peer: NodeId, now: number): void {
    assert(peer > 0, 'node ids are positive');
    if (this.peers.has(peer)) return;
    this.peers.set(peer, { lastHeardTick: now, lastSentTick: -Infinity, epoch: -1, down: false });
  }

  removePeer(peer: NodeId): void {
    this.peers.delete(peer);
  }

  peerIds(): NodeId[] {
    return [...this.peers.keys()];
  }

  isDown(peer: NodeId): boolean {
    const p = this.peers.get(peer);
    return p === undefined || p.down;
  }

  /** Peers that went down at `now` (each is reported once until it comes back). */
  expire(now: number): NodeId[] {
    const down: NodeId[] = [];
    for (const [id, p] of this.peers) {
      if (!p.down && now - p.lastHeardTick >= this.downAfterTicks) {
        p.down = true;
        down.push(id);
      }
    }
    return down;
  }

  /** The host says the peer cannot be reached (transport error): down at once. */
  markDown(peer: NodeId): boolean {
    const p = this.peers.get(peer);
    if (p === undefined || p.down) return false;
    p.down = true;
    return true;
  }

  heard(peer: NodeId, epoch: number, now: number): PeerChangeValue {
    const p = this.peers.get(peer);
    if (p === undefined) return PeerChange.None;
    assert(epoch >= 0, 'epochs are non-negative');
    // An older epoch is a delayed batch from before a restart: proof of nothing now.
    if (p.epoch > epoch) return PeerChange.None;
    const restarted = p.epoch >= 0 && epoch > p.epoch;
    const cameUp = p.down;
    p.epoch = epoch;
    p.lastHeardTick = now;
    p.down = false;
    if (restarted) return PeerChange.Restarted;
    return cameUp ? PeerChange.CameUp : PeerChange.None;
  }

  sent(peer: NodeId, now: number): void {
    const p = this.peers.get(peer);
    if (p !== undefined) p.lastSentTick = now;
  }

  /** Peers owed a beacon at `now`: nothing was sent to them for beaconIntervalTicks. */
  beaconsDue(now: number): NodeId[] {
    const due: NodeId[] = [];
    for (const [id, p] of this.peers) {
      if (now - p.lastSentTick >= this.beaconIntervalTicks) due.push(id);
    }
    return due;
  }
}
