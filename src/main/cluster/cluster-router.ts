// Leader location and forwarding in the main thread (issue 6, deliverable 3). Every request goes
// to its partition's leader as this node's workers know it (the SharedArrayBuffer leader
// table): here, to the owning worker's ring; elsewhere, forwarded over the peer transport to
// the leader node, whose main thread hands it to its own worker and sends the reply back. With
// no known leader the answer is MustRetry (Kahuna's transient state). A forwarded request is
// never forwarded again: a node that is no longer the leader answers MustRetry (its worker
// does), and the client retries against a fresher leader table.
//
// Raft traffic also passes here: workers' batches go out through the transport, and batches
// from peers go to the workers (split by partition owner in Supervisor.deliverRaft).
import { errorCodeOf, errorData, errorId } from '../../errors.js';
import type { LeaderTable } from '../../ipc/leader-table.js';
import { forwardTimeoutMs, workerRequestSweepMs } from '../../limits.js';
import type { WorkerReply } from '../supervisor.js';
import type {
  ForwardedReply, ForwardedRequest, PeerInbound,
} from '../peer/peer-transport.js';

/** What the router needs of the peer transport (src/main/peer/peer-transport.ts). */
export interface PeerSender {
  sendRaft(peer: number, batch: Uint8Array): void;
  sendRequest(peer: number, req: ForwardedRequest): void;
  sendReply(peer: number, reply: ForwardedReply): void;
}

/** What the router needs of the supervisor (local workers). */
export interface LocalWorkers {
  readonly leaderTable: LeaderTable;
  request(partition: number, op: number, payload: Uint8Array,
    wantValue?: boolean): Promise<WorkerReply>;
  deliverRaft(from: number, batch: Uint8Array): void;
  reportUnreachable(peer: number): void;
}

interface Forward {
  readonly resolve: (reply: WorkerReply) => void;
  readonly peer: number;
  readonly partition: number;
  readonly deadlineMs: number;
}

const emptyPayload = new Uint8Array(0);

function mustRetry(detail: string): WorkerReply {
  return { error: errorData('HONU_ERR_MUST_RETRY', detail), payload: emptyPayload };
}

export interface ClusterRouterStats {
  forwarded: number;
  served: number;
  forwardsFailed: number;
}

export class ClusterRouter {
  readonly stats: ClusterRouterStats = { forwarded: 0, served: 0, forwardsFailed: 0 };
  private readonly pending = new Map<number, Forward>();
  private nextId = 1;
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly nodeId: number,
    private readonly local: LocalWorkers,
    private readonly peers: PeerSender,
  ) {
    this.sweepTimer = setInterval(() => this.sweep(), workerRequestSweepMs);
    this.sweepTimer.unref();
  }

  /** The leader node of `partition` as this node knows it (0: none). */
  leaderOf(partition: number): number {
    return this.local.leaderTable.leaderOf(partition);
  }

  /** Routes one client request to its partition's leader. Never rejects. `wantValue`: as
   *  Supervisor.request (served here, the answer may be the response object). */
  request(partition: number, op: number, payload: Uint8Array,
    wantValue = false): Promise<WorkerReply> {
    const leader = this.local.leaderTable.leaderOf(partition);
    if (leader === 0) return Promise.resolve(mustRetry(`partition ${partition} has no leader`));
    if (leader === this.nodeId) return this.local.request(partition, op, payload, wantValue);
    if (this.closed) return Promise.resolve(mustRetry('the node is shutting down'));
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fff_ffff ? 1 : this.nextId + 1;
    this.stats.forwarded += 1;
    return new Promise<WorkerReply>((resolve) => {
      this.pending.set(id, { resolve, peer: leader, partition,
        deadlineMs: Date.now() + forwardTimeoutMs });
      this.peers.sendRequest(leader, { id, partition, op, payload });
    });
  }

  /** Workers' Raft batches for `to`. */
  sendRaft(to: number, batch: Uint8Array): void {
    if (!this.closed) this.peers.sendRaft(to, batch);
  }

  /** One envelope from a peer: Raft batches, requests it forwards to us, replies to ours. */
  onInbound(from: number, inbound: PeerInbound): void {
    for (const batch of inbound.raft) this.local.deliverRaft(from, batch);
    for (const req of inbound.requests) this.serve(from, req);
    for (const reply of inbound.replies) {
      const f = this.pending.get(reply.id);
      if (f === undefined || f.peer !== from) continue; // timed out already
      this.pending.delete(reply.id);
      f.resolve({
        error: reply.code === 0 ? null : errorData(errorCodeOf(reply.code), reply.detail),
        payload: reply.payload,
      });
    }
  }

  /** The transport could not send these forwarded requests: the client retries. */
  onRequestsFailed(peer: number, ids: readonly number[]): void {
    this.stats.forwardsFailed += ids.length;
    for (const id of ids) {
      const f = this.pending.get(id);
      if (f === undefined || f.peer !== peer) continue;
      this.pending.delete(id);
      f.resolve(mustRetry(`node ${peer} is unreachable`));
    }
  }

  onPeerState(peer: number, connected: boolean): void {
    if (!connected) this.local.reportUnreachable(peer);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const f of this.pending.values()) f.resolve(mustRetry('the node is shutting down'));
    this.pending.clear();
  }

  /** A request another node forwarded: served by the local worker only (no second hop). */
  private serve(from: number, req: ForwardedRequest): void {
    this.stats.served += 1;
    const leader = this.local.leaderTable.leaderOf(req.partition);
    const answer = leader === this.nodeId
      ? this.local.request(req.partition, req.op, req.payload)
      : Promise.resolve(mustRetry(`node ${this.nodeId} does not lead partition ${req.partition}`));
    void answer.then((reply) => {
      this.peers.sendReply(from, {
        id: req.id,
        code: reply.error === null ? 0 : errorId(reply.error.code),
        detail: reply.error?.detail ?? '',
        payload: reply.payload,
      });
    });
  }

  /** Forwards past their deadline, or sent to a node that no longer leads their partition
   *  (paused, cut off, replaced), answer MustRetry: the client retries at the new leader. The
   *  request may still have been applied there; Kahuna's MustRetry means "unknown outcome". */
  private sweep(): void {
    const now = Date.now();
    const table = this.local.leaderTable;
    for (const [id, f] of this.pending) {
      const moved = table.leaderOf(f.partition) !== f.peer;
      if (f.deadlineMs > now && !moved) continue;
      this.pending.delete(id);
      f.resolve(mustRetry(moved ? `partition ${f.partition} has a new leader`
        : `node ${f.peer} did not answer a forwarded request`));
    }
  }
}
