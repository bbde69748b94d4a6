// Locker over a real grpc-js server and client (wire.md 2.1, 2.7): request fields reach the
// backend, response fields come back, the batch stream pairs every request with one response.
import * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { TryLockRequest } from '../../src/core/api/types.js';
import { FakeBackend } from '../helpers/fake-backend.js';
import { bidi, hlc, startHarness, type Harness } from './harness.js';

/** TryLock takes `expiresMs` ms to answer, so the batch answers come back out of order. */
class SlowLocks extends FakeBackend {
  override async tryLock(r: TryLockRequest) {
    await sleep(r.expiresMs);
    return super.tryLock(r);
  }
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset(new SlowLocks()));

const owner = Buffer.from('0123456789abcdef0123456789abcdef');

describe('Locker unary', () => {
  test('TryLock: fields in, Type and FencingToken out, ServedFrom ""', async () => {
    h.fake.answer('tryLock', () => ({ type: 0, fencingToken: 42 }));
    const res = await h.call('Locker', 'TryLock',
      { Resource: 'r1', Owner: owner, ExpiresMs: 5, Durability: 1 });
    expect(h.fake.lastCall('tryLock')).toEqual(
      { resource: 'r1', owner, expiresMs: 5, durability: 1 });
    expect(res).toMatchObject({ ServedFrom: '', FencingToken: 42 });
    expect(res.Type ?? 0).toBe(0); // Locked (0) is not on the wire
  });

  test('TryLock Busy', async () => {
    h.fake.answer('tryLock', () => ({ type: 1, fencingToken: 0 }));
    const res = await h.call('Locker', 'TryLock', { Resource: 'r', Owner: owner, ExpiresMs: 1 });
    expect(res.Type).toBe(1);
    expect(h.fake.lastCall('tryLock').durability).toBe(0); // absent = ephemeral
  });

  test('TryExtendLock and Unlock; an absent Owner is the empty token', async () => {
    h.fake.answer('extendLock', () => ({ type: 2, fencingToken: 7 }));
    const ext = await h.call('Locker', 'TryExtendLock',
      { Resource: 'r2', Owner: owner, ExpiresMs: 900, Durability: 1 });
    expect(h.fake.lastCall('extendLock')).toEqual(
      { resource: 'r2', owner, expiresMs: 900, durability: 1 });
    expect(ext).toMatchObject({ ServedFrom: '', Type: 2, FencingToken: 7 });

    h.fake.answer('unlock', () => ({ type: 3, fencingToken: 99 }));
    const un = await h.call('Locker', 'Unlock', { Resource: 'r2' });
    expect(h.fake.lastCall('unlock')).toEqual(
      { resource: 'r2', owner: new Uint8Array(0), durability: 0 });
    expect(un).toEqual({ ServedFrom: '', Type: 3, _ServedFrom: 'ServedFrom' });
  });

  test('GetLock: lower-case durability in, owner and HLC expiry out', async () => {
    h.fake.answer('getLock', () => ({
      type: 4, owner: new Uint8Array([1, 2, 3]), expires: hlc(3, 1_700_000_000_123, 9),
      fencingToken: 12,
    }));
    const res = await h.call('Locker', 'GetLock', { Resource: 'r3', durability: 1 });
    expect(h.fake.lastCall('getLock')).toEqual({ resource: 'r3', durability: 1 });
    expect(res).toMatchObject({
      ServedFrom: '', Type: 4, Owner: Buffer.from([1, 2, 3]), ExpiresNode: 3,
      ExpiresPhysical: 1_700_000_000_123, ExpiresCounter: 9, FencingToken: 12,
    });
  });

  test('GetLock LockDoesNotExist: Owner absent', async () => {
    h.fake.answer('getLock', () => ({ type: 102, owner: null, expires: hlc(0, 0, 0),
      fencingToken: 0 }));
    const res = await h.call('Locker', 'GetLock', { Resource: 'none' });
    expect(res.Type).toBe(102);
    expect(res.Owner).toBeUndefined();
    expect(res.ExpiresPhysical).toBeUndefined();
  });

  test('a backend that throws answers MustRetry (101), status OK', async () => {
    h.fake.answer('unlock', () => {
      throw new Error('backend bug');
    });
    const res = await h.call('Locker', 'Unlock', { Resource: 'x', Owner: owner });
    expect(res).toMatchObject({ ServedFrom: '', Type: 101 });
  });
});

describe('BatchClientLockRequests', () => {
  test('concurrent requests, each answered once with its RequestId, Type and payload',
    async () => {
      h.fake.answer('tryLock', (r) => ({ type: 0, fencingToken: r.expiresMs }));
      h.fake.answer('getLock', () => ({ type: 4, owner, expires: hlc(1, 2, 3), fencingToken: 5 }));
      const requests = [
        { Type: 1, RequestId: 1, TryLock: { Resource: 'a', Owner: owner, ExpiresMs: 120 } },
        { Type: 1, RequestId: 2, TryLock: { Resource: 'b', Owner: owner, ExpiresMs: 10 } },
        { Type: 2, RequestId: 3, ExtendLock: { Resource: 'a', Owner: owner, ExpiresMs: 10 } },
        { Type: 3, RequestId: 4, Unlock: { Resource: 'a', Owner: owner } },
        { Type: 4, RequestId: 5, GetLock: { Resource: 'a', durability: 1 } },
      ];
      const started = Date.now();
      const responses = await bidi(h.client('Locker'), 'BatchClientLockRequests', requests);
      // Concurrent: the slow TryLock (120 ms) did not hold up the others.
      expect(Date.now() - started).toBeLessThan(120 + 100);
      expect(responses.map((r) => r.RequestId)).not.toEqual([1, 2, 3, 4, 5]);
      const byId = new Map(responses.map((r) => [r.RequestId, r]));
      expect(byId.size).toBe(5);
      expect(byId.get(1)).toMatchObject({ Type: 1, payload: 'TryLock',
        TryLock: { ServedFrom: '', FencingToken: 120 } });
      expect(byId.get(2)).toMatchObject({ Type: 1, TryLock: { FencingToken: 10 } });
      expect(byId.get(3)).toMatchObject({ Type: 2, payload: 'ExtendLock',
        ExtendLock: { Type: 2 } });
      expect(byId.get(4)).toMatchObject({ Type: 3, payload: 'Unlock', Unlock: { Type: 3 } });
      expect(byId.get(5)).toMatchObject({ Type: 4, payload: 'GetLock', GetLock: {
        Type: 4, Owner: owner, ExpiresNode: 1, ExpiresPhysical: 2, ExpiresCounter: 3,
        FencingToken: 5 } });
      expect(h.fake.lastCall('getLock')).toEqual({ resource: 'a', durability: 1 });
    });

  test('a throwing handler answers MustRetry; an unknown Type is echoed', async () => {
    h.fake.answer('extendLock', () => {
      throw new Error('boom');
    });
    const responses = await bidi(h.client('Locker'), 'BatchClientLockRequests', [
      { Type: 2, RequestId: 7, ExtendLock: { Resource: 'a', Owner: owner, ExpiresMs: 10 } },
      { Type: 9, RequestId: 8 },
      { Type: 1, RequestId: 9 }, // TryLock without its payload: a handler fault
    ]);
    const byId = new Map(responses.map((r) => [r.RequestId, r]));
    expect(byId.get(7)).toMatchObject({ Type: 2, ExtendLock: { ServedFrom: '', Type: 101 } });
    expect(byId.get(8)).toEqual({ Type: 9, RequestId: 8 });
    expect(byId.get(9)).toMatchObject({ Type: 1, TryLock: { Type: 101 } });
  });

  test('BatchServerLockRequests (inter-node) is UNIMPLEMENTED', async () => {
    const error = await bidi(h.client('Locker'), 'BatchServerLockRequests', [])
      .then(() => null, (e: grpc.ServiceError) => e);
    expect(error?.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});
