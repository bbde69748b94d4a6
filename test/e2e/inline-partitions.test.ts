// --workers 0: the partitions run on the main thread (src/main/inline-worker.ts), with the same
// rings, writer and supervision as worker threads. Real sockets, a real writer thread and fsync.
import { afterAll, describe, expect, it } from 'vitest';
import { Op } from '../../src/ipc/ops.js';
import { mainRingBytes } from '../../src/limits.js';
import {
  eventually, getJson, postJson, removeDir, startTestNode, tempDataDir, type TestNode,
} from '../helpers/node.js';

const MUST_RETRY = 101;
const tx = { transactionId: { n: 0, l: 0, c: 0 } };
const set = (url: string, key: string, value: string, durability = 1) =>
  postJson(`${url}/v1/kv/try-set`, {
    ...tx, key, value: Buffer.from(value).toString('base64'), compareValue: null,
    compareRevision: 0, expiresMs: 0, flags: 0, durability,
  });
const get = (url: string, key: string, durability = 1) => postJson(`${url}/v1/kv/try-get`, {
  ...tx, key, revision: -1, readTimestamp: { n: 0, l: 0, c: 0 }, durability,
});
const valueOf = (json: { value: string | null }): string | null =>
  json.value === null ? null : Buffer.from(json.value, 'base64').toString();

describe('partitions on the main thread (--workers 0)', () => {
  const dataDir = tempDataDir('inline');
  let t: TestNode | null = null;
  afterAll(async () => {
    await t?.node.close();
    removeDir(dataDir);
  });

  it('serves persistent and ephemeral key/values and locks', async () => {
    t = await startTestNode(dataDir, ['--partitions', '4', '--workers', '0']);
    const { url } = t;
    expect(t.node.supervisor.workerStates()).toEqual(['up']);
    const writes = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      set(url, `k${i}`, `v${i}`)));
    expect(writes.every((w) => w.status === 200 && w.json.type === 0)).toBe(true);
    for (let i = 0; i < 40; i += 7) {
      const r = await get(url, `k${i}`);
      expect(r.json.type).toBe(3);
      expect(valueOf(r.json)).toBe(`v${i}`);
    }
    expect((await get(url, 'missing')).json.type).toBe(103);
    expect((await set(url, 'e1', 'ephemeral', 0)).json.type).toBe(0);
    expect(valueOf((await get(url, 'e1', 0)).json)).toBe('ephemeral');
    const lock = { resource: 'r', owner: Buffer.from('me').toString('base64'),
      expiresMs: 30_000, durability: 0 };
    expect((await postJson(`${url}/v1/locks/try-lock`, lock)).json.type).toBe(0);
    const other = { ...lock, owner: Buffer.from('you').toString('base64') };
    expect((await postJson(`${url}/v1/locks/try-lock`, other)).json.type).toBe(1); // Busy
    const { expiresMs: _, ...unlock } = lock;
    expect((await postJson(`${url}/v1/locks/try-unlock`, unlock)).json.type).toBe(3);
    expect((await postJson(`${url}/v1/locks/try-lock`, other)).json.type).toBe(0);
    const bad = await postJson(`${url}/v1/kv/try-set`, { ...tx, key: '', value: null,
      compareValue: null, compareRevision: 0, expiresMs: 0, flags: 0, durability: 1 });
    expect(bad.json.type).toBe(100); // InvalidInput, not a crash
    expect((await getJson(`${url}/v1/cluster/health`)).status).toBe(200);
  });

  it('hands requests over without ring frames, with the same bounds as a worker thread', async () => {
    const sup = t!.node.supervisor;
    const echo = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const pong = await sup.request(2, Op.Ping, echo);
    expect(pong.error).toBeNull();
    expect([...pong.payload]).toEqual([...echo]);
    // A worker thread's ring frame holds at most half the ring: a larger request is refused
    // as bad input there, and so it is inline, never queued.
    const huge = await sup.request(2, Op.Ping, new Uint8Array(mainRingBytes / 2 + 1));
    expect(huge.error?.code).toBe('HONU_ERR_INVALID_INPUT');
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      sup.request(1 + (i % 4), Op.Ping, Uint8Array.of(i))));
    expect(answers.map((a) => a.payload[0])).toEqual(answers.map((_, i) => i));
    // More than a worker ring's worth handed over in one turn: the rest is refused, not queued.
    const chunk = new Uint8Array(mainRingBytes / 2 - 1024);
    const burst = await Promise.all([0, 1, 2].map(() => sup.request(3, Op.Ping, chunk)));
    expect(burst.map((a) => a.error?.code ?? 'ok')).toEqual(['ok', 'ok', 'HONU_ERR_QUEUE_FULL']);
    // Everything handed over was handled: the inline backlog (reported as the main->worker0
    // ring depth) is back to zero, never below.
    const metrics = await (await fetch(`${t!.url}/metrics`)).text();
    expect(metrics).toMatch(/honu_ring_depth_bytes\{ring="main->worker0"\} 0\n/);
  });

  it('answers MustRetry while a killed host restarts, then serves restored state', async () => {
    const node = t!;
    const ping = () => postJson(`${node.url}/v1/honu/ping`, { partition: 1, durable: true });
    const before = (await ping()).json.count as number;
    const inflight = Array.from({ length: 200 }, () => ping());
    await node.node.supervisor.killWorker(0);
    const direct = await node.node.supervisor.request(1, Op.PingDurable, new Uint8Array(0));
    expect(direct.error?.code).toBe('HONU_ERR_WORKER_DOWN');
    const settled = await Promise.all(inflight);
    expect(settled.every((r) => r.json.type === 0 || r.json.type === MUST_RETRY)).toBe(true);
    const acked = settled.filter((r) => r.json.type === 0).map((r) => r.json.count as number);
    await eventually(async () => (await ping()).json.type === 0);
    expect(node.node.supervisor.workerStates()).toEqual(['up']);
    expect((await ping()).json.count).toBeGreaterThan(Math.max(before, ...acked));
    const r = await get(node.url, 'k7');
    expect(valueOf(r.json)).toBe('v7');
  });

  it('keeps every acknowledged write across a clean restart', async () => {
    await t!.node.close();
    t = await startTestNode(dataDir, ['--partitions', '4', '--workers', '0']);
    for (let i = 0; i < 40; i++) expect(valueOf((await get(t.url, `k${i}`)).json)).toBe(`v${i}`);
    // Ephemeral state is leader memory: gone after the restart.
    expect((await get(t.url, 'e1', 0)).json.type).toBe(103);
  });
});
