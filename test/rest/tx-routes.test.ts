// /v1/kv/ scripts, sessions and exclusive locks over a real socket (wire.md 3.4, 4.4, 4.5): JSON
// members reach the TxBackend as the plain requests (HLC objects, nulls, base64, numbers as
// strings, REST's direct 0-4 priority, defaults), the replies have exactly Kahuna's members
// (the script's legacy value/revision/expires from the first value), wrong-typed members and a
// null script are InvalidInput (100) with no backend call, malformed bodies are 400, and a
// rejecting TxBackend maps like every other route.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { hlcZero } from '../../src/core/api/types.js';
import { HonuError } from '../../src/errors.js';
import { FakeTxBackend } from '../helpers/fake-tx-backend.js';
import { b64, bytes, startRestHarness, zero, type RestHarness } from './harness.js';

const fake = new FakeTxBackend();
let h: RestHarness;
let plain: RestHarness; // no TxBackend: registerKahunaRoutes' default
beforeAll(async () => {
  h = await startRestHarness(fake);
  plain = await startRestHarness();
});
afterAll(async () => {
  await h.close();
  await plain.close();
});
beforeEach(() => fake.reset());

const txId = { n: 2, l: 1_700_000_000_001, c: 3 };
const txText = '{"n":2,"l":1700000000001,"c":3}';
const zeroText = '{"n":0,"l":0,"c":0}';
const holder = { n: 7, l: 1_700_000_000_900, c: 8 };
const holderText = '{"n":7,"l":1700000000900,"c":8}';
const txRoutes = ['try-execute-tx-script', 'start-tx-session', 'commit-tx-session',
  'rollback-tx-session', 'try-acquire-exclusive-lock', 'try-acquire-prefix-lock',
  'try-release-prefix-lock'].map((r) => `/v1/kv/${r}`);

describe('try-execute-tx-script', () => {
  test('hash, script, parameters (null value) and priority 0-4 reach the backend', async () => {
    await h.post('/v1/kv/try-execute-tx-script', { hash: 'abc', script: b64('SET @k 1'),
      parameters: [{ key: '@k', value: 'x' }, { key: '@n', value: null }, { key: '@m' }],
      priority: 4 });
    expect(fake.lastCall('executeScript')).toEqual({ hash: 'abc', script: bytes('SET @k 1'),
      parameters: [{ key: '@k', value: 'x' }, { key: '@n', value: null },
        { key: '@m', value: null }], priority: 4 });
    // Absent hash and parameters, priority as a string; absent priority is 0 = Background.
    await h.post('/v1/kv/try-execute-tx-script', { script: b64('GET k'), parameters: null,
      Priority: '2' });
    expect(fake.lastCall('executeScript')).toEqual({ hash: null, script: bytes('GET k'),
      parameters: [], priority: 2 });
    await h.post('/v1/kv/try-execute-tx-script', { script: '' });
    expect(fake.lastCall('executeScript')).toEqual({ hash: null, script: new Uint8Array(0),
      parameters: [], priority: 0 });
  });

  test('the reply: values[], legacy value/revision/expires of the first value, reason',
    async () => {
      fake.answer('executeScript', () => ({ type: 3, reason: null, timeElapsedMs: 4, values: [
        { key: 'k', value: bytes('v'), revision: 4, expires: holder, lastModified: txId },
        { key: '', value: null, revision: -1, expires: hlcZero, lastModified: hlcZero }] }));
      const reply = await h.post('/v1/kv/try-execute-tx-script', { script: b64('GET k') });
      expect(reply.status).toBe(200);
      expect(reply.text).toBe(`{"servedFrom":"","type":3,"value":"${b64('v')}","revision":4,` +
        `"expires":${holderText},"reason":null,"values":[{"key":"k","value":"${b64('v')}",` +
        `"revision":4,"expires":${holderText},"lastModified":${txText}},{"key":"","value":null,` +
        `"revision":-1,"expires":${zeroText},"lastModified":${zeroText}}]}`);
    });

  test('no values: legacy members are null, 0 and the zero HLC; reason comes through',
    async () => {
      fake.answer('executeScript', () => ({ type: 99, reason: 'Syntax error at line 1',
        values: [], timeElapsedMs: 0 }));
      const reply = await h.post('/v1/kv/try-execute-tx-script', { script: b64('GET') });
      expect(reply.text).toBe(`{"servedFrom":"","type":99,"value":null,"revision":0,` +
        `"expires":${zeroText},"reason":"Syntax error at line 1","values":[]}`);
    });

  test('a null or missing script is InvalidInput (100) without a backend call', async () => {
    for (const body of [{ script: null }, {}, { hash: 'h', parameters: [] }]) {
      const reply = await h.post('/v1/kv/try-execute-tx-script', body);
      expect(reply.json).toEqual({ servedFrom: '', type: 100, value: null, revision: 0,
        expires: zero, reason: 'script is required', values: [] });
    }
    expect(fake.calls).toEqual([]);
  });

  test('wrong-typed members are InvalidInput (100) naming the member', async () => {
    const cases: Array<[object, RegExp]> = [
      [{ script: 5 }, /script/], [{ script: '%%%%' }, /script/],
      [{ script: b64('x'), hash: 1 }, /hash/], [{ script: b64('x'), priority: 'high' }, /priority/],
      [{ script: b64('x'), parameters: {} }, /parameters/],
      [{ script: b64('x'), parameters: ['@k'] }, /parameters/],
      [{ script: b64('x'), parameters: [{ key: '@k', value: 5 }] }, /value/],
      [{ script: b64('x'), parameters: [{ key: 1 }] }, /key/],
    ];
    for (const [body, reason] of cases) {
      const json = (await h.post('/v1/kv/try-execute-tx-script', body)).json as
        { type: number; reason: string };
      expect(json.type, JSON.stringify(body)).toBe(100);
      expect(json.reason).toMatch(reason);
    }
    expect(fake.calls).toEqual([]);
  });
});

describe('sessions', () => {
  test('start-tx-session: every member in, values direct; transactionId out', async () => {
    fake.answer('startTransaction', () => ({ type: 0, transactionId: txId }));
    const reply = await h.post('/v1/kv/start-tx-session', { coordinatorKey: 'c1',
      timeout: 250, admissionWaitMs: '30', lockingType: 1, asyncRelease: true,
      autoCommit: true, readValidation: 1, decisionDurability: 1, priority: 3,
      conflictPolicy: 1, readTimestamp: { n: 4, l: 1_700_000_000_500, c: 6 } });
    expect(fake.lastCall('startTransaction')).toEqual({ coordinatorKey: 'c1', lockingType: 1,
      timeout: 250, asyncRelease: true, autoCommit: true, readValidation: 1,
      decisionDurability: 1, readTimestamp: { n: 4, l: 1_700_000_000_500, c: 6 }, priority: 3,
      admissionWaitMs: 30, conflictPolicy: 1 });
    expect(reply.text).toBe(`{"servedFrom":"","type":0,"transactionId":${txText}}`);
  });

  test('start-tx-session: missing members take defaults (priority 0 = Background)',
    async () => {
      await h.post('/v1/kv/start-tx-session', { coordinatorKey: 'c' });
      expect(fake.lastCall('startTransaction')).toEqual({ coordinatorKey: 'c', lockingType: 0,
        timeout: 0, asyncRelease: false, autoCommit: false, readValidation: 0,
        decisionDurability: 0, readTimestamp: hlcZero, priority: 0, admissionWaitMs: 0,
        conflictPolicy: 0 });
    });

  test('commit-tx-session: recordAnchorKey null and string, both ways', async () => {
    fake.answer('commitTransaction', () => ({ type: 8, recordAnchorKey: null }));
    const none = await h.post('/v1/kv/commit-tx-session', { coordinatorKey: 'c',
      transactionId: txId, recordAnchorKey: null });
    expect(fake.lastCall('commitTransaction')).toEqual({ coordinatorKey: 'c',
      transactionId: txId, recordAnchorKey: null });
    expect(none.text).toBe('{"servedFrom":"","type":8,"recordAnchorKey":null}');
    fake.answer('commitTransaction', () => ({ type: 101, recordAnchorKey: 'k/1' }));
    const anchored = await h.post('/v1/kv/commit-tx-session', { coordinatorKey: 'c',
      transactionId: txId, recordAnchorKey: 'k/0' });
    expect(fake.lastCall('commitTransaction').recordAnchorKey).toBe('k/0');
    expect(anchored.text).toBe('{"servedFrom":"","type":101,"recordAnchorKey":"k/1"}');
    await h.post('/v1/kv/commit-tx-session', { coordinatorKey: 'c', transactionId: txId });
    expect(fake.lastCall('commitTransaction').recordAnchorKey).toBeNull();
  });

  test('rollback-tx-session: the request as commit; recordAnchorKey null', async () => {
    const reply = await h.post('/v1/kv/rollback-tx-session', { coordinatorKey: 'c',
      transactionId: txId, recordAnchorKey: 'a' });
    expect(fake.lastCall('rollbackTransaction')).toEqual({ coordinatorKey: 'c',
      transactionId: txId, recordAnchorKey: 'a' });
    expect(reply.text).toBe('{"servedFrom":"","type":9,"recordAnchorKey":null}');
  });

  test('wrong-typed members are InvalidInput (100) without a backend call', async () => {
    for (const body of [{ coordinatorKey: 5 }, { timeout: 'soon' }, { asyncRelease: 1 },
      { readTimestamp: 'now' }, { priority: 1.5 }, { admissionWaitMs: 2 ** 40 }]) {
      const reply = await h.post('/v1/kv/start-tx-session', { coordinatorKey: 'c', ...body });
      expect(reply.text).toBe(`{"servedFrom":"","type":100,"transactionId":${zeroText}}`);
    }
    for (const path of ['/v1/kv/commit-tx-session', '/v1/kv/rollback-tx-session']) {
      for (const body of [{ recordAnchorKey: 7 }, { transactionId: { n: 'x' } },
        { coordinatorKey: [] }]) {
        const reply = await h.post(path, body);
        expect(reply.text).toBe('{"servedFrom":"","type":100,"recordAnchorKey":null}');
      }
    }
    expect(fake.calls).toEqual([]);
  });
});

describe('exclusive locks', () => {
  test('try-acquire-exclusive-lock: TxFields, key, expiresMs, durability; holder out',
    async () => {
      fake.answer('acquireExclusiveLock', () => ({ type: 104, holder }));
      const reply = await h.post('/v1/kv/try-acquire-exclusive-lock', { transactionId: txId,
        coordinatorKey: 'c', operationIdHigh: '12', operationIdLow: 34, key: 'k',
        expiresMs: 5000, durability: 1 });
      expect(fake.lastCall('acquireExclusiveLock')).toEqual({ transactionId: txId, key: 'k',
        expiresMs: 5000, durability: 1, coordinatorKey: 'c', operationIdHigh: 12,
        operationIdLow: 34 });
      expect(reply.text).toBe(`{"servedFrom":"","type":104,"holderTransactionId":${holderText}}`);
    });

  test('try-acquire-prefix-lock: `key` is the bucket; the zero holder', async () => {
    const reply = await h.post('/v1/kv/try-acquire-prefix-lock', { transactionId: txId,
      key: 'b', expiresMs: 100 });
    expect(fake.lastCall('acquireExclusivePrefixLock')).toEqual({ transactionId: txId,
      key: 'b', expiresMs: 100, durability: 0, coordinatorKey: '', operationIdHigh: 0,
      operationIdLow: 0 });
    expect(reply.text).toBe(`{"servedFrom":"","type":5,"holderTransactionId":${zeroText}}`);
  });

  test('try-release-prefix-lock: transactionId, key, durability; holder out', async () => {
    fake.answer('releaseExclusivePrefixLock', () => ({ type: 104, holder }));
    const reply = await h.post('/v1/kv/try-release-prefix-lock', { transactionId: txId,
      key: 'b', durability: 1, expiresMs: 'ignored' });
    expect(fake.lastCall('releaseExclusivePrefixLock')).toEqual({ transactionId: txId,
      key: 'b', durability: 1 });
    expect(reply.text).toBe(`{"servedFrom":"","type":104,"holderTransactionId":${holderText}}`);
  });

  test('wrong-typed members are InvalidInput (100) without a backend call', async () => {
    const invalid = `{"servedFrom":"","type":100,"holderTransactionId":${zeroText}}`;
    for (const path of ['/v1/kv/try-acquire-exclusive-lock', '/v1/kv/try-acquire-prefix-lock']) {
      for (const body of [{ key: 5 }, { expiresMs: '1s' }, { transactionId: 'tx' },
        { operationIdLow: -1 }, { durability: true }]) {
        expect((await h.post(path, { key: 'k', ...body })).text).toBe(invalid);
      }
    }
    expect((await h.post('/v1/kv/try-release-prefix-lock', { key: 'b', durability: 'x' })).text)
      .toBe(invalid);
    expect(fake.calls).toEqual([]);
  });
});

describe('bodies and failures', () => {
  test('malformed JSON and non-object JSON are 400 with a JSON error on every route',
    async () => {
      for (const path of txRoutes) {
        for (const body of ['{"script": "a",', '[]', '5', 'null']) {
          const reply = await h.post(path, body);
          expect(reply.status, `${path} ${body}`).toBe(400);
          expect(reply.json).toMatchObject({ error: 'HONU_ERR_BAD_JSON' });
        }
      }
      expect(fake.calls).toEqual([]);
    });

  test('a rejecting TxBackend: retryable trouble is {"type":101}, a bug is the 500', async () => {
    const methods = ['executeScript', 'startTransaction', 'commitTransaction',
      'rollbackTransaction', 'acquireExclusiveLock', 'acquireExclusivePrefixLock',
      'releaseExclusivePrefixLock'] as const;
    const body = { script: b64('x'), coordinatorKey: 'c', key: 'k' };
    for (const m of methods) fake.answer(m, () => { throw new HonuError('HONU_ERR_WORKER_DOWN'); });
    for (const path of txRoutes) {
      const reply = await h.post(path, body);
      expect([reply.status, reply.text], path).toEqual([200, '{"type":101}']);
    }
    for (const m of methods) fake.answer(m, () => { throw new Error('bug'); });
    for (const path of txRoutes) {
      const reply = await h.post(path, body);
      expect(reply.status, path).toBe(500);
      expect(reply.json).toMatchObject({ error: 'HONU_ERR_INTERNAL' });
    }
  });

  test('without a TxBackend every route answers Errored (99); the script says why',
    async () => {
      const script = await plain.post('/v1/kv/try-execute-tx-script', { script: b64('GET x') });
      expect(script.json).toMatchObject({ type: 99, reason: 'transactions are not available' });
      for (const path of txRoutes.slice(1)) {
        const reply = await plain.post(path, { coordinatorKey: 'c', key: 'k' });
        expect([reply.status, (reply.json as { type: number }).type], path).toEqual([200, 99]);
      }
      expect(plain.backend.calls).toEqual([]);
    });
});
