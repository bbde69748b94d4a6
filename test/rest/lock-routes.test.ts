// /v1/locks/*: JSON members reach the backend as the plain requests, and the replies have
// exactly Kahuna's members (wire.md 3.3), over a real socket.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { b64, bytes, startRestHarness, zero, type RestHarness } from './harness.js';

let h: RestHarness;
beforeAll(async () => { h = await startRestHarness(); });
afterAll(async () => { await h.close(); });

const owner = b64('0123456789abcdef0123456789abcdef');

describe('try-lock', () => {
  test('members reach the backend; the reply is {servedFrom,type,fencingToken}', async () => {
    h.backend.answer('tryLock', () => ({ type: 0, fencingToken: 7 }));
    const reply = await h.post('/v1/locks/try-lock',
      { resource: 'r1', owner, expiresMs: 5000, durability: 1 });
    expect(h.backend.lastCall('tryLock')).toEqual({ resource: 'r1',
      owner: bytes('0123456789abcdef0123456789abcdef'), expiresMs: 5000, durability: 1 });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json; charset=utf-8');
    expect(reply.text).toBe('{"servedFrom":"","type":0,"fencingToken":7}');
  });

  test('numbers as strings, case-insensitive names, unknown members ignored', async () => {
    await h.post('/v1/locks/try-lock',
      { Resource: 'r2', OWNER: owner, expiresMs: '250', durability: '0', lockId: 'x' });
    expect(h.backend.lastCall('tryLock')).toMatchObject({ resource: 'r2', expiresMs: 250,
      durability: 0 });
  });

  test('absent durability and expiresMs default to 0 (the backend decides)', async () => {
    await h.post('/v1/locks/try-lock', { resource: 'r3', owner });
    expect(h.backend.lastCall('tryLock')).toMatchObject({ expiresMs: 0, durability: 0 });
  });

  test('missing or null owner is InvalidInput without a backend call', async () => {
    const before = h.backend.calls.length;
    for (const body of [{ resource: 'r', expiresMs: 10 },
      { resource: 'r', owner: null, expiresMs: 10 },
      { resource: 'r', lockId: owner, expiresMs: 10 }]) {
      const reply = await h.post('/v1/locks/try-lock', body);
      expect([reply.status, reply.text]).toEqual([200,
        '{"servedFrom":"","type":100,"fencingToken":0}']);
    }
    expect(h.backend.calls.length).toBe(before);
  });

  test('an empty owner "" is bytes (zero of them), not missing', async () => {
    await h.post('/v1/locks/try-lock', { resource: 'r', owner: '', expiresMs: 10 });
    expect(h.backend.lastCall('tryLock').owner).toEqual(new Uint8Array(0));
  });

  test('wrong-typed members are InvalidInput', async () => {
    const before = h.backend.calls.length;
    for (const body of [{ resource: 5, owner, expiresMs: 10 },
      { resource: 'r', owner: 12, expiresMs: 10 },
      { resource: 'r', owner: 'not base64!', expiresMs: 10 },
      { resource: 'r', owner, expiresMs: 'soon' },
      { resource: 'r', owner, expiresMs: 1.5 },
      { resource: 'r', owner, expiresMs: 2 ** 31 },
      { resource: 'r', owner, durability: true }]) {
      const reply = await h.post('/v1/locks/try-lock', body);
      expect(reply.json).toEqual({ servedFrom: '', type: 100, fencingToken: 0 });
    }
    expect(h.backend.calls.length).toBe(before);
  });
});

describe('try-extend and try-unlock', () => {
  test('try-extend maps like try-lock', async () => {
    h.backend.answer('extendLock', () => ({ type: 2, fencingToken: 3 }));
    const reply = await h.post('/v1/locks/try-extend',
      { resource: 'r', owner, expiresMs: 900, durability: 1 });
    expect(h.backend.lastCall('extendLock')).toEqual({ resource: 'r',
      owner: bytes('0123456789abcdef0123456789abcdef'), expiresMs: 900, durability: 1 });
    expect(reply.text).toBe('{"servedFrom":"","type":2,"fencingToken":3}');
    const noOwner = await h.post('/v1/locks/try-extend', { resource: 'r', expiresMs: 900 });
    expect(noOwner.json).toEqual({ servedFrom: '', type: 100, fencingToken: 0 });
  });

  test('try-unlock ignores expiresMs, even a wrong-typed one', async () => {
    h.backend.answer('unlock', () => ({ type: 3, fencingToken: 0 }));
    const reply = await h.post('/v1/locks/try-unlock',
      { resource: 'r', owner, durability: 1, expiresMs: 'whatever' });
    expect(h.backend.lastCall('unlock')).toEqual({ resource: 'r',
      owner: bytes('0123456789abcdef0123456789abcdef'), durability: 1 });
    expect(reply.text).toBe('{"servedFrom":"","type":3,"fencingToken":0}');
    const noOwner = await h.post('/v1/locks/try-unlock', { resource: 'r', durability: 1 });
    expect(noOwner.json).toEqual({ servedFrom: '', type: 100, fencingToken: 0 });
  });
});

describe('get-info', () => {
  test('Got: owner as base64 and the expiry HLC', async () => {
    h.backend.answer('getLock', () => ({ type: 4, owner: bytes('me'),
      expires: { n: 1, l: 1_700_000_000_000, c: 4 }, fencingToken: 9 }));
    const reply = await h.post('/v1/locks/get-info', { resource: 'r', durability: 1 });
    expect(h.backend.lastCall('getLock')).toEqual({ resource: 'r', durability: 1 });
    expect(reply.text).toBe('{"servedFrom":"","type":4,"owner":"bWU=",' +
      '"expires":{"n":1,"l":1700000000000,"c":4},"fencingToken":9}');
  });

  test('LockDoesNotExist: owner null and the zero HLC object (never null)', async () => {
    h.backend.answer('getLock', () => ({ type: 102, owner: null, expires: zero,
      fencingToken: 0 }));
    const reply = await h.post('/v1/locks/get-info', { resource: 'r' });
    expect(h.backend.lastCall('getLock')).toEqual({ resource: 'r', durability: 0 });
    expect(reply.text).toBe('{"servedFrom":"","type":102,"owner":null,' +
      '"expires":{"n":0,"l":0,"c":0},"fencingToken":0}');
  });

  test('a wrong-typed resource is InvalidInput in the get-info shape', async () => {
    const reply = await h.post('/v1/locks/get-info', { resource: ['r'] });
    expect(reply.json).toEqual({ servedFrom: '', type: 100, owner: null, expires: zero,
      fencingToken: 0 });
  });
});
