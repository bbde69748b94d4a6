// The peer stream on node:http2 at both ends (peer-h2.ts): transports behind real listeners
// (src/main/listener.ts) on loopback, so Honu dialers are routed to the peer transport's own
// HTTP/2 server, while other gRPC clients still reach HonuPeer.Exchange through grpc-js.
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { createGrpcServer } from '../../src/main/grpc/grpc-server.js';
import { HonuPeerAccept, HonuPeerEnvelope } from '../../src/main/grpc/generated/peer.js';
import { startListener, type Listener } from '../../src/main/listener.js';
import { createMetrics } from '../../src/main/metrics.js';
import { grpcFrame, GrpcMessageReader } from '../../src/main/peer/grpc-framing.js';
import { peerSettingId, peerSettingValue } from '../../src/main/peer/peer-h2.js';
import { PeerTransport, type PeerInbound } from '../../src/main/peer/peer-transport.js';
import { emptyEnvelope, peerExchange } from '../../src/main/peer/peer-wire.js';
import { createHttpServer, RestRouter } from '../../src/main/rest/router.js';
import { FakeBackend } from '../helpers/fake-backend.js';

interface Node {
  readonly id: number;
  readonly transport: PeerTransport;
  listener: Listener;
  readonly inbound: Array<{ from: number; inbound: PeerInbound }>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A node's listener as server.ts builds it: REST, Kahuna's gRPC services and the peer
 *  service on one port, peer connections handed to the transport. */
function listen(transport: PeerTransport, port = 0): Promise<Listener> {
  const grpcServer = createGrpcServer(new FakeBackend(), undefined,
    (s) => transport.register(s));
  return startListener({ host: '127.0.0.1', port, grpc: grpcServer, peer: transport,
    http: createHttpServer(new RestRouter({ metrics: createMetrics() })) });
}

async function startNodes(count: number): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let id = 1; id <= count; id++) {
    const inbound: Node['inbound'] = [];
    const transport = new PeerTransport({ nodeId: id, peers: [],
      onInbound: (from, got) => inbound.push({ from, inbound: got }) });
    nodes.push({ id, transport, listener: await listen(transport), inbound });
  }
  for (const a of nodes) {
    for (const b of nodes) {
      if (a !== b) a.transport.addPeer({ id: b.id, host: '127.0.0.1', port: b.listener.port });
    }
  }
  cleanups.push(async () => {
    await Promise.all(nodes.map((n) => n.listener.close(2000)));
    await Promise.all(nodes.map((n) => n.transport.close()));
  });
  for (const n of nodes) n.transport.start();
  await until('connected', () => nodes.every((a) => nodes.every((b) =>
    a === b || a.transport.isConnected(b.id))));
  return nodes;
}

const plain = (b: Uint8Array): Uint8Array => new Uint8Array(b);
const raftOf = (node: Node, from: number): Uint8Array[] =>
  node.inbound.filter((c) => c.from === from).flatMap((c) => c.inbound.raft.map(plain));

/** A raw node:http2 Exchange call, as a Honu dialer opens it (with the peer setting unless
 *  `marked` is false). Resolves with the accepts received and the final grpc-status. */
async function rawExchange(port: number, messages: Buffer[], opts: {
  marked?: boolean; path?: string; endAfter?: boolean;
} = {}): Promise<{ accepts: HonuPeerAccept[]; status: number; message: string }> {
  const session = http2.connect(`http://127.0.0.1:${port}`, opts.marked === false ? {} : {
    settings: { customSettings: { [peerSettingId]: peerSettingValue } } });
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': opts.path ?? peerExchange.path,
    'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => undefined);
  const accepts: HonuPeerAccept[] = [];
  const reader = new GrpcMessageReader(1 << 20);
  let status = -1;
  let message = '';
  const take = (headers: http2.IncomingHttpHeaders): void => {
    if (headers['grpc-status'] !== undefined) status = Number(headers['grpc-status']);
    if (typeof headers['grpc-message'] === 'string') message = headers['grpc-message'];
  };
  stream.on('response', take);
  stream.on('trailers', (headers) => {
    take(headers);
    stream.close(); // as a gRPC client does once it has the status
  });
  stream.on('data', (chunk: Buffer) =>
    reader.push(chunk, (m) => accepts.push(HonuPeerAccept.decode(m))));
  for (const m of messages) stream.write(m);
  if (opts.endAfter ?? false) stream.end();
  await new Promise<void>((resolve) => stream.on('close', () => resolve()));
  session.destroy();
  return { accepts, status, message };
}

const helloFrame = (from: number, to: number): Buffer => {
  const hello = emptyEnvelope();
  hello.Hello = { FromNodeId: from, ToNodeId: to, Version: 1 };
  return grpcFrame(HonuPeerEnvelope.encode(hello).finish());
};

describe('peer connections through the listener', () => {
  test('Honu dialers are served by node:http2; items arrive byte for byte both ways', async () => {
    const [a, b, c] = await startNodes(3) as [Node, Node, Node];
    for (const n of [a, b, c]) {
      expect(n.transport.stats.h2StreamsOpened).toBe(2);
      expect(n.transport.stats.grpcStreamsOpened).toBe(0);
    }
    const big = randomBytes(5 * 1024 * 1024 + 17); // fragments, several HTTP/2 windows
    a.transport.sendRaft(2, Uint8Array.of(1, 2));
    a.transport.sendRaft(2, big);
    a.transport.sendRaft(2, Uint8Array.of(3));
    a.transport.sendRequest(3, { id: 9, partition: 4, op: 2, payload: Uint8Array.of(7) });
    c.transport.sendReply(1, { id: 9, code: 5, detail: 'ünïcödé', payload: Uint8Array.of(8) });
    await until('delivered', () => raftOf(b, 1).length === 3 && a.inbound.length === 1 &&
      c.inbound.length === 1);
    const raft = raftOf(b, 1);
    expect(raft.map((r) => r.byteLength)).toEqual([2, big.byteLength, 1]);
    expect(Buffer.compare(raft[1]!, big)).toBe(0); // toEqual walks 5 MiB element by element
    expect([raft[0], raft[2]]).toEqual([Uint8Array.of(1, 2), Uint8Array.of(3)]);
    expect(c.inbound[0]?.inbound.requests.map((r) => ({ ...r, payload: plain(r.payload) })))
      .toEqual([{ id: 9, partition: 4, op: 2, payload: Uint8Array.of(7) }]);
    expect(a.inbound[0]?.inbound.replies.map((r) => ({ ...r, payload: plain(r.payload) })))
      .toEqual([{ id: 9, code: 5, detail: 'ünïcödé', payload: Uint8Array.of(8) }]);
  });

  test('a gRPC client without the setting reaches the same service through grpc-js', async () => {
    const [, b] = await startNodes(2) as [Node, Node];
    const client = new grpc.Client(`127.0.0.1:${b.listener.port}`,
      grpc.credentials.createInsecure());
    cleanups.push(async () => client.close());
    const stream = client.makeBidiStreamRequest(peerExchange.path, peerExchange.requestSerialize,
      (data: Buffer) => HonuPeerAccept.decode(data), new grpc.Metadata());
    stream.on('error', () => undefined);
    const accepted = new Promise<HonuPeerAccept>((resolve) => stream.once('data', resolve));
    const hello = emptyEnvelope();
    hello.Hello = { FromNodeId: 7, ToNodeId: 2, Version: 1 };
    stream.write(hello);
    expect(await accepted).toEqual({ NodeId: 2 });
    expect(b.transport.stats.grpcStreamsOpened).toBe(1);
    stream.cancel();
  });

  test('refusals and protocol errors end the h2 stream with their grpc-status', async () => {
    const [, b] = await startNodes(2) as [Node, Node];
    const port = b.listener.port;
    const wrongNode = await rawExchange(port, [helloFrame(1, 3)]);
    expect(wrongNode.status).toBe(grpc.status.FAILED_PRECONDITION);
    expect(wrongNode.message).toMatch(/node 3/);
    expect(wrongNode.accepts).toEqual([]);
    const garbage = await rawExchange(port, [helloFrame(5, 2),
      grpcFrame(Buffer.from([0xff, 0xff, 0xff]))]);
    expect(garbage.accepts).toEqual([{ NodeId: 2 }]);
    expect(garbage.status).toBe(grpc.status.INVALID_ARGUMENT);
    const compressed = await rawExchange(port, [Buffer.from([1, 0, 0, 0, 1, 0])]);
    expect(compressed.status).toBe(grpc.status.INTERNAL);
    const otherPath = await rawExchange(port, [], { path: '/Other/Method' });
    expect(otherPath.status).toBe(grpc.status.UNIMPLEMENTED);
    const graceful = await rawExchange(port, [helloFrame(6, 2)], { endAfter: true });
    expect(graceful).toEqual({ accepts: [{ NodeId: 2 }], status: grpc.status.OK, message: '' });
    expect(b.transport.stats.hellosRefused).toBe(1);
    // The node's own links were never disturbed.
    expect(b.transport.isConnected(1)).toBe(true);
  });

  test('a listener that closes ends its peer connections; the node redials when it is back',
    async () => {
      const [a, b] = await startNodes(2) as [Node, Node];
      const port = b.listener.port;
      const started = Date.now();
      await b.listener.close(10_000);
      expect(Date.now() - started).toBeLessThan(5000); // not a drain timeout
      await until('a sees 2 down', () => !a.transport.isConnected(2));
      const fresh = new PeerTransport({ nodeId: 2,
        peers: [{ id: 1, host: '127.0.0.1', port: a.listener.port }],
        onInbound: (from, got) => b.inbound.push({ from, inbound: got }) });
      await b.transport.close();
      b.listener = await listen(fresh, port);
      cleanups.push(() => fresh.close());
      fresh.start();
      await until('a reconnects', () => a.transport.isConnected(2) && fresh.isConnected(1));
      a.transport.sendRaft(2, Uint8Array.of(42));
      await until('delivered after the restart', () => raftOf(b, 1).length === 1);
      expect(raftOf(b, 1)).toEqual([Uint8Array.of(42)]);
    });
});
