// The connection this node dials to one peer: its HTTP/2 connection and Exchange stream
// (peer-h2.ts), its outbound PeerQueue, and redial with backoff. States: dialing (hello
// written, not yet accepted) -> connected (HonuPeerAccept received) -> (stream ended or failed)
// waiting for the backoff timer -> dialing ... until close(). Only a connected link queues
// anything; otherwise raft items and replies are dropped and requests failed. At most one
// stream message is in flight: the next is cut when node:http2 calls back for the previous one
// (HTTP/2 flow control holds it while the peer's window is full), so a slow peer backs up into
// the queue (bounded by peerQueueBytesMax), not into HTTP/2 buffers.
import { assert } from '../../assert.js';
import type { HonuPeerAccept } from '../grpc/generated/peer.js';
import type { Logger } from '../log.js';
import {
  peerBackoffJitterRatio, peerBackoffMsMax, peerBackoffMsMin, peerCloseTimeoutMs,
  peerHelloTimeoutMs, peerKeepaliveMs, peerKeepaliveTimeoutMs,
} from './peer-limits.js';
import { PeerDialedStream } from './peer-h2.js';
import type { PeerStatus } from './peer-inbound.js';
import { PeerQueue, type ClearedQueue } from './peer-queue.js';
import type {
  ForwardedReply, ForwardedRequest, PeerAddress, PeerTransportStats,
} from './peer-transport.js';
import { emptyEnvelope, peerProtocolVersion } from './peer-wire.js';

/** What a link reports to its transport. */
export interface PeerLinkHooks {
  readonly nodeId: number;
  readonly log: Logger | undefined;
  readonly stats: PeerTransportStats;
  readonly random: () => number;
  stateChanged(peer: number, connected: boolean): void;
  requestsFailed(peer: number, ids: readonly number[]): void;
}

export class PeerLink {
  private stream: PeerDialedStream | null = null;
  private connected = false;
  private closed = false;
  private writing = false;
  private timer: NodeJS.Timeout | null = null;
  private backoffMs = peerBackoffMsMin;
  private readonly queue = new PeerQueue();
  /** Resolves when the current stream is done (close() waits for it). */
  private ending: Promise<void> = Promise.resolve();

  constructor(readonly address: PeerAddress, private readonly hooks: PeerLinkHooks) {}

  get isConnected(): boolean {
    return this.connected;
  }

  get queuedBytes(): number {
    return this.queue.bytes;
  }

  start(): void {
    assert(!this.closed, 'PeerLink started after close');
    if (this.stream === null && this.timer === null) this.dial();
  }

  /** Queues a raft batch, or drops it (not connected, queue full). */
  sendRaft(batch: Uint8Array): void {
    if (this.connected && this.queue.pushRaft(batch)) return;
    this.hooks.stats.raftDropped++;
  }

  /** Queues a request; false when it cannot be sent (the caller reports it failed). */
  sendRequest(req: ForwardedRequest): boolean {
    return this.connected && this.queue.pushRequest(req);
  }

  /** Queues a reply, or drops it (the forwarding node's request times out into MustRetry). */
  sendReply(reply: ForwardedReply): void {
    if (this.connected && this.queue.pushReply(reply)) return;
    this.hooks.stats.repliesDropped++;
  }

  /** Writes the next stream message unless one is in flight. */
  flush(): void {
    const stream = this.stream;
    if (!this.connected || this.writing || stream === null) return;
    const env = this.queue.take();
    if (env === null) return;
    this.writing = true;
    const stats = this.hooks.stats;
    stats.envelopesSent++;
    stats.raftItemsSent += env.Raft.length;
    stats.requestsSent += env.Requests.length;
    stats.repliesSent += env.Replies.length;
    stream.write(env, () => {
      if (stream !== this.stream) return; // that stream is gone; its state was reset
      this.writing = false;
      this.flush();
    });
  }

  /** Ends the stream (gracefully, then cancelled after peerCloseTimeoutMs), stops dialing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    const stream = this.stream;
    const ended = this.ending;
    this.reset();
    if (stream === null) return;
    const timer = setTimeout(() => stream.cancel(), peerCloseTimeoutMs);
    stream.end();
    await ended;
    clearTimeout(timer);
  }

  private dial(): void {
    assert(this.stream === null, 'PeerLink dialed twice');
    const { host, port, id } = this.address;
    let ended!: () => void;
    this.ending = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const stream: PeerDialedStream = new PeerDialedStream(host, port, {
      accept: (accept) => this.onAccept(stream, accept),
      done: (status) => {
        ended();
        this.onStreamDone(stream, status);
      },
    }, { keepaliveMs: peerKeepaliveMs, keepaliveTimeoutMs: peerKeepaliveTimeoutMs });
    this.stream = stream;
    this.hooks.stats.dials++;
    const hello = emptyEnvelope();
    hello.Hello = { FromNodeId: this.hooks.nodeId, ToNodeId: id, Version: peerProtocolVersion };
    stream.write(hello);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.hooks.log?.debug({ peer: id }, 'peer hello not accepted in time; redialing');
      stream.cancel();
    }, peerHelloTimeoutMs);
  }

  private onAccept(stream: PeerDialedStream, accept: HonuPeerAccept): void {
    if (stream !== this.stream || this.connected) return; // only the first message counts
    if (accept.NodeId !== this.address.id) {
      this.hooks.log?.warn({ peer: this.address.id, accepted: accept.NodeId },
        'another node accepted the hello; redialing');
      stream.cancel();
      return;
    }
    this.clearTimer();
    this.connected = true;
    this.backoffMs = peerBackoffMsMin;
    this.hooks.log?.info({ peer: this.address.id }, 'peer connected');
    this.hooks.stateChanged(this.address.id, true);
  }

  private onStreamDone(stream: PeerDialedStream, status: PeerStatus): void {
    if (stream !== this.stream) return;
    if (status.code !== 0) {
      this.hooks.log?.debug({ peer: this.address.id, code: status.code, err: status.details },
        'peer stream');
    }
    this.reset();
    if (this.closed) return;
    const delayMs = this.backoffMs * (1 - peerBackoffJitterRatio * this.hooks.random());
    this.backoffMs = Math.min(this.backoffMs * 2, peerBackoffMsMax);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.dial();
    }, delayMs);
  }

  /** Forgets the stream: drops or fails what was queued, reports the state change. */
  private reset(): void {
    this.clearTimer();
    const wasConnected = this.connected;
    this.stream = null;
    this.connected = false;
    this.writing = false;
    this.report(this.queue.clear());
    if (wasConnected) {
      this.hooks.log?.info({ peer: this.address.id }, 'peer disconnected');
      this.hooks.stateChanged(this.address.id, false);
    }
  }

  private report(cleared: ClearedQueue): void {
    this.hooks.stats.raftDropped += cleared.raftCount;
    this.hooks.stats.repliesDropped += cleared.replyCount;
    if (cleared.requestIds.length > 0) {
      this.hooks.requestsFailed(this.address.id, cleared.requestIds);
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
