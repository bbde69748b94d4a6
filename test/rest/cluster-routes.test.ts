// The cluster routes (wire.md 3.6): Kahuna's JSON with roles and outcomes as strings, and the
// HTTP statuses of leave and replication-factor.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRestHarness, type RestHarness } from './harness.js';

let h: RestHarness;
beforeAll(async () => { h = await startRestHarness(); });
afterAll(async () => { await h.close(); });

test('membership: exact members, roles as strings', async () => {
  h.backend.answer('membership', () => ({ membershipVersion: 4, localRole: 1, initialized: true,
    members: [{ endpoint: 'https://n1:8082', nodeId: 1, role: 1, joinedVersion: 1 },
      { endpoint: 'https://n2:8082', nodeId: 2, role: 0, joinedVersion: 3 },
      { endpoint: 'https://n3:8082', nodeId: 3, role: 2, joinedVersion: 2 },
      { endpoint: 'https://n4:8082', nodeId: 4, role: 3, joinedVersion: 4 }] }));
  const reply = await h.get('/v1/cluster/membership');
  expect(reply.status).toBe(200);
  expect(reply.text).toBe('{"membershipVersion":4,"members":[' +
    '{"endpoint":"https://n1:8082","nodeId":1,"role":"Voter","joinedVersion":1},' +
    '{"endpoint":"https://n2:8082","nodeId":2,"role":"Learner","joinedVersion":3},' +
    '{"endpoint":"https://n3:8082","nodeId":3,"role":"Leaving","joinedVersion":2},' +
    '{"endpoint":"https://n4:8082","nodeId":4,"role":"NotMember","joinedVersion":4}],' +
    '"localRole":"Voter","initialized":true}');
});

test('membership is GET only', async () => {
  const reply = await h.post('/v1/cluster/membership', {});
  expect(reply.status).toBe(405);
});

test('leave: outcome as a string, HTTP status per outcome', async () => {
  const statuses: Array<[number, string, number]> = [[0, 'Committed', 200],
    [1, 'NotAMember', 200], [2, 'RefusedInsufficientVoters', 409], [3, 'NotInitialized', 503],
    [4, 'NoLeader', 503], [5, 'Timeout', 504], [6, 'RefusedDrainInProgress', 503],
    [7, 'DrainTimedOut', 504]];
  for (const [outcome, name, status] of statuses) {
    h.backend.answer('leave', () => ({ left: outcome === 0, outcome, membershipVersion: 5,
      retryable: outcome > 2, reason: `r${String(outcome)}`, drained: outcome === 0 }));
    const reply = await h.post('/v1/cluster/leave', {});
    expect(reply.status).toBe(status);
    expect(reply.text).toBe(`{"left":${String(outcome === 0)},"drained":${String(outcome === 0)},` +
      `"outcome":"${name}","membershipVersion":5,"retryable":${String(outcome > 2)},` +
      `"reason":"r${String(outcome)}"}`);
  }
});

test('leave: no body is the same as {}', async () => {
  h.backend.answer('leave', () => ({ left: false, outcome: 2, membershipVersion: 1,
    retryable: false, reason: 'only voter', drained: false }));
  const reply = await h.post('/v1/cluster/leave', undefined);
  expect(reply.status).toBe(409);
  expect(reply.json).toMatchObject({ outcome: 'RefusedInsufficientVoters', left: false });
});

test('placement: exact JSON, replica roles as strings', async () => {
  h.backend.answer('placement', () => ({ replicationFactor: 2, rebalancerEnabled: true,
    initialized: true, localEndpoint: 'https://n1:8082', hostedPartitionCount: 1,
    partitions: [{ partitionId: 1, state: 'Active', generation: 3,
      effectiveReplicationFactor: 2, hostedLocally: true,
      replicas: [{ endpoint: 'https://n1:8082', role: 0 }, { endpoint: 'https://n2:8082', role: 1 },
        { endpoint: 'https://n3:8082', role: 2 }] },
    { partitionId: 2, state: 'Removed', generation: 0, effectiveReplicationFactor: 0,
      hostedLocally: false, replicas: [] }] }));
  const reply = await h.get('/v1/cluster/placement');
  expect(reply.status).toBe(200);
  expect(reply.text).toBe('{"replicationFactor":2,"rebalancerEnabled":true,"initialized":true,' +
    '"localEndpoint":"https://n1:8082","hostedPartitionCount":1,"partitions":[' +
    '{"partitionId":1,"state":"Active","generation":3,"effectiveReplicationFactor":2,' +
    '"hostedLocally":true,"replicas":[{"endpoint":"https://n1:8082","role":"Voter"},' +
    '{"endpoint":"https://n2:8082","role":"Learner"},' +
    '{"endpoint":"https://n3:8082","role":"Removing"}]},' +
    '{"partitionId":2,"state":"Removed","generation":0,"effectiveReplicationFactor":0,' +
    '"hostedLocally":false,"replicas":[]}]}');
});

test('replication-factor: the request reaches the backend; 200 on success, 409 otherwise',
  async () => {
    h.backend.answer('setReplicationFactor', () => ({ success: true, status: 'Success',
      generation: 7, reason: '' }));
    let reply = await h.post('/v1/cluster/replication-factor',
      { partitionId: 3, replicationFactor: '2' });
    expect(h.backend.lastCall('setReplicationFactor')).toEqual({ partitionId: 3,
      replicationFactor: 2 });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"success":true,"status":"Success","generation":7,"reason":""}');
    h.backend.answer('setReplicationFactor', () => ({ success: false, status: 'Refused',
      generation: 0, reason: 'no' }));
    reply = await h.post('/v1/cluster/replication-factor', { PartitionId: 1 });
    expect(h.backend.lastCall('setReplicationFactor')).toEqual({ partitionId: 1,
      replicationFactor: 0 });
    expect(reply.status).toBe(409);
    expect(reply.text).toBe('{"success":false,"status":"Refused","generation":0,"reason":"no"}');
  });

test('replication-factor: a wrong-typed member is InvalidInput (409) without a backend call',
  async () => {
    const before = h.backend.calls.length;
    const reply = await h.post('/v1/cluster/replication-factor',
      { partitionId: 'one', replicationFactor: 1 });
    expect(reply.status).toBe(409);
    expect(reply.json).toMatchObject({ success: false, status: 'InvalidInput', generation: 0 });
    expect(h.backend.calls.length).toBe(before);
    expect((await h.post('/v1/cluster/replication-factor', '[1]')).status).toBe(400);
  });

test('routing: camelCase metadata; the keySpace query reaches the backend', async () => {
  h.backend.answer('routingMetadata', () => ({ initialized: true, schemaVersion: 1,
    hashAlgorithm: 'kahuna.placement-group-jump-xxh32-v1', prefixSeparator: '/',
    groupSeparator: '|', hashPoolSize: 2, hashPartitionOffset: 1,
    sequenceStorageKeyFormat: '__kahuna:sequences:{0}', reservedKeyPrefix: '__kahuna:',
    localEndpoint: 'https://n1:8082', snapshotVersion: 9, coherent: true,
    keySpaces: [{ keySpace: 'users', routingMode: 'KeyRange', ranges: [
      { startKey: null, endKey: 'm', partitionId: 1, generation: 2 },
      { startKey: 'm', endKey: null, partitionId: 2, generation: 3 }] }],
    leaders: [{ partitionId: 1, endpoint: 'https://n1:8082' }, { partitionId: 2, endpoint: '' }],
  }));
  const reply = await h.get('/v1/cluster/routing?keySpace=us%2Fers');
  expect(h.backend.lastCall('routingMetadata')).toEqual({ keySpace: 'us/ers' });
  expect(reply.status).toBe(200);
  expect(reply.text).toBe('{"initialized":true,"schemaVersion":1,' +
    '"hashAlgorithm":"kahuna.placement-group-jump-xxh32-v1","prefixSeparator":"/",' +
    '"groupSeparator":"|","hashPoolSize":2,"hashPartitionOffset":1,' +
    '"sequenceStorageKeyFormat":"__kahuna:sequences:{0}","reservedKeyPrefix":"__kahuna:",' +
    '"localEndpoint":"https://n1:8082","snapshotVersion":9,"coherent":true,"keySpaces":[' +
    '{"keySpace":"users","routingMode":"KeyRange","ranges":[' +
    '{"startKey":null,"endKey":"m","partitionId":1,"generation":2},' +
    '{"startKey":"m","endKey":null,"partitionId":2,"generation":3}]}],' +
    '"leaders":[{"partitionId":1,"endpoint":"https://n1:8082"},{"partitionId":2,"endpoint":""}]}');
  await h.get('/v1/cluster/routing');
  expect(h.backend.lastCall('routingMetadata')).toEqual({ keySpace: '' });
});

test('placement and routing are GET only; leave and replication-factor POST only', async () => {
  expect((await h.post('/v1/cluster/placement', {})).status).toBe(405);
  expect((await h.post('/v1/cluster/routing', {})).status).toBe(405);
  expect((await h.get('/v1/cluster/leave')).status).toBe(405);
  expect((await h.get('/v1/cluster/replication-factor')).status).toBe(405);
});
