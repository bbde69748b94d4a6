// Honu's node-to-node transport (issue 6): Raft batches of every group and forwarded client
// requests and replies, batched per peer, over the internal HonuPeer service (proto/peer.proto)
// on the node's one gRPC port.
//
// Connections. Each node DIALS every peer itself, at the address its own peer list gives (tests put
// TCP proxies on directed links), and keeps one long-lived Exchange stream per dialed connection
// (h2c on node:http2, peer-h2.ts; the listener hands such connections to this transport's own
// HTTP/2 server, and grpc-js serves the same service to other clients). Traffic from A to B travels
// only on the stream A dialed to B; B's traffic to A only on the stream B dialed to A. The dialer's
// first message is a hello {FromNodeId, ToNodeId, Version 1}; the receiver refuses (ends the stream
// with FAILED_PRECONDITION / INVALID_ARGUMENT / UNAVAILABLE) a hello addressed to another node id,
// from id 0 or its own id, of another version, or arriving after close(); any other sender id is
// accepted (membership changes come later). The reverse direction carries exactly one message,
// HonuPeerAccept {NodeId}, the answer to an accepted hello: a peer counts as connected from then
// on. No acks: HTTP/2 flow control pushes back on the sender, and Raft and the forwarder's timeouts
// cover what a broken stream loses.
//
// Envelopes. Items queued for a peer are sent as HonuPeerEnvelope messages (PeerQueue): ONE
// stream message per peer per flush, holding up to peerMessageBytesMax, with at most one
// message in flight per stream (the next is cut when node:http2 has taken the previous one,
// so batches grow with load). flush() runs by itself on a setImmediate after the first item
// queued in a turn. Per kind (raft, requests, replies) items arrive in the order they were
// sent; kinds are independent of each other. An item over peerChunkBytesMax (1 MiB; a Raft
// snapshot of several MiB, a large forwarded payload) is split into 1 MiB fragments, one per
// message, and the receiver joins them before onInbound (PeerReassembler), so onInbound only
// ever sees whole items; smaller items of other kinds keep flowing between the fragments.
// onInbound is called once per received envelope that completes at least one item.
//
// Failures. A peer that is not connected (never accepted yet, stream ended, redialing) drops
// raft items and replies (counted in `stats`) and fails requests. So does a peer whose queue
// holds peerQueueBytesMax bytes. Failed requests are reported through onRequestsFailed, never
// synchronously inside sendRequest: in the flush of the same turn (one call per peer), or at
// once when a stream breaks with requests still queued. Requests already written to a stream
// that then breaks are not reported (the caller's own timeout answers them). A stream that
// errors or ends is redialed after an exponential backoff with jitter (50 ms doubling to 2 s,
// back to 50 ms once a hello is accepted); a hello unanswered in 2 s is cancelled and
// redialed; HTTP/2 keepalive pings (1 s, 1 s timeout) notice a peer that stopped answering.
import type * as grpc from '@grpc/grpc-js';
import type net from 'node:net';
import { assert } from '../../assert.js';
import type { Logger } from '../log.js';
import { PeerH2Server } from './peer-h2.js';
import { grpcInboundCall, PeerInboundServer } from './peer-inbound.js';
import { PeerLink } from './peer-link.js';
import { peerServiceDefinition } from './peer-wire.js';

export interface PeerAddress { readonly id: number; readonly host: string; readonly port: number }
export interface ForwardedRequest {
  readonly id: number; readonly partition: number; readonly op: number;
  readonly payload: Uint8Array;
}
export interface ForwardedReply {
  readonly id: number; readonly code: number; readonly detail: string;
  readonly payload: Uint8Array;
}
export interface PeerInbound {
  readonly raft: readonly Uint8Array[];
  readonly requests: readonly ForwardedRequest[];
  readonly replies: readonly ForwardedReply[];
}

export interface PeerTransportOptions {
  readonly nodeId: number;
  /** Every other node, at the address THIS node's --initial-cluster gives. */
  readonly peers: readonly PeerAddress[];
  readonly log?: Logger;
  /** One call per received envelope that completes at least one item. */
  readonly onInbound: (from: number, inbound: PeerInbound) => void;
  readonly onPeerState?: (peer: number, connected: boolean) => void;
  /** Forwarded requests that could not be sent (peer unreachable, queue full, transport
   *  closed): the caller answers them MustRetry. */
  readonly onRequestsFailed?: (peer: number, ids: readonly number[]) => void;
}

/** Counters since the transport was created (all peers together). */
export interface PeerTransportStats {
  /** Raft items dropped: peer not connected, queue full, or queued when the stream broke. */
  raftDropped: number;
  /** Replies dropped for the same reasons. */
  repliesDropped: number;
  /** Requests reported through onRequestsFailed. */
  requestsFailed: number;
  /** Stream messages written to peers (hellos not counted). */
  envelopesSent: number;
  /** Items in those messages, by kind (a raft item is one worker's batch for one peer). */
  raftItemsSent: number;
  requestsSent: number;
  repliesSent: number;
  /** Stream messages received from peers (hellos not counted). */
  envelopesReceived: number;
  /** Streams dialed (first dials and redials). */
  dials: number;
  /** Inbound hellos refused. */
  hellosRefused: number;
  /** Inbound Exchange streams opened, by the server that carried them: node:http2 (Honu
   *  dialers, routed by the listener) or grpc-js (any other gRPC client). */
  h2StreamsOpened: number;
  grpcStreamsOpened: number;
}

export class PeerTransport {
  readonly stats: PeerTransportStats = {
    raftDropped: 0, repliesDropped: 0, requestsFailed: 0, envelopesSent: 0,
    raftItemsSent: 0, requestsSent: 0, repliesSent: 0,
    envelopesReceived: 0, dials: 0, hellosRefused: 0, h2StreamsOpened: 0,
    grpcStreamsOpened: 0,
  };
  private readonly links = new Map<number, PeerLink>();
  private readonly inbound: PeerInboundServer;
  private readonly h2: PeerH2Server;
  /** Requests failed since the last flush, per peer: reported by the next flush. */
  private readonly failedIds = new Map<number, number[]>();
  private readonly log: Logger | undefined;
  /** Unknown peer ids already warned about (one line each, not one per send). */
  private readonly unknownPeers = new Set<number>();
  private readonly hooks: ConstructorParameters<typeof PeerLink>[1];
  private flushScheduled: NodeJS.Immediate | null = null;
  private started = false;
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: PeerTransportOptions) {
    assert(Number.isInteger(opts.nodeId) && opts.nodeId > 0, 'nodeId must be a positive integer');
    this.log = opts.log?.child({ part: 'peer' });
    this.hooks = {
      nodeId: opts.nodeId, log: this.log, stats: this.stats, random: Math.random,
      stateChanged: (peer: number, connected: boolean) => this.peerState(peer, connected),
      requestsFailed: (peer: number, ids: readonly number[]) => this.reportFailed(peer, ids),
    };
    for (const address of opts.peers) {
      assert(!this.links.has(address.id), 'the peer list holds an id twice');
      this.addPeer(address);
    }
    this.inbound = new PeerInboundServer({
      nodeId: opts.nodeId, log: this.log, stats: this.stats,
      inbound: (from, inbound) => opts.onInbound(from, inbound),
    });
    this.h2 = new PeerH2Server((call) => {
      this.stats.h2StreamsOpened++;
      this.inbound.serve(call);
    }, this.log);
  }

  /** Registers the internal peer service on the node's grpc-js server (same port as Kahuna's
   *  services). May be called for more than one server (a restarted one). */
  register(server: grpc.Server): void {
    server.addService(peerServiceDefinition, {
      exchange: (call: Parameters<typeof grpcInboundCall>[0]) => {
        this.stats.grpcStreamsOpened++;
        this.inbound.serve(grpcInboundCall(call));
      },
    });
  }

  /** A connection the listener found to be a Honu peer's (peer-h2.ts): served here. */
  acceptConnection(socket: net.Socket): void {
    this.h2.accept(socket);
  }

  /** Ends inbound peer streams and closes their connections (the listener is closing). */
  closeInbound(): void {
    this.inbound.close();
    this.h2.close();
  }

  /** A node that joined the cluster: dialed from now on (at once if started). A known id with
   *  another address is redialed there. */
  addPeer(address: PeerAddress): void {
    assert(Number.isInteger(address.id) && address.id > 0, 'peer id must be positive');
    assert(address.id !== this.opts.nodeId, 'the peer list holds this node itself');
    if (this.closing !== null) return;
    const old = this.links.get(address.id);
    if (old !== undefined) {
      if (old.address.host === address.host && old.address.port === address.port) return;
      void old.close();
    }
    const link = new PeerLink(address, this.hooks);
    this.links.set(address.id, link);
    this.unknownPeers.delete(address.id);
    if (this.started) link.start();
  }

  /** A node that left the cluster: its stream is closed and it is not dialed again. */
  removePeer(id: number): void {
    const link = this.links.get(id);
    if (link === undefined) return;
    this.links.delete(id);
    void link.close();
  }

  /** Ids of the peers this transport dials. */
  peerIds(): number[] {
    return [...this.links.keys()].sort((a, b) => a - b);
  }

  /** Dials every peer; redials with backoff forever until close(). */
  start(): void {
    assert(this.closing === null, 'PeerTransport started after close');
    if (this.started) return;
    this.started = true;
    for (const link of this.links.values()) link.start();
  }

  /** Queued; delivered in order per peer or dropped (Raft tolerates loss). */
  sendRaft(peer: number, batch: Uint8Array): void {
    const link = this.linkOf(peer);
    if (link === undefined) {
      this.stats.raftDropped++;
      return;
    }
    link.sendRaft(batch);
    this.scheduleFlush();
  }

  sendRequest(peer: number, req: ForwardedRequest): void {
    const link = this.linkOf(peer);
    if (link === undefined || !link.sendRequest(req)) {
      let ids = this.failedIds.get(peer);
      if (ids === undefined) this.failedIds.set(peer, (ids = []));
      ids.push(req.id);
    }
    this.scheduleFlush();
  }

  sendReply(peer: number, reply: ForwardedReply): void {
    const link = this.linkOf(peer);
    if (link === undefined) {
      this.stats.repliesDropped++;
      return;
    }
    link.sendReply(reply);
    this.scheduleFlush();
  }

  /** Sends what is queued: one stream message per peer (unless one is still in flight; then
   *  the next leaves when grpc-js takes it), and reports requests that failed. */
  flush(): void {
    if (this.flushScheduled !== null) clearImmediate(this.flushScheduled);
    this.flushScheduled = null;
    for (const link of this.links.values()) link.flush();
    if (this.failedIds.size === 0) return;
    const failed = [...this.failedIds];
    this.failedIds.clear();
    for (const [peer, ids] of failed) this.reportFailed(peer, ids);
  }

  /** True while this node's stream to `peer` is open and its hello was accepted. */
  isConnected(peer: number): boolean {
    return this.links.get(peer)?.isConnected ?? false;
  }

  /** Ends every stream (dialed and inbound), stops dialing, fails queued requests. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    if (this.flushScheduled !== null) clearImmediate(this.flushScheduled);
    this.flushScheduled = null;
    this.closeInbound();
    const failed = [...this.failedIds];
    this.failedIds.clear();
    for (const [peer, ids] of failed) this.reportFailed(peer, ids);
    this.closing = Promise.all([...this.links.values()].map((l) => l.close())).then(() => {});
    return this.closing;
  }

  private linkOf(peer: number): PeerLink | undefined {
    const link = this.links.get(peer);
    if (link === undefined && !this.unknownPeers.has(peer)) {
      this.unknownPeers.add(peer);
      this.log?.warn({ peer }, 'send to a node not in the peer list: dropped or failed');
    }
    return this.closing === null ? link : undefined;
  }

  /** After close() this still runs once, to report requests failed since. */
  private scheduleFlush(): void {
    if (this.flushScheduled !== null) return;
    this.flushScheduled = setImmediate(() => {
      this.flushScheduled = null;
      this.flush();
    });
  }

  private peerState(peer: number, connected: boolean): void {
    try {
      this.opts.onPeerState?.(peer, connected);
    } catch (error) {
      this.log?.error({ peer, err: error }, 'onPeerState threw');
    }
  }

  private reportFailed(peer: number, ids: readonly number[]): void {
    this.stats.requestsFailed += ids.length;
    try {
      this.opts.onRequestsFailed?.(peer, ids);
    } catch (error) {
      this.log?.error({ peer, err: error }, 'onRequestsFailed threw');
    }
  }
}
