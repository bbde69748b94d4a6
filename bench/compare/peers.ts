// The peers of bench/compare/compare.ts as child processes on free loopback ports with data in
// temp dirs: etcd 3.4 (single node), redis-server (no persistence) and the bare node:http and
// grpc-js ceiling servers. Each is stopped by its pid (SIGTERM, SIGKILL after 5 s) and its dir
// removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { live } from '../macro/honu-server.js';
import { freePort } from './free-port.js';
import { respCommand, RespClient } from './resp.js';

const startWaitMs = 30_000;
const stopGraceMs = 5_000;
export const installHint = 'apt-get install etcd-server etcd-client redis-server';

export interface Peer {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly dataDir: string | null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  stopping: boolean;
  /** stderr lines and an unexpected exit. */
  readonly problems: string[];
}

/** The path of `name` on PATH (or /usr/bin, /usr/local/bin), or null. */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

export function spawnPeer(name: string, file: string, args: string[], port: number,
  dataDir: string | null, env?: NodeJS.ProcessEnv): Peer {
  const proc = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'], ...(env === undefined ? {} : { env }),
  });
  if (proc.pid === undefined) throw new Error(`could not spawn ${name}`);
  live.children.add(proc);
  if (dataDir !== null) live.dataDirs.add(dataDir);
  const peer: Peer = {
    name, proc, pid: proc.pid, port, dataDir, exit: null, stopping: false, problems: [],
  };
  proc.once('exit', (code, signal) => {
    live.children.delete(proc);
    peer.exit = { code, signal };
    if (!peer.stopping) peer.problems.push(`exited during the run: code ${code}, signal ${signal}`);
  });
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    if (line.trim() !== '' && peer.problems.length < 20) peer.problems.push(line);
  });
  return peer;
}

export async function waitFor(peer: Peer, probe: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + startWaitMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    if (peer.exit !== null || Date.now() > until) {
      await stopPeer(peer);
      throw new Error(`${peer.name} never got ready: ${peer.problems.slice(-3).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** etcd 3.4, one member, its JSON gateway on the client port; null if not installed. */
export async function startEtcd(): Promise<Peer | null> {
  const file = findBinary('etcd');
  if (file === null) return null;
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'honu-bench-etcd-'));
  const client = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const peer = spawnPeer('etcd', file, [
    '--name', 'bench', '--data-dir', dataDir,
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `bench=${peerUrl}`, '--initial-cluster-state', 'new',
    '--logger', 'zap', '--log-level', 'error',
  ], clientPort, dataDir);
  await waitFor(peer, async () => {
    const res = await fetch(`${client}/health`);
    return res.status === 200 && ((await res.json()) as { health?: string }).health === 'true';
  });
  return peer;
}

/** redis-server with RDB and AOF off (in memory only, like Honu's ephemeral store); null if not
 *  installed. */
export async function startRedis(): Promise<Peer | null> {
  const file = findBinary('redis-server');
  if (file === null) return null;
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'honu-bench-redis-'));
  const peer = spawnPeer('redis', file, [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '',
    '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning',
  ], port, dataDir);
  await waitFor(peer, async () => {
    const client = await RespClient.open(port);
    try {
      return (await client.call(respCommand('PING'))) === 'PONG';
    } finally {
      client.close();
    }
  });
  return peer;
}

/** bench/compare/bare-http.js in a node child process, answering `body` to every request. */
export function startBareHttp(body: string): Promise<Peer> {
  return startNodeScript('node:http', './bare-http.js', { BARE_HTTP_BODY: body });
}

/** bench/compare/bare-grpc.js in a node child process, answering the encoded `reply` to every
 *  /KeyValuer/TryGetKeyValue call. */
export function startBareGrpc(reply: Buffer): Promise<Peer> {
  return startNodeScript('grpc-js', './bare-grpc.js', {
    BARE_GRPC_REPLY: reply.toString('base64'),
  });
}

/** A script of this directory in a node child process that prints {"port":N} when listening. */
async function startNodeScript(name: string, file: string,
  env: Record<string, string>): Promise<Peer> {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const proc = spawnPeer(name, process.execPath, [script], 0, null, { ...process.env, ...env });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} server did not listen`)),
      startWaitMs);
    createInterface({ input: proc.proc.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  return Object.assign(proc, { port });
}

export async function stopPeer(peer: Peer): Promise<string> {
  peer.stopping = true;
  let how = 'already exited';
  if (peer.exit === null) {
    const exited = once(peer.proc, 'exit');
    process.kill(peer.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (peer.exit === null) process.kill(peer.pid, 'SIGKILL');
    }, stopGraceMs);
    await exited;
    clearTimeout(timer);
    const exit = peer.exit ?? { code: null, signal: null };
    how = `SIGTERM, exit ${exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`}`;
  }
  if (peer.dataDir !== null) {
    rmSync(peer.dataDir, { recursive: true, force: true });
    live.dataDirs.delete(peer.dataDir);
  }
  return how;
}
