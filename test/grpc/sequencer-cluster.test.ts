// Sequencer (wire.md 2.3) and Cluster (wire.md 2.4) over a real grpc-js server and client.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { SequenceEntry } from '../../src/core/api/types.js';
import { hlc, startHarness, type Harness, type Msg } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const seq = (rpc: string, req: Msg): Promise<Msg> => h.call('Sequencer', rpc, req);

const entry: SequenceEntry = {
  name: 'orders', currentValue: 200, initialValue: 0, increment: 2, maxValue: null,
  revision: 4, durability: 1, createdAt: hlc(1, 1_700_000_000_000, 0),
  updatedAt: hlc(2, 1_700_000_000_999, 3), blockSize: 100, incarnation: 1,
};

describe('Sequencer', () => {
  test('CreateSequence: optional MaxValue and BlockSize absent or present', async () => {
    h.fake.answer('seqCreate', () => ({ type: 0, sequence: null, revision: 1 }));
    const res = await seq('CreateSequence',
      { Name: 's', InitialValue: -5, Increment: 3, Durability: 1 });
    expect(h.fake.lastCall('seqCreate')).toEqual({ name: 's', initialValue: -5, increment: 3,
      maxValue: null, durability: 1, blockSize: null });
    expect(res).toMatchObject({ ServedFrom: '', Revision: 1 });
    expect(res.Sequence).toBeUndefined();
    await seq('CreateSequence', { Name: 's', MaxValue: 0, BlockSize: 1, Durability: 1 });
    expect(h.fake.lastCall('seqCreate')).toMatchObject({ maxValue: 0, blockSize: 1 });
  });

  test('UpdateSequence: every optional field', async () => {
    h.fake.answer('seqUpdate', () => ({ type: 3, sequence: null, revision: 0 }));
    const res = await seq('UpdateSequence', { Name: 's', CurrentValue: 10, MaxValue: 99,
      RemoveBlockSize: true, Durability: 1 });
    expect(h.fake.lastCall('seqUpdate')).toEqual({ name: 's', currentValue: 10, increment: null,
      initialValue: null, maxValue: 99, removeMaxValue: false, blockSize: null,
      removeBlockSize: true, durability: 1 });
    expect(res.Type).toBe(3);
    await seq('UpdateSequence', { Name: 's', Increment: 4, InitialValue: 1, BlockSize: 7,
      RemoveMaxValue: true });
    expect(h.fake.lastCall('seqUpdate')).toMatchObject({ currentValue: null, increment: 4,
      initialValue: 1, blockSize: 7, removeMaxValue: true, durability: 0 });
  });

  test('GetSequence: the entry with its HLC stamps; not found is revision -1', async () => {
    h.fake.answer('seqGet', () => ({ type: 0, sequence: entry, revision: 4 }));
    const res = await seq('GetSequence', { Name: 'orders', Durability: 1 });
    expect(h.fake.lastCall('seqGet')).toEqual({ name: 'orders', durability: 1 });
    expect(res).toMatchObject({ ServedFrom: '', Revision: 4 });
    expect(res.Sequence).toMatchObject({
      Name: 'orders', CurrentValue: 200, Increment: 2, Revision: 4, Durability: 1,
      CreatedAtNode: 1, CreatedAtPhysical: 1_700_000_000_000, UpdatedAtNode: 2,
      UpdatedAtPhysical: 1_700_000_000_999, UpdatedAtCounter: 3, BlockSize: 100,
      Incarnation: 1,
    });
    expect('MaxValue' in res.Sequence).toBe(false); // null maxValue: absent, not 0
    expect('InitialValue' in res.Sequence).toBe(false); // 0: proto3 default, not sent
    h.fake.answer('seqGet', () => ({ type: 1, sequence: null, revision: -1 }));
    const missing = await seq('GetSequence', { Name: 'nope', Durability: 1 });
    expect(missing).toMatchObject({ Type: 1, Revision: -1 });
  });

  test('NextSequenceValue is a reservation of one; ReserveSequenceRange passes Count',
    async () => {
      h.fake.answer('seqReserve', (r) => ({ type: 0, allocation: { name: r.name, start: 7,
        end: 7 + r.count - 1, count: r.count, revision: 3 } }));
      const next = await seq('NextSequenceValue', { Name: 'orders', Durability: 1 });
      expect(h.fake.lastCall('seqReserve')).toEqual(
        { name: 'orders', count: 1, idempotencyKey: null, durability: 1 });
      expect(next).toMatchObject({ ServedFrom: '', Allocation: { Name: 'orders', Start: 7,
        End: 7, Count: 1, Revision: 3 } });
      const range = await seq('ReserveSequenceRange',
        { Name: 'orders', Count: 5, IdempotencyKey: 'idem', Durability: 1 });
      expect(h.fake.lastCall('seqReserve')).toEqual(
        { name: 'orders', count: 5, idempotencyKey: 'idem', durability: 1 });
      expect(range.Allocation).toMatchObject({ Start: 7, End: 11, Count: 5 });
      await seq('NextSequenceValue', { Name: 'o', IdempotencyKey: '' });
      expect(h.fake.lastCall('seqReserve').idempotencyKey).toBe(''); // present but empty
    });

  test('MaxValueExceeded has no Allocation; DeleteSequence; a throw is MustRetry (5)',
    async () => {
      h.fake.answer('seqReserve', () => ({ type: 4, allocation: null }));
      const full = await seq('ReserveSequenceRange', { Name: 's', Count: 2 });
      expect(full.Type).toBe(4);
      expect(full.Allocation).toBeUndefined();
      const del = await seq('DeleteSequence', { Name: 's', Durability: 1 });
      expect(h.fake.lastCall('seqDelete')).toEqual({ name: 's', durability: 1 });
      expect(del).toMatchObject({ ServedFrom: '' });
      h.fake.answer('seqDelete', () => {
        throw new Error('boom');
      });
      expect(await seq('DeleteSequence', { Name: 's' })).toMatchObject(
        { ServedFrom: '', Type: 5 });
    });
});

describe('Cluster', () => {
  test('GetMembership', async () => {
    h.fake.answer('membership', () => ({ membershipVersion: 3, localRole: 1, initialized: true,
      members: [{ endpoint: 'https://127.0.0.1:2071', nodeId: 1, role: 1, joinedVersion: 1 },
        { endpoint: 'https://127.0.0.1:2073', nodeId: 2, role: 0, joinedVersion: 3 }] }));
    const res = await h.call('Cluster', 'GetMembership', {});
    expect(res).toEqual({ MembershipVersion: 3, LocalRole: 1, Initialized: true, Members: [
      { Endpoint: 'https://127.0.0.1:2071', NodeId: 1, Role: 1, JoinedVersion: 1 },
      { Endpoint: 'https://127.0.0.1:2073', NodeId: 2, JoinedVersion: 3 }] });
  });

  test('Leave: outcome as the enum number, zero fields absent', async () => {
    h.fake.answer('leave', () => ({ left: false, outcome: 2, membershipVersion: 1,
      retryable: false, reason: 'only voter', drained: false }));
    expect(await h.call('Cluster', 'Leave', {})).toEqual({ Outcome: 2, MembershipVersion: 1,
      Reason: 'only voter' });
    h.fake.answer('leave', () => ({ left: true, outcome: 0, membershipVersion: 6,
      retryable: false, reason: '', drained: true }));
    expect(await h.call('Cluster', 'Leave', {})).toEqual({ Left: true, MembershipVersion: 6,
      Drained: true });
  });

  test('GetPlacement: every field, replicas with their roles', async () => {
    h.fake.answer('placement', () => ({ replicationFactor: 3, rebalancerEnabled: true,
      initialized: true, localEndpoint: 'https://127.0.0.1:2071', hostedPartitionCount: 2,
      partitions: [{ partitionId: 1, state: 'Active', generation: 4,
        effectiveReplicationFactor: 3, hostedLocally: true,
        replicas: [{ endpoint: 'https://127.0.0.1:2071', role: 0 },
          { endpoint: 'https://127.0.0.1:2073', role: 1 }] },
      { partitionId: 2, state: 'Draining', generation: 1, effectiveReplicationFactor: 0,
        hostedLocally: true, replicas: [] }] }));
    expect(await h.call('Cluster', 'GetPlacement', {})).toEqual({ ReplicationFactor: 3,
      RebalancerEnabled: true, Initialized: true, LocalEndpoint: 'https://127.0.0.1:2071',
      HostedPartitionCount: 2, Partitions: [
        { PartitionId: 1, State: 'Active', Generation: 4, EffectiveReplicationFactor: 3,
          HostedLocally: true, Replicas: [{ Endpoint: 'https://127.0.0.1:2071' },
            { Endpoint: 'https://127.0.0.1:2073', Role: 1 }] },
        { PartitionId: 2, State: 'Draining', Generation: 1, HostedLocally: true }] });
  });

  test('SetReplicationFactor: the request reaches the backend, the answer comes back',
    async () => {
      h.fake.answer('setReplicationFactor', () => ({ success: true, status: 'Success',
        generation: 8, reason: '' }));
      const res = await h.call('Cluster', 'SetReplicationFactor',
        { PartitionId: 2, ReplicationFactor: 3 });
      expect(h.fake.lastCall('setReplicationFactor')).toEqual({ partitionId: 2,
        replicationFactor: 3 });
      expect(res).toEqual({ Success: true, Status: 'Success', Generation: 8 });
      await h.call('Cluster', 'SetReplicationFactor', {});
      expect(h.fake.lastCall('setReplicationFactor')).toEqual({ partitionId: 0,
        replicationFactor: 0 });
    });

  test('GetRoutingMetadata: every field; absent range bounds stay absent', async () => {
    h.fake.answer('routingMetadata', () => ({ initialized: true, schemaVersion: 1,
      hashAlgorithm: 'kahuna.placement-group-jump-xxh32-v1', prefixSeparator: '/',
      groupSeparator: '|', hashPoolSize: 4, hashPartitionOffset: 1,
      sequenceStorageKeyFormat: '__kahuna:sequences:{0}', reservedKeyPrefix: '__kahuna:',
      localEndpoint: 'https://127.0.0.1:2071', snapshotVersion: 12, coherent: true,
      keySpaces: [{ keySpace: 'users', routingMode: 'KeyRange', ranges: [
        { startKey: null, endKey: 'm', partitionId: 1, generation: 2 },
        { startKey: 'm', endKey: null, partitionId: 2, generation: 3 }] }],
      leaders: [{ partitionId: 1, endpoint: 'https://127.0.0.1:2071' },
        { partitionId: 2, endpoint: '' }],
    }));
    const res = await h.call('Cluster', 'GetRoutingMetadata', { KeySpace: 'users' });
    expect(h.fake.lastCall('routingMetadata')).toEqual({ keySpace: 'users' });
    expect(res).toEqual({ Initialized: true, SchemaVersion: 1,
      HashAlgorithm: 'kahuna.placement-group-jump-xxh32-v1', PrefixSeparator: '/',
      GroupSeparator: '|', HashPoolSize: 4, HashPartitionOffset: 1,
      SequenceStorageKeyFormat: '__kahuna:sequences:{0}', ReservedKeyPrefix: '__kahuna:',
      LocalEndpoint: 'https://127.0.0.1:2071', SnapshotVersion: 12, Coherent: true,
      KeySpaces: [{ KeySpace: 'users', RoutingMode: 'KeyRange', Ranges: [
        { EndKey: 'm', PartitionId: 1, Generation: 2, _EndKey: 'EndKey' },
        { StartKey: 'm', PartitionId: 2, Generation: 3, _StartKey: 'StartKey' }] }],
      Leaders: [{ PartitionId: 1, Endpoint: 'https://127.0.0.1:2071' }, { PartitionId: 2 }] });
  });

  test('a failing backend is UNAVAILABLE', async () => {
    h.fake.answer('placement', () => { throw new Error('boom'); });
    const error = await h.call('Cluster', 'GetPlacement', {}).then(() => null,
      (e: grpc.ServiceError) => e);
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
  });

  test.each(['GetRanges', 'SplitRange', 'MergeRanges'])('%s answers UNIMPLEMENTED',
    async (rpc) => {
      const error = await h.call('Cluster', rpc, {}).then(() => null,
        (e: grpc.ServiceError) => e);
      expect(error?.code).toBe(grpc.status.UNIMPLEMENTED);
    });
});
