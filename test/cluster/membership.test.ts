// Membership on the fly with real processes (issue 6, deliverable 5): a fourth node joins a
// running three-node cluster with --join, catches up as a learner and is promoted to voter;
// a node leaves through POST /v1/cluster/leave; the cluster keeps serving and tolerates the
// loss of another node afterwards; the joined node restarts from its data dir (members.json)
// and rejoins; the last voter cannot leave.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, startCluster, type Cluster } from '../helpers/cluster.js';

const repoRoot = new URL('../..', import.meta.url).pathname;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

let cluster: Cluster | null = null;
const extra: { proc: ChildProcess; dir: string }[] = [];

afterEach(async () => {
  for (const e of extra.splice(0)) {
    if (e.proc.exitCode === null && e.proc.signalCode === null) {
      const exited = new Promise((r) => e.proc.once('exit', r));
      e.proc.kill('SIGKILL');
      await exited;
    }
    rmSync(e.dir, { recursive: true, force: true });
  }
  await cluster?.stop();
  cluster = null;
});

function startJoiner(id: number, port: number, seedPort: number, dir: string): ChildProcess {
  const proc = spawn(process.execPath, [join(repoRoot, 'bin', 'honu.mjs'), 'server',
    '--node-id', String(id), '--join', `127.0.0.1:${seedPort}`, '--host', '127.0.0.1',
    '--port', String(port), '--data-dir', dir, '--workers', '1'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.resume();
  return proc;
}

async function http(port: number, method: string, path: string, body?: unknown):
  Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(45_000) });
  return { status: res.status, json: await res.json() };
}

async function until<T>(ms: number, what: string, probe: () => Promise<T>,
  ok: (t: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms (${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const roles = async (port: number): Promise<Record<number, string>> => {
  const r = await http(port, 'GET', '/v1/cluster/membership');
  return Object.fromEntries((r.json.members as { nodeId: number; role: string }[])
    .map((m) => [m.nodeId, m.role]));
};

const setOk = (port: number, key: string, value: string) => until(15_000, `set ${key}`,
  () => http(port, 'POST', '/v1/kv/try-set', { key, value: b64(value), expiresMs: 0,
    flags: 0, durability: 1 }), (r) => r.json.type === 0);
const getValue = (port: number, key: string, value: string) => until(15_000, `get ${key}`,
  () => http(port, 'POST', '/v1/kv/try-get', { key, revision: -1, durability: 1 }),
  (r) => r.json.type === 3 && r.json.value === b64(value));

describe('membership changes', () => {
  it('a node joins with --join, becomes a voter, and a node leaves', async () => {
    cluster = await startCluster({ nodes: 3 });
    const c = cluster;
    const p = (id: number): number => c.node(id).port;
    for (let i = 0; i < 20; i++) await setOk(p(1 + (i % 3)), `mem/${i}`, `v${i}`);
    const [port4] = await freePorts(1);
    const dir4 = mkdtempSync(join(tmpdir(), 'honu-join-'));
    const joiner = { proc: startJoiner(4, port4!, p(1), dir4), dir: dir4 };
    extra.push(joiner);
    // Learner first, then a voter once caught up (about 3 s of being caught up).
    await until(30_000, 'node 4 a voter', () => roles(p(1)), (r) => r[4] === 'Voter');
    await until(30_000, 'node 4 sees itself a voter', () => roles(port4!), (r) => r[4] === 'Voter');
    for (let i = 0; i < 20; i += 3) await getValue(port4!, `mem/${i}`, `v${i}`);
    await setOk(port4!, 'mem/from-4', 'x');
    await getValue(p(2), 'mem/from-4', 'x');

    // Node 2 leaves: removed from every partition; the rest keep serving.
    const left = await http(p(2), 'POST', '/v1/cluster/leave');
    expect(left.status).toBe(200);
    expect(left.json.left).toBe(true);
    await until(10_000, 'node 2 gone', () => roles(p(1)), (r) => r[2] === undefined);
    await setOk(p(3), 'mem/after-leave', 'y');
    // Voters are 1, 3, 4: losing node 1 still leaves a quorum.
    await c.kill(1, 'SIGKILL');
    await setOk(port4!, 'mem/after-kill', 'z');
    await getValue(p(3), 'mem/after-leave', 'y');

    // The joined node restarts from its data dir and is a member again.
    const exited = new Promise((r) => joiner.proc.once('exit', r));
    joiner.proc.kill('SIGKILL');
    await exited;
    joiner.proc = startJoiner(4, port4!, p(1), dir4); // --join is ignored once members.json exists
    await getValue(port4!, 'mem/after-kill', 'z');
  }, 180_000);

  it('refuses to let the last voter leave', async () => {
    cluster = await startCluster({ nodes: 1 });
    const r = await http(cluster.node(1).port, 'POST', '/v1/cluster/leave');
    expect(r.status).toBe(409);
    expect(r.json.left).toBe(false);
  }, 60_000);
});
