// The KeyValuer streams over a real grpc-js server and client: GetByRangeStream pages through
// the backend's cursor (wire.md 2.2.14), BatchClientKeyValueRequests answers every request once
// by RequestId, concurrently, frames included (wire.md 2.2.24, 2.7).
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { KvGetRequest, KvGetByRangeRequest, KvScanItem } from '../../src/core/api/types.js';
import { hlcZero } from '../../src/core/api/types.js';
import { FakeBackend } from '../helpers/fake-backend.js';
import { bidi, hlc, serverStream, startHarness, type Harness } from './harness.js';

/** kvGet waits as many ms as the key's number ("k/80"), to reorder the batch answers. */
class SlowGets extends FakeBackend {
  override async kvGet(r: KvGetRequest) {
    await sleep(Number(r.key.split('/')[1] ?? 0));
    return super.kvGet(r);
  }
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset(new SlowGets()));

const row = (key: string): KvScanItem => ({
  key, value: Buffer.from(key), revision: 1, expires: hlcZero, lastUsed: hlcZero,
  lastModified: hlc(1, 5, 0), state: 1,
});

describe('GetByRangeStream', () => {
  test('one page per backend call, following the cursor until HasMore is false', async () => {
    const pages = [
      { type: 3, items: [row('b/1'), row('b/2')], nextCursor: 'c1', hasMore: true },
      { type: 3, items: [row('b/3'), row('b/4')], nextCursor: 'c2', hasMore: true },
      { type: 3, items: [row('b/5')], nextCursor: null, hasMore: false },
    ];
    const byCursor = new Map<string | null, (typeof pages)[number]>(
      [[null, pages[0]!], ['c1', pages[1]!], ['c2', pages[2]!]]);
    h.fake.answer('kvGetByRange', (r) => byCursor.get(r.cursor)!);
    const received = await serverStream(h.client('KeyValuer'), 'GetByRangeStream', {
      ...{ TransactionIdNode: 1, TransactionIdPhysical: 2, TransactionIdCounter: 3 },
      Prefix: 'b', StartKey: 'b/0', StartInclusive: true, Limit: 2, ReadTimestampNode: 7,
      ReadTimestampPhysical: 8, ReadTimestampCounter: 9, Durability: 1,
    });
    expect(received.map((p) => p.Items.map((i: { Key: string }) => i.Key)))
      .toEqual([['b/1', 'b/2'], ['b/3', 'b/4'], ['b/5']]);
    expect(received.map((p) => [p.Type, p.NextCursor, p.HasMore ?? false]))
      .toEqual([[3, 'c1', true], [3, 'c2', true], [3, undefined, false]]);
    expect(received[0]!.Items[0]).toMatchObject({ Key: 'b/1', Value: Buffer.from('b/1'),
      Revision: 1, LastModifiedNode: 1, LastModifiedPhysical: 5, State: 1 });
    const calls = h.fake.calls.map((c) => c.req as KvGetByRangeRequest);
    expect(calls.map((c) => c.cursor)).toEqual([null, 'c1', 'c2']);
    // The stream ignores the transaction id (wire.md 2.2.14); the rest reaches every page.
    expect(calls[2]).toEqual({ txId: hlcZero, prefix: 'b', startKey: 'b/0',
      startInclusive: true, endKey: null, endInclusive: false, limit: 2,
      readTimestamp: hlc(7, 8, 9), durability: 1, cursor: 'c2' });
  });

  test('an empty Prefix ends the stream with no page', async () => {
    const received = await serverStream(h.client('KeyValuer'), 'GetByRangeStream',
      { Prefix: '' });
    expect(received).toEqual([]);
    expect(h.fake.calls).toEqual([]);
  });

  test('an error page ends the stream; a throwing backend sends one MustRetry page',
    async () => {
      h.fake.answer('kvGetByRange', () => ({ type: 100, items: [], nextCursor: null,
        hasMore: false }));
      const invalid = await serverStream(h.client('KeyValuer'), 'GetByRangeStream',
        { Prefix: 'b' });
      expect(invalid).toEqual([{ Type: 100 }]);
      h.fake.answer('kvGetByRange', () => {
        throw new Error('boom');
      });
      const failed = await serverStream(h.client('KeyValuer'), 'GetByRangeStream',
        { Prefix: 'b' });
      expect(failed).toEqual([{ Type: 101 }]);
    });
});

describe('BatchClientKeyValueRequests', () => {
  test('concurrent requests answered once each, matched by RequestId', async () => {
    h.fake.answer('kvGet', (r) => ({ type: 3, value: Buffer.from(r.key), revision: 2,
      expires: hlcZero, lastUsed: hlcZero, lastModified: hlc(1, 2, 3), state: 1 }));
    h.fake.answer('kvSet', () => ({ type: 0, revision: 9, lastModified: hlc(1, 1, 1) }));
    h.fake.answer('kvScanAllByPrefix', () => ({ type: 3, items: [row('s/1')] }));
    const requests = [
      { Type: 5, RequestId: 10, TryGetKeyValue: { Key: 'k/80', Revision: -1 } },
      { Type: 5, RequestId: 11, TryGetKeyValue: { Key: 'k/1', Revision: -1 } },
      { Type: 1, RequestId: 12, TrySetKeyValue: { Key: 'k', Value: Buffer.from('v'),
        Flags: 1 } },
      { Type: 3, RequestId: 13, TryExtendKeyValue: { Key: 'k', ExpiresMs: 10 } },
      { Type: 4, RequestId: 14, TryDeleteKeyValue: { Key: 'k' } },
      { Type: 6, RequestId: 15, TryExistsKeyValue: { Key: 'k', Revision: -1 } },
      { Type: 2, RequestId: 16, TrySetManyKeyValue: { Items: [{ Key: 'm' }] } },
      { Type: 14, RequestId: 17, TryDeleteManyKeyValue: { Items: [{ Key: 'm' }] } },
      { Type: 9, RequestId: 18, GetByBucket: { PrefixKey: 'b' } },
      { Type: 10, RequestId: 19, ScanByPrefix: { PrefixKey: 's/' } },
    ];
    const responses = await bidi(h.client('KeyValuer'), 'BatchClientKeyValueRequests',
      requests);
    expect(responses).toHaveLength(requests.length);
    const ids = responses.map((r) => r.RequestId);
    expect(new Set(ids).size).toBe(requests.length);
    expect(ids.indexOf(11)).toBeLessThan(ids.indexOf(10)); // the 80 ms get came back last
    const byId = new Map(responses.map((r) => [r.RequestId, r]));
    const payloads = requests.map((r) => [r.RequestId, byId.get(r.RequestId)!.Type,
      byId.get(r.RequestId)!.payload]);
    expect(payloads).toEqual(requests.map((r) => [r.RequestId, r.Type,
      Object.keys(r).find((k) => k !== 'Type' && k !== 'RequestId')]));
    expect(byId.get(10)!.TryGetKeyValue).toMatchObject({ ServedFrom: '', Type: 3,
      Value: Buffer.from('k/80'), Revision: 2, LastModifiedCounter: 3 });
    expect(byId.get(12)!.TrySetKeyValue).toMatchObject({ ServedFrom: '', Revision: 9 });
    expect(byId.get(19)!.ScanByPrefix).toMatchObject({ Type: 3, Items: [{ Key: 's/1' }] });
    expect(h.fake.lastCall('kvSet')).toMatchObject({ key: 'k', value: Buffer.from('v'),
      flags: 1 });
    // TRY_SCAN_BY_PREFIX runs ScanAllByPrefix, never the node-local scan (wire.md 2.7).
    expect(h.fake.calls.some((c) => c.method === 'kvScanByPrefix')).toBe(false);
    expect(h.fake.lastCall('kvScanAllByPrefix').prefixKey).toBe('s/');
  });

  test('a frame is unpacked and each inner request answered on its own', async () => {
    const inner = [1, 2, 3].map((n) => ({ Type: 5, RequestId: 100 + n,
      TryGetKeyValue: { Key: `k/${4 - n}`, Revision: -1 } }));
    const responses = await bidi(h.client('KeyValuer'), 'BatchClientKeyValueRequests', [
      { Type: 15, RequestId: 1, Frame: { Items: inner } },
      { Type: 5, RequestId: 2, TryGetKeyValue: { Key: 'k/0', Revision: -1 } },
    ]);
    expect(responses.map((r) => r.RequestId).sort()).toEqual([101, 102, 103, 2].sort());
    expect(responses.every((r) => r.Type === 5 && r.payload === 'TryGetKeyValue')).toBe(true);
    expect(h.fake.calls.map((c) => (c.req as KvGetRequest).key).sort())
      .toEqual(['k/0', 'k/1', 'k/2', 'k/3']);
  });

  test('scripts, transactions and exclusive locks answer Errored (99)', async () => {
    const responses = await bidi(h.client('KeyValuer'), 'BatchClientKeyValueRequests', [
      { Type: 7, RequestId: 1, TryExecuteTransactionScript: { Script: Buffer.from('GET x') } },
      { Type: 8, RequestId: 2, TryAcquireExclusiveLock: { Key: 'x' } },
      { Type: 11, RequestId: 3, StartTransaction: { CoordinatorKey: 'c' } },
      { Type: 12, RequestId: 4, CommitTransaction: { CoordinatorKey: 'c' } },
      { Type: 13, RequestId: 5, RollbackTransaction: { CoordinatorKey: 'c' } },
    ]);
    const byId = new Map(responses.map((r) => [r.RequestId, r]));
    const expected: Array<[number, number, string]> = [[1, 7, 'TryExecuteTransactionScript'],
      [2, 8, 'TryAcquireExclusiveLock'], [3, 11, 'StartTransaction'],
      [4, 12, 'CommitTransaction'], [5, 13, 'RollbackTransaction']];
    for (const [id, type, payload] of expected) {
      const r = byId.get(id)!;
      expect([r.Type, r.payload, r[payload].Type, r[payload].ServedFrom])
        .toEqual([type, payload, 99, '']);
    }
    // The harness passes no TxBackend: unavailableTxBackend answers (tx-rpcs.test.ts has one).
    expect(byId.get(1)!.TryExecuteTransactionScript.Reason)
      .toBe('transactions are not available');
    expect(h.fake.calls).toEqual([]);
  });

  test('a throwing handler answers MustRetry with the same RequestId; batches per key',
    async () => {
      h.fake.answer('kvGet', () => {
        throw new Error('boom');
      });
      h.fake.answer('kvSetMany', () => {
        throw new Error('boom');
      });
      const responses = await bidi(h.client('KeyValuer'), 'BatchClientKeyValueRequests', [
        { Type: 5, RequestId: 1, TryGetKeyValue: { Key: 'a' } },
        { Type: 2, RequestId: 2, TrySetManyKeyValue: { Items: [{ Key: 'x' },
          { Key: 'y', Durability: 1 }] } },
        { Type: 0, RequestId: 3 },
      ]);
      const byId = new Map(responses.map((r) => [r.RequestId, r]));
      expect(byId.get(1)).toMatchObject({ Type: 5, TryGetKeyValue: { ServedFrom: '',
        Type: 101 } });
      expect(byId.get(2)!.TrySetManyKeyValue.Items).toMatchObject([
        { Type: 101, Key: 'x' }, { Type: 101, Key: 'y', Durability: 1 }]);
      expect(byId.get(3)).toEqual({ RequestId: 3 }); // TYPE_NONE echoed, no payload
    });

  test('BatchServerKeyValueRequests (inter-node) is UNIMPLEMENTED', async () => {
    const error = await bidi(h.client('KeyValuer'), 'BatchServerKeyValueRequests', [])
      .then(() => null, (e: grpc.ServiceError) => e);
    expect(error?.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});
