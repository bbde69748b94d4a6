// Locks against a real `honu server`, over REST and gRPC, both durabilities: every row of
// wire.md 4.1 (situation -> Type) and the lock cases of kahuna-reference 9.2.
import { describe, expect, it } from 'vitest';
import {
  Lock, durabilities, owner, sleep, transports, unique, type KahunaClient,
} from './clients.js';
import { useHonu } from './harness.js';

const honu = useHonu('locks');
const leaseMs = 10_000;
const shortLeaseMs = 60;
const afterShortLeaseMs = 200;

describe.each(transports)('locks over %s', (transport) => {
  const c = (): KahunaClient => honu.client(transport);

  describe.each(durabilities)('durability %i', (d) => {
    it('empty resource -> InvalidInput on TryLock, TryExtendLock, Unlock, GetLock', async () => {
      const a = owner();
      expect((await c().tryLock('', a, leaseMs, d)).type).toBe(Lock.InvalidInput);
      expect((await c().tryLock('', a, leaseMs, d)).fencingToken).toBe(0);
      expect((await c().extendLock('', a, leaseMs, d)).type).toBe(Lock.InvalidInput);
      expect((await c().unlock('', a, d)).type).toBe(Lock.InvalidInput);
      expect((await c().getLock('', d)).type).toBe(Lock.InvalidInput);
    });

    it('empty or missing owner -> InvalidInput on TryLock, TryExtendLock, Unlock', async () => {
      const r = unique('lock-no-owner');
      for (const bad of [Buffer.alloc(0), null]) {
        expect((await c().tryLock(r, bad, leaseMs, d)).type).toBe(Lock.InvalidInput);
        expect((await c().extendLock(r, bad, leaseMs, d)).type).toBe(Lock.InvalidInput);
        expect((await c().unlock(r, bad, d)).type).toBe(Lock.InvalidInput);
      }
      // Nothing was granted by the rejected calls: the first real grant is token 0.
      const granted = await c().tryLock(r, owner(), leaseMs, d);
      expect(granted).toEqual({ type: Lock.Locked, fencingToken: 0 });
    });

    it('expiresMs <= 0 -> InvalidInput on TryLock and TryExtendLock', async () => {
      const r = unique('lock-bad-expiry');
      const a = owner();
      for (const expiresMs of [0, -1]) {
        expect((await c().tryLock(r, a, expiresMs, d)).type).toBe(Lock.InvalidInput);
      }
      expect((await c().tryLock(r, a, leaseMs, d)).type).toBe(Lock.Locked);
      for (const expiresMs of [0, -1]) {
        expect((await c().extendLock(r, a, expiresMs, d)).type).toBe(Lock.InvalidInput);
      }
    });

    it('never locked: TryLock Locked token 0; extend, unlock, get -> LockDoesNotExist',
      async () => {
        const a = owner();
        const r1 = unique('lock-never');
        expect((await c().extendLock(r1, a, leaseMs, d)).type).toBe(Lock.LockDoesNotExist);
        expect((await c().unlock(r1, a, d)).type).toBe(Lock.LockDoesNotExist);
        expect((await c().getLock(r1, d)).type).toBe(Lock.LockDoesNotExist);
        expect(await c().tryLock(r1, a, leaseMs, d)).toEqual({ type: Lock.Locked,
          fencingToken: 0 });
      });

    it('currently unlocked: extend, unlock, get -> LockDoesNotExist; TryLock Locked token + 1',
      async () => {
        const a = owner();
        const r = unique('lock-unlocked');
        expect((await c().tryLock(r, a, leaseMs, d)).fencingToken).toBe(0);
        expect((await c().unlock(r, a, d)).type).toBe(Lock.Unlocked);
        expect((await c().extendLock(r, a, leaseMs, d)).type).toBe(Lock.LockDoesNotExist);
        expect((await c().unlock(r, a, d)).type).toBe(Lock.LockDoesNotExist);
        expect((await c().getLock(r, d)).type).toBe(Lock.LockDoesNotExist);
        expect(await c().tryLock(r, owner(), leaseMs, d)).toEqual({ type: Lock.Locked,
          fencingToken: 1 });
      });

    it('held by the same owner: re-lock keeps token and expiry; extend moves expiry; get Got; ' +
      'unlock Unlocked', async () => {
      const a = owner();
      const r = unique('lock-same');
      const first = await c().tryLock(r, a, leaseMs, d);
      expect(first).toEqual({ type: Lock.Locked, fencingToken: 0 });
      const info1 = await c().getLock(r, d);
      expect(info1.type).toBe(Lock.Got);
      expect(info1.owner).toEqual(a);
      expect(info1.fencingToken).toBe(0);
      expect(info1.expires.l).toBeGreaterThan(0);
      await sleep(20);
      expect(await c().tryLock(r, a, leaseMs, d)).toEqual({ type: Lock.Locked, fencingToken: 0 });
      const info2 = await c().getLock(r, d);
      expect(info2.expires).toEqual(info1.expires); // re-lock does not refresh the expiry
      expect(info2.fencingToken).toBe(0);
      await sleep(20);
      const extended = await c().extendLock(r, a, leaseMs * 2, d);
      expect(extended).toEqual({ type: Lock.Extended, fencingToken: 0 });
      const info3 = await c().getLock(r, d);
      expect(info3.type).toBe(Lock.Got);
      expect(info3.expires.l).toBeGreaterThan(info2.expires.l);
      expect(info3.fencingToken).toBe(0);
      expect((await c().unlock(r, a, d)).type).toBe(Lock.Unlocked);
    });

    it('extend sets expiry = now + expiresMs (HLC physical)', async () => {
      const a = owner();
      const r = unique('lock-expiry');
      const before = Date.now();
      await c().tryLock(r, a, leaseMs, d);
      const info = await c().getLock(r, d);
      const after = Date.now();
      expect(info.expires.l).toBeGreaterThanOrEqual(before + leaseMs - 1_000);
      expect(info.expires.l).toBeLessThanOrEqual(after + leaseMs + 1_000);
      const beforeExtend = Date.now();
      expect((await c().extendLock(r, a, 60_000, d)).type).toBe(Lock.Extended);
      const extended = await c().getLock(r, d);
      expect(extended.expires.l).toBeGreaterThanOrEqual(beforeExtend + 60_000 - 1_000);
      expect(extended.expires.l).toBeLessThanOrEqual(Date.now() + 60_000 + 1_000);
    });

    it('held by another owner: TryLock Busy token 0; extend, unlock InvalidOwner; get Got ' +
      'with the holder', async () => {
      const a = owner();
      const b = owner();
      const r = unique('lock-other');
      expect((await c().tryLock(r, a, leaseMs, d)).type).toBe(Lock.Locked);
      expect(await c().tryLock(r, b, leaseMs, d)).toEqual({ type: Lock.Busy, fencingToken: 0 });
      expect((await c().extendLock(r, b, leaseMs, d)).type).toBe(Lock.InvalidOwner);
      expect((await c().unlock(r, b, d)).type).toBe(Lock.InvalidOwner);
      const info = await c().getLock(r, d);
      expect(info.type).toBe(Lock.Got);
      expect(info.owner).toEqual(a);
      expect(info.fencingToken).toBe(0);
      expect(info.expires.l).toBeGreaterThan(Date.now());
      // The holder is untouched by the failed calls.
      expect((await c().unlock(r, a, d)).type).toBe(Lock.Unlocked);
    });

    it('lease expired: same owner TryLock token + 1; extend, get LockDoesNotExist; ' +
      'unlock Unlocked', async () => {
      const a = owner();
      const relock = unique('lock-expired-relock');
      const other = unique('lock-expired-ops');
      expect((await c().tryLock(relock, a, shortLeaseMs, d)).fencingToken).toBe(0);
      expect((await c().tryLock(other, a, shortLeaseMs, d)).fencingToken).toBe(0);
      await sleep(afterShortLeaseMs);
      expect(await c().tryLock(relock, a, leaseMs, d)).toEqual({ type: Lock.Locked,
        fencingToken: 1 });
      expect((await c().extendLock(other, a, leaseMs, d)).type).toBe(Lock.LockDoesNotExist);
      expect((await c().getLock(other, d)).type).toBe(Lock.LockDoesNotExist);
      expect((await c().unlock(other, a, d)).type).toBe(Lock.Unlocked);
    });

    it('lease expired, other owner: TryLock token + 1; extend LockDoesNotExist; unlock ' +
      'InvalidOwner; get LockDoesNotExist', async () => {
      const a = owner();
      const b = owner();
      const taken = unique('lock-expired-taken');
      const other = unique('lock-expired-other');
      expect((await c().tryLock(taken, a, shortLeaseMs, d)).fencingToken).toBe(0);
      expect((await c().tryLock(other, a, shortLeaseMs, d)).fencingToken).toBe(0);
      await sleep(afterShortLeaseMs);
      expect(await c().tryLock(taken, b, leaseMs, d)).toEqual({ type: Lock.Locked,
        fencingToken: 1 });
      expect((await c().extendLock(other, b, leaseMs, d)).type).toBe(Lock.LockDoesNotExist);
      expect((await c().unlock(other, b, d)).type).toBe(Lock.InvalidOwner);
      expect((await c().getLock(other, d)).type).toBe(Lock.LockDoesNotExist);
    });

    it('TestLockAndUnlock: fencing token 0, Busy, unlock, token 1, extend, get, unlock',
      async () => {
        const a = owner();
        const b = owner();
        const r = unique('lock-and-unlock');
        expect((await c().tryLock('', a, 10_000, d)).type).toBe(Lock.InvalidInput);
        expect((await c().tryLock(r, Buffer.alloc(0), 10_000, d)).type).toBe(Lock.InvalidInput);
        expect((await c().tryLock(r, a, 0, d)).type).toBe(Lock.InvalidInput);
        expect(await c().tryLock(r, a, 10_000, d)).toEqual({ type: Lock.Locked, fencingToken: 0 });
        expect(await c().tryLock(r, b, 10_000, d)).toEqual({ type: Lock.Busy, fencingToken: 0 });
        expect((await c().unlock(r, a, d)).type).toBe(Lock.Unlocked);
        expect(await c().tryLock(r, a, 10_000, d)).toEqual({ type: Lock.Locked, fencingToken: 1 });
        expect(await c().extendLock(r, a, 15_000, d)).toEqual({ type: Lock.Extended,
          fencingToken: 1 });
        const info = await c().getLock(r, d);
        expect(info.type).toBe(Lock.Got);
        expect(info.owner).toEqual(a);
        expect(info.fencingToken).toBe(1);
        expect((await c().unlock(r, a, d)).type).toBe(Lock.Unlocked);
      });

    it('TestLockEdgeCases and OutOfOrder: expires -1, unknown lock, wrong owner, extend after ' +
      'unlock', async () => {
      const a = owner();
      const b = owner();
      const r = unique('lock-out-of-order');
      expect((await c().tryLock(r, a, -1, d)).type).toBe(Lock.InvalidInput);
      expect((await c().extendLock(r, a, 1_000, d)).type).toBe(Lock.LockDoesNotExist);
      expect((await c().unlock(r, a, d)).type).toBe(Lock.LockDoesNotExist);
      expect((await c().getLock(r, d)).type).toBe(Lock.LockDoesNotExist);
      expect((await c().tryLock(r, a, leaseMs, d)).type).toBe(Lock.Locked);
      expect((await c().extendLock(r, b, 1_000, d)).type).toBe(Lock.InvalidOwner);
      expect((await c().unlock(r, b, d)).type).toBe(Lock.InvalidOwner);
      expect((await c().unlock(r, a, d)).type).toBe(Lock.Unlocked);
      expect((await c().extendLock(r, a, 1_000, d)).type).toBe(Lock.LockDoesNotExist);
    });

    it('client: expiry then the next acquire has token 1; extend keeps the token; owner and ' +
      'expiry grow', async () => {
      const a = owner();
      const b = owner();
      const r = unique('lock-client');
      // A lease long enough to still be held when the second owner asks, even on a busy host.
      expect(await c().tryLock(r, a, 500, d)).toEqual({ type: Lock.Locked, fencingToken: 0 });
      expect((await c().tryLock(r, b, leaseMs, d)).type).toBe(Lock.Busy);
      await sleep(700);
      expect(await c().tryLock(r, b, 1_000, d)).toEqual({ type: Lock.Locked, fencingToken: 1 });
      const before = await c().getLock(r, d);
      expect(before.owner).toEqual(b);
      await sleep(20);
      expect(await c().extendLock(r, b, 5_000, d)).toEqual({ type: Lock.Extended,
        fencingToken: 1 });
      const after = await c().getLock(r, d);
      expect(after.owner).toEqual(b);
      expect(after.expires.l).toBeGreaterThan(before.expires.l);
    });

    it('10 concurrent TryLock waiters: exactly one Locked, the others Busy with token 0',
      async () => {
        const r = unique('lock-race');
        const owners = Array.from({ length: 10 }, () => owner());
        const replies = await Promise.all(owners.map((o) => c().tryLock(r, o, leaseMs, d)));
        const winners = replies.filter((x) => x.type === Lock.Locked);
        expect(winners).toHaveLength(1);
        expect(winners[0]!.fencingToken).toBe(0);
        for (const x of replies.filter((y) => y.type !== Lock.Locked)) {
          expect(x).toEqual({ type: Lock.Busy, fencingToken: 0 });
        }
        const winner = owners[replies.findIndex((x) => x.type === Lock.Locked)]!;
        expect((await c().getLock(r, d)).owner).toEqual(winner);
      });

    it('TestLockConcurrentOperations: 3 concurrent extends -> exactly 1 Extended; the others ' +
      'InvalidOwner', async () => {
      const r = unique('lock-extend-race');
      const owners = [owner(), owner(), owner()];
      const locks = await Promise.all(owners.map((o) => c().tryLock(r, o, leaseMs, d)));
      expect(locks.filter((x) => x.type === Lock.Locked)).toHaveLength(1);
      const extends_ = await Promise.all(owners.map((o) => c().extendLock(r, o, leaseMs, d)));
      expect(extends_.filter((x) => x.type === Lock.Extended)).toHaveLength(1);
      expect(extends_.filter((x) => x.type === Lock.InvalidOwner)).toHaveLength(2);
      const losers = owners.filter((_, i) => extends_[i]!.type !== Lock.Extended);
      for (const o of losers) {
        expect((await c().extendLock(r, o, leaseMs, d)).type).toBe(Lock.InvalidOwner);
      }
    });
  });

  it('owners are opaque bytes: a binary owner round-trips and is seen by the other transport',
    async () => {
      const other = transport === 'rest' ? 'grpc' : 'rest';
      for (const d of durabilities) {
        const r = unique('lock-binary-owner');
        const o = Buffer.from([0x00, 0xff, 0x80, 0x0a, 0x7f, 0xc3, 0x28]);
        expect((await c().tryLock(r, o, leaseMs, d)).type).toBe(Lock.Locked);
        const here = await c().getLock(r, d);
        const there = await honu.client(other).getLock(r, d);
        expect(here.owner).toEqual(o);
        expect(there).toEqual(here);
        expect((await honu.client(other).unlock(r, o, d)).type).toBe(Lock.Unlocked);
      }
    });

  it('ephemeral and persistent locks of the same name are independent', async () => {
    const r = unique('lock-namespaces');
    const a = owner();
    const b = owner();
    expect(await c().tryLock(r, a, leaseMs, 0)).toEqual({ type: Lock.Locked, fencingToken: 0 });
    expect(await c().tryLock(r, b, leaseMs, 1)).toEqual({ type: Lock.Locked, fencingToken: 0 });
    expect((await c().getLock(r, 0)).owner).toEqual(a);
    expect((await c().getLock(r, 1)).owner).toEqual(b);
    expect((await c().unlock(r, a, 1)).type).toBe(Lock.InvalidOwner);
    expect((await c().unlock(r, a, 0)).type).toBe(Lock.Unlocked);
    expect((await c().getLock(r, 1)).type).toBe(Lock.Got);
  });
});
