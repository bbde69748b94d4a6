// PeerTransport over real grpc-js servers and real sockets on loopback: each node has its own
// grpc-js Server bound to 127.0.0.1:0, and its transport dials the others at the ports found.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { createGrpcServer, grpcServerOptions } from '../../src/main/grpc/grpc-server.js';
import { HonuPeerAccept } from '../../src/main/grpc/generated/peer.js';
import { peerChunkBytesMax } from '../../src/main/peer/peer-limits.js';
import {
  PeerTransport, type ForwardedReply, type ForwardedRequest, type PeerAddress, type PeerInbound,
} from '../../src/main/peer/peer-transport.js';
import { emptyEnvelope, peerExchange } from '../../src/main/peer/peer-wire.js';
import { FakeBackend } from '../helpers/fake-backend.js';

interface Node {
  readonly id: number;
  port: number;
  server: grpc.Server;
  transport: PeerTransport;
  /** Every onInbound call, in order. */
  readonly inbound: Array<{ from: number; inbound: PeerInbound }>;
  readonly states: Array<[number, boolean]>;
  readonly failed: Array<[number, readonly number[]]>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function bind(server: grpc.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
}

function shutdown(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), 1000);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function makeTransport(node: Node, peers: readonly PeerAddress[]): PeerTransport {
  return new PeerTransport({
    nodeId: node.id, peers,
    onInbound: (from, inbound) => node.inbound.push({ from, inbound }),
    onPeerState: (peer, connected) => node.states.push([peer, connected]),
    onRequestsFailed: (peer, ids) => node.failed.push([peer, [...ids]]),
  });
}

interface ClusterOptions {
  /** Wait until every node is connected to every other (default true). */
  readonly connect?: boolean;
  /** The port `from` dials to reach `to` (default: `to`'s own port). */
  readonly route?: (from: Node, to: Node) => Promise<number>;
}

/** `count` nodes (ids 1..count), each dialing every other. */
async function startCluster(count: number, opts: ClusterOptions = {}): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let id = 1; id <= count; id++) {
    const server = new grpc.Server(grpcServerOptions);
    const port = await bind(server);
    nodes.push({ id, port, server, transport: undefined as unknown as PeerTransport,
      inbound: [], states: [], failed: [] });
  }
  for (const node of nodes) {
    const peers: PeerAddress[] = [];
    for (const to of nodes.filter((n) => n !== node)) {
      const port = opts.route === undefined ? to.port : await opts.route(node, to);
      peers.push({ id: to.id, host: '127.0.0.1', port });
    }
    node.transport = makeTransport(node, peers);
    node.transport.register(node.server);
  }
  cleanups.push(async () => {
    await Promise.all(nodes.map((n) => n.transport.close()));
    await Promise.all(nodes.map((n) => shutdown(n.server)));
  });
  for (const node of nodes) node.transport.start();
  if (opts.connect ?? true) await until('connected', () => allConnected(nodes));
  return nodes;
}

function allConnected(nodes: readonly Node[]): boolean {
  return nodes.every((a) => nodes.every((b) => a === b || a.transport.isConnected(b.id)));
}

/** Received bytes are Buffers (views of the gRPC message); compare them as plain bytes. */
const plain = (b: Uint8Array): Uint8Array => new Uint8Array(b);
const raftOf = (node: Node, from: number): Uint8Array[] =>
  node.inbound.filter((c) => c.from === from).flatMap((c) => c.inbound.raft.map(plain));
const requestsOf = (node: Node, from: number): ForwardedRequest[] =>
  node.inbound.filter((c) => c.from === from)
    .flatMap((c) => c.inbound.requests.map((r) => ({ ...r, payload: plain(r.payload) })));
const repliesOf = (node: Node, from: number): ForwardedReply[] =>
  node.inbound.filter((c) => c.from === from)
    .flatMap((c) => c.inbound.replies.map((r) => ({ ...r, payload: plain(r.payload) })));

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
/** A raft item whose first 4 bytes number it. */
const numbered = (n: number, size = 8): Uint8Array => {
  const item = new Uint8Array(size);
  new DataView(item.buffer).setUint32(0, n);
  return item;
};
const numberOf = (item: Uint8Array): number =>
  new DataView(item.buffer, item.byteOffset, item.byteLength).getUint32(0);

describe('delivery', () => {
  test('raft batches, requests and replies arrive byte for byte, both ways', async () => {
    const [a, b] = await startCluster(2) as [Node, Node];
    const req: ForwardedRequest = { id: 7, partition: 3, op: 12, payload: bytes(1, 2, 3) };
    const reply: ForwardedReply = { id: 2 ** 40, code: 5, detail: 'not leader: ñ',
      payload: bytes(9, 8) };
    a.transport.sendRaft(2, bytes(0xde, 0xad));
    a.transport.sendRaft(2, new Uint8Array(0));
    a.transport.sendRequest(2, req);
    a.transport.sendReply(2, reply);
    b.transport.sendRaft(1, bytes(0xbe, 0xef));
    b.transport.sendRequest(1, { ...req, payload: new Uint8Array(0) });
    await until('b receives', () => b.inbound.length > 0);
    await until('a receives', () => a.inbound.length > 0);
    expect(b.inbound).toHaveLength(1);
    expect(b.inbound[0]!.from).toBe(1);
    expect(raftOf(b, 1)).toEqual([bytes(0xde, 0xad), new Uint8Array(0)]);
    expect(requestsOf(b, 1)).toEqual([req]);
    expect(repliesOf(b, 1)).toEqual([reply]);
    expect(raftOf(a, 2)).toEqual([bytes(0xbe, 0xef)]);
    expect(requestsOf(a, 2)).toEqual([{ ...req, payload: new Uint8Array(0) }]);
    expect(a.failed).toEqual([]);
    expect(a.states).toEqual([[2, true]]);
  });

  test('three nodes: each reaches every other, each item only where it was sent', async () => {
    const nodes = await startCluster(3);
    for (const from of nodes) {
      for (const to of nodes) {
        if (from !== to) from.transport.sendRaft(to.id, bytes(from.id, to.id));
      }
    }
    await until('all delivered', () => nodes.every((n) => n.inbound.length === 2));
    for (const to of nodes) {
      for (const from of nodes) {
        if (from !== to) expect(raftOf(to, from.id)).toEqual([bytes(from.id, to.id)]);
      }
    }
  });

  test('the service registers through createGrpcServer next to Kahuna\'s services', async () => {
    const node = (id: number): Node => ({ id, port: 0, server: undefined as unknown as grpc.Server,
      transport: undefined as unknown as PeerTransport, inbound: [], states: [], failed: [] });
    const a = node(1);
    const b = node(2);
    // As a node boots: its transport exists (peer ports known) before its server.
    b.server = new grpc.Server(grpcServerOptions);
    b.port = await bind(b.server);
    a.transport = makeTransport(a, [{ id: 2, host: '127.0.0.1', port: b.port }]);
    a.server = createGrpcServer(new FakeBackend(), undefined, (s) => a.transport.register(s));
    a.port = await bind(a.server);
    b.transport = makeTransport(b, [{ id: 1, host: '127.0.0.1', port: a.port }]);
    b.transport.register(b.server);
    cleanups.push(async () => {
      await Promise.all([a, b].map((n) => n.transport.close()));
      await Promise.all([a, b].map((n) => shutdown(n.server)));
    });
    a.transport.start();
    b.transport.start();
    await until('connected', () => allConnected([a, b]));
    a.transport.sendRaft(2, bytes(42));
    b.transport.sendRaft(1, bytes(43));
    await until('delivered', () => b.inbound.length === 1 && a.inbound.length === 1);
    expect(raftOf(b, 1)).toEqual([bytes(42)]);
    expect(raftOf(a, 2)).toEqual([bytes(43)]);
  });
});

describe('batching and order', () => {
  test('many items queued in one turn travel as one envelope', async () => {
    const [a, b] = await startCluster(2) as [Node, Node];
    const sentBefore = { ...a.transport.stats };
    for (let i = 0; i < 300; i++) a.transport.sendRaft(2, numbered(i));
    for (let i = 0; i < 100; i++) {
      a.transport.sendRequest(2, { id: i, partition: 1, op: 1, payload: numbered(i) });
      a.transport.sendReply(2, { id: i, code: 0, detail: '', payload: numbered(i) });
    }
    await until('delivered', () => b.inbound.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 50)); // nothing else follows
    expect(b.inbound).toHaveLength(1);
    const stats = a.transport.stats;
    expect(stats.envelopesSent - sentBefore.envelopesSent).toBe(1);
    expect(stats.raftItemsSent - sentBefore.raftItemsSent).toBe(300);
    expect(stats.requestsSent - sentBefore.requestsSent).toBe(100);
    expect(stats.repliesSent - sentBefore.repliesSent).toBe(100);
    expect(b.inbound[0]!.inbound.raft.map(numberOf)).toEqual([...Array(300).keys()]);
    expect(b.inbound[0]!.inbound.requests.map((r) => r.id)).toEqual([...Array(100).keys()]);
    expect(b.inbound[0]!.inbound.replies.map((r) => r.id)).toEqual([...Array(100).keys()]);
  });

  test('order holds per peer across many turns and explicit flushes', async () => {
    const [a, b, c] = await startCluster(3) as [Node, Node, Node];
    let n = 0;
    for (let turn = 0; turn < 50; turn++) {
      for (let i = 0; i < 40; i++, n++) {
        a.transport.sendRaft(2, numbered(n, 8 + (n % 7) * 1000));
        a.transport.sendRaft(3, numbered(n));
        a.transport.sendRequest(2, { id: n, partition: 1, op: 2, payload: numbered(n) });
        if (i % 10 === 0) a.transport.flush();
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const all = [...Array(n).keys()];
    await until('b has all', () => raftOf(b, 1).length === n && requestsOf(b, 1).length === n);
    await until('c has all', () => raftOf(c, 1).length === n);
    expect(raftOf(b, 1).map(numberOf)).toEqual(all);
    expect(requestsOf(b, 1).map((r) => r.id)).toEqual(all);
    expect(raftOf(c, 1).map(numberOf)).toEqual(all);
    expect(a.transport.stats.raftDropped).toBe(0);
  });

  test('a 5 MiB raft item arrives whole; what follows it arrives after it', async () => {
    const [a, b] = await startCluster(2) as [Node, Node];
    const snapshot = randomBytes(5 * 1024 * 1024 + 123);
    const request: ForwardedRequest = { id: 1, partition: 2, op: 3,
      payload: randomBytes(peerChunkBytesMax * 2 + 1) };
    a.transport.sendRaft(2, bytes(1));
    a.transport.sendRaft(2, snapshot);
    a.transport.sendRaft(2, bytes(2));
    a.transport.sendRequest(2, request);
    a.transport.sendReply(2, { id: 9, code: 1, detail: 'd', payload: bytes(3) });
    await until('delivered', () => raftOf(b, 1).length === 3 && requestsOf(b, 1).length === 1);
    const raft = raftOf(b, 1);
    expect(raft[0]).toEqual(bytes(1));
    expect(raft[1]!.byteLength).toBe(snapshot.byteLength);
    expect(Buffer.compare(raft[1]!, snapshot)).toBe(0);
    expect(raft[2]).toEqual(bytes(2));
    expect(Buffer.compare(requestsOf(b, 1)[0]!.payload, request.payload)).toBe(0);
    expect(repliesOf(b, 1)).toEqual([{ id: 9, code: 1, detail: 'd', payload: bytes(3) }]);
    expect(a.transport.stats.envelopesSent).toBeGreaterThanOrEqual(6); // 1 MiB per message
  });
});

describe('failures and reconnection', () => {
  test('requests to a peer not connected are reported failed, not synchronously', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const deadPort = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve)); // nobody listens there now
    const node: Node = { id: 1, port: 0, server: undefined as unknown as grpc.Server,
      transport: undefined as unknown as PeerTransport, inbound: [], states: [], failed: [] };
    node.transport = makeTransport(node, [{ id: 2, host: '127.0.0.1', port: deadPort }]);
    cleanups.push(() => node.transport.close());
    node.transport.start();
    node.transport.sendRequest(2, { id: 11, partition: 1, op: 1, payload: bytes() });
    node.transport.sendRequest(2, { id: 12, partition: 1, op: 1, payload: bytes() });
    node.transport.sendRaft(2, bytes(1));
    node.transport.sendReply(2, { id: 1, code: 0, detail: '', payload: bytes() });
    expect(node.failed).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(node.failed).toEqual([[2, [11, 12]]]);
    expect(node.transport.stats).toMatchObject({ raftDropped: 1, repliesDropped: 1,
      requestsFailed: 2 });
    await until('redialed', () => node.transport.stats.dials >= 3, 2000);
    expect(node.transport.isConnected(2)).toBe(false);
    expect(node.states).toEqual([]);
  });

  test('a peer whose server restarts on the same port is reconnected', async () => {
    const [a, b] = await startCluster(2) as [Node, Node];
    a.transport.sendRaft(2, bytes(1));
    await until('first item', () => raftOf(b, 1).length === 1);
    // Node 2 goes away abruptly: its server drops every connection, then its transport closes.
    b.server.forceShutdown();
    await b.transport.close();
    await until('a sees 2 down', () => !a.transport.isConnected(2));
    expect(a.states).toEqual([[2, true], [2, false]]);
    a.transport.sendRequest(2, { id: 5, partition: 1, op: 1, payload: bytes(5) });
    a.transport.sendRaft(2, bytes(2)); // dropped: 2 is down
    await until('request failed', () => a.failed.length === 1);
    expect(a.failed).toEqual([[2, [5]]]);
    // Node 2 comes back on the same port with a fresh transport.
    const restarted: Node = { ...b, inbound: [], states: [], failed: [],
      server: new grpc.Server(grpcServerOptions) };
    expect(await bind(restarted.server, b.port)).toBe(b.port);
    restarted.transport = makeTransport(restarted, [{ id: 1, host: '127.0.0.1', port: a.port }]);
    restarted.transport.register(restarted.server);
    restarted.transport.start();
    cleanups.push(async () => {
      await restarted.transport.close();
      await shutdown(restarted.server);
    });
    await until('a reconnects', () => a.transport.isConnected(2));
    a.transport.sendRaft(2, bytes(3));
    a.transport.sendRequest(2, { id: 6, partition: 1, op: 1, payload: bytes(6) });
    await until('later items', () => restarted.inbound.length > 0);
    expect(raftOf(restarted, 1)).toEqual([bytes(3)]);
    expect(requestsOf(restarted, 1).map((r) => r.id)).toEqual([6]);
    expect(a.states).toEqual([[2, true], [2, false], [2, true]]);
  });

  test('a hello addressed to another node id is refused', async () => {
    const [, b] = await startCluster(2) as [Node, Node];
    const client = new grpc.Client(`127.0.0.1:${b.port}`, grpc.credentials.createInsecure());
    const stream = client.makeBidiStreamRequest(peerExchange.path, peerExchange.requestSerialize,
      (data: Buffer) => HonuPeerAccept.decode(data), new grpc.Metadata());
    const received: unknown[] = [];
    stream.on('data', (m) => received.push(m));
    const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    stream.on('error', () => {});
    const hello = emptyEnvelope();
    hello.Hello = { FromNodeId: 1, ToNodeId: 3, Version: 1 };
    stream.write(hello);
    const got = await status;
    client.close();
    expect(got.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(got.details).toMatch(/node 3.*node 2/);
    expect(received).toEqual([]);
    expect(b.transport.stats.hellosRefused).toBe(1);
  });

  test('a transport that expects another node at the address never connects', async () => {
    const [, b] = await startCluster(2) as [Node, Node];
    const wrong: Node = { id: 1, port: 0, server: undefined as unknown as grpc.Server,
      transport: undefined as unknown as PeerTransport, inbound: [], states: [], failed: [] };
    wrong.transport = makeTransport(wrong, [{ id: 3, host: '127.0.0.1', port: b.port }]);
    cleanups.push(() => wrong.transport.close());
    wrong.transport.start();
    await until('refused twice', () => b.transport.stats.hellosRefused >= 2);
    expect(wrong.transport.isConnected(3)).toBe(false);
    expect(wrong.states).toEqual([]);
  });

  test('links are directed: cutting the proxy on 1 -> 2 leaves 2 -> 1 working', async () => {
    let proxy: Proxy | undefined;
    const [a, b] = await startCluster(2, {
      route: async (from, to) => {
        if (from.id !== 1) return to.port;
        proxy = await startProxy(to.port);
        return proxy.port;
      },
    }) as [Node, Node];
    const cut = proxy as Proxy;
    cleanups.push(() => cut.close());
    a.transport.sendRaft(2, bytes(1));
    await until('1 -> 2 through the proxy', () => raftOf(b, 1).length === 1);
    expect(cut.bytes()).toBeGreaterThan(0);
    const proxied = cut.bytes();
    b.transport.sendRaft(1, randomBytes(100_000));
    await until('2 -> 1 direct', () => raftOf(a, 2).length === 1);
    expect(cut.bytes() - proxied).toBeLessThan(10_000); // keepalives at most, not the item
    await cut.close();
    await until('1 -> 2 down', () => !a.transport.isConnected(2));
    b.transport.sendRaft(1, bytes(2));
    await until('2 -> 1 still up', () => raftOf(a, 2).length === 2);
    expect(b.transport.isConnected(1)).toBe(true);
    expect(a.transport.isConnected(2)).toBe(false);
  });
});

describe('close', () => {
  test('fails queued requests and refuses sends afterwards', async () => {
    const [a] = await startCluster(2) as [Node, Node];
    a.transport.sendRequest(2, { id: 1, partition: 1, op: 1, payload: bytes() });
    await a.transport.close(); // before the turn's flush: the request was still queued
    expect(a.failed).toEqual([[2, [1]]]);
    a.transport.sendRequest(2, { id: 2, partition: 1, op: 1, payload: bytes() });
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.failed).toEqual([[2, [1]], [2, [2]]]);
    expect(a.transport.isConnected(2)).toBe(false);
  });

  test('close() leaves no open handles: the process exits by itself', async () => {
    const script = `
      import * as grpc from '@grpc/grpc-js';
      import { PeerTransport } from ${JSON.stringify(transportModule)};
      const bind = (s) => new Promise((res, rej) => s.bindAsync('127.0.0.1:0',
        grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
      const servers = [new grpc.Server(), new grpc.Server()];
      const ports = [await bind(servers[0]), await bind(servers[1])];
      let got = 0;
      const t = [1, 2].map((id) => new PeerTransport({ nodeId: id,
        peers: [{ id: 3 - id, host: '127.0.0.1', port: ports[2 - id] }],
        onInbound: () => { got++; } }));
      t[0].register(servers[0]);
      t[1].register(servers[1]);
      t.forEach((x) => x.start());
      const pause = () => new Promise((r) => setTimeout(r, 5));
      while (!(t[0].isConnected(2) && t[1].isConnected(1))) await pause();
      t[0].sendRaft(2, new Uint8Array(3));
      t[1].sendRaft(1, new Uint8Array(3));
      while (got < 2) await pause();
      await Promise.all(t.map((x) => x.close()));
      await Promise.all(servers.map((s) => new Promise((r) => s.tryShutdown(r))));
      console.log('closed');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 10_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    expect(out).toContain('closed');
    expect(exited).toBe(0);
  });
});

const repoRoot = join(import.meta.dirname, '..', '..');
const transportModule = join(repoRoot, 'src', 'main', 'peer', 'peer-transport.ts');

interface Proxy {
  readonly port: number;
  bytes(): number;
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:`target` that counts the bytes it forwards; close() cuts it. */
async function startProxy(target: number): Promise<Proxy> {
  let forwarded = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    inbound.on('data', (d: Buffer) => (forwarded += d.byteLength));
    outbound.on('data', (d: Buffer) => (forwarded += d.byteLength));
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | null = null;
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => forwarded,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
