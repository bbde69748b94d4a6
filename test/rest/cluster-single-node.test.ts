// The cluster routes over the real WorkerBackend of a single node (4 partitions): placement,
// leave, replication-factor and routing metadata as wire.md 2.4, 2.5 and 3.6 say a single node
// answers, on a real socket.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WorkerBackend } from '../../src/main/backend/worker-backend.js';
import { registerKahunaRoutes } from '../../src/main/rest/kahuna-routes.js';
import type { Http1Server } from '../../src/main/http/http1-server.js';
import { createHttpServer, RestRouter } from '../../src/main/rest/router.js';

const endpoint = 'https://127.0.0.1:8082';
const noWorkers = {
  request: () => Promise.reject(new Error('no worker call expected')),
};

let server: Http1Server;
let base: string;
beforeAll(async () => {
  const router = new RestRouter();
  registerKahunaRoutes(router, { backend: new WorkerBackend(noWorkers,
    { nodeId: 1, partitions: 4, endpoint }) });
  server = createHttpServer(router);
  base = `http://127.0.0.1:${String(await server.listen(0, '127.0.0.1'))}`;
});
afterAll(async () => {
  await server.close();
});

async function call(method: string, path: string, body?: unknown):
  Promise<{ status: number; json: unknown }> {
  const res = await fetch(base + path, { method,
    ...(body === undefined ? {} : { body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' } }) });
  return { status: res.status, json: await res.json() };
}

test('placement: full replication, every partition Active and hosted here', async () => {
  const reply = await call('GET', '/v1/cluster/placement');
  expect(reply.status).toBe(200);
  const partition = (id: number): object => ({ partitionId: id, state: 'Active',
    generation: 0, effectiveReplicationFactor: 0, hostedLocally: true, replicas: [] });
  expect(reply.json).toEqual({ replicationFactor: 0, rebalancerEnabled: false,
    initialized: true, localEndpoint: endpoint, hostedPartitionCount: 4,
    partitions: [partition(1), partition(2), partition(3), partition(4)] });
});

test('leave: the only voter is refused with 409', async () => {
  const reply = await call('POST', '/v1/cluster/leave', {});
  expect(reply.status).toBe(409);
  expect(reply.json).toMatchObject({ left: false, drained: false,
    outcome: 'RefusedInsufficientVoters', membershipVersion: 1, retryable: false });
  expect((reply.json as { reason: string }).reason).not.toBe('');
});

test('replication-factor: valid input is Refused, bad input is InvalidInput, both 409',
  async () => {
    for (const body of [{ partitionId: 1, replicationFactor: 1 },
      { partitionId: 4, replicationFactor: 0 }]) {
      const reply = await call('POST', '/v1/cluster/replication-factor', body);
      expect(reply.status).toBe(409);
      expect(reply.json).toMatchObject({ success: false, status: 'Refused', generation: 0 });
      expect((reply.json as { reason: string }).reason).not.toBe('');
    }
    for (const body of [{ partitionId: 0, replicationFactor: 1 },
      { partitionId: 5, replicationFactor: 1 }, { partitionId: -1, replicationFactor: 0 },
      { partitionId: 2, replicationFactor: -1 }, {}]) {
      const reply = await call('POST', '/v1/cluster/replication-factor', body);
      expect(reply.status).toBe(409);
      expect(reply.json).toMatchObject({ success: false, status: 'InvalidInput', generation: 0 });
    }
  });

test('routing: what kahuna-ts accepts, this node leading every partition', async () => {
  const reply = await call('GET', '/v1/cluster/routing?keySpace=');
  expect(reply.status).toBe(200);
  expect(reply.json).toEqual({ initialized: true, schemaVersion: 1,
    hashAlgorithm: 'kahuna.placement-group-jump-xxh32-v1', prefixSeparator: '/',
    groupSeparator: '|', hashPoolSize: 4, hashPartitionOffset: 1,
    sequenceStorageKeyFormat: '__kahuna:sequences:{0}', reservedKeyPrefix: '__kahuna:',
    localEndpoint: endpoint, snapshotVersion: 1, coherent: true, keySpaces: [],
    leaders: [1, 2, 3, 4].map((partitionId) => ({ partitionId, endpoint })) });
});
