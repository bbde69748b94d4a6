// The multi-process cluster harness itself (test/helpers/cluster.ts): real `honu server`
// processes started, killed, restarted, paused and stopped without leftovers, and the TCP proxy
// of the per-link mode tried on its own against an echo server. Nothing here depends on whether
// partitions replicate between the nodes; other tests check the replication.
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, startProxy, type Cluster, type TcpProxy } from '../helpers/cluster.js';

const durable = 1; // persistent

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A tiny echo server on a free loopback port. */
async function startEcho(): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** A client connection: resolves when connected, rejects when reset or closed first. */
async function dial(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Writes `data` and resolves with the bytes echoed back, or rejects when the socket closes. */
function roundTrip(socket: Socket, data: Buffer, timeoutMs = 2_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const done = (error: Error | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error === null) resolve(Buffer.concat(chunks));
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= data.length) done(null);
    };
    const onClose = (): void => done(new Error(`closed after ${received} bytes`));
    const timer = setTimeout(() => done(new Error(`timed out after ${received} bytes`)),
      timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(data);
  });
}

/** One connection that sends `text`: 'echoed' when it comes back, else 'reset'. */
function attempt(port: number, text: string): Promise<'echoed' | 'reset'> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    socket.on('error', () => {});
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received === text) {
        resolve('echoed');
        socket.destroy();
      }
    });
    socket.on('close', () => resolve('reset'));
  });
}

describe('TCP proxy (per directed link)', () => {
  let echo: { server: Server; port: number };
  let proxy: TcpProxy;
  beforeAll(async () => {
    echo = await startEcho();
    proxy = await startProxy({ port: echo.port });
  });
  afterEach(() => {
    proxy.heal();
    proxy.delay(0);
  });
  afterAll(async () => {
    await proxy.close();
    echo.server.close();
  });

  it('passes bytes through both ways, in order, a large payload too', async () => {
    expect(proxy.port).not.toBe(echo.port);
    const socket = await dial(proxy.port);
    expect((await roundTrip(socket, Buffer.from('hello'))).toString()).toBe('hello');
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 11)) & 0xff;
    expect((await roundTrip(socket, big, 10_000)).equals(big)).toBe(true);
    socket.destroy();
  });

  it('cut resets open connections and refuses new ones; heal restores', async () => {
    const before = await dial(proxy.port);
    expect((await roundTrip(before, Buffer.from('a'))).toString()).toBe('a');
    const closed = new Promise((resolve) => before.once('close', resolve));
    proxy.cut(); // default mode: refuse
    expect(proxy.state).toBe('refuse');
    await closed; // the open connection is dropped
    // A new connection is accepted by the kernel and reset at once: nothing comes back.
    expect(await attempt(proxy.port, 'b')).toBe('reset');
    expect(await attempt(proxy.port, 'b')).toBe('reset');
    proxy.heal();
    expect(await attempt(proxy.port, 'b')).toBe('echoed');
    const after = await dial(proxy.port);
    expect((await roundTrip(after, Buffer.from('c'))).toString()).toBe('c');
    after.destroy();
  });

  it('blackhole holds bytes without closing anything; heal delivers them in order', async () => {
    const socket = await dial(proxy.port);
    proxy.cut('blackhole');
    const held = roundTrip(socket, Buffer.from('held-bytes'), 5_000);
    const pending = await dial(proxy.port); // accepted while blackholed: not dialed yet
    const pendingEcho = roundTrip(pending, Buffer.from('late'), 5_000);
    let settled = false;
    void held.then(() => { settled = true; }, () => { settled = true; });
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    expect(socket.destroyed).toBe(false);
    proxy.heal();
    expect((await held).toString()).toBe('held-bytes');
    expect((await pendingEcho).toString()).toBe('late');
    socket.destroy();
    pending.destroy();
  });

  it('delay adds latency to what the dialer sends, and can be lifted', async () => {
    const socket = await dial(proxy.port);
    const rtt = async (): Promise<number> => {
      const started = performance.now();
      await roundTrip(socket, Buffer.from('ping'));
      return performance.now() - started;
    };
    const base = await rtt();
    proxy.delay(300);
    const slow = await rtt();
    expect(slow).toBeGreaterThanOrEqual(295);
    // Order holds while bytes sit in the delay queue.
    const burst = Buffer.from(Array.from({ length: 200 }, (_, i) => `${i},`).join(''));
    const echoed = roundTrip(socket, burst);
    expect((await echoed).toString()).toBe(burst.toString());
    proxy.delay(0);
    const fast = await rtt();
    expect(fast).toBeLessThan(250); // loopback: a few ms, unless the machine stalls
    expect(base).toBeLessThan(250);
    socket.destroy();
  });

  it('lossy breaks connections at the given rate, and 0 turns it off', async () => {
    let draws = 0;
    // Deterministic: every third chunk is lost.
    proxy.lossy(0.5, () => (++draws % 3 === 0 ? 0 : 0.99));
    let broken = 0;
    for (let i = 0; i < 6; i++) {
      const socket = await dial(proxy.port);
      try {
        await roundTrip(socket, Buffer.from(`chunk ${i}`));
      } catch {
        broken += 1;
      }
      socket.destroy();
    }
    expect(broken).toBe(2);
    expect(proxy.lostConnections).toBe(2);
    proxy.lossy(0);
    const socket = await dial(proxy.port);
    expect((await roundTrip(socket, Buffer.from('clean'))).toString()).toBe('clean');
    socket.destroy();
    expect(() => proxy.lossy(2)).toThrow();
  });

  it('a target that is down shows as a reset connection', async () => {
    const lonely = await startProxy({ port: 1 }); // nothing listens on port 1
    expect(await attempt(lonely.port, 'x')).toBe('reset');
    expect(lonely.openConnections).toBe(0);
    await lonely.close();
  });
});

describe('cluster of one: REST, kill -9 and restart', () => {
  it('serves set/get, and a persistent write survives SIGKILL and a restart', async () => {
    const cluster = await startCluster({ nodes: 1, partitions: 2 });
    try {
      expect(cluster.nodes).toHaveLength(1);
      const [node] = cluster.nodes;
      expect(node!.id).toBe(1);
      expect(node!.url).toBe(`http://127.0.0.1:${node!.port}`);
      expect(node!.initialCluster).toBe(`1=127.0.0.1:${node!.port}`);
      const set = await cluster.rest(1, '/v1/kv/try-set',
        { key: 'harness-k', value: b64('v1'), durability: durable });
      expect(set.status).toBe(200);
      expect(set.json).toMatchObject({ type: 0, revision: 0 });
      const got = await cluster.rest(1, '/v1/kv/try-get',
        { key: 'harness-k', durability: durable });
      expect(got.json).toMatchObject({ type: 3, value: b64('v1'), revision: 0 });
      const health = await cluster.get(1, '/v1/cluster/health');
      expect(health.json).toMatchObject({ ready: true });

      const pid = node!.pid!;
      expect(await cluster.kill(1)).toEqual({ code: null, signal: 'SIGKILL' });
      expect(node!.running).toBe(false);
      expect(node!.pid).toBeNull();
      expect(alive(pid)).toBe(false);
      await expect(cluster.get(1, '/v1/cluster/health')).rejects.toThrow();
      await expect(cluster.restart(1)).resolves.toBeUndefined();
      expect(node!.pid).not.toBe(pid);
      const again = await cluster.rest(1, '/v1/kv/try-get',
        { key: 'harness-k', durability: durable });
      expect(again.json).toMatchObject({ type: 3, value: b64('v1'), revision: 0 });
      expect(cluster.logs(1).some((line) => line.includes('honu node listening'))).toBe(true);
      expect(cluster.unexpectedExits()).toEqual([]);
    } finally {
      await cluster.stop();
    }
    expect(existsSync(cluster.rootDir)).toBe(false);
    await cluster.stop(); // idempotent
  });

  it('a node that cannot start fails startCluster with its own words, and leaves nothing',
    async () => {
      const error = await startCluster({ nodes: 1, extraArgs: ['--partitions', 'many'] })
        .then(() => null, (e: unknown) => e as Error);
      expect(error?.message).toMatch(/node 1 .* exited \(code 2.*before it was ready/s);
      expect(error?.message).toContain('--partitions must be an integer');
    });
});

describe('cleanup without stop()', () => {
  let left: { pid: number; rootDir: string } | null = null;

  it('a cluster started inside a test and never stopped ...', async () => {
    const cluster = await startCluster({ nodes: 1, partitions: 1 });
    left = { pid: cluster.node(1).pid!, rootDir: cluster.rootDir };
    expect(alive(left.pid)).toBe(true);
  });

  it('... is stopped when that test finishes', () => {
    expect(left).not.toBeNull();
    expect(alive(left!.pid)).toBe(false);
    expect(existsSync(left!.rootDir)).toBe(false);
  });
});

describe('cluster of three', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, partitions: 2 });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('starts every node healthy on its own port and data dir, all listed to each', async () => {
    const ports = cluster.nodes.map((n) => n.port);
    expect(new Set(ports).size).toBe(3);
    expect(new Set(cluster.nodes.map((n) => n.dataDir)).size).toBe(3);
    const everyone = cluster.nodes.map((n) => `${n.id}=127.0.0.1:${n.port}`).join(',');
    for (const node of cluster.nodes) {
      expect(node.initialCluster).toBe(everyone);
      const health = await cluster.get(node.id, '/v1/cluster/health');
      expect(health.status).toBe(200);
      expect(health.json).toMatchObject({ ready: true, initialized: true });
      expect(existsSync(node.dataDir)).toBe(true);
    }
  });

  it('kill + restart of one node: same port and data dir, healthy again', async () => {
    const node = cluster.node(2);
    const { port, dataDir } = node;
    const pid = node.pid!;
    expect(await cluster.kill(2, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(alive(pid)).toBe(false);
    await expect(cluster.restart(1)).rejects.toThrow(/running; kill it first/);
    await cluster.restart(2);
    expect(node.port).toBe(port);
    expect(node.dataDir).toBe(dataDir);
    expect(node.pid).not.toBe(pid);
    expect((await cluster.get(2, '/v1/cluster/health')).json).toMatchObject({ ready: true });
    expect(cluster.logs(2).filter((l) => l.includes('honu node listening'))).toHaveLength(2);
  });

  it('pause stops a node answering and resume brings it back', async () => {
    await cluster.pause(3);
    expect(cluster.node(3).paused).toBe(true);
    const reply = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: cluster.node(3).port });
      socket.on('error', () => resolve('error'));
      socket.on('connect', () =>
        socket.write('GET /v1/cluster/health HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('data', () => { resolve('answered'); socket.destroy(); });
      setTimeout(() => { resolve('silent'); socket.destroy(); }, 500);
    });
    expect(reply).toBe('silent'); // the kernel accepts, the stopped process never answers
    await expect(cluster.get(3, '/v1/cluster/health', { timeoutMs: 200 }))
      .rejects.toThrow(/no answer within 200 ms/);
    await cluster.resume(3);
    expect(cluster.node(3).paused).toBe(false);
    await cluster.waitReady(3, 10_000);
    expect(cluster.unexpectedExits()).toEqual([]);
  });

  it('stop ends every process, removes the data dirs, and is idempotent', async () => {
    const pids = cluster.nodes.map((n) => n.pid!);
    await Promise.all([cluster.stop(), cluster.stop()]);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(existsSync(cluster.rootDir)).toBe(false);
    expect(cluster.nodes.every((n) => !n.running)).toBe(true);
    expect(cluster.unexpectedExits()).toEqual([]);
    await expect(cluster.restart(1)).rejects.toThrow(/stopped/);
  });
});

describe('cluster of three with a proxy on every directed link', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, partitions: 2, proxies: true });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('gives node A the proxy A->B as B\'s address and its own real port', () => {
    const proxies = cluster.proxies!;
    for (const a of cluster.nodes) {
      const entries = a.initialCluster.split(',');
      expect(entries).toHaveLength(3);
      for (const b of cluster.nodes) {
        const port = a.id === b.id ? b.port : proxies.link(a.id, b.id).port;
        expect(entries).toContain(`${b.id}=127.0.0.1:${port}`);
        if (a.id !== b.id) expect(proxies.link(a.id, b.id).target.port).toBe(b.port);
      }
    }
    const linkPorts = cluster.nodes.flatMap((a) => cluster.nodes.filter((b) => b !== a)
      .map((b) => proxies.link(a.id, b.id).port));
    expect(new Set(linkPorts).size).toBe(6);
    expect(() => proxies.link(1, 1)).toThrow(/no link/);
  });

  it('a link reaches its node, and cut/heal act on that direction only', async () => {
    const proxies = cluster.proxies!;
    const health = (port: number): Promise<string> => new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      let text = '';
      socket.on('error', () => resolve('error'));
      socket.on('connect', () => socket.write(
        'GET /v1/cluster/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      socket.on('close', () => resolve(text === '' ? 'closed' : text.split('\r\n')[0]!));
    });
    expect(await health(proxies.link(1, 2).port)).toBe('HTTP/1.1 200 OK');
    proxies.cut(1, 2);
    expect(await health(proxies.link(1, 2).port)).toMatch(/^(closed|error)$/);
    expect(await health(proxies.link(2, 1).port)).toBe('HTTP/1.1 200 OK');
    expect(await health(proxies.link(3, 2).port)).toBe('HTTP/1.1 200 OK');
    proxies.heal(1, 2);
    expect(await health(proxies.link(1, 2).port)).toBe('HTTP/1.1 200 OK');

    proxies.isolate(3);
    for (const [a, b] of [[1, 3], [3, 1], [2, 3], [3, 2]] as const) {
      expect(proxies.link(a, b).state).toBe('refuse');
    }
    expect(proxies.link(1, 2).state).toBe('open');
    proxies.healAll();
    proxies.partition([[1], [2, 3]], 'blackhole');
    expect(proxies.link(2, 1).state).toBe('blackhole');
    expect(proxies.link(2, 3).state).toBe('open');
    proxies.healAll();
    expect(cluster.nodes.every((a) => cluster.nodes.every((b) =>
      a === b || proxies.link(a.id, b.id).state === 'open'))).toBe(true);
    // Clients talk to the real ports, never through a proxy.
    expect((await cluster.get(1, '/v1/cluster/health')).json).toMatchObject({ ready: true });
  });
});
