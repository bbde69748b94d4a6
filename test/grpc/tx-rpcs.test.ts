// KeyValuer's scripts, sessions and exclusive locks over a real grpc-js server and client
// (wire.md 2.2.10, 2.2.15-2.2.23, 2.2.24): every request field reaches the TxBackend as plain
// data (HLC triples as {n, l, c}, priority and conflict policy shifted down by one with 0 =
// Normal), every response field comes back as a kahuna-ts client reads it (proto-loader, longs
// as numbers, absent fields undefined), the batch stream's script and session kinds run the same
// calls, and a TxBackend that throws (a bug) answers MustRetry like every other handler.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { hlcZero } from '../../src/core/api/types.js';
import type { ScriptValue } from '../../src/core/api/tx-types.js';
import { FakeTxBackend } from '../helpers/fake-tx-backend.js';
import { bidi, hlc, startHarness, type Harness, type Msg } from './harness.js';

const fake = new FakeTxBackend();
let h: Harness;
let plain: Harness; // no TxBackend: createGrpcServer's default
beforeAll(async () => {
  h = await startHarness(undefined, fake);
  plain = await startHarness();
});
afterAll(async () => {
  await h.close();
  await plain.close();
});
beforeEach(() => {
  fake.reset();
  h.reset();
});

const txWire = { TransactionIdNode: 2, TransactionIdPhysical: 1_700_000_000_001,
  TransactionIdCounter: 3 };
const txId = hlc(2, 1_700_000_000_001, 3);
const holder = hlc(7, 1_700_000_000_900, 8);
const holderWire = { HolderTransactionIdNode: 7, HolderTransactionIdPhysical: 1_700_000_000_900,
  HolderTransactionIdCounter: 8 };
const kv = (rpc: string, req: Msg): Promise<Msg> => h.call('KeyValuer', rpc, req);
const boom = (): never => {
  throw new Error('boom');
};

describe('TryExecuteTransactionScript', () => {
  test('Hash, Script, Parameters (absent Value is null) and Priority reach the backend',
    async () => {
      await kv('TryExecuteTransactionScript', {
        Hash: 'abc', Script: Buffer.from('SET @k 1'), Priority: 5,
        Parameters: [{ Key: '@k', Value: 'x' }, { Key: '@n' }, { Key: '@e', Value: '' }],
      });
      expect(fake.lastCall('executeScript')).toEqual({
        hash: 'abc', script: Buffer.from('SET @k 1'), priority: 4,
        parameters: [{ key: '@k', value: 'x' }, { key: '@n', value: null },
          { key: '@e', value: '' }],
      });
      await kv('TryExecuteTransactionScript', {});
      expect(fake.lastCall('executeScript')).toEqual({ hash: null, script: Buffer.alloc(0),
        parameters: [], priority: 2 });
    });

  test.each([[0, 2], [1, 0], [2, 1], [3, 2], [4, 3], [5, 4], [7, 6]])(
    'gRPC Priority %i is TxPriority %i (offset by one, 0 = Normal)', async (wire, priority) => {
      await kv('TryExecuteTransactionScript', { Script: Buffer.from('x'), Priority: wire });
      expect(fake.lastCall('executeScript').priority).toBe(priority);
    });

  test('Type, Reason, every Values row (null value, -1 revision, HLC triples), elapsed',
    async () => {
      const values: ScriptValue[] = [
        { key: 'k', value: Buffer.from('v'), revision: 4, expires: hlc(1, 1_800_000_000_000, 2),
          lastModified: hlc(3, 1_700_000_000_050, 4) },
        { key: '', value: null, revision: -1, expires: hlcZero, lastModified: hlcZero },
      ];
      fake.answer('executeScript', () => ({ type: 3, reason: null, values, timeElapsedMs: 12 }));
      const res = await kv('TryExecuteTransactionScript', { Script: Buffer.from('GET k') });
      expect(res).toMatchObject({ ServedFrom: '', Type: 3, TimeElapsedMs: 12 });
      expect(res.Reason).toBeUndefined();
      expect(res.Values[0]).toMatchObject({ Key: 'k', Value: Buffer.from('v'), Revision: 4,
        ExpiresNode: 1, ExpiresPhysical: 1_800_000_000_000, ExpiresCounter: 2,
        LastModifiedNode: 3, LastModifiedPhysical: 1_700_000_000_050, LastModifiedCounter: 4 });
      expect(res.Values[1]).toMatchObject({ Revision: -1 });
      expect(res.Values[1].Key).toBeUndefined(); // "" is the proto3 default
      expect(res.Values[1].Value).toBeUndefined(); // null: absent, not empty bytes
    });

  test('an error carries its Reason', async () => {
    fake.answer('executeScript', () => ({ type: 99, reason: 'Syntax error at line 1',
      values: [], timeElapsedMs: 0 }));
    const res = await kv('TryExecuteTransactionScript', { Script: Buffer.from('GET') });
    expect(res).toMatchObject({ ServedFrom: '', Type: 99, Reason: 'Syntax error at line 1' });
    expect(res.Values ?? []).toEqual([]);
  });
});

describe('sessions', () => {
  test('StartTransaction: every field in (ReadTimestamp triple, offsets); TransactionId out',
    async () => {
      fake.answer('startTransaction', () => ({ type: 0, transactionId: txId }));
      const res = await kv('StartTransaction', {
        CoordinatorKey: 'c1', LockingType: 1, Timeout: 250, AsyncRelease: true,
        AutoCommit: true, ReadValidation: 1, DecisionDurability: 1, ReadTimestampNode: 4,
        ReadTimestampPhysical: 1_700_000_000_500, ReadTimestampCounter: 6, Priority: 4,
        AdmissionWaitMs: 30, ConflictPolicy: 2,
      });
      expect(fake.lastCall('startTransaction')).toEqual({
        coordinatorKey: 'c1', lockingType: 1, timeout: 250, asyncRelease: true,
        autoCommit: true, readValidation: 1, decisionDurability: 1,
        readTimestamp: hlc(4, 1_700_000_000_500, 6), priority: 3, admissionWaitMs: 30,
        conflictPolicy: 1,
      });
      expect(res).toMatchObject({ ServedFrom: '', ...txWire });
      expect(res.Type).toBeUndefined(); // Set (0) is the proto3 default
    });

  test('StartTransaction defaults: zero read timestamp, Normal priority and policy', async () => {
    await kv('StartTransaction', { CoordinatorKey: 'c' });
    expect(fake.lastCall('startTransaction')).toEqual({
      coordinatorKey: 'c', lockingType: 0, timeout: 0, asyncRelease: false, autoCommit: false,
      readValidation: 0, decisionDurability: 0, readTimestamp: hlcZero, priority: 2,
      admissionWaitMs: 0, conflictPolicy: 0,
    });
    await kv('StartTransaction', { CoordinatorKey: 'c', ConflictPolicy: 1 });
    expect(fake.lastCall('startTransaction').conflictPolicy).toBe(0);
  });

  test('CommitTransaction: RecordAnchorKey absent is null, a string both ways', async () => {
    await kv('CommitTransaction', { CoordinatorKey: 'c', ...txWire });
    expect(fake.lastCall('commitTransaction')).toEqual({ coordinatorKey: 'c',
      transactionId: txId, recordAnchorKey: null });
    fake.answer('commitTransaction', () => ({ type: 8, recordAnchorKey: 'k/1' }));
    const res = await kv('CommitTransaction', { CoordinatorKey: 'c', ...txWire,
      RecordAnchorKey: 'k/0' });
    expect(fake.lastCall('commitTransaction').recordAnchorKey).toBe('k/0');
    expect(res).toEqual(expect.objectContaining({ ServedFrom: '', Type: 8,
      RecordAnchorKey: 'k/1' }));
    fake.answer('commitTransaction', () => ({ type: 8, recordAnchorKey: null }));
    const none = await kv('CommitTransaction', { CoordinatorKey: 'c', ...txWire });
    expect(none.RecordAnchorKey).toBeUndefined();
    // An empty anchor is a present string, not null.
    await kv('CommitTransaction', { CoordinatorKey: 'c', ...txWire, RecordAnchorKey: '' });
    expect(fake.lastCall('commitTransaction').recordAnchorKey).toBe('');
  });

  test('RollbackTransaction: the request as commit; the response has only Type', async () => {
    fake.answer('rollbackTransaction', () => ({ type: 9, recordAnchorKey: 'k/1' }));
    const res = await kv('RollbackTransaction', { CoordinatorKey: 'c', ...txWire,
      RecordAnchorKey: 'a' });
    expect(fake.lastCall('rollbackTransaction')).toEqual({ coordinatorKey: 'c',
      transactionId: txId, recordAnchorKey: 'a' });
    expect(res).toMatchObject({ ServedFrom: '', Type: 9 });
    expect(res.RecordAnchorKey).toBeUndefined(); // no such field in the response
  });
});

describe('exclusive locks', () => {
  const session = { CoordinatorKey: 'c', OperationIdHigh: 2 ** 52 + 1, OperationIdLow: 77 };
  const plainSession = { coordinatorKey: 'c', operationIdHigh: 2 ** 52 + 1, operationIdLow: 77 };

  test('TryAcquireExclusiveLock: every field in; the holder triple out', async () => {
    fake.answer('acquireExclusiveLock', () => ({ type: 104, holder }));
    const res = await kv('TryAcquireExclusiveLock', { ...txWire, ...session, Key: 'k',
      ExpiresMs: 5000, Durability: 1, ConflictPolicy: 2 });
    expect(fake.lastCall('acquireExclusiveLock')).toEqual({ transactionId: txId, key: 'k',
      expiresMs: 5000, durability: 1, ...plainSession });
    expect(res).toMatchObject({ ServedFrom: '', Type: 104, ...holderWire });
  });

  test('TryAcquireExclusivePrefixLock: PrefixKey is the key', async () => {
    fake.answer('acquireExclusivePrefixLock', () => ({ type: 5, holder: hlcZero }));
    const res = await kv('TryAcquireExclusivePrefixLock', { ...txWire, ...session,
      PrefixKey: 'b', ExpiresMs: 100 });
    expect(fake.lastCall('acquireExclusivePrefixLock')).toEqual({ transactionId: txId,
      key: 'b', expiresMs: 100, durability: 0, ...plainSession });
    expect(res).toMatchObject({ ServedFrom: '', Type: 5 });
    expect(res.HolderTransactionIdPhysical).toBeUndefined(); // zero holder: all absent
  });

  test('TryReleaseExclusiveLock and TryReleaseExclusivePrefixLock: Type out, no holder',
    async () => {
      fake.answer('releaseExclusiveLock', () => ({ type: 104, holder }));
      const res = await kv('TryReleaseExclusiveLock', { ...txWire, Key: 'k', Durability: 1 });
      expect(fake.lastCall('releaseExclusiveLock')).toEqual({ transactionId: txId, key: 'k',
        durability: 1 });
      expect(res).toEqual(expect.objectContaining({ ServedFrom: '', Type: 104 }));
      expect(res.HolderTransactionIdNode).toBeUndefined();
      const prefix = await kv('TryReleaseExclusivePrefixLock', { ...txWire, PrefixKey: 'b' });
      expect(fake.lastCall('releaseExclusivePrefixLock')).toEqual({ transactionId: txId,
        key: 'b', durability: 0 });
      expect(prefix).toMatchObject({ ServedFrom: '', Type: 6 });
    });

  test('TryAcquireManyExclusiveLocks: items in; per-item Type, Key, Durability, holder out',
    async () => {
      fake.answer('acquireManyExclusiveLocks', (r) => ({ items: [
        { type: 5, key: r.items[0]!.key, durability: 1, holder: hlcZero },
        { type: 104, key: r.items[1]!.key, durability: 0, holder }] }));
      const res = await kv('TryAcquireManyExclusiveLocks', { ...txWire, Items: [
        { Key: 'a', ExpiresMs: 10, Durability: 1 }, { Key: 'b', ExpiresMs: 20 }] });
      expect(fake.lastCall('acquireManyExclusiveLocks')).toEqual({ transactionId: txId,
        items: [{ key: 'a', expiresMs: 10, durability: 1 },
          { key: 'b', expiresMs: 20, durability: 0 }] });
      expect(res.ServedFrom).toBe('');
      expect(res.Items).toMatchObject([{ Type: 5, Key: 'a', Durability: 1 },
        { Type: 104, Key: 'b', ...holderWire }]);
    });

  test('TryReleaseManyExclusiveLocks: items in (no lease); Type, Key, Durability out',
    async () => {
      const res = await kv('TryReleaseManyExclusiveLocks', { ...txWire, Items: [
        { Key: 'a', Durability: 1 }, { Key: 'b' }] });
      expect(fake.lastCall('releaseManyExclusiveLocks')).toEqual({ transactionId: txId,
        items: [{ key: 'a', expiresMs: 0, durability: 1 },
          { key: 'b', expiresMs: 0, durability: 0 }] });
      expect(res.Items).toMatchObject([{ Type: 6, Key: 'a', Durability: 1 },
        { Type: 6, Key: 'b' }]);
    });
});

describe('a TxBackend that throws (a bug) answers MustRetry (101), status OK', () => {
  test.each([
    ['TryExecuteTransactionScript', 'executeScript'],
    ['StartTransaction', 'startTransaction'],
    ['CommitTransaction', 'commitTransaction'],
    ['RollbackTransaction', 'rollbackTransaction'],
    ['TryAcquireExclusiveLock', 'acquireExclusiveLock'],
    ['TryReleaseExclusiveLock', 'releaseExclusiveLock'],
    ['TryAcquireExclusivePrefixLock', 'acquireExclusivePrefixLock'],
    ['TryReleaseExclusivePrefixLock', 'releaseExclusivePrefixLock'],
  ] as const)('%s', async (rpc, method) => {
    fake.answer(method, boom);
    expect(await kv(rpc, {})).toEqual(expect.objectContaining({ ServedFrom: '', Type: 101 }));
  });

  test('the many-lock RPCs answer MustRetry on every item', async () => {
    fake.answer('acquireManyExclusiveLocks', boom);
    fake.answer('releaseManyExclusiveLocks', boom);
    const items = [{ Key: 'a', Durability: 1 }, { Key: 'b' }];
    for (const rpc of ['TryAcquireManyExclusiveLocks', 'TryReleaseManyExclusiveLocks']) {
      const res = await kv(rpc, { ...txWire, Items: items });
      expect(res.Items).toMatchObject([{ Type: 101, Key: 'a', Durability: 1 },
        { Type: 101, Key: 'b' }]);
    }
  });
});

describe('without a TxBackend (unavailableTxBackend)', () => {
  test('every RPC answers Errored (99) with status OK; scripts say why', async () => {
    const call = (rpc: string, req: Msg) => plain.call('KeyValuer', rpc, req);
    const script = await call('TryExecuteTransactionScript', { Script: Buffer.from('GET x') });
    expect(script).toMatchObject({ ServedFrom: '', Type: 99,
      Reason: 'transactions are not available' });
    for (const rpc of ['StartTransaction', 'CommitTransaction', 'RollbackTransaction',
      'TryAcquireExclusiveLock', 'TryReleaseExclusiveLock', 'TryAcquireExclusivePrefixLock',
      'TryReleaseExclusivePrefixLock']) {
      expect(await call(rpc, {}), rpc).toMatchObject({ ServedFrom: '', Type: 99 });
    }
    const many = await call('TryAcquireManyExclusiveLocks', { Items: [{ Key: 'a' }] });
    expect(many.Items).toMatchObject([{ Type: 99, Key: 'a' }]);
    expect(plain.fake.calls).toEqual([]);
  });
});

describe('BatchClientKeyValueRequests', () => {
  test('script, exclusive-lock, start, commit and rollback kinds reach the TxBackend',
    async () => {
      fake.answer('executeScript', () => ({ type: 3, reason: null, timeElapsedMs: 0,
        values: [{ key: '', value: Buffer.from('7'), revision: -1, expires: hlcZero,
          lastModified: hlcZero }] }));
      fake.answer('acquireExclusiveLock', () => ({ type: 104, holder }));
      fake.answer('startTransaction', () => ({ type: 0, transactionId: txId }));
      fake.answer('commitTransaction', () => ({ type: 8, recordAnchorKey: 'k/1' }));
      const responses = await bidi(h.client('KeyValuer'), 'BatchClientKeyValueRequests', [
        { Type: 7, RequestId: 1, TryExecuteTransactionScript: { Script: Buffer.from('RETURN 7'),
          Priority: 1, Parameters: [{ Key: '@a' }] } },
        { Type: 8, RequestId: 2, TryAcquireExclusiveLock: { ...txWire, Key: 'x',
          ExpiresMs: 50 } },
        { Type: 11, RequestId: 3, StartTransaction: { CoordinatorKey: 'c', Priority: 0 } },
        { Type: 12, RequestId: 4, CommitTransaction: { CoordinatorKey: 'c', ...txWire,
          RecordAnchorKey: 'k/0' } },
        { Type: 13, RequestId: 5, RollbackTransaction: { CoordinatorKey: 'c', ...txWire } },
      ]);
      const byId = new Map(responses.map((r) => [r.RequestId, r]));
      expect(byId.get(1)).toMatchObject({ Type: 7, payload: 'TryExecuteTransactionScript',
        TryExecuteTransactionScript: { ServedFrom: '', Type: 3,
          Values: [{ Value: Buffer.from('7'), Revision: -1 }] } });
      expect(byId.get(2)).toMatchObject({ Type: 8, TryAcquireExclusiveLock: { ServedFrom: '',
        Type: 104, ...holderWire } });
      expect(byId.get(3)).toMatchObject({ Type: 11, StartTransaction: { ServedFrom: '',
        ...txWire } });
      expect(byId.get(4)).toMatchObject({ Type: 12, CommitTransaction: { ServedFrom: '',
        Type: 8, RecordAnchorKey: 'k/1' } });
      expect(byId.get(5)).toMatchObject({ Type: 13, RollbackTransaction: { ServedFrom: '',
        Type: 9 } });
      expect(fake.lastCall('executeScript')).toEqual({ hash: null, script: Buffer.from('RETURN 7'),
        parameters: [{ key: '@a', value: null }], priority: 0 });
      expect(fake.lastCall('acquireExclusiveLock')).toMatchObject({ transactionId: txId,
        key: 'x', expiresMs: 50 });
      expect(fake.lastCall('startTransaction')).toMatchObject({ coordinatorKey: 'c',
        priority: 2 });
      expect(fake.lastCall('commitTransaction')).toEqual({ coordinatorKey: 'c',
        transactionId: txId, recordAnchorKey: 'k/0' });
      expect(fake.lastCall('rollbackTransaction')).toEqual({ coordinatorKey: 'c',
        transactionId: txId, recordAnchorKey: null });
      expect(h.fake.calls).toEqual([]); // nothing went to the KahunaBackend
    });

  test('a throwing TxBackend answers MustRetry with the same RequestId', async () => {
    for (const method of ['executeScript', 'acquireExclusiveLock', 'startTransaction',
      'commitTransaction', 'rollbackTransaction'] as const) fake.answer(method, boom);
    const responses = await bidi(h.client('KeyValuer'), 'BatchClientKeyValueRequests', [
      { Type: 7, RequestId: 1, TryExecuteTransactionScript: { Script: Buffer.from('x') } },
      { Type: 8, RequestId: 2, TryAcquireExclusiveLock: { Key: 'x' } },
      { Type: 11, RequestId: 3, StartTransaction: { CoordinatorKey: 'c' } },
      { Type: 12, RequestId: 4, CommitTransaction: { CoordinatorKey: 'c' } },
      { Type: 13, RequestId: 5, RollbackTransaction: { CoordinatorKey: 'c' } },
    ]);
    const byId = new Map(responses.map((r) => [r.RequestId, r]));
    for (const [id, payload] of [[1, 'TryExecuteTransactionScript'],
      [2, 'TryAcquireExclusiveLock'], [3, 'StartTransaction'], [4, 'CommitTransaction'],
      [5, 'RollbackTransaction']] as const) {
      expect(byId.get(id)![payload], payload).toMatchObject({ ServedFrom: '', Type: 101 });
    }
  });
});
