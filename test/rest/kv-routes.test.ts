// /v1/kv/* point operations and scans: JSON members reach the backend as the plain requests
// (types, nulls, base64, HLCs, numbers as strings, defaults), and the replies have exactly
// Kahuna's members (wire.md 3.4), over a real socket.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { b64, bytes, startRestHarness, zero, type RestHarness } from './harness.js';

let h: RestHarness;
beforeAll(async () => { h = await startRestHarness(); });
afterAll(async () => { await h.close(); });

const noTx = { txId: zero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0 };
const hlc = { n: 2, l: 1_700_000_000_123, c: 5 };
const hlcText = '{"n":2,"l":1700000000123,"c":5}';
const zeroText = '{"n":0,"l":0,"c":0}';

describe('try-set', () => {
  test('every member reaches the backend; the reply is Kahuna\'s', async () => {
    h.backend.answer('kvSet', () => ({ type: 0, revision: 4, lastModified: hlc }));
    const reply = await h.post('/v1/kv/try-set', { transactionId: { n: 1, l: 2, c: 3 },
      coordinatorKey: 'ck', operationIdHigh: '12', operationIdLow: 34, key: 'k',
      value: b64('v'), compareValue: b64('old'), compareRevision: '3', expiresMs: 1000,
      flags: 16, durability: 1 });
    expect(h.backend.lastCall('kvSet')).toEqual({ txId: { n: 1, l: 2, c: 3 },
      coordinatorKey: 'ck', operationIdHigh: 12, operationIdLow: 34, key: 'k',
      value: bytes('v'), compareValue: bytes('old'), compareRevision: 3, expiresMs: 1000,
      flags: 16, durability: 1 });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(`{"servedFrom":"","type":0,"revision":4,"lastModified":${hlcText}}`);
  });

  test('missing members take defaults; null value is "no value", "" is zero bytes', async () => {
    await h.post('/v1/kv/try-set', { key: 'k', value: null });
    expect(h.backend.lastCall('kvSet')).toEqual({ ...noTx, key: 'k', value: null,
      compareValue: null, compareRevision: 0, expiresMs: 0, flags: 0, durability: 0 });
    await h.post('/v1/kv/try-set', { key: 'k', value: '', transactionId: null });
    expect(h.backend.lastCall('kvSet')).toMatchObject({ value: new Uint8Array(0), txId: zero });
  });

  test('wrong-typed members are InvalidInput without a backend call', async () => {
    const before = h.backend.calls.length;
    for (const body of [{ key: 5, value: b64('v') }, { key: 'k', value: 12 },
      { key: 'k', value: '%%%%' }, { key: 'k', value: 'abc' }, { key: 'k', flags: '1x' },
      { key: 'k', transactionId: 'now' }, { key: 'k', transactionId: { n: 'x' } },
      { key: 'k', operationIdHigh: -1 }, { key: 'k', compareRevision: 2 ** 60 }]) {
      const reply = await h.post('/v1/kv/try-set', body);
      expect(reply.text).toBe(`{"servedFrom":"","type":100,"revision":0,` +
        `"lastModified":${zeroText}}`);
    }
    expect(h.backend.calls.length).toBe(before);
  });

  test('a 1 MiB value round-trips byte for byte', async () => {
    const value = new Uint8Array(1024 * 1024);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7 + (i >> 9)) & 0xff;
    const encoded = Buffer.from(value).toString('base64');
    await h.post('/v1/kv/try-set', { key: 'big', value: encoded, durability: 1 });
    const stored = h.backend.lastCall('kvSet').value;
    // Buffer.equals: vitest's deep equality walks a 1 MiB array element by element (seconds).
    expect(stored).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(stored ?? []).equals(value)).toBe(true);
    h.backend.answer('kvGet', () => ({ type: 3, value: stored, revision: 0, expires: zero,
      lastUsed: zero, lastModified: zero, state: 1 }));
    const reply = await h.post('/v1/kv/try-get', { key: 'big', revision: -1, durability: 1 });
    expect((reply.json as { value: string }).value).toBe(encoded);
  });
});

describe('try-extend and try-delete', () => {
  test('try-extend maps members; expiresMs <= 0 or absent is 100 (REST only)', async () => {
    h.backend.answer('kvExtend', () => ({ type: 2, revision: 1, lastModified: hlc }));
    const reply = await h.post('/v1/kv/try-extend', { key: 'k', expiresMs: '500',
      durability: 1 });
    expect(h.backend.lastCall('kvExtend')).toEqual({ ...noTx, key: 'k', expiresMs: 500,
      durability: 1 });
    expect(reply.text).toBe(`{"servedFrom":"","type":2,"revision":1,"lastModified":${hlcText}}`);
    const before = h.backend.calls.length;
    for (const body of [{ key: 'k', expiresMs: 0 }, { key: 'k', expiresMs: -5 }, { key: 'k' }]) {
      expect((await h.post('/v1/kv/try-extend', body)).json).toEqual({ servedFrom: '',
        type: 100, revision: 0, lastModified: zero });
    }
    expect(h.backend.calls.length).toBe(before);
  });

  test('try-delete maps members and replies like a write', async () => {
    h.backend.answer('kvDelete', () => ({ type: 4, revision: 6, lastModified: hlc }));
    const reply = await h.post('/v1/kv/try-delete', { key: 'k', durability: 1,
      transactionId: hlc, coordinatorKey: 'c', operationIdHigh: 1, operationIdLow: 2 });
    expect(h.backend.lastCall('kvDelete')).toEqual({ txId: hlc, coordinatorKey: 'c',
      operationIdHigh: 1, operationIdLow: 2, key: 'k', durability: 1 });
    expect(reply.text).toBe(`{"servedFrom":"","type":4,"revision":6,"lastModified":${hlcText}}`);
    expect((await h.post('/v1/kv/try-delete', { key: null, durability: 'x' })).json)
      .toMatchObject({ type: 100 });
  });
});

describe('try-get and try-exists', () => {
  test('try-get: revision absent is 0, -1 is latest; the reply carries the value', async () => {
    h.backend.answer('kvGet', () => ({ type: 3, value: bytes('hi'), revision: 2,
      expires: hlc, lastUsed: zero, lastModified: { n: 0, l: 9, c: 0 }, state: 1 }));
    const reply = await h.post('/v1/kv/try-get', { key: 'k', readTimestamp: hlc,
      durability: 1 });
    expect(h.backend.lastCall('kvGet')).toEqual({ ...noTx, key: 'k', revision: 0,
      readTimestamp: hlc, durability: 1 });
    expect(reply.text).toBe(`{"servedFrom":"","type":3,"value":"aGk=","revision":2,` +
      `"expires":${hlcText},"lastModified":{"n":0,"l":9,"c":0}}`);
    await h.post('/v1/kv/try-get', { key: 'k', revision: '-1', readTimestamp: null });
    expect(h.backend.lastCall('kvGet')).toMatchObject({ revision: -1, readTimestamp: zero });
  });

  test('try-get of "no value" and of zero bytes differ: null vs ""', async () => {
    const read = { type: 3, revision: 0, expires: zero, lastUsed: zero, lastModified: zero,
      state: 1 };
    h.backend.answer('kvGet', () => ({ ...read, value: null }));
    expect((await h.post('/v1/kv/try-get', { key: 'k' })).json).toMatchObject({ value: null });
    h.backend.answer('kvGet', () => ({ ...read, value: new Uint8Array(0) }));
    expect((await h.post('/v1/kv/try-get', { key: 'k' })).json).toMatchObject({ value: '' });
  });

  test('try-exists has no value member', async () => {
    h.backend.answer('kvExists', () => ({ type: 10, value: bytes('x'), revision: 1,
      expires: zero, lastUsed: zero, lastModified: hlc, state: 1 }));
    const reply = await h.post('/v1/kv/try-exists', { key: 'k', revision: -1, durability: 0 });
    expect(h.backend.lastCall('kvExists')).toEqual({ ...noTx, key: 'k', revision: -1,
      readTimestamp: zero, durability: 0 });
    expect(reply.text).toBe(`{"servedFrom":"","type":10,"revision":1,` +
      `"expires":${zeroText},"lastModified":${hlcText}}`);
  });

  test('wrong-typed members are InvalidInput in the read shapes', async () => {
    expect((await h.post('/v1/kv/try-get', { key: 'k', revision: 'latest' })).json)
      .toEqual({ servedFrom: '', type: 100, value: null, revision: 0, expires: zero,
        lastModified: zero });
    expect((await h.post('/v1/kv/try-exists', { key: 'k', readTimestamp: [1, 2, 3] })).json)
      .toEqual({ servedFrom: '', type: 100, revision: 0, expires: zero, lastModified: zero });
  });
});

describe('scans', () => {
  const row = { key: 'b/1', value: bytes('v1'), revision: 3, expires: zero, lastUsed: zero,
    lastModified: hlc, state: 1 };
  const rowText = `{"key":"b/1","value":"djE=","revision":3,"lastModified":${hlcText}}`;

  test('get-by-bucket', async () => {
    h.backend.answer('kvGetByBucket', () => ({ type: 3, items: [row, { ...row, key: 'b/2',
      value: null }] }));
    const reply = await h.post('/v1/kv/get-by-bucket', { prefixKey: 'b', durability: 1,
      transactionId: hlc, readTimestamp: { n: 0, l: 5, c: 4294967295 } });
    expect(h.backend.lastCall('kvGetByBucket')).toEqual({ txId: hlc, prefixKey: 'b',
      readTimestamp: { n: 0, l: 5, c: 4294967295 }, durability: 1 });
    expect(reply.text).toBe(`{"servedFrom":"","type":3,"items":[${rowText},` +
      `{"key":"b/2","value":null,"revision":3,"lastModified":${hlcText}}]}`);
  });

  test('scan-all-by-prefix', async () => {
    h.backend.answer('kvScanAllByPrefix', () => ({ type: 3, items: [row] }));
    const reply = await h.post('/v1/kv/scan-all-by-prefix', { prefixKey: 'b/' });
    expect(h.backend.lastCall('kvScanAllByPrefix')).toEqual({ prefixKey: 'b/',
      readTimestamp: zero, durability: 0 });
    expect(reply.text).toBe(`{"servedFrom":"","type":3,"items":[${rowText}]}`);
    expect((await h.post('/v1/kv/scan-all-by-prefix', { prefixKey: 1 })).text)
      .toBe('{"servedFrom":"","type":100,"items":[]}');
  });

  test('get-by-range: range fields, limit, cursor; the page carries nextCursor and hasMore',
    async () => {
      h.backend.answer('kvGetByRange', () => ({ type: 3, items: [row], nextCursor: 'cur2',
        hasMore: true }));
      const reply = await h.post('/v1/kv/get-by-range', { prefix: 'b', startKey: 'b/0',
        startInclusive: true, endKey: null, endInclusive: false, limit: '10',
        durability: 1, cursor: 'cur1', coordinatorKey: '', operationIdHigh: 0 });
      expect(h.backend.lastCall('kvGetByRange')).toEqual({ txId: zero, prefix: 'b',
        startKey: 'b/0', startInclusive: true, endKey: null, endInclusive: false, limit: 10,
        readTimestamp: zero, durability: 1, cursor: 'cur1' });
      expect(reply.text).toBe(`{"servedFrom":"","type":3,"items":[${rowText}],` +
        '"nextCursor":"cur2","hasMore":true}');
      await h.post('/v1/kv/get-by-range', { prefix: 'b' });
      expect(h.backend.lastCall('kvGetByRange')).toMatchObject({ startKey: null,
        startInclusive: false, endKey: null, limit: 0, cursor: null });
      expect((await h.post('/v1/kv/get-by-range', { prefix: 'b', startInclusive: 'yes' })).text)
        .toBe('{"servedFrom":"","type":100,"items":[],"nextCursor":null,"hasMore":false}');
    });
});
