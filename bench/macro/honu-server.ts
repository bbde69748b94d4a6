// The honu server child process and the REST set-up calls that bench/macro/kahuna.ts and
// bench/compare/compare.ts share: start a fresh `honu server` on a free loopback port with a temp
// --data-dir, wait until healthy, stop it by pid (SIGTERM, SIGKILL after 5 s) and remove the dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../src/env/paths.js';
import { serverNodeFlags } from '../../src/env/node-flags.js';
import {
  benchValue, expectedType, preloadKey, preloadKeyCount, sequenceName,
} from './kahuna-common.js';

const serverStartWaitMs = 30_000;
const serverStopGraceMs = 5_000;
const problemLinesKept = 40;

/** Child processes to kill (by pid) and data dirs to remove if the benchmark is interrupted. */
export const live = { children: new Set<ChildProcess>(), dataDirs: new Set<string>() };

// ------------------------------------------------------------------ the server child process

export interface ServerProblem {
  readonly stream: 'stdout' | 'stderr' | 'exit';
  readonly text: string;
}

export interface Server {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly dataDir: string;
  /** Log lines at warn or above, stderr output and an unexpected exit, in order. */
  readonly problems: ServerProblem[];
  problemCount: number;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  stopping: boolean;
}

export function noteProblem(server: Server, problem: ServerProblem): void {
  server.problemCount += 1;
  if (server.problems.length < problemLinesKept) server.problems.push(problem);
  process.stderr.write(`server ${problem.stream}: ${problem.text}\n`);
}

/** The space-separated words of an environment variable (none when unset). */
function envWords(name: string): string[] {
  return (process.env[name] ?? '').split(' ').filter((word) => word !== '');
}

/** `extraArgs` follow the defaults (a repeated flag wins: `--port 2071` replaces `--port 0`);
 *  bench/compare/cluster.ts starts cluster members with --node-id and --initial-cluster. The
 *  returned promise waits until GET /v1/cluster/health answers ready, so cluster members have to
 *  be started together. */
export async function startServer(extraArgs: readonly string[] = []): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'honu-bench-kahuna-'));
  live.dataDirs.add(dataDir);
  // HONU_BENCH_NODE_ARGS: node flags for the servers (profiling: "--cpu-prof --cpu-prof-dir=d").
  const nodeArgs = envWords('HONU_BENCH_NODE_ARGS');
  // HONU_BENCH_SERVER_ARGS: extra server flags after the others (A/B runs: "--workers 1").
  const serverArgs = envWords('HONU_BENCH_SERVER_ARGS');
  // The production flags first (npm start passes them), so HONU_BENCH_NODE_ARGS can override.
  const proc = spawn(process.execPath,
    [...serverNodeFlags, ...nodeArgs, join(repoRoot, 'bin', 'honu.mjs'), 'server',
      '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, ...extraArgs, ...serverArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  live.children.add(proc);
  const pid = proc.pid;
  if (pid === undefined) throw new Error('could not spawn honu server');
  const server: Server = {
    proc, pid, port: 0, dataDir, problems: [], problemCount: 0, exit: null, stopping: false,
  };
  proc.once('exit', (code, signal) => {
    live.children.delete(proc);
    server.exit = { code, signal };
    if (!server.stopping) {
      noteProblem(server, {
        stream: 'exit', text: `exited during the run: code ${code}, signal ${signal}`,
      });
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    if (line.trim() !== '') noteProblem(server, { stream: 'stderr', text: line });
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('honu server did not listen in time')),
      serverStartWaitMs);
    proc.once('exit', () => reject(new Error('honu server exited before listening')));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let entry: { level?: number; msg?: string; port?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        noteProblem(server, { stream: 'stdout', text: line });
        return;
      }
      if (entry.msg === 'honu node listening' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
      if ((entry.level ?? 0) >= 40) noteProblem(server, { stream: 'stdout', text: line });
    });
  });
  const ready: Server = Object.assign(server, { port });
  await waitHealthy(ready);
  return ready;
}

export async function waitHealthy(server: Server): Promise<void> {
  const until = Date.now() + serverStartWaitMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/v1/cluster/health`);
      const body = (await res.json()) as { ready?: boolean };
      if (res.status === 200 && body.ready === true) return;
    } catch {
      // not up yet
    }
    if (server.exit !== null || Date.now() > until) throw new Error('honu server never got ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopServer(server: Server): Promise<{ how: string; elapsedMs: number }> {
  const started = Date.now();
  server.stopping = true;
  const wasGone = server.exit !== null;
  if (!wasGone) {
    const exited = once(server.proc, 'exit');
    process.kill(server.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (server.exit === null) process.kill(server.pid, 'SIGKILL');
    }, serverStopGraceMs);
    await exited;
    clearTimeout(timer);
  }
  rmSync(server.dataDir, { recursive: true, force: true });
  live.dataDirs.delete(server.dataDir);
  const exit = server.exit ?? { code: null, signal: null };
  const how = exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
  return { how: wasGone ? `nothing: it had already exited (${how})` : `SIGTERM, exit ${how}`,
    elapsedMs: Date.now() - started };
}

// ------------------------------------------------------------------ set-up calls (REST)

export async function postJson(server: Server, path: string,
  body: unknown): Promise<{ type?: number }> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as { type?: number };
}

export const zeroHlc = { n: 0, l: 0, c: 0 };
export const txFieldsJson = '"transactionId":{"n":0,"l":0,"c":0},"coordinatorKey":"",' +
  '"operationIdHigh":0,"operationIdLow":0';

export async function preload(server: Server, durability: 0 | 1,
  valueBytes: number): Promise<void> {
  const value = benchValue(valueBytes).toString('base64');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < preloadKeyCount) {
      const key = preloadKey(durability, next);
      next += 1;
      const reply = await postJson(server, '/v1/kv/try-set', {
        transactionId: zeroHlc, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0,
        key, value, compareValue: null, compareRevision: 0, expiresMs: 0, flags: 1, durability,
      });
      if (reply.type !== expectedType.set) {
        throw new Error(`preload ${key}: type ${reply.type}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

export async function createSequence(server: Server): Promise<void> {
  const reply = await postJson(server, '/v1/sequences/create', {
    name: sequenceName, initialValue: 0, increment: 1, maxValue: null, blockSize: null,
    durability: 1,
  });
  if (reply.type !== 0) throw new Error(`create sequence: type ${reply.type}`);
}

