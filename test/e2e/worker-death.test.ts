// A partition worker (or the writer) that dies is logged, its partitions answer MustRetry at
// once (nothing hangs), and it is restarted from disk with its durable state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Op } from '../../src/ipc/ops.js';
import {
  eventually, getJson, postJson, removeDir, startTestNode, tempDataDir, type TestNode,
} from '../helpers/node.js';

const MUST_RETRY = 101;

describe('worker supervision', () => {
  const dataDir = tempDataDir('death');
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode(dataDir, ['--partitions', '4', '--workers', '2']);
  });
  afterAll(async () => {
    await t.node.close();
    removeDir(dataDir);
  });

  const ping = (partition: number, durable = true) =>
    postJson(`${t.url}/v1/honu/ping`, { partition, durable });

  it('answers MustRetry while a killed worker restarts, then serves its restored state', async () => {
    // Worker 0 owns partitions 1 and 3; worker 1 owns 2 and 4.
    for (let i = 0; i < 5; i++) expect((await ping(1)).json.type).toBe(0);
    const inflight = Array.from({ length: 300 }, () => ping(1));
    await t.node.supervisor.killWorker(0);
    // Right after the death (before the restart backoff ends) the partition answers at once.
    const direct = await t.node.supervisor.request(1, Op.PingDurable, new Uint8Array(0));
    expect(direct.error?.code).toBe('HONU_ERR_WORKER_DOWN');
    expect(t.node.supervisor.leaderTable.leaderOf(1)).toBe(0);
    const during = await ping(1); // may already be served by the restarted worker
    expect([0, MUST_RETRY]).toContain(during.json.type);
    // Partitions of the other worker keep serving.
    expect((await ping(2)).json.type).toBe(0);
    // Every in-flight request got an answer: a count, or MustRetry. None hangs.
    const settled = await Promise.all(inflight);
    const acked = settled.filter((r) => r.json.type === 0).map((r) => r.json.count as number);
    expect(settled.every((r) => r.json.type === 0 || r.json.type === MUST_RETRY)).toBe(true);
    const health = await getJson(`${t.url}/v1/cluster/health`);
    if (t.node.supervisor.workerStates()[0] !== 'up') expect(health.status).toBe(503);
    await eventually(async () => (await ping(1)).json.type === 0);
    expect(t.node.supervisor.workerStates()).toEqual(['up', 'up']);
    // Restored from disk: the counter continues above every acknowledged value.
    const after = await ping(1);
    expect(after.json.count).toBeGreaterThan(Math.max(5, ...acked));
    expect((await getJson(`${t.url}/v1/cluster/health`)).status).toBe(200);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/honu_worker_restarts_total\{worker="worker0"\} 1/);
  });

  it('restarts every worker from disk when the writer dies', async () => {
    const before = (await ping(4)).json.count as number;
    await t.node.supervisor.killWriter();
    const during = await ping(4);
    expect([0, MUST_RETRY]).toContain(during.json.type);
    await eventually(async () => (await ping(4)).json.type === 0);
    const after = await ping(4);
    expect(after.json.count).toBeGreaterThan(before);
  });
});
