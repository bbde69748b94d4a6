// The peer stream on node:http2 directly, both ends: still gRPC on the wire (HTTP/2 h2c, a POST
// to /HonuPeer/Exchange with content-type application/grpc, length-prefixed protobuf messages,
// grpc-status in the trailers), without grpc-js's per-message machinery, which cost 1.4 times
// node:http2's CPU per message one at a time and about 3 times with 8 in flight
// (bench/RESULTS.md, stop 25).
//
// Routing on the one port. A Honu dialer's first SETTINGS frame carries one extra setting,
// peerSettingId = peerSettingValue. RFC 9113 section 6.5.2 has a receiver ignore settings it
// does not know, so any HTTP/2 server still accepts the connection; Honu's listener looks for
// the setting in the connection's first bytes and hands such connections to PeerH2Server
// instead of grpc-js. Everything else (Kahuna clients, a gRPC tool calling HonuPeer.Exchange)
// goes to grpc-js, where the same service is registered.
import http2 from 'node:http2';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HonuPeerAccept, HonuPeerEnvelope } from '../grpc/generated/peer.js';
import type { Logger } from '../log.js';
import {
  decodeGrpcMessage, encodeGrpcMessage, grpcFrame, GrpcFramingError, GrpcMessageReader,
} from './grpc-framing.js';
import type { InboundCall, InboundCallHandlers, PeerStatus } from './peer-inbound.js';
import { peerCloseTimeoutMs, peerMessageBytesMax, peerWindowBytes } from './peer-limits.js';
import { dialTarget, peerExchange } from './peer-wire.js';

/** The SETTINGS identifier that marks a Honu peer connection (an unassigned value). */
export const peerSettingId = 0xf0a1;
/** Its value: "HONU" in ASCII. */
export const peerSettingValue = 0x484f_4e55;

/** Received messages may carry a whole envelope plus protobuf framing. */
const receiveBytesMax = peerMessageBytesMax + 64 * 1024;

const sessionSettings: http2.Settings = { initialWindowSize: peerWindowBytes };

/** True when `frame` (the payload of a SETTINGS frame) holds the peer marker. */
export function hasPeerSetting(payload: Buffer): boolean {
  for (let at = 0; at + 6 <= payload.length; at += 6) {
    if (payload.readUInt16BE(at) === peerSettingId &&
      payload.readUInt32BE(at + 2) === peerSettingValue) return true;
  }
  return false;
}

function statusOfError(error: unknown): PeerStatus {
  if (error instanceof GrpcFramingError) return { code: error.code, details: error.message };
  return { code: grpc.status.INVALID_ARGUMENT,
    details: `malformed peer message: ${error instanceof Error ? error.message : String(error)}` };
}

/** One inbound Exchange stream on node:http2. */
class H2InboundCall implements InboundCall {
  private status: PeerStatus | null = null;
  private handlers: InboundCallHandlers | null = null;
  private closed = false;

  constructor(private readonly stream: http2.ServerHttp2Stream) {}

  start(handlers: InboundCallHandlers): void {
    this.handlers = handlers;
    const stream = this.stream;
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true });
    stream.on('wantTrailers', () => {
      const status = this.status ?? { code: grpc.status.OK, details: '' };
      // No RST_STREAM after them (nghttp2 would drop the queued trailers): the dialer closes
      // its half when it reads them, and data it sends meanwhile is ignored.
      stream.sendTrailers({ 'grpc-status': String(status.code),
        'grpc-message': encodeGrpcMessage(status.details) });
    });
    const reader = new GrpcMessageReader(receiveBytesMax);
    stream.on('data', (chunk: Buffer) => {
      if (this.status !== null) return;
      try {
        reader.push(chunk, (message) => {
          if (this.status === null) handlers.envelope(HonuPeerEnvelope.decode(message));
        });
      } catch (error) {
        this.fail(statusOfError(error));
      }
    });
    stream.on('end', () => {
      if (reader.pendingBytes > 0) {
        this.fail({ code: grpc.status.INTERNAL, details: 'peer stream ended inside a message' });
      } else {
        handlers.halfClosed();
      }
    });
    stream.on('error', () => undefined); // 'close' follows
    stream.on('close', () => this.markClosed());
  }

  accept(accept: HonuPeerAccept): void {
    if (this.status === null) this.stream.write(grpcFrame(HonuPeerAccept.encode(accept).finish()));
  }

  end(): void {
    this.finish({ code: grpc.status.OK, details: '' });
  }

  fail(status: PeerStatus): void {
    this.finish(status);
  }

  private finish(status: PeerStatus): void {
    if (this.status !== null) return;
    this.status = status;
    if (!this.stream.destroyed) this.stream.end();
    this.markClosed(); // the server forgets the call at once, as grpc-js's emit does
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers?.closed();
  }
}

/** The node:http2 server for inbound peer connections; it never listens itself: the node's
 *  listener hands it sockets (accept). */
export class PeerH2Server {
  private readonly server = http2.createServer({ settings: sessionSettings });
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private closing = false;

  constructor(onCall: (call: InboundCall) => void, private readonly log?: Logger) {
    this.server.on('session', (session: http2.ServerHttp2Session) => {
      if (this.closing) {
        session.destroy();
        return;
      }
      this.sessions.add(session);
      session.setLocalWindowSize(peerWindowBytes);
      session.on('error', (error) => this.log?.debug({ err: error }, 'peer session error'));
      session.once('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream, headers) => {
      const contentType = headers['content-type'] ?? '';
      if (headers[':path'] === peerExchange.path && contentType.startsWith('application/grpc')) {
        onCall(new H2InboundCall(stream));
        return;
      }
      stream.on('error', () => undefined);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc',
        'grpc-status': String(grpc.status.UNIMPLEMENTED),
        'grpc-message': encodeGrpcMessage(`${headers[':path'] ?? ''} is not served on a ` +
          'peer connection') }, { endStream: true });
    });
  }

  /** A connection routed here (its peeked bytes unshifted into it). */
  accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.server.emit('connection', socket);
  }

  /** Closes every session once its streams are done (the transport ends them), and any still
   *  open after peerCloseTimeoutMs at once. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    for (const session of this.sessions) session.close();
    if (this.sessions.size === 0) return;
    setTimeout(() => {
      for (const session of this.sessions) session.destroy();
    }, peerCloseTimeoutMs).unref();
  }
}

/** What the dialing side of one stream reports. */
export interface PeerDialHandlers {
  /** One message from the receiver (the dialer expects one HonuPeerAccept). */
  accept(accept: HonuPeerAccept): void;
  /** The stream and its connection are gone; `status` as the receiver's trailers gave it, or
   *  the local reason. Called once. */
  done(status: PeerStatus): void;
}

export interface PeerDialOptions {
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
}

/** One dialed connection with its one Exchange stream. */
export class PeerDialedStream {
  private readonly session: http2.ClientHttp2Session;
  private readonly stream: http2.ClientHttp2Stream;
  private readonly keepalive: NodeJS.Timeout;
  private pingTimer: NodeJS.Timeout | null = null;
  private finished = false;
  private trailerStatus: PeerStatus | null = null;

  constructor(host: string, port: number, private readonly handlers: PeerDialHandlers,
    options: PeerDialOptions) {
    const session = http2.connect(`http://${dialTarget(host, port)}`, {
      settings: { ...sessionSettings, customSettings: { [peerSettingId]: peerSettingValue } },
      // Small envelopes must leave at once, not wait for the previous one's ACK (Nagle).
      createConnection: () => net.connect({ host, port, noDelay: true }),
    });
    this.session = session;
    session.on('error', () => undefined); // 'close' follows
    session.on('connect', () => session.setLocalWindowSize(peerWindowBytes));
    session.on('close', () => this.finish({ code: grpc.status.UNAVAILABLE,
      details: 'peer connection closed' }));
    const stream = session.request({
      ':method': 'POST', ':path': peerExchange.path, 'content-type': 'application/grpc',
      te: 'trailers',
    });
    this.stream = stream;
    const reader = new GrpcMessageReader(receiveBytesMax);
    stream.on('response', (headers) => {
      const status = headers[':status'];
      if (status !== 200) {
        this.cancel({ code: grpc.status.UNKNOWN, details: `peer answered HTTP ${status}` });
      }
      this.takeStatus(headers); // a trailers-only answer carries its grpc-status here
    });
    stream.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (message) => handlers.accept(HonuPeerAccept.decode(message)));
      } catch (error) {
        this.cancel(statusOfError(error));
      }
    });
    stream.on('trailers', (headers) => {
      this.takeStatus(headers);
      this.cancel(this.trailerStatus ?? { code: grpc.status.UNKNOWN,
        details: 'peer trailers without grpc-status' });
    });
    stream.on('error', () => undefined); // 'close' follows
    stream.on('close', () => {
      this.finish(this.trailerStatus ?? { code: grpc.status.UNAVAILABLE,
        details: `peer stream reset (code ${stream.rstCode ?? 'none'})` });
    });
    this.keepalive = setInterval(() => this.ping(options.keepaliveTimeoutMs),
      options.keepaliveMs);
  }

  /** Writes one envelope; `written` runs when node:http2 has taken it (flow control may
   *  hold it), which is when the link cuts the next one. */
  write(env: HonuPeerEnvelope, written?: () => void): void {
    if (this.finished) return;
    this.stream.write(grpcFrame(HonuPeerEnvelope.encode(env).finish()), written);
  }

  /** Half-closes: the receiver answers with its trailers, then done(). */
  end(): void {
    if (!this.finished) this.stream.end();
  }

  /** Drops the stream and its connection at once. */
  cancel(status: PeerStatus = { code: grpc.status.CANCELLED, details: 'cancelled' }): void {
    if (this.finished) return;
    this.stream.close(http2.constants.NGHTTP2_CANCEL);
    this.finish(status);
  }

  private takeStatus(headers: http2.IncomingHttpHeaders): void {
    const code = headers['grpc-status'];
    if (code === undefined) return;
    const message = headers['grpc-message'];
    this.trailerStatus = { code: Number(code),
      details: decodeGrpcMessage(typeof message === 'string' ? message : '') };
  }

  private ping(timeoutMs: number): void {
    if (this.pingTimer !== null || this.finished) return;
    this.pingTimer = setTimeout(() => this.cancel({ code: grpc.status.UNAVAILABLE,
      details: 'peer keepalive ping unanswered' }), timeoutMs);
    let sent = false;
    try {
      sent = this.session.ping((error) => {
        if (this.pingTimer !== null) clearTimeout(this.pingTimer);
        this.pingTimer = null;
        if (error !== null) this.cancel({ code: grpc.status.UNAVAILABLE, details: error.message });
      });
    } catch (error) { // a session node:http2 already tore down
      this.cancel({ code: grpc.status.UNAVAILABLE,
        details: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (!sent) {
      clearTimeout(this.pingTimer);
      this.pingTimer = null;
    }
  }

  private finish(status: PeerStatus): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.keepalive);
    if (this.pingTimer !== null) clearTimeout(this.pingTimer);
    this.pingTimer = null;
    this.session.destroy();
    this.handlers.done(status);
  }
}
