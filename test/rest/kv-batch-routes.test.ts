// /v1/kv/try-set-many, try-delete-many, try-get-many, try-exists-many: items reach the backend
// as plain requests, replies carry Kahuna's envelope (type, items with routeIndex 0,
// timeElapsedMs), and a missing `items` is an envelope InvalidInput (wire.md 3.4).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { b64, bytes, startRestHarness, zero, type RestHarness } from './harness.js';

let h: RestHarness;
beforeAll(async () => { h = await startRestHarness(); });
afterAll(async () => { await h.close(); });

const hlc = { n: 1, l: 77, c: 2 };
const noTx = { txId: zero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0 };
const writeItem = { key: 'a', type: 0, revision: 1, lastModified: hlc, durability: 1 };

function elapsedOf(json: unknown): unknown {
  return (json as { timeElapsedMs: unknown }).timeElapsedMs;
}

describe('try-set-many', () => {
  test('items reach the backend; the reply is the write envelope', async () => {
    h.backend.answer('kvSetMany', () => ({ type: 0, items: [writeItem,
      { ...writeItem, key: 'b', type: 1, durability: 0 }] }));
    const reply = await h.post('/v1/kv/try-set-many', { items: [
      { transactionId: zero, key: 'a', value: b64('1'), compareValue: null,
        compareRevision: 0, expiresMs: 0, flags: 1, durability: 1 },
      { key: 'b', value: null, flags: '8', durability: '0', routedGeneration: 3 }] });
    expect(h.backend.lastCall('kvSetMany')).toEqual({ items: [
      { ...noTx, key: 'a', value: bytes('1'), compareValue: null, compareRevision: 0,
        expiresMs: 0, flags: 1, durability: 1 },
      { ...noTx, key: 'b', value: null, compareValue: null, compareRevision: 0,
        expiresMs: 0, flags: 8, durability: 0 }] });
    const elapsed = elapsedOf(reply.json);
    expect(typeof elapsed === 'number' && Number.isInteger(elapsed) && elapsed >= 0).toBe(true);
    expect(reply.text).toBe('{"type":0,"items":[' +
      '{"servedFrom":"","key":"a","type":0,"revision":1,"lastModified":{"n":1,"l":77,"c":2},' +
      '"durability":1,"routeIndex":0},' +
      '{"servedFrom":"","key":"b","type":1,"revision":1,"lastModified":{"n":1,"l":77,"c":2},' +
      `"durability":0,"routeIndex":0}],"timeElapsedMs":${String(elapsed)}}`);
  });

  test('missing, null or wrong-typed items is an envelope 100 without a backend call',
    async () => {
      const before = h.backend.calls.length;
      for (const body of [{}, { items: null }, { items: 5 }, { items: [5] },
        { items: [{ key: 'a', value: 12 }] }]) {
        const reply = await h.post('/v1/kv/try-set-many', body);
        expect(reply.json).toEqual({ type: 100, items: [], timeElapsedMs: elapsedOf(reply.json) });
      }
      expect(h.backend.calls.length).toBe(before);
    });
});

describe('try-delete-many', () => {
  test('items and the optional session group reach the backend', async () => {
    h.backend.answer('kvDeleteMany', () => ({ type: 4, items: [{ ...writeItem, type: 4 }] }));
    const reply = await h.post('/v1/kv/try-delete-many', { items: [
      { transactionId: hlc, key: 'a', durability: 1 }], coordinatorKey: 'ck',
    operationIdHigh: 5, operationIdLow: '6' });
    expect(h.backend.lastCall('kvDeleteMany')).toEqual({ items: [
      { txId: hlc, key: 'a', durability: 1 }], coordinatorKey: 'ck', operationIdHigh: 5,
    operationIdLow: 6 });
    expect(reply.json).toEqual({ type: 4, items: [{ servedFrom: '', key: 'a', type: 4,
      revision: 1, lastModified: hlc, durability: 1, routeIndex: 0 }],
    timeElapsedMs: elapsedOf(reply.json) });
  });

  test('outside a session the group is null; missing items is 100', async () => {
    await h.post('/v1/kv/try-delete-many', { items: [{ key: '' }] });
    expect(h.backend.lastCall('kvDeleteMany')).toEqual({ items: [
      { txId: zero, key: '', durability: 0 }], coordinatorKey: null, operationIdHigh: null,
    operationIdLow: null });
    const reply = await h.post('/v1/kv/try-delete-many', { coordinatorKey: 'ck' });
    expect(reply.json).toMatchObject({ type: 100, items: [] });
  });
});

describe('try-get-many and try-exists-many', () => {
  const readItem = { key: 'a', type: 3, value: bytes('v'), revision: 2, expires: zero,
    lastUsed: zero, lastModified: hlc, state: 1, durability: 1 };

  test('get-many: item revision defaults to -1; the envelope has servedFrom', async () => {
    h.backend.answer('kvGetMany', () => ({ type: 3, items: [readItem,
      { ...readItem, key: 'b', type: 103, value: null, revision: 0 }] }));
    const reply = await h.post('/v1/kv/try-get-many', { transactionId: zero,
      readTimestamp: hlc, items: [{ key: 'a', durability: 1 },
        { key: 'b', revision: 0, durability: 1 }] });
    expect(h.backend.lastCall('kvGetMany')).toEqual({ txId: zero, readTimestamp: hlc,
      items: [{ key: 'a', revision: -1, durability: 1 }, { key: 'b', revision: 0,
        durability: 1 }] });
    const elapsed = String(elapsedOf(reply.json));
    expect(reply.text).toBe('{"type":3,"servedFrom":"","items":[' +
      '{"key":"a","type":3,"value":"dg==","revision":2,"lastModified":{"n":1,"l":77,"c":2},' +
      '"durability":1,"routeIndex":0},' +
      '{"key":"b","type":103,"value":null,"revision":0,"lastModified":{"n":1,"l":77,"c":2},' +
      `"durability":1,"routeIndex":0}],"timeElapsedMs":${elapsed}}`);
  });

  test('exists-many never carries a value', async () => {
    h.backend.answer('kvExistsMany', () => ({ type: 3, items: [{ ...readItem, type: 10 }] }));
    const reply = await h.post('/v1/kv/try-exists-many', { items: [{ key: 'a' }] });
    expect(h.backend.lastCall('kvExistsMany')).toEqual({ txId: zero, readTimestamp: zero,
      items: [{ key: 'a', revision: -1, durability: 0 }] });
    expect(reply.json).toEqual({ type: 3, servedFrom: '', items: [{ key: 'a', type: 10,
      value: null, revision: 2, lastModified: hlc, durability: 1, routeIndex: 0 }],
    timeElapsedMs: elapsedOf(reply.json) });
  });

  test('missing items or a wrong-typed member is an envelope 100', async () => {
    const before = h.backend.calls.length;
    for (const [path, body] of [['/v1/kv/try-get-many', {}],
      ['/v1/kv/try-get-many', { items: [{ key: 1 }] }],
      ['/v1/kv/try-exists-many', { items: [], readTimestamp: 'now' }]] as const) {
      const reply = await h.post(path, body);
      expect(reply.json).toEqual({ type: 100, servedFrom: '', items: [],
        timeElapsedMs: elapsedOf(reply.json) });
    }
    expect(h.backend.calls.length).toBe(before);
  });
});
