// End to end over gRPC: a real node (startNode: worker threads, RocksDB, the one listener port)
// and grpc-js clients loaded from proto/ the way kahuna-ts loads them. Checks the wiring of
// createGrpcServer(backend) in server.ts, not every field (test/grpc does that over a fake).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestNode, tempDataDir, type TestNode } from '../helpers/node.js';
import { bidi, kahunaClient, unaryCall, type ServiceName } from '../grpc/harness.js';

describe('Kahuna gRPC services on a real node', () => {
  const dataDir = tempDataDir('e2e-grpc');
  let node: TestNode;
  const call = (service: ServiceName, rpc: string, req: Record<string, unknown>) =>
    unaryCall(kahunaClient(service, `127.0.0.1:${node.node.port}`), rpc, req);
  beforeAll(async () => {
    node = await startTestNode(dataDir, ['--partitions', '4', '--workers', '1']);
  });
  afterAll(async () => {
    await node.node.close();
    removeDir(dataDir);
  });

  it('locks, key/values, sequences and membership answer', async () => {
    const owner = Buffer.from('00112233445566778899aabbccddeeff');
    const lock = await call('Locker', 'TryLock',
      { Resource: 'e2e', Owner: owner, ExpiresMs: 10_000, Durability: 1 });
    expect(lock.Type ?? 0).toBe(0);
    expect(lock.FencingToken ?? 0).toBeGreaterThanOrEqual(0); // 0 is not on the wire
    const got = await call('Locker', 'GetLock', { Resource: 'e2e', durability: 1 });
    expect(got).toMatchObject({ ServedFrom: '', Type: 4, Owner: owner });

    const set = await call('KeyValuer', 'TrySetKeyValue',
      { Key: 'e2e/k', Value: Buffer.from('v1'), Flags: 1, Durability: 1 });
    expect(set.Type ?? 0).toBe(0);
    const read = await call('KeyValuer', 'TryGetKeyValue',
      { Key: 'e2e/k', Revision: -1, Durability: 1 });
    expect(read).toMatchObject({ Type: 3, Value: Buffer.from('v1') });

    const created = await call('Sequencer', 'CreateSequence',
      { Name: 'e2e-seq', InitialValue: 10, Increment: 1, Durability: 1 });
    expect(created.Type ?? 0).toBe(0);
    const next = await call('Sequencer', 'NextSequenceValue', { Name: 'e2e-seq', Durability: 1 });
    expect(next.Allocation).toMatchObject({ Start: 11, End: 11, Count: 1 });

    const members = await call('Cluster', 'GetMembership', {});
    expect(members.Initialized).toBe(true);
  });

  it('the KV batch stream answers through the real backend', async () => {
    const kv = kahunaClient('KeyValuer', `127.0.0.1:${node.node.port}`);
    const responses = await bidi(kv, 'BatchClientKeyValueRequests', [
      { Type: 1, RequestId: 1, TrySetKeyValue: { Key: 'e2e/b', Value: Buffer.from('x'),
        Flags: 1 } },
      { Type: 6, RequestId: 2, TryExistsKeyValue: { Key: 'e2e/none', Revision: -1 } },
    ]);
    const byId = new Map(responses.map((r) => [r.RequestId, r]));
    expect(byId.get(1)!.TrySetKeyValue.Type ?? 0).toBe(0);
    expect(byId.get(2)!.TryExistsKeyValue.Type).toBe(103);
  });
});
