// End to end: a request from a real socket, through the main->worker ring, through the writer's
// fsync, and back; then a restart on the same data dir restores the durable state.
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  getJson, postJson, removeDir, startTestNode, tempDataDir, type TestNode,
} from '../helpers/node.js';

describe('request path: socket -> ring -> worker -> writer fsync -> socket', () => {
  const dataDir = tempDataDir('e2e');
  let current: TestNode | null = null;
  afterAll(async () => {
    await current?.node.close();
    removeDir(dataDir);
  });

  it('answers a durable ping after the fsync, counting per partition', async () => {
    current = await startTestNode(dataDir, ['--partitions', '4', '--workers', '2']);
    const { url } = current;
    const first = await postJson(`${url}/v1/honu/ping`, { partition: 3, durable: true });
    expect(first).toEqual({ status: 200, json: { type: 0, partition: 3, durable: true, count: 1 } });
    const replies = await Promise.all(Array.from({ length: 50 }, () =>
      postJson(`${url}/v1/honu/ping`, { partition: 3, durable: true })));
    const counts = replies.map((r) => r.json.count as number).sort((a, b) => a - b);
    expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    const other = await postJson(`${url}/v1/honu/ping`, { partition: 2, durable: true });
    expect(other.json).toEqual({ type: 0, partition: 2, durable: true, count: 1 });
    const plain = await postJson(`${url}/v1/honu/ping`, { partition: 1 });
    expect(plain.json).toEqual({ type: 0, partition: 1, durable: false });
  });

  it('checksums a partition snapshot in the piscina pool', async () => {
    const { url } = current!;
    const digest = await getJson(`${url}/v1/honu/partitions/3/digest`);
    // The partition's state image: partition id (u32 BE), then the durable counter (u64 BE).
    const expected = Buffer.alloc(12);
    expected.writeUInt32BE(3, 0);
    expected.writeBigUInt64BE(51n, 4);
    expect(digest.json).toEqual({
      type: 0, partition: 3, bytes: 12,
      sha256: createHash('sha256').update(expected).digest('hex'),
    });
  });

  it('rejects bad input with InvalidInput, not a crash', async () => {
    const { url } = current!;
    for (const body of [{ partition: 0 }, { partition: 5 }, { partition: 1.5 },
      { partition: 'x' }, { partition: 1, durable: 'yes' }]) {
      const r = await postJson(`${url}/v1/honu/ping`, body);
      expect(r.status).toBe(200);
      expect(r.json.type).toBe(100);
    }
    const bad = await fetch(`${url}/v1/honu/ping`, { method: 'POST', body: '{"partition":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('HONU_ERR_BAD_JSON');
    expect((await getJson(`${url}/v1/honu/partitions/9/digest`)).json.type).toBe(100);
  });

  it('reports health and metrics', async () => {
    const { url } = current!;
    expect(await getJson(`${url}/v1/cluster/health`)).toEqual({
      status: 200,
      json: { ready: true, initialized: true, localRole: 'Voter', hostedPartitions: 4 },
    });
    const live = await fetch(`${url}/`);
    expect(await live.text()).toBe('Kahuna.Server');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/honu_requests_total\{route="\/v1\/honu\/ping",type="0"\} \d+/);
    expect(metrics).toMatch(/honu_ring_depth_bytes\{ring="main->worker0"\}/);
    // The worker parked between the test's requests, so main had to wake it.
    const wakeups = (thread: string): number => Number(new RegExp(
      `honu_thread_wakeups_total\\{thread="${thread}"\\} (\\d+)`).exec(metrics)?.[1] ?? -1);
    for (const thread of ['main', 'writer', 'worker0', 'worker1']) {
      expect(wakeups(thread)).toBeGreaterThanOrEqual(0);
    }
    expect(wakeups('worker0') + wakeups('worker1')).toBeGreaterThan(0);
  });

  it('restores durable state after a clean restart', async () => {
    await current!.node.close();
    current = await startTestNode(dataDir, ['--partitions', '4', '--workers', '2']);
    const next = await postJson(`${current.url}/v1/honu/ping`, { partition: 3, durable: true });
    expect(next.json.count).toBe(52);
    const two = await postJson(`${current.url}/v1/honu/ping`, { partition: 2, durable: true });
    expect(two.json.count).toBe(2);
  });
});
