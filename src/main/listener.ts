// One port for both protocols (architecture.md "Interfaces"; spec/wire.md 1.1). Plaintext: read
// the first bytes; a connection that starts with the HTTP/2 client preface goes to grpc-js
// (server.createConnectionInjector), or, when its first SETTINGS frame carries the Honu peer
// marker (peer/peer-h2.ts), to the peer transport's own HTTP/2 server; anything else to Honu's
// HTTP/1.1 server (http/http1-server.ts), each after unshifting the bytes back. We decide as
// soon as the bytes seen cannot be a prefix of the preface, so an HTTP/1.1 request is decided
// on its first byte; an HTTP/2 client is decided on its first SETTINGS frame, which RFC 9113
// has it send right after the preface (one that waits for the server's SETTINGS instead goes to
// grpc-js after listenerSettingsWaitMs). TLS: ALPN decides: `h2` goes to grpc-js, `http/1.1` or
// no ALPN to the HTTP/1.1 server. TLS ends here; the injected TLS socket carries plaintext
// HTTP/2 to grpc-js's insecure injector.
import net from 'node:net';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { assert } from '../assert.js';
import {
  listenerDrainMsDefault, listenerFirstBytesTimeoutMs, listenerSettingsWaitMs,
  tlsHandshakeTimeoutMs,
} from '../limits.js';
import type { Http1Server } from './http/http1-server.js';
import type { Logger } from './log.js';
import { hasPeerSetting } from './peer/peer-h2.js';

export interface ListenerOptions {
  readonly host: string;
  readonly port: number; // 0 = any free port
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | null | undefined;
  /** The REST server (see createHttpServer in rest/router.ts); this listener feeds it. */
  readonly http: Http1Server;
  readonly grpc: grpc.Server;
  /** Where connections of Honu peers go (PeerTransport); without it they go to grpc-js. */
  readonly peer?: PeerConnections | undefined;
  readonly log?: Logger | undefined;
  /** Default listenerFirstBytesTimeoutMs; tests shorten it. */
  readonly firstBytesTimeoutMs?: number | undefined;
}

export interface PeerConnections {
  acceptConnection(socket: net.Socket): void;
  /** The listener is closing: end the peer streams and close their connections. */
  closeInbound(): void;
}

export interface Listener {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /**
   * Stops accepting, lets in-flight REST requests and gRPC calls finish for up to drainMs, then
   * destroys what remains. Idempotent: every call returns the same promise.
   */
  close(drainMs?: number): Promise<void>;
}

/** The HTTP/2 client connection preface (RFC 9113 section 3.4). */
export const http2Preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type FirstBytesKind = 'grpc' | 'peer' | 'http' | 'more';

const frameHeaderBytes = 9;
const settingsFrameType = 0x4;
/** A first SETTINGS frame longer than this is no Honu dialer's (it sends two settings). */
const settingsPayloadBytesMax = 64 * 6;

/** Classifies the first bytes of a plaintext connection. */
export function classifyFirstBytes(bytes: Buffer): FirstBytesKind {
  const n = Math.min(bytes.length, http2Preface.length);
  if (bytes.compare(http2Preface, 0, n, 0, n) !== 0) return 'http';
  const at = http2Preface.length;
  if (bytes.length < at + frameHeaderBytes) return 'more';
  const length = bytes.readUIntBE(at, 3);
  if (bytes[at + 3] !== settingsFrameType || length > settingsPayloadBytesMax) return 'grpc';
  const start = at + frameHeaderBytes;
  if (bytes.length < start + length) return 'more';
  return hasPeerSetting(bytes.subarray(start, start + length)) ? 'peer' : 'grpc';
}

/** Shared state of one listener. */
class Edge {
  readonly sockets = new Set<net.Socket>(); // every accepted TCP socket, until it closes
  readonly undecided = new Set<net.Socket>(); // plaintext sockets still being peeked
  readonly injector: grpc.ConnectionInjector;
  closing = false;
  readonly #allClosedWaiters: Array<() => void> = [];

  constructor(readonly options: ListenerOptions) {
    this.injector = options.grpc.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  }

  track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', (error) => this.options.log?.debug({ err: error }, 'connection error'));
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.undecided.delete(socket);
      if (this.sockets.size === 0) for (const wake of this.#allClosedWaiters.splice(0)) wake();
    });
  }

  toGrpc(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.injector.injectConnection(socket);
  }

  toPeer(socket: net.Socket): void {
    const peer = this.options.peer;
    if (peer === undefined) this.toGrpc(socket);
    else if (this.closing) socket.destroy();
    else peer.acceptConnection(socket);
  }

  toHttp(socket: net.Socket): void {
    this.options.http.accept(socket);
  }

  /** The peeked bytes were unshifted into the paused stream: resume() hands them over first. */
  toHttpAfterPeek(socket: net.Socket): void {
    this.toHttp(socket);
    socket.resume();
  }

  /** Plaintext: peek, then hand the socket over with the peeked bytes put back. */
  onPlainConnection(socket: net.Socket): void {
    this.track(socket);
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.undecided.add(socket);
    const onIdle = (): void => {
      this.options.log?.debug('connection sent no bytes in time; closed');
      socket.destroy();
    };
    socket.setTimeout(this.options.firstBytesTimeoutMs ?? listenerFirstBytesTimeoutMs, onIdle);
    const onEndUndecided = (): void => {
      socket.destroy(); // FIN before a decision: nothing to serve
    };
    let seen: Buffer = Buffer.alloc(0);
    let settingsTimer: NodeJS.Timeout | null = null;
    const decide = (kind: Exclude<FirstBytesKind, 'more'>): void => {
      if (settingsTimer !== null) clearTimeout(settingsTimer);
      socket.removeListener('data', onData);
      socket.removeListener('timeout', onIdle);
      socket.removeListener('end', onEndUndecided);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(seen);
      this.undecided.delete(socket);
      socket.allowHalfOpen = kind === 'http';
      if (kind === 'grpc') this.toGrpc(socket);
      else if (kind === 'peer') this.toPeer(socket);
      else this.toHttpAfterPeek(socket);
    };
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const kind = classifyFirstBytes(seen);
      if (kind !== 'more') {
        decide(kind);
      } else if (settingsTimer === null && seen.length >= http2Preface.length) {
        settingsTimer = setTimeout(() => decide('grpc'), listenerSettingsWaitMs);
      }
    };
    socket.on('data', onData);
    socket.once('end', onEndUndecided);
    socket.once('close', () => {
      if (settingsTimer !== null) clearTimeout(settingsTimer);
    });
  }

  /** TLS: the handshake is done; ALPN picks the protocol. */
  onSecureConnection(socket: tls.TLSSocket): void {
    if (socket.alpnProtocol === 'h2') this.toGrpc(socket);
    else this.toHttp(socket); // 'http/1.1' or no ALPN
  }

  /** Resolves when every tracked socket has closed. */
  allClosed(): Promise<void> {
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#allClosedWaiters.push(resolve));
  }
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

function createNetServer(edge: Edge): net.Server {
  const tlsMaterial = edge.options.tls;
  if (tlsMaterial === null || tlsMaterial === undefined) {
    // allowHalfOpen as each server would accept its own sockets: node:http true (it handles
    // the peer's FIN itself), http2 false (set at the hand-over).
    return net.createServer({ allowHalfOpen: true }, (socket) => edge.onPlainConnection(socket));
  }
  const server = tls.createServer({
    cert: tlsMaterial.cert,
    key: tlsMaterial.key,
    ALPNProtocols: ['h2', 'http/1.1'],
    handshakeTimeout: tlsHandshakeTimeoutMs,
  }, (socket) => edge.onSecureConnection(socket));
  server.on('connection', (socket: net.Socket) => {
    edge.track(socket); // the TCP socket under TLS: destroying it ends the TLS session too
    if (edge.closing) socket.destroy();
  });
  server.on('tlsClientError', (error) => edge.options.log?.debug({ err: error }, 'TLS failed'));
  return server;
}

/** Binds host:port and serves gRPC and REST on it. Rejects if the port cannot be bound. */
export async function startListener(options: ListenerOptions): Promise<Listener> {
  const edge = new Edge(options);
  const server = createNetServer(edge);
  try {
    await listen(server, options.host, options.port);
  } catch (error) {
    options.grpc.forceShutdown(); // drops the injector
    throw error;
  }
  server.on('error', (error) => options.log?.error({ err: error }, 'listener error'));
  const address = server.address();
  assert(address !== null && typeof address === 'object', 'listener has no address');
  let closed: Promise<void> | null = null;
  return {
    port: address.port,
    close: (drainMs = listenerDrainMsDefault) => (closed ??= closeEdge(edge, server, drainMs)),
  };
}

async function closeEdge(edge: Edge, server: net.Server, drainMs: number): Promise<void> {
  assert(drainMs >= 0, 'drainMs must not be negative');
  const { http, grpc: grpcServer, log } = edge.options;
  edge.closing = true;
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of edge.undecided) socket.destroy();
  // Idle keep-alive connections close now; each busy one closes after its last reply, which
  // carries `Connection: close`.
  http.beginClose();
  edge.options.peer?.closeInbound();
  const grpcDrained = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), drainMs);
  });
  const drained = Promise.all([edge.allClosed(), grpcDrained, stopped]).then(() => 'drained');
  const outcome = await Promise.race([drained, deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    log?.warn({ connections: edge.sockets.size, drainMs }, 'drain timed out; closing the rest');
    grpcServer.forceShutdown();
    for (const socket of edge.sockets) socket.destroy();
    await Promise.all([edge.allClosed(), stopped]);
  }
  assert(edge.sockets.size === 0, 'sockets left open after close');
}
