// The receiving side of HonuPeer.Exchange: streams other nodes dialed to this one, carried by
// grpc-js (any gRPC client) or by peer-h2.ts (Honu dialers, routed there by the listener). The
// first message must be a hello addressed to this node id (any sender id > 0 other than our
// own is accepted); the answer is one HonuPeerAccept and nothing else ever. A bad hello, a
// malformed envelope or a closed transport ends the stream with an error status. A newer
// stream from the same sender supersedes the older one (the sender redialed; the old one is
// dead to it).
import * as grpc from '@grpc/grpc-js';
import type { HonuPeerAccept, HonuPeerEnvelope, HonuPeerHello } from '../grpc/generated/peer.js';
import type { Logger } from '../log.js';
import { PeerProtocolError, PeerReassembler } from './peer-reassembler.js';
import type { PeerInbound, PeerTransportStats } from './peer-transport.js';
import { peerProtocolVersion } from './peer-wire.js';

/** A status that ends a stream. */
export interface PeerStatus { readonly code: grpc.status; readonly details: string }

/** What an inbound stream reports. */
export interface InboundCallHandlers {
  /** One decoded envelope. */
  envelope(env: HonuPeerEnvelope): void;
  /** The dialer half-closed: answer with end(). */
  halfClosed(): void;
  /** The stream is gone (reset, cancelled, failed, or finished). */
  closed(): void;
}

/** One inbound Exchange stream, whichever server carries it. */
export interface InboundCall {
  start(handlers: InboundCallHandlers): void;
  accept(accept: HonuPeerAccept): void;
  /** Ends the stream with status OK. */
  end(): void;
  /** Ends the stream with an error status. */
  fail(status: PeerStatus): void;
}

type GrpcCall = grpc.ServerDuplexStream<HonuPeerEnvelope, HonuPeerAccept>;

/** A grpc-js Exchange call as an InboundCall. */
export function grpcInboundCall(call: GrpcCall): InboundCall {
  return {
    start(handlers) {
      call.on('data', (env: HonuPeerEnvelope) => handlers.envelope(env));
      call.on('end', () => handlers.halfClosed());
      for (const event of ['error', 'cancelled', 'close']) call.on(event, () => handlers.closed());
    },
    accept: (accept) => call.write(accept),
    end: () => call.end(),
    // grpc-js sends an emitted error as the call's status and ends the call.
    fail: (status) => call.emit('error', status),
  };
}

export interface PeerInboundHooks {
  readonly nodeId: number;
  readonly log: Logger | undefined;
  readonly stats: PeerTransportStats;
  inbound(from: number, inbound: PeerInbound): void;
}

/** Why a hello is refused, or null when it is accepted. */
export function refuseHello(hello: HonuPeerHello | undefined, nodeId: number,
  closed: boolean): PeerStatus | null {
  if (closed) return { code: grpc.status.UNAVAILABLE, details: 'peer transport closed' };
  if (hello === undefined) {
    return { code: grpc.status.INVALID_ARGUMENT, details: 'first peer message is not a hello' };
  }
  if (hello.Version !== peerProtocolVersion) {
    return { code: grpc.status.FAILED_PRECONDITION,
      details: `peer protocol version ${hello.Version}, this node speaks ${peerProtocolVersion}` };
  }
  if (hello.ToNodeId !== nodeId) {
    return { code: grpc.status.FAILED_PRECONDITION,
      details: `hello for node ${hello.ToNodeId}, this is node ${nodeId}` };
  }
  if (hello.FromNodeId <= 0 || hello.FromNodeId === nodeId) {
    return { code: grpc.status.INVALID_ARGUMENT,
      details: `hello from node ${hello.FromNodeId} to node ${nodeId}` };
  }
  return null;
}

export class PeerInboundServer {
  /** Every open inbound stream, with the function that ends it with status OK. */
  private readonly calls = new Map<InboundCall, () => void>();
  private readonly bySender = new Map<number, InboundCall>();
  private closed = false;

  constructor(private readonly hooks: PeerInboundHooks) {}

  /** The Exchange handler. */
  serve(call: InboundCall): void {
    let from = 0;
    let done = false;
    const reassembler = new PeerReassembler();
    const finish = (): void => {
      done = true;
      this.calls.delete(call);
      if (from !== 0 && this.bySender.get(from) === call) this.bySender.delete(from);
    };
    const fail = (status: PeerStatus): void => {
      if (done) return;
      finish();
      call.fail(status);
    };
    const end = (): void => {
      if (done) return;
      finish();
      call.end();
    };
    this.calls.set(call, end);
    call.start({
      envelope: (env) => {
        if (done) return;
        if (from === 0) {
          const refusal = refuseHello(env.Hello, this.hooks.nodeId, this.closed);
          if (refusal !== null) {
            this.hooks.stats.hellosRefused++;
            this.hooks.log?.warn({ details: refusal.details }, 'peer hello refused');
            fail(refusal);
            return;
          }
          from = (env.Hello as HonuPeerHello).FromNodeId;
          this.supersede(from, call);
          call.accept({ NodeId: this.hooks.nodeId });
        }
        const status = this.deliver(from, reassembler, env);
        if (status !== null) fail(status);
      },
      halfClosed: end,
      closed: finish,
    });
  }

  /** Ends every inbound stream and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const end of [...this.calls.values()]) end();
    this.bySender.clear();
  }

  private supersede(from: number, call: InboundCall): void {
    const old = this.bySender.get(from);
    this.bySender.set(from, call);
    if (old === undefined) return;
    old.fail({ code: grpc.status.ABORTED, details: 'superseded by a newer stream' });
  }

  /** Hands the envelope's whole items to the transport; a status when the stream must end. */
  private deliver(from: number, reassembler: PeerReassembler,
    env: HonuPeerEnvelope): PeerStatus | null {
    let inbound: PeerInbound | null;
    try {
      inbound = reassembler.accept(env);
    } catch (error) {
      if (!(error instanceof PeerProtocolError)) throw error;
      this.hooks.log?.warn({ peer: from, err: error.message }, 'malformed peer envelope');
      return { code: grpc.status.INVALID_ARGUMENT, details: error.message };
    }
    if (env.Hello === undefined) this.hooks.stats.envelopesReceived++;
    if (inbound === null) return null;
    try {
      this.hooks.inbound(from, inbound);
    } catch (error) {
      this.hooks.log?.error({ peer: from, err: error }, 'onInbound threw; peer stream ended');
      return { code: grpc.status.INTERNAL, details: 'the receiver failed' };
    }
    return null;
  }
}
