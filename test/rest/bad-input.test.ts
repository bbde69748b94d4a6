// Whatever a client sends, the Kahuna routes answer: malformed JSON and JSON that is not an
// object are 400 with a JSON error body; wrong-typed members are the family's InvalidInput;
// nothing reaches the router's 500. Backend failures map like Kahuna's (wire.md 1.4).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HonuError } from '../../src/errors.js';
import { startRestHarness, type RestHarness } from './harness.js';

let h: RestHarness;
beforeAll(async () => { h = await startRestHarness(); });
afterAll(async () => { await h.close(); });

const lockRoutes = ['try-lock', 'try-extend', 'try-unlock', 'get-info']
  .map((r) => `/v1/locks/${r}`);
const kvRoutes = ['try-set', 'try-extend', 'try-delete', 'try-get', 'try-exists', 'try-set-many',
  'try-delete-many', 'try-get-many', 'try-exists-many', 'get-by-bucket', 'scan-all-by-prefix',
  'get-by-range', 'try-execute-tx-script', 'start-tx-session', 'commit-tx-session',
  'rollback-tx-session', 'try-acquire-exclusive-lock', 'try-acquire-prefix-lock',
  'try-release-prefix-lock'].map((r) => `/v1/kv/${r}`);
const seqRoutes = ['create', 'get', 'next', 'reserve', 'delete', 'update']
  .map((r) => `/v1/sequences/${r}`);
const allRoutes = [...lockRoutes, ...kvRoutes, ...seqRoutes];

// Every member name any route reads, so random bodies hit the readers, not only unknown names.
const members = ['resource', 'owner', 'expiresMs', 'durability', 'transactionId', 'coordinatorKey',
  'operationIdHigh', 'operationIdLow', 'key', 'value', 'compareValue', 'compareRevision', 'flags',
  'revision', 'readTimestamp', 'items', 'prefixKey', 'prefix', 'startKey', 'startInclusive',
  'endKey', 'endInclusive', 'limit', 'cursor', 'name', 'initialValue', 'increment', 'maxValue',
  'blockSize', 'count', 'idempotencyKey', 'currentValue', 'removeMaxValue', 'removeBlockSize',
  'hash', 'script', 'parameters', 'priority', 'timeout', 'admissionWaitMs', 'lockingType',
  'asyncRelease', 'autoCommit', 'readValidation', 'decisionDurability', 'conflictPolicy',
  'recordAnchorKey'];

describe('bodies that are not a JSON object', () => {
  test('malformed JSON is 400 with a JSON error body on every route', async () => {
    for (const path of allRoutes) {
      const reply = await h.post(path, '{"key": "a",');
      expect(reply.status).toBe(400);
      expect(reply.contentType).toBe('application/json; charset=utf-8');
      expect(reply.json).toMatchObject({ error: 'HONU_ERR_BAD_JSON' });
    }
  });

  test('valid JSON that is not an object is 400 like malformed JSON', async () => {
    for (const path of allRoutes) {
      for (const body of ['[]', '[{"key":"a"}]', '5', '"text"', 'null', 'true']) {
        const reply = await h.post(path, body);
        expect(reply.status).toBe(400);
        expect(reply.json).toMatchObject({ error: 'HONU_ERR_BAD_JSON' });
      }
    }
  });

  test('an empty body reads as {} (every member takes its default)', async () => {
    expect((await h.post('/v1/locks/try-lock', '')).json).toMatchObject({ type: 100 });
    expect((await h.post('/v1/sequences/get', '')).json).toMatchObject({ type: 3 });
    expect((await h.post('/v1/kv/try-set-many', '')).json).toMatchObject({ type: 100 });
    await h.post('/v1/kv/try-get', '');
    expect(h.backend.lastCall('kvGet')).toMatchObject({ key: '', revision: 0, durability: 0 });
  });
});

describe('random members never break a route', () => {
  const jsonValue = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.base64String(),
    fc.constant('9'.repeat(30)), fc.constant({ n: 'x', l: 1, c: -1 }),
    fc.array(fc.oneof(fc.integer(), fc.string(), fc.dictionary(fc.constantFrom(...members),
      fc.oneof(fc.integer(), fc.string(), fc.constant(null))))),
    fc.dictionary(fc.string(), fc.integer()));
  const body = fc.dictionary(fc.constantFrom(...members, '__proto__', 'constructor'),
    jsonValue);

  test('always 200 with a numeric type; never a 500', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...allRoutes), body, async (path, b) => {
      const reply = await h.post(path, b);
      expect(reply.status, `${path} ${reply.text}`).toBe(200);
      expect(typeof (reply.json as { type: unknown }).type).toBe('number');
    }), { numRuns: 400 });
  });
});

describe('backend failures', () => {
  test('retryable trouble is {type:101} for locks and KV, {type:5} for sequences', async () => {
    const retryable = (): never => { throw new HonuError('HONU_ERR_WORKER_DOWN'); };
    h.backend.answer('tryLock', retryable);
    h.backend.answer('kvGet', retryable);
    h.backend.answer('seqGet', retryable);
    const lock = await h.post('/v1/locks/try-lock', { resource: 'r', owner: '', expiresMs: 1 });
    expect([lock.status, lock.text]).toEqual([200, '{"type":101}']);
    expect((await h.post('/v1/kv/try-get', { key: 'k' })).text).toBe('{"type":101}');
    expect((await h.post('/v1/sequences/get', { name: 's', durability: 1 })).text)
      .toBe('{"type":5}');
  });

  test('any other failure is the router\'s 500 JSON error', async () => {
    h.backend.answer('kvSet', () => { throw new Error('bug'); });
    const reply = await h.post('/v1/kv/try-set', { key: 'k' });
    expect(reply.status).toBe(500);
    expect(reply.json).toMatchObject({ error: 'HONU_ERR_INTERNAL' });
  });
});
