// The Cluster service over the real WorkerBackend of a single node (3 partitions), on a real
// grpc-js server and client: what wire.md 2.4 and 2.5 say a single node answers, and routing
// metadata that sends a metadata-routing client to the partition the node itself picks.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { jumpHash, xxHash32 } from '../../src/core/routing/placement.js';
import { WorkerBackend } from '../../src/main/backend/worker-backend.js';
import { createGrpcServer } from '../../src/main/grpc/grpc-server.js';
import type { WorkerReply } from '../../src/main/supervisor.js';
import { kahunaClient, unaryCall, type Msg } from './harness.js';

const endpoint = 'https://127.0.0.1:8082';
const partitions = 3;
/** The partitions the backend sent work to, in order; every call answers MustRetry. */
const routed: number[] = [];
const workers = {
  request: (partition: number): Promise<WorkerReply> => {
    routed.push(partition);
    return Promise.resolve({ error: { code: 'HONU_ERR_WORKER_DOWN', detail: 'test' },
      payload: new Uint8Array() });
  },
};

let server: grpc.Server;
let cluster: grpc.Client;
let kv: grpc.Client;
beforeAll(async () => {
  server = createGrpcServer(new WorkerBackend(workers, { nodeId: 1, partitions, endpoint }));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  cluster = kahunaClient('Cluster', `127.0.0.1:${String(port)}`);
  kv = kahunaClient('KeyValuer', `127.0.0.1:${String(port)}`);
});
afterAll(async () => {
  cluster.close();
  kv.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

const call = (rpc: string, req: Msg): Promise<Msg> => unaryCall(cluster, rpc, req);

test('GetPlacement: full replication, every partition Active and hosted here', async () => {
  const row = (id: number): Msg => ({ PartitionId: id, State: 'Active', HostedLocally: true });
  expect(await call('GetPlacement', {})).toEqual({ Initialized: true, LocalEndpoint: endpoint,
    HostedPartitionCount: 3, Partitions: [row(1), row(2), row(3)] });
});

test('Leave: REFUSED_INSUFFICIENT_VOTERS, not left, not retryable', async () => {
  const res = await call('Leave', {});
  expect(res).toMatchObject({ Outcome: 2, MembershipVersion: 1 });
  expect(res.Left).toBeUndefined();
  expect(res.Retryable).toBeUndefined();
  expect(res.Reason).toMatch(/./);
});

test('SetReplicationFactor: Refused in range, InvalidInput outside', async () => {
  for (const req of [{ PartitionId: 1, ReplicationFactor: 2 }, { PartitionId: 3 }]) {
    const res = await call('SetReplicationFactor', req);
    expect(res).toMatchObject({ Status: 'Refused' });
    expect(res.Success).toBeUndefined();
    expect(res.Reason).toMatch(/./);
  }
  for (const req of [{}, { PartitionId: 4, ReplicationFactor: 1 },
    { PartitionId: 1, ReplicationFactor: -2 }]) {
    expect(await call('SetReplicationFactor', req)).toMatchObject({ Status: 'InvalidInput' });
  }
});

test('GetRoutingMetadata: the single-node map of wire.md 2.5 with this pool', async () => {
  expect(await call('GetRoutingMetadata', { KeySpace: '' })).toEqual({ Initialized: true,
    SchemaVersion: 1, HashAlgorithm: 'kahuna.placement-group-jump-xxh32-v1',
    PrefixSeparator: '/', GroupSeparator: '|', HashPoolSize: 3, HashPartitionOffset: 1,
    SequenceStorageKeyFormat: '__kahuna:sequences:{0}', ReservedKeyPrefix: '__kahuna:',
    LocalEndpoint: endpoint, SnapshotVersion: 1, Coherent: true,
    Leaders: [1, 2, 3].map((PartitionId) => ({ PartitionId, Endpoint: endpoint })) });
});

test('a client routing by the metadata picks the partition the node serves the key on',
  async () => {
    const meta = await call('GetRoutingMetadata', { KeySpace: '' });
    // kahuna-ts's formula (wire.md 2.5), from the published fields only.
    const clientPartition = (key: string): number => {
      const slash = key.lastIndexOf(meta.PrefixSeparator as string);
      const space = slash < 0 ? key : key.slice(0, slash);
      const bar = space.indexOf(meta.GroupSeparator as string);
      const bytes = new TextEncoder().encode(bar < 0 ? space : space.slice(0, bar));
      const hash = (BigInt(xxHash32(bytes, 0xAAAAAAAA)) << 32n) |
        BigInt(xxHash32(bytes, 0x55555555));
      return (meta.HashPartitionOffset as number) + jumpHash(hash, meta.HashPoolSize as number);
    };
    const keys = ['a', 'users/1', 'users|eu/2', 'orders/x/y', 'k0', 'k1', 'k2', 'k3', 'k4'];
    const seen = new Set<number>();
    for (const key of keys) {
      routed.length = 0;
      await unaryCall(kv, 'TryGetKeyValue', { Key: key, Durability: 1 });
      expect(routed).toEqual([clientPartition(key)]);
      seen.add(routed[0]!);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
