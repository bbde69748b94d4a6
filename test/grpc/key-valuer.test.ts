// KeyValuer unary RPCs over a real grpc-js server and client (wire.md 2.2): every request field
// reaches the backend as plain data, every response field comes back as a kahuna-ts client
// reads it (proto-loader, longs as numbers, absent fields undefined).
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { hlcZero } from '../../src/core/api/types.js';
import { hlc, startHarness, type Harness, type Msg } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const tx = { TransactionIdNode: 2, TransactionIdPhysical: 1_700_000_000_001,
  TransactionIdCounter: 3 };
const session = { CoordinatorKey: 'coord-1', OperationIdHigh: 2 ** 52 + 1, OperationIdLow: 77 };
const plainTx = { txId: hlc(2, 1_700_000_000_001, 3), coordinatorKey: 'coord-1',
  operationIdHigh: 2 ** 52 + 1, operationIdLow: 77 };
const noTx = { txId: hlcZero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0 };
const readTs = { ReadTimestampNode: 4, ReadTimestampPhysical: 1_700_000_000_500,
  ReadTimestampCounter: 6 };
const meta = {
  revision: 5, expires: hlc(1, 1_800_000_000_000, 2), lastUsed: hlc(1, 1_700_000_000_100, 0),
  lastModified: hlc(1, 1_700_000_000_050, 1), state: 1,
};
const metaWire = {
  Revision: 5, ExpiresNode: 1, ExpiresPhysical: 1_800_000_000_000, ExpiresCounter: 2,
  LastUsedNode: 1, LastUsedPhysical: 1_700_000_000_100, LastModifiedNode: 1,
  LastModifiedPhysical: 1_700_000_000_050, LastModifiedCounter: 1, State: 1,
};
const kv = (rpc: string, req: Msg): Promise<Msg> => h.call('KeyValuer', rpc, req);

describe('point operations', () => {
  test('TrySetKeyValue: every field in; Revision and LastModified out', async () => {
    h.fake.answer('kvSet', () => ({ type: 0, revision: 3, lastModified: hlc(1, 1_234, 5) }));
    const res = await kv('TrySetKeyValue', {
      ...tx, ...session, Key: 'k', Value: Buffer.from('v'), CompareValue: Buffer.from('old'),
      CompareRevision: 9, Flags: 16, ExpiresMs: 1000, Durability: 1, RoutedGeneration: 4,
    });
    expect(h.fake.lastCall('kvSet')).toEqual({
      ...plainTx, key: 'k', value: Buffer.from('v'), compareValue: Buffer.from('old'),
      compareRevision: 9, flags: 16, expiresMs: 1000, durability: 1,
    });
    expect(res).toMatchObject({ ServedFrom: '', Revision: 3, LastModifiedNode: 1,
      LastModifiedPhysical: 1_234, LastModifiedCounter: 5 });
    expect(res.Type).toBeUndefined(); // Set (0) is the proto3 default
  });

  test('TrySetKeyValue: absent Value is null, empty Value is empty bytes', async () => {
    await kv('TrySetKeyValue', { Key: 'a' });
    expect(h.fake.lastCall('kvSet')).toMatchObject({ ...noTx, key: 'a', value: null,
      compareValue: null, compareRevision: 0, flags: 0, expiresMs: 0, durability: 0 });
    await kv('TrySetKeyValue', { Key: 'b', Value: Buffer.alloc(0) });
    expect(h.fake.lastCall('kvSet').value).toEqual(Buffer.alloc(0));
  });

  test('TrySetKeyValue NotSet: negative revision -1 comes back as -1', async () => {
    h.fake.answer('kvSet', () => ({ type: 1, revision: -1, lastModified: hlcZero }));
    const res = await kv('TrySetKeyValue', { Key: 'k', CompareRevision: -1, Flags: 32 });
    expect(h.fake.lastCall('kvSet').compareRevision).toBe(-1);
    expect(res).toMatchObject({ Type: 1, Revision: -1 });
    expect(res.LastModifiedPhysical).toBeUndefined();
  });

  test('TryExtendKeyValue and TryDeleteKeyValue', async () => {
    h.fake.answer('kvExtend', () => ({ type: 2, revision: 4, lastModified: hlc(2, 99, 1) }));
    const ext = await kv('TryExtendKeyValue',
      { ...tx, ...session, Key: 'e', ExpiresMs: 50, Durability: 1 });
    expect(h.fake.lastCall('kvExtend')).toEqual(
      { ...plainTx, key: 'e', expiresMs: 50, durability: 1 });
    expect(ext).toMatchObject({ ServedFrom: '', Type: 2, Revision: 4, LastModifiedNode: 2,
      LastModifiedPhysical: 99, LastModifiedCounter: 1 });

    h.fake.answer('kvDelete', () => ({ type: 103, revision: 0, lastModified: hlcZero }));
    const del = await kv('TryDeleteKeyValue', { Key: 'd', Durability: 1 });
    expect(h.fake.lastCall('kvDelete')).toEqual({ ...noTx, key: 'd', durability: 1 });
    expect(del).toMatchObject({ ServedFrom: '', Type: 103 });
  });

  test('TryGetKeyValue: revision -1 and read timestamp in; value and meta out', async () => {
    h.fake.answer('kvGet', () => ({ type: 3, value: Buffer.from('hello'), ...meta }));
    const res = await kv('TryGetKeyValue',
      { ...tx, ...session, Key: 'g', Revision: -1, Durability: 1, ...readTs });
    expect(h.fake.lastCall('kvGet')).toEqual({ ...plainTx, key: 'g', revision: -1,
      readTimestamp: hlc(4, 1_700_000_000_500, 6), durability: 1 });
    expect(res).toMatchObject({ ServedFrom: '', Type: 3, Value: Buffer.from('hello'),
      ...metaWire });
    expect(res.LastUsedCounter).toBeUndefined(); // 0 is not sent
  });

  test('TryGetKeyValue: a null value is absent, an empty value is present', async () => {
    h.fake.answer('kvGet', () => ({ type: 3, value: null, ...meta }));
    const none = await kv('TryGetKeyValue', { Key: 'n', Revision: -1 });
    expect('Value' in none).toBe(false);
    h.fake.answer('kvGet', () => ({ type: 3, value: new Uint8Array(0), ...meta }));
    const empty = await kv('TryGetKeyValue', { Key: 'e', Revision: -1 });
    expect(empty.Value).toEqual(Buffer.alloc(0));
  });

  test('an 8 MiB value goes in and comes back (64 MiB limits, not the 4 MiB default)',
    async () => {
      const big = Buffer.alloc(8 * 1024 * 1024, 7);
      await kv('TrySetKeyValue', { Key: 'big', Value: big });
      // Buffer.equals: vitest's deep equality walks 8M elements far too slowly.
      expect(big.equals(h.fake.lastCall('kvSet').value!)).toBe(true);
      h.fake.answer('kvGet', () => ({ type: 3, value: big, ...meta }));
      const res = await kv('TryGetKeyValue', { Key: 'big', Revision: -1 });
      expect(big.equals(res.Value)).toBe(true);
    });

  test('TryExistsKeyValue: meta without a value', async () => {
    h.fake.answer('kvExists', () => ({ type: 10, value: null, ...meta }));
    const res = await kv('TryExistsKeyValue', { Key: 'x', Revision: 2, ...readTs });
    expect(h.fake.lastCall('kvExists')).toEqual({ ...noTx, key: 'x', revision: 2,
      readTimestamp: hlc(4, 1_700_000_000_500, 6), durability: 0 });
    expect(res).toMatchObject({ ServedFrom: '', Type: 10, ...metaWire });
    expect(res.Value).toBeUndefined();
  });
});

describe('batches', () => {
  test('TrySetManyKeyValue: items in and out, no top-level Type', async () => {
    h.fake.answer('kvSetMany', () => ({ type: 0, items: [
      { key: 'b', durability: 1, type: 1, revision: -1, lastModified: hlcZero },
      { key: 'a', durability: 0, type: 0, revision: 1, lastModified: hlc(1, 10, 0) },
    ] }));
    const res = await kv('TrySetManyKeyValue', { Items: [
      { ...tx, Key: 'a', Value: Buffer.from('1'), Flags: 1, ExpiresMs: 5 },
      { Key: 'b', Flags: 8, Durability: 1 },
    ] });
    expect(h.fake.lastCall('kvSetMany')).toEqual({ items: [
      { txId: hlc(2, 1_700_000_000_001, 3), coordinatorKey: '', operationIdHigh: 0,
        operationIdLow: 0, key: 'a', value: Buffer.from('1'), compareValue: null,
        compareRevision: 0, flags: 1, expiresMs: 5, durability: 0 },
      { ...noTx, key: 'b', value: null, compareValue: null, compareRevision: 0, flags: 8,
        expiresMs: 0, durability: 1 },
    ] });
    expect(res.Type).toBeUndefined();
    expect(res.Items).toEqual([
      { ServedFrom: '', Type: 1, Key: 'b', Revision: -1, Durability: 1, _ServedFrom: 'ServedFrom' },
      { ServedFrom: '', Key: 'a', Revision: 1, LastModifiedNode: 1, LastModifiedPhysical: 10,
        _ServedFrom: 'ServedFrom' },
    ]);
  });

  test('TryDeleteManyKeyValue: batch identity present or absent', async () => {
    h.fake.answer('kvDeleteMany', () => ({ type: 4, items: [
      { key: 'a', durability: 1, type: 4, revision: 8, lastModified: hlc(1, 20, 2) },
    ] }));
    const res = await kv('TryDeleteManyKeyValue', {
      Items: [{ ...tx, Key: 'a', Durability: 1 }],
      CoordinatorKey: 'c', OperationIdHigh: 1, OperationIdLow: 2,
    });
    expect(h.fake.lastCall('kvDeleteMany')).toEqual({
      items: [{ txId: hlc(2, 1_700_000_000_001, 3), key: 'a', durability: 1 }],
      coordinatorKey: 'c', operationIdHigh: 1, operationIdLow: 2,
    });
    expect(res.Items).toMatchObject([{ ServedFrom: '', Type: 4, Key: 'a', Revision: 8,
      LastModifiedNode: 1, LastModifiedPhysical: 20, LastModifiedCounter: 2, Durability: 1 }]);
    await kv('TryDeleteManyKeyValue', { Items: [{ Key: 'z' }] });
    expect(h.fake.lastCall('kvDeleteMany')).toEqual({
      items: [{ txId: hlcZero, key: 'z', durability: 0 }],
      coordinatorKey: null, operationIdHigh: null, operationIdLow: null,
    });
  });

  test('TryGetManyValues and TryExistsManyValues', async () => {
    const items = [
      { key: 'a', durability: 1, type: 3, value: Buffer.from('A'), ...meta },
      { key: 'b', durability: 0, type: 103, value: null, revision: 0, expires: hlcZero,
        lastUsed: hlcZero, lastModified: hlcZero, state: 0 },
    ];
    h.fake.answer('kvGetMany', () => ({ type: 3, items }));
    const req = { ...tx, ...readTs, Items: [{ Key: 'a', Revision: -1, Durability: 1 },
      { Key: 'b', Revision: 3 }] };
    const res = await kv('TryGetManyValues', req);
    const plain = {
      txId: hlc(2, 1_700_000_000_001, 3), readTimestamp: hlc(4, 1_700_000_000_500, 6),
      items: [{ key: 'a', revision: -1, durability: 1 }, { key: 'b', revision: 3, durability: 0 }],
    };
    expect(h.fake.lastCall('kvGetMany')).toEqual(plain);
    expect(res.ServedFrom).toBe('');
    expect(res.Items[0]).toMatchObject({ Type: 3, Key: 'a', Durability: 1, Value: Buffer.from('A'),
      ...metaWire });
    expect(res.Items[1]).toEqual({ Type: 103, Key: 'b' });

    h.fake.answer('kvExistsMany', () => ({ type: 3, items }));
    const ex = await kv('TryExistsManyValues', req);
    expect(h.fake.lastCall('kvExistsMany')).toEqual(plain);
    expect(ex.Items[0]).toMatchObject({ Type: 3, Key: 'a', ...metaWire });
    expect(ex.Items[0].Value).toBeUndefined(); // the exists row has no Value field
  });
});

describe('scans', () => {
  const row = { key: 'b/1', value: Buffer.from('x'), ...meta };
  const rowWire = { Key: 'b/1', Value: Buffer.from('x'), ...metaWire };

  test('ScanByPrefix (node-local) and ScanAllByPrefix (Type is field 1, no ServedFrom)',
    async () => {
      h.fake.answer('kvScanByPrefix', () => ({ type: 3, items: [row] }));
      const local = await kv('ScanByPrefix',
        { PrefixKey: 'b/', Durability: 1, ...readTs, IncludeTombstones: true });
      expect(h.fake.lastCall('kvScanByPrefix')).toEqual({ prefixKey: 'b/',
        readTimestamp: hlc(4, 1_700_000_000_500, 6), durability: 1 });
      expect(local).toMatchObject({ ServedFrom: '', Type: 3, Items: [rowWire] });

      h.fake.answer('kvScanAllByPrefix', () => ({ type: 100, items: [] }));
      const all = await kv('ScanAllByPrefix', { PrefixKey: '' });
      expect(h.fake.lastCall('kvScanAllByPrefix')).toEqual(
        { prefixKey: '', readTimestamp: hlcZero, durability: 0 });
      expect(all).toEqual({ Type: 100 });
    });

  test('GetByBucket', async () => {
    h.fake.answer('kvGetByBucket', () => ({ type: 3, items: [row] }));
    const res = await kv('GetByBucket', { ...tx, ...session, PrefixKey: 'b', Durability: 1,
      ReadTimestampNode: 0 });
    expect(h.fake.lastCall('kvGetByBucket')).toEqual({ txId: hlc(2, 1_700_000_000_001, 3),
      prefixKey: 'b', readTimestamp: hlcZero, durability: 1 });
    expect(res).toMatchObject({ ServedFrom: '', Type: 3, Items: [rowWire] });
  });

  test('GetByRange: absent vs empty bounds, cursor and HasMore out', async () => {
    h.fake.answer('kvGetByRange', () => ({ type: 3, items: [row], nextCursor: 'c1',
      hasMore: true }));
    const res = await kv('GetByRange', { ...tx, Prefix: 'b', StartKey: '', StartInclusive: true,
      Limit: 10, ...readTs, Durability: 1 });
    expect(h.fake.lastCall('kvGetByRange')).toEqual({ txId: hlc(2, 1_700_000_000_001, 3),
      prefix: 'b', startKey: '', startInclusive: true, endKey: null, endInclusive: false,
      limit: 10, readTimestamp: hlc(4, 1_700_000_000_500, 6), durability: 1, cursor: null });
    expect(res).toMatchObject({ ServedFrom: '', Type: 3, Items: [rowWire], NextCursor: 'c1',
      HasMore: true });

    h.fake.answer('kvGetByRange', () => ({ type: 3, items: [], nextCursor: null,
      hasMore: false }));
    const last = await kv('GetByRange', { Prefix: 'b', EndKey: 'b/9', EndInclusive: true });
    expect(h.fake.lastCall('kvGetByRange')).toMatchObject(
      { startKey: null, endKey: 'b/9', endInclusive: true });
    expect(last.NextCursor).toBeUndefined();
    expect(last.HasMore).toBeUndefined();
  });
});

describe('RPCs Honu does not have yet', () => {
  test.each([
    'TryAcquireExclusiveRangeLock', 'TryReleaseExclusiveRangeLock', 'AcquireSnapshotHold',
    'RegisterKeyRange', 'TryPrepareMutations',
  ])('%s answers UNIMPLEMENTED', async (rpc) => {
    const error = await kv(rpc, {}).then(() => null, (e: grpc.ServiceError) => e);
    expect(error?.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(h.fake.calls).toEqual([]);
  });
});
