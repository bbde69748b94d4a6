// The connection this node dials to one peer: its grpc-js channel and Exchange stream, its
// outbound PeerQueue, and redial with backoff. States: dialing (hello written, not yet
// accepted) -> connected (HonuPeerAccept received) -> (stream ended or failed) waiting for the
// backoff timer -> dialing ... until close(). Only a connected link queues anything; otherwise
// raft items and replies are dropped and requests failed. At most one stream message is in
// flight: the next is cut when grpc-js calls back for the previous one, so a slow peer
// backs up into the queue (bounded by peerQueueBytesMax), not into grpc-js buffers.
import * as grpc from '@grpc/grpc-js';
import { assert } from '../../assert.js';
import type { HonuPeerAccept, HonuPeerEnvelope } from '../grpc/generated/peer.js';
import type { Logger } from '../log.js';
import {
  peerBackoffJitterRatio, peerBackoffMsMax, peerBackoffMsMin, peerCloseTimeoutMs,
  peerHelloTimeoutMs, peerKeepaliveMs, peerKeepaliveTimeoutMs,
} from './peer-limits.js';
import { PeerQueue, type ClearedQueue } from './peer-queue.js';
import type {
  ForwardedReply, ForwardedRequest, PeerAddress, PeerTransportStats,
} from './peer-transport.js';
import { dialTarget, emptyEnvelope, peerExchange, peerProtocolVersion } from './peer-wire.js';

/** What a link reports to its transport. */
export interface PeerLinkHooks {
  readonly nodeId: number;
  readonly log: Logger | undefined;
  readonly stats: PeerTransportStats;
  readonly random: () => number;
  stateChanged(peer: number, connected: boolean): void;
  requestsFailed(peer: number, ids: readonly number[]): void;
}

type Stream = grpc.ClientDuplexStream<HonuPeerEnvelope, HonuPeerAccept>;

const channelOptions: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': peerKeepaliveMs,
  'grpc.keepalive_timeout_ms': peerKeepaliveTimeoutMs,
  // Our own backoff decides when to dial; a channel shared with nobody starts fresh each time.
  'grpc.use_local_subchannel_pool': 1,
  'grpc.initial_reconnect_backoff_ms': peerBackoffMsMin,
  'grpc.max_reconnect_backoff_ms': peerBackoffMsMax,
  // No retry buffer (it would copy every message); the stream is redialed by us instead.
  'grpc.enable_retries': 0,
  // Peers are dialed directly at their --initial-cluster address, never through http_proxy.
  'grpc.enable_http_proxy': 0,
};

export class PeerLink {
  private client: grpc.Client | null = null;
  private stream: Stream | null = null;
  private connected = false;
  private closed = false;
  private writing = false;
  private timer: NodeJS.Timeout | null = null;
  private backoffMs = peerBackoffMsMin;
  private readonly queue = new PeerQueue();

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
    const client = this.client;
    this.reset();
    if (stream !== null) await endStream(stream);
    client?.close();
  }

  private dial(): void {
    assert(this.stream === null && this.client === null, 'PeerLink dialed twice');
    const { host, port, id } = this.address;
    const client = new grpc.Client(dialTarget(host, port), grpc.credentials.createInsecure(),
      channelOptions);
    const stream: Stream = client.makeBidiStreamRequest(peerExchange.path,
      peerExchange.requestSerialize, peerExchange.responseDeserialize, new grpc.Metadata());
    this.client = client;
    this.stream = stream;
    this.hooks.stats.dials++;
    stream.on('data', (accept: HonuPeerAccept) => this.onAccept(stream, accept));
    stream.on('error', (error: grpc.ServiceError) => {
      if (stream === this.stream) {
        this.hooks.log?.debug({ peer: id, code: error.code, err: error.details }, 'peer stream');
      }
    });
    stream.on('status', () => this.onStreamDone(stream));
    const hello = emptyEnvelope();
    hello.Hello = { FromNodeId: this.hooks.nodeId, ToNodeId: id, Version: peerProtocolVersion };
    stream.write(hello);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.hooks.log?.debug({ peer: id }, 'peer hello not accepted in time; redialing');
      stream.cancel();
    }, peerHelloTimeoutMs);
  }

  private onAccept(stream: Stream, accept: HonuPeerAccept): void {
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

  private onStreamDone(stream: Stream): void {
    if (stream !== this.stream) return;
    const client = this.client;
    this.reset();
    client?.close();
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
    this.client = null;
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

/** Half-closes `stream` and waits for its status; cancels it after peerCloseTimeoutMs. */
function endStream(stream: Stream): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => stream.cancel(), peerCloseTimeoutMs);
    stream.on('status', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.end();
  });
}
