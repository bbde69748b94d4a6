// A cluster of REAL `honu server` processes on loopback, for multi-node tests (issue 6) and the
// fault harness (issue 7): free ports picked first, a temp data dir per node, every node started
// with an --initial-cluster listing all of them, then polled until `GET /v1/cluster/health`
// answers ready. Nodes can be killed (any signal), restarted on the same port and data dir,
// paused (SIGSTOP) and resumed (SIGCONT).
//
// With `proxies: true` a TCP proxy (node:net) sits on every directed link A->B, and node A's
// --initial-cluster names the proxy A->B as B's address (A's own entry stays its real port).
// The peer transport has each node dial every peer itself and sends A->B traffic only on the
// connection A dialed, so cutting or delaying the proxy A->B affects that direction only.
// Clients (rest(), get()) always talk to a node's real port.
//
// Runs the compiled dist/ through bin/honu.mjs, like test/acceptance: `npm run build` first.
// Independent of vitest (a CLI may use it too); under vitest, a cluster started inside a test is
// stopped when that test finishes, every cluster of a file when the file finishes, and every
// child process is SIGKILLed if the test process exits with a cluster still running.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../src/env/paths.js';
import { serverNodeFlags } from '../../src/env/node-flags.js';
import { freePort } from '../../bench/compare/free-port.js';

const loopback = '127.0.0.1';
const defaultLogLinesKept = 500;
const defaultReadyTimeoutMs = 30_000;
const defaultRequestTimeoutMs = 10_000;
const stopGraceMs = 5_000; // SIGTERM, then SIGKILL (honu itself exits within 5 s)
const killWaitMs = 10_000; // a non-SIGKILL signal that does not end the node
const healthPollMs = 100;
const healthRequestTimeoutMs = 2_000;
const proxyQueuedBytesMax = 4 * 1024 * 1024; // delayed bytes held per direction before pausing

// ---------------------------------------------------------------------------------------------
// Types

export interface ClusterOptions {
  /** Node ids are 1..nodes. Default 3. */
  readonly nodes?: number;
  /** --partitions for every node; default: honu's own default. */
  readonly partitions?: number;
  /** --workers for every node. Default: honu's own (0, the partitions on the main thread, on
   *  2 cores or fewer: several nodes share the machine). */
  readonly workers?: number;
  /** --log-level for every node. Default info (a few lines per start and stop). */
  readonly logLevel?: string;
  /** More flags, after the harness's own (a repeated flag wins over the harness's value). */
  readonly extraArgs?: readonly string[] | ((id: number) => readonly string[]);
  /** Extra environment; the harness's own environment is inherited without HONU_* variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** A TCP proxy on every directed link (see ClusterProxies). Default false. */
  readonly proxies?: boolean;
  /** Wait until every node reports ready (default true); false: return once spawned. */
  readonly waitReady?: boolean;
  /** Per-node timeout of the ready wait. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Timeout of rest() and get(). Default 10 s (a paused node never answers). */
  readonly requestTimeoutMs?: number;
  /** Log lines kept per node (stdout and stderr). Default 500. */
  readonly logLinesKept?: number;
  /** Print every node line on stderr as `[node-i] line`. Default: env HONU_CLUSTER_LOGS=1. */
  readonly printLogs?: boolean;
  /** Leave the temp data dirs on disk after stop() (their path is in `rootDir`). */
  readonly keepDataDirs?: boolean;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One node. pid and the flags are live: they follow kill and restart. */
export interface ClusterNode {
  readonly id: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>`: REST over HTTP/1.1 and gRPC over h2c. */
  readonly url: string;
  readonly dataDir: string;
  /** The running process, or null after kill() until restart(). */
  readonly pid: number | null;
  readonly running: boolean;
  readonly paused: boolean;
  /** How the previous process of this node ended (null before the first exit). */
  readonly lastExit: ExitInfo | null;
  /** The --initial-cluster value this node is started with. */
  readonly initialCluster: string;
}

/** An exit the harness did not cause (no kill(), no stop()): a crash or a bad start. */
export interface UnexpectedExit extends ExitInfo {
  readonly id: number;
  readonly pid: number;
  readonly log: readonly string[];
}

export interface RestReply {
  readonly status: number;
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly json: any;
  readonly text: string;
}

export interface RequestOptions {
  /** Fails the request after this long (default: the cluster's requestTimeoutMs). */
  readonly timeoutMs?: number;
}

export interface Cluster {
  /** Sorted by id. */
  readonly nodes: readonly ClusterNode[];
  /** The temp directory holding node-1, node-2, ... */
  readonly rootDir: string;
  /** The per-link proxies, or null without `proxies: true`. */
  readonly proxies: ClusterProxies | null;
  node(id: number): ClusterNode;
  /** POST `path` with a JSON body to node `id` (a fresh connection, no retry). */
  rest(id: number, path: string, body?: unknown, options?: RequestOptions): Promise<RestReply>;
  get(id: number, path: string, options?: RequestOptions): Promise<RestReply>;
  /** Sends `signal` (SIGCONT too when paused) and waits until the process is gone. */
  kill(id: number, signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** Starts a killed node again: same port, same data dir, same flags; waits ready unless told. */
  restart(id: number, options?: { readonly waitReady?: boolean }): Promise<void>;
  /** Polls `GET /v1/cluster/health` until ready true; throws with the last log lines. */
  waitReady(id: number, timeoutMs?: number): Promise<void>;
  /** SIGSTOP; resolves once the process is stopped (read from /proc where there is one). */
  pause(id: number): Promise<void>;
  /** SIGCONT. */
  resume(id: number): Promise<void>;
  /** The last lines the node printed (every process of this node, oldest first). */
  logs(id: number): string[];
  /** Exits the harness did not cause, in order. */
  unexpectedExits(): readonly UnexpectedExit[];
  /** SIGTERM to every node, SIGKILL after 5 s, proxies closed, temp dirs removed. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The proxies of a cluster, addressed by directed link: `cut(1, 2)` cuts what node 1 sends to
 * node 2 (on the connections node 1 dials), not what node 2 sends to node 1.
 */
export interface ClusterProxies {
  link(from: number, to: number): TcpProxy;
  cut(from: number, to: number, mode?: CutMode): void;
  heal(from: number, to: number): void;
  delay(from: number, to: number, ms: number): void;
  /** Makes the link from -> to lossy (TcpProxy.lossy). */
  lossy(from: number, to: number, probability: number, random?: () => number): void;
  /** Cuts both directions of every link between `id` and the others. */
  isolate(id: number, mode?: CutMode): void;
  /** Cuts both directions of every link between nodes of different groups. */
  partition(groups: readonly (readonly number[])[], mode?: CutMode): void;
  /** Heals every link (delays stay). */
  healAll(): void;
}

/**
 * 'refuse': open connections are reset and new ones are accepted and reset at once.
 * 'blackhole': nothing is forwarded and nothing is closed (both sockets stop being read, so the
 * senders' TCP windows fill up); new connections are accepted and held. heal() lets everything
 * held through, in order, as a healed network would.
 */
export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  /** The loopback port the proxy listens on. */
  readonly port: number;
  readonly target: { readonly host: string; readonly port: number };
  readonly state: 'open' | CutMode;
  readonly delayMs: number;
  /** Connections open now, and accepted since the start. */
  readonly openConnections: number;
  readonly acceptedConnections: number;
  cut(mode?: CutMode): void;
  heal(): void;
  /**
   * Holds every byte from the dialing side to the target `ms` before forwarding it (order kept).
   * Bytes from the target back to the dialer are not delayed: the other direction of a node
   * pair has its own proxy.
   */
  delay(ms: number): void;
  /**
   * A lossy link, as TCP sees one: each chunk from the dialing side is lost with `probability`,
   * and a lost chunk breaks the connection (both sockets reset, whatever was in flight gone);
   * the dialer reconnects. `random` (default Math.random) decides, so a seeded run can pass
   * its own. 0 turns it off.
   */
  lossy(probability: number, random?: () => number): void;
  readonly lossProbability: number;
  /** Connections broken by lossy(). */
  readonly lostConnections: number;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// TCP proxy

/** A proxy on a free loopback port forwarding to `target`. */
export async function startProxy(target: { readonly host?: string; readonly port: number }):
Promise<TcpProxy> {
  const proxy = new LinkProxy(target.host ?? loopback, target.port);
  await proxy.listen();
  return proxy;
}

/** One direction of a proxied connection: chunks from `from` to `to`, maybe delayed. */
class ProxyPipe {
  readonly #from: Socket;
  readonly #to: Socket;
  readonly #delayMs: () => number;
  readonly #held: () => boolean;
  readonly #lose: () => boolean;
  readonly #queue: { chunk: Buffer; at: number }[] = [];
  #queuedBytes = 0;
  #lastAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #backpressured = false;
  #ended = false;

  /** `from` ended (FIN): `to` is ended once the queue is through. */
  get ended(): boolean {
    return this.#ended;
  }

  constructor(from: Socket, to: Socket, delayMs: () => number, held: () => boolean,
    lose: () => boolean = () => false) {
    this.#from = from;
    this.#to = to;
    this.#delayMs = delayMs;
    this.#held = held;
    this.#lose = lose;
    from.on('data', (chunk: Buffer) => this.#onData(chunk));
    from.on('end', () => {
      this.#ended = true;
      this.flush();
    });
    to.on('drain', () => {
      this.#backpressured = false;
      this.updateFlow();
    });
  }

  #onData(chunk: Buffer): void {
    if (this.#lose()) return; // the connection was reset: the chunk is gone
    const delayMs = this.#delayMs();
    if (delayMs === 0 && this.#queue.length === 0 && !this.#held()) {
      this.#write(chunk);
      return;
    }
    const at = Math.max(Date.now() + delayMs, this.#lastAt);
    this.#lastAt = at;
    this.#queue.push({ chunk, at });
    this.#queuedBytes += chunk.length;
    this.updateFlow();
    this.flush();
  }

  #write(chunk: Buffer): void {
    if (this.#to.destroyed) return;
    if (!this.#to.write(chunk)) {
      this.#backpressured = true;
      this.updateFlow();
    }
  }

  /** Forwards every queued chunk that is due; ends `to` after the last one once `from` ended. */
  flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#held()) {
      this.updateFlow();
      return;
    }
    const now = Date.now();
    while (this.#queue.length > 0 && this.#queue[0]!.at <= now) {
      const { chunk } = this.#queue.shift()!;
      this.#queuedBytes -= chunk.length;
      this.#write(chunk);
    }
    const next = this.#queue[0];
    if (next !== undefined) {
      this.#timer = setTimeout(() => this.flush(), next.at - now);
    } else if (this.#ended && !this.#to.destroyed) {
      this.#to.end();
    }
    this.updateFlow();
  }

  /** Reads `from` only while the proxy is not holding, `to` keeps up and the queue is short. */
  updateFlow(): void {
    if (this.#from.destroyed) return;
    const stop = this.#held() || this.#backpressured || this.#queuedBytes > proxyQueuedBytesMax;
    if (stop) this.#from.pause();
    else this.#from.resume();
  }

  dispose(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }
}

class ProxyConnection {
  readonly client: Socket;
  upstream: Socket | null = null;
  readonly #proxy: LinkProxy;
  #toUpstream: ProxyPipe | null = null;
  #toClient: ProxyPipe | null = null;
  #closed = false;

  constructor(client: Socket, proxy: LinkProxy) {
    this.client = client;
    this.#proxy = proxy;
    client.pause();
    client.on('error', () => this.reset());
    client.on('close', () => this.#onClose(client));
  }

  /** Dials the target and starts both pipes. */
  open(): void {
    if (this.#closed || this.upstream !== null) return;
    const upstream = connect({ host: this.#proxy.target.host, port: this.#proxy.target.port,
      allowHalfOpen: true });
    this.upstream = upstream;
    upstream.on('error', () => this.reset()); // target down: the dialer sees a reset
    upstream.on('close', () => this.#onClose(upstream));
    const held = (): boolean => this.#proxy.state === 'blackhole';
    const lose = (): boolean => {
      if (!this.#proxy.loses()) return false;
      this.reset();
      return true;
    };
    this.#toUpstream = new ProxyPipe(this.client, upstream, () => this.#proxy.delayMs, held,
      lose);
    this.#toClient = new ProxyPipe(upstream, this.client, () => 0, held);
    this.update();
  }

  /** Re-reads the proxy's state: holds or releases both directions. */
  update(): void {
    this.#toUpstream?.flush();
    this.#toClient?.flush();
  }

  /** Both sockets reset (RST), as a refused or broken link. */
  reset(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#toUpstream?.dispose();
    this.#toClient?.dispose();
    for (const socket of [this.client, this.upstream]) {
      if (socket !== null && !socket.destroyed) socket.resetAndDestroy();
    }
    this.#proxy.forget(this);
  }

  /**
   * One socket closed without an error (errors reset both). After a FIN its pipe ends the other
   * socket once the delayed bytes are through; a socket destroyed without FIN takes the other
   * one down with it.
   */
  #onClose(socket: Socket): void {
    if (this.#closed) return;
    const upstream = this.upstream;
    if (upstream === null) { // held by a blackhole, never dialed
      this.#closed = true;
      this.#proxy.forget(this);
      return;
    }
    const other = socket === this.client ? upstream : this.client;
    const pipe = socket === this.client ? this.#toUpstream : this.#toClient;
    if (!other.destroyed && pipe?.ended !== true) other.destroy();
    if (this.client.destroyed && upstream.destroyed) {
      this.#closed = true;
      this.#toUpstream?.dispose();
      this.#toClient?.dispose();
      this.#proxy.forget(this);
    }
  }
}

class LinkProxy implements TcpProxy {
  readonly target: { readonly host: string; readonly port: number };
  state: 'open' | CutMode = 'open';
  delayMs = 0;
  acceptedConnections = 0;
  lossProbability = 0;
  lostConnections = 0;
  #random: () => number = Math.random;
  readonly #server: Server;
  readonly #connections = new Set<ProxyConnection>();
  #port = 0;
  #closing: Promise<void> | null = null;

  constructor(host: string, port: number) {
    this.target = { host, port };
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true },
      (socket) => this.#onConnection(socket));
  }

  get port(): number {
    return this.#port;
  }

  get openConnections(): number {
    return this.#connections.size;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, loopback, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  #onConnection(socket: Socket): void {
    this.acceptedConnections++;
    if (this.state === 'refuse' || this.#closing !== null) {
      socket.on('error', () => {});
      socket.resetAndDestroy();
      return;
    }
    const connection = new ProxyConnection(socket, this);
    this.#connections.add(connection);
    if (this.state === 'open') connection.open(); // blackhole: held until heal()
  }

  forget(connection: ProxyConnection): void {
    this.#connections.delete(connection);
  }

  cut(mode: CutMode = 'refuse'): void {
    this.state = mode;
    for (const connection of [...this.#connections]) {
      if (mode === 'refuse') connection.reset();
      else connection.update();
    }
  }

  heal(): void {
    this.state = 'open';
    for (const connection of [...this.#connections]) {
      connection.open(); // a connection accepted while blackholed dials now
      connection.update();
    }
  }

  delay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`delay must be >= 0 ms (got ${ms})`);
    this.delayMs = ms;
  }

  lossy(probability: number, random: () => number = Math.random): void {
    if (!(probability >= 0 && probability <= 1)) {
      throw new Error(`loss probability must be in [0, 1] (got ${probability})`);
    }
    this.lossProbability = probability;
    this.#random = random;
  }

  /** One chunk's fate on a lossy link (counts the connection it breaks). */
  loses(): boolean {
    if (this.lossProbability === 0 || this.#random() >= this.lossProbability) return false;
    this.lostConnections++;
    return true;
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const connection of [...this.#connections]) connection.reset();
      this.#server.close(() => resolve());
    });
    return this.#closing;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** `count` distinct free loopback ports below the ephemeral range (bench/compare/free-port.ts):
 *  a port-0 port could be taken as the local port of a connection the cluster's first nodes
 *  open before the node given it listens (a jepsen test once failed with EADDRINUSE so). */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}

/** One HTTP/1.1 request on a fresh connection (no pooled socket outlives a killed node). */
function httpRequest(port: number, method: 'GET' | 'POST', path: string, body: unknown,
  timeoutMs: number): Promise<RestReply> {
  const payload = method === 'POST' ? Buffer.from(JSON.stringify(body ?? {})) : null;
  return new Promise<RestReply>((resolve, reject) => {
    const req = request({
      host: loopback, port, method, path, agent: false,
      headers: payload === null ? {} : {
        'content-type': 'application/json', 'content-length': String(payload.length),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    const timer = setTimeout(() => req.destroy(
      new Error(`${method} ${path} on port ${port}: no answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error);
    }
    req.on('error', fail);
    req.end(payload ?? undefined);
  });
}

/** Whether /proc says `pid` is stopped (T); null where there is no /proc. */
function procStopped(pid: number): boolean | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'T' || state === 't';
}

function inheritedEnv(extra: Readonly<Record<string, string>> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // HONU_ settings stay out (each test sets its own); HONU_DEBUG_ checks go through.
    if (!name.startsWith('HONU_') || name.startsWith('HONU_DEBUG_')) env[name] = value;
  }
  return { ...env, ...extra };
}

function tail(lines: readonly string[], count = 40): string {
  const shown = lines.slice(-count);
  return shown.length === 0 ? '  (no output)' : shown.map((line) => '  ' + line).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Nodes

interface Settings {
  readonly bin: string;
  readonly flags: (id: number) => string[];
  readonly env: NodeJS.ProcessEnv;
  readonly logLinesKept: number;
  readonly printLogs: boolean;
  readonly readyTimeoutMs: number;
  readonly onUnexpectedExit: (exit: UnexpectedExit) => void;
}

class NodeProcess implements ClusterNode {
  readonly id: number;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  readonly initialCluster: string;
  paused = false;
  lastExit: ExitInfo | null = null;
  proc: ChildProcess | null = null;
  exited: Promise<ExitInfo> | null = null;
  readonly log: string[] = [];
  #expectExit = false;
  readonly #settings: Settings;

  constructor(id: number, port: number, dataDir: string, initialCluster: string,
    settings: Settings) {
    this.id = id;
    this.port = port;
    this.url = `http://${loopback}:${port}`;
    this.dataDir = dataDir;
    this.initialCluster = initialCluster;
    this.#settings = settings;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  keep(line: string): void {
    this.log.push(line);
    if (this.log.length > this.#settings.logLinesKept) this.log.shift();
    if (this.#settings.printLogs) process.stderr.write(`[node-${this.id}] ${line}\n`);
  }

  spawn(): void {
    if (this.proc !== null) throw new Error(`node ${this.id} is already running`);
    mkdirSync(this.dataDir, { recursive: true });
    const proc = spawn(process.execPath, [...serverNodeFlags, this.#settings.bin, 'server',
      ...this.#settings.flags(this.id)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: this.#settings.env });
    if (proc.pid === undefined) throw new Error(`node ${this.id}: spawn failed`);
    const pid = proc.pid;
    this.proc = proc;
    this.paused = false;
    this.#expectExit = false;
    this.keep(`[harness] node ${this.id} started, pid ${pid}`);
    for (const stream of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.keep(line));
    }
    this.exited = new Promise<ExitInfo>((resolve) => {
      // 'close': the exit code is known and stdout/stderr are drained (last lines kept).
      proc.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        const exit = { code, signal };
        this.keep(`[harness] node ${this.id} (pid ${pid}) exited: code ${String(code)}, ` +
          `signal ${String(signal)}`);
        this.lastExit = exit;
        this.proc = null;
        this.paused = false;
        if (!this.#expectExit) {
          this.#settings.onUnexpectedExit({ id: this.id, pid, ...exit, log: [...this.log] });
        }
        resolve(exit);
      });
    });
  }

  /** Sends a signal that should end the process and waits for the exit. */
  async kill(signal: NodeJS.Signals, waitMs = killWaitMs): Promise<ExitInfo> {
    const proc = this.proc;
    const exited = this.exited;
    if (proc === null || exited === null) throw new Error(`node ${this.id} is not running`);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGTSTP') {
      throw new Error(`kill(${this.id}, ${signal}): use pause() and resume()`);
    }
    this.#expectExit = true;
    proc.kill(signal);
    if (signal !== 'SIGKILL' && this.paused) proc.kill('SIGCONT'); // else it stays pending
    if (signal === 'SIGKILL') return exited;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), waitMs);
    });
    const outcome = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (outcome !== 'late') return outcome;
    proc.kill('SIGKILL');
    await exited;
    throw new Error(`node ${this.id} did not exit within ${waitMs} ms of ${signal}; ` +
      `SIGKILLed. Last log lines:\n${tail(this.log)}`);
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      const exited = this.proc === null;
      if (exited) {
        const exit = this.lastExit;
        throw new Error(`node ${this.id} (${this.url}) exited (code ${String(exit?.code)}, ` +
          `signal ${String(exit?.signal)}) before it was ready. Last log lines:\n` +
          tail(this.log));
      }
      try {
        const reply = await httpRequest(this.port, 'GET', '/v1/cluster/health', undefined,
          Math.max(1, Math.min(healthRequestTimeoutMs, until - Date.now())));
        if (reply.status === 200 && reply.json?.ready === true) return;
        last = `${reply.status} ${reply.text}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() >= until) {
        throw new Error(`node ${this.id} (${this.url}) not ready within ${timeoutMs} ms ` +
          `(last health answer: ${last}). Last log lines:\n${tail(this.log)}`);
      }
      await sleep(healthPollMs);
    }
  }

  /** SIGTERM (SIGKILL after the grace period); nothing when not running. */
  async terminate(): Promise<void> {
    const proc = this.proc;
    const exited = this.exited;
    if (proc === null || exited === null) return;
    this.#expectExit = true;
    proc.kill('SIGTERM');
    proc.kill('SIGCONT');
    const timer = setTimeout(() => proc.kill('SIGKILL'), stopGraceMs);
    await exited;
    clearTimeout(timer);
  }

  /** For process 'exit': synchronous. */
  killNow(): void {
    if (this.proc === null) return;
    this.#expectExit = true;
    this.proc.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster

class ProxyLinks implements ClusterProxies {
  readonly #links: ReadonlyMap<string, TcpProxy>;
  readonly #ids: readonly number[];

  constructor(links: ReadonlyMap<string, TcpProxy>, ids: readonly number[]) {
    this.#links = links;
    this.#ids = ids;
  }

  link(from: number, to: number): TcpProxy {
    const proxy = this.#links.get(`${from}->${to}`);
    if (proxy === undefined) throw new Error(`no link ${from}->${to} (nodes ${this.#ids})`);
    return proxy;
  }

  cut(from: number, to: number, mode: CutMode = 'refuse'): void {
    this.link(from, to).cut(mode);
  }

  heal(from: number, to: number): void {
    this.link(from, to).heal();
  }

  delay(from: number, to: number, ms: number): void {
    this.link(from, to).delay(ms);
  }

  lossy(from: number, to: number, probability: number, random?: () => number): void {
    this.link(from, to).lossy(probability, random);
  }

  isolate(id: number, mode: CutMode = 'refuse'): void {
    const others = this.#ids.filter((other) => other !== id);
    this.partition([[id], others], mode);
  }

  partition(groups: readonly (readonly number[])[], mode: CutMode = 'refuse'): void {
    const groupOf = new Map<number, number>();
    groups.forEach((group, index) => {
      for (const id of group) {
        if (groupOf.has(id)) throw new Error(`partition: node ${id} is in two groups`);
        groupOf.set(id, index);
      }
    });
    for (const from of this.#ids) {
      for (const to of this.#ids) {
        if (from === to) continue;
        const a = groupOf.get(from);
        const b = groupOf.get(to);
        if (a !== undefined && b !== undefined && a !== b) this.cut(from, to, mode);
      }
    }
  }

  healAll(): void {
    for (const proxy of this.#links.values()) proxy.heal();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#links.values()].map((proxy) => proxy.close()));
  }
}

const liveClusters = new Set<ClusterImpl>();
let exitHookInstalled = false;

class ClusterImpl implements Cluster {
  readonly rootDir: string;
  readonly nodes: readonly NodeProcess[];
  readonly proxies: ProxyLinks | null;
  readonly #requestTimeoutMs: number;
  readonly #readyTimeoutMs: number;
  readonly #keepDataDirs: boolean;
  readonly #unexpected: UnexpectedExit[];
  #stopping: Promise<void> | null = null;

  constructor(rootDir: string, nodes: NodeProcess[], proxies: ProxyLinks | null,
    options: ClusterOptions, unexpected: UnexpectedExit[]) {
    this.rootDir = rootDir;
    this.nodes = nodes;
    this.proxies = proxies;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
    this.#readyTimeoutMs = options.readyTimeoutMs ?? defaultReadyTimeoutMs;
    this.#keepDataDirs = options.keepDataDirs === true;
    this.#unexpected = unexpected;
  }

  node(id: number): NodeProcess {
    const node = this.nodes.find((n) => n.id === id);
    if (node === undefined) {
      throw new Error(`no node ${id} (nodes ${this.nodes.map((n) => n.id).join(', ')})`);
    }
    return node;
  }

  rest(id: number, path: string, body: unknown = {}, options: RequestOptions = {}):
  Promise<RestReply> {
    return httpRequest(this.node(id).port, 'POST', path, body,
      options.timeoutMs ?? this.#requestTimeoutMs);
  }

  get(id: number, path: string, options: RequestOptions = {}): Promise<RestReply> {
    return httpRequest(this.node(id).port, 'GET', path, undefined,
      options.timeoutMs ?? this.#requestTimeoutMs);
  }

  kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo> {
    return this.node(id).kill(signal);
  }

  async restart(id: number, options: { readonly waitReady?: boolean } = {}): Promise<void> {
    const node = this.node(id);
    if (this.#stopping !== null) throw new Error('the cluster is stopped');
    if (node.running) throw new Error(`restart(${id}): node ${id} is running; kill it first`);
    node.spawn();
    if (options.waitReady !== false) await node.waitReady(this.#readyTimeoutMs);
  }

  waitReady(id: number, timeoutMs = this.#readyTimeoutMs): Promise<void> {
    return this.node(id).waitReady(timeoutMs);
  }

  async pause(id: number): Promise<void> {
    const node = this.node(id);
    if (node.proc === null) throw new Error(`pause(${id}): node ${id} is not running`);
    node.proc.kill('SIGSTOP');
    node.paused = true;
    const pid = node.proc.pid!;
    for (let i = 0; i < 200 && node.proc !== null; i++) {
      const stopped = procStopped(pid);
      if (stopped !== false) return; // stopped, or no /proc to tell
      await sleep(5);
    }
  }

  async resume(id: number): Promise<void> {
    const node = this.node(id);
    if (node.proc === null) throw new Error(`resume(${id}): node ${id} is not running`);
    node.proc.kill('SIGCONT');
    node.paused = false;
    const pid = node.proc.pid!;
    for (let i = 0; i < 200 && node.proc !== null; i++) {
      if (procStopped(pid) !== true) return;
      await sleep(5);
    }
  }

  logs(id: number): string[] {
    return [...this.node(id).log];
  }

  unexpectedExits(): readonly UnexpectedExit[] {
    return [...this.#unexpected];
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all(this.nodes.map((node) => node.terminate()));
      if (this.proxies !== null) await this.proxies.closeAll();
      if (!this.#keepDataDirs) rmSync(this.rootDir, { recursive: true, force: true });
      liveClusters.delete(this);
    })();
    return this.#stopping;
  }

  /** For process 'exit': SIGKILL everything, remove the dirs, synchronously. */
  stopNow(): void {
    for (const node of this.nodes) node.killNow();
    if (!this.#keepDataDirs) rmSync(this.rootDir, { recursive: true, force: true });
  }
}

/** Stops every cluster still running (the vitest file hook; also for a CLI's own cleanup). */
export async function stopAllClusters(): Promise<void> {
  await Promise.all([...liveClusters].map((cluster) => cluster.stop()));
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const cluster of liveClusters) cluster.stopNow();
  });
}

/** Under vitest: stop the cluster when the current test ends, if started inside a test. */
async function registerWithVitest(cluster: Cluster): Promise<void> {
  if (process.env['VITEST'] === undefined) return;
  const vitest = await import('vitest');
  try {
    vitest.onTestFinished(() => cluster.stop());
  } catch {
    // Not inside a test (beforeAll): the file-level afterAll below stops it.
  }
}

if (process.env['VITEST'] !== undefined) {
  const { afterAll } = await import('vitest');
  afterAll(stopAllClusters);
}

/**
 * Starts `nodes` real processes (ids 1..nodes) and, unless `waitReady: false`, waits until every
 * one reports ready. On failure everything started is stopped before the error is thrown.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    throw new Error(`startCluster: nodes must be an integer in 1..64 (got ${count})`);
  }
  const bin = join(repoRoot, 'bin', 'honu.mjs');
  if (!existsSync(join(repoRoot, 'dist', 'src', 'main', 'cli.js'))) {
    throw new Error('startCluster: dist/ is missing; run `npm run build` first');
  }
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const ports = await freePorts(count);
  const portOf = (id: number): number => ports[id - 1]!;
  const rootDir = mkdtempSync(join(tmpdir(), 'honu-cluster-'));
  const links = new Map<string, TcpProxy>();
  let proxies: ProxyLinks | null = null;
  const nodes: NodeProcess[] = [];
  const unexpected: UnexpectedExit[] = [];
  let cluster: ClusterImpl | null = null;
  try {
    if (options.proxies === true) {
      for (const from of ids) {
        for (const to of ids) {
          if (from !== to) links.set(`${from}->${to}`, await startProxy({ port: portOf(to) }));
        }
      }
      proxies = new ProxyLinks(links, ids);
    }
    const addressSeenBy = (self: number, other: number): number =>
      self === other || proxies === null ? portOf(other) : proxies.link(self, other).port;
    const initialCluster = (self: number): string =>
      ids.map((other) => `${other}=${loopback}:${addressSeenBy(self, other)}`).join(',');
    const extra = options.extraArgs;
    const settings: Settings = {
      bin,
      env: inheritedEnv(options.env),
      logLinesKept: options.logLinesKept ?? defaultLogLinesKept,
      printLogs: options.printLogs ?? process.env['HONU_CLUSTER_LOGS'] === '1',
      readyTimeoutMs: options.readyTimeoutMs ?? defaultReadyTimeoutMs,
      onUnexpectedExit: (exit) => unexpected.push(exit),
      flags: (id) => [
        '--node-id', String(id), '--initial-cluster', initialCluster(id),
        '--host', loopback, '--port', String(portOf(id)),
        '--data-dir', join(rootDir, `node-${id}`),
        ...(options.workers === undefined ? [] : ['--workers', String(options.workers)]),
        ...(options.partitions === undefined ? [] : ['--partitions', String(options.partitions)]),
        '--log-level', options.logLevel ?? 'info',
        ...(typeof extra === 'function' ? extra(id) : extra ?? []),
      ],
    };
    for (const id of ids) {
      nodes.push(new NodeProcess(id, portOf(id), join(rootDir, `node-${id}`), initialCluster(id),
        settings));
    }
    cluster = new ClusterImpl(rootDir, nodes, proxies, options, unexpected);
    liveClusters.add(cluster);
    installExitHook();
    for (const node of nodes) node.spawn(); // all at once: a quorum needs its peers up
    if (options.waitReady !== false) {
      await Promise.all(nodes.map((node) => node.waitReady(settings.readyTimeoutMs)));
    }
  } catch (error) {
    if (cluster !== null) await cluster.stop();
    else {
      await Promise.all([...links.values()].map((proxy) => proxy.close()));
      rmSync(rootDir, { recursive: true, force: true });
    }
    throw error;
  }
  await registerWithVitest(cluster);
  return cluster;
}
