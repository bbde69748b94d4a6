// Locks: every row of wire.md 4.1 (situation -> Type for TryLock, TryExtendLock, Unlock and
// GetLock), the fencing-token and lease rules, and kahuna-reference 9.2's lock cases. Both
// durabilities run the same cases (each is its own KahunaState namespace).
import { describe, expect, it } from 'vitest';
import { LockType } from '../../src/core/api/codes.js';
import { at, dec, enc, lockReq, newState, t0 } from './helpers.js';

const L = 'orders/lock-1';

describe.each([0, 1])('locks, durability %i', (durability) => {
  const req = (resource: string, owner: string, expiresMs = 10_000) =>
    ({ ...lockReq(resource, owner, expiresMs), durability });
  const unlockReq = (resource: string, owner: string) =>
    ({ resource, owner: enc(owner), durability });
  const getReq = (resource: string) => ({ resource, durability });
  const now = at(t0);

  describe('[4.1] invalid input', () => {
    it('[4.1] empty resource: InvalidInput on all four', () => {
      const s = newState();
      expect(s.tryLock(req('', 'A'), now)).toEqual({ type: LockType.InvalidInput,
        fencingToken: 0 });
      expect(s.extendLock(req('', 'A'), now).type).toBe(LockType.InvalidInput);
      expect(s.unlock(unlockReq('', 'A'), now).type).toBe(LockType.InvalidInput);
      expect(s.getLock(getReq(''), now).type).toBe(LockType.InvalidInput);
    });

    it('[4.1] empty owner: InvalidInput on TryLock, TryExtendLock and Unlock', () => {
      const s = newState();
      expect(s.tryLock(req(L, ''), now).type).toBe(LockType.InvalidInput);
      expect(s.extendLock(req(L, ''), now).type).toBe(LockType.InvalidInput);
      expect(s.unlock(unlockReq(L, ''), now).type).toBe(LockType.InvalidInput);
    });

    it('[4.1] ExpiresMs <= 0: InvalidInput on TryLock and TryExtendLock, Unlock does not read it',
      () => {
        const s = newState();
        for (const ms of [0, -1]) {
          expect(s.tryLock(req(L, 'A', ms), now).type).toBe(LockType.InvalidInput);
          expect(s.extendLock(req(L, 'A', ms), now).type).toBe(LockType.InvalidInput);
        }
        expect(s.tryLock(req(L, 'A'), now).type).toBe(LockType.Locked);
        expect(s.unlock(unlockReq(L, 'A'), now).type).toBe(LockType.Unlocked);
      });
  });

  describe('[4.1] never locked, or currently unlocked', () => {
    it('[4.1] never locked: TryLock Locked with token 0 (the first grant ever)', () => {
      expect(newState().tryLock(req(L, 'A'), now)).toEqual({ type: LockType.Locked,
        fencingToken: 0 });
    });

    it('[4.1] never locked: TryExtendLock, Unlock and GetLock LockDoesNotExist', () => {
      const s = newState();
      expect(s.extendLock(req(L, 'A'), now).type).toBe(LockType.LockDoesNotExist);
      expect(s.unlock(unlockReq(L, 'A'), now).type).toBe(LockType.LockDoesNotExist);
      expect(s.getLock(getReq(L), now).type).toBe(LockType.LockDoesNotExist);
    });

    it('[4.1] unlocked: TryLock Locked with token previous + 1', () => {
      const s = newState();
      s.tryLock(req(L, 'A'), now);
      s.unlock(unlockReq(L, 'A'), now);
      expect(s.tryLock(req(L, 'B'), now)).toEqual({ type: LockType.Locked, fencingToken: 1 });
    });

    it('[4.1] unlocked: TryExtendLock, Unlock and GetLock LockDoesNotExist', () => {
      const s = newState();
      s.tryLock(req(L, 'A'), now);
      s.unlock(unlockReq(L, 'A'), now);
      expect(s.extendLock(req(L, 'A'), now).type).toBe(LockType.LockDoesNotExist);
      expect(s.unlock(unlockReq(L, 'A'), now).type).toBe(LockType.LockDoesNotExist);
      expect(s.getLock(getReq(L), now).type).toBe(LockType.LockDoesNotExist);
    });
  });

  describe('[4.1] held by the same owner, unexpired', () => {
    it('[4.1] same owner: TryLock Locked, same token, expiry not refreshed', () => {
      const s = newState();
      s.tryLock(req(L, 'A', 1000), now);
      expect(s.tryLock(req(L, 'A', 5000), at(t0 + 500))).toEqual({ type: LockType.Locked,
        fencingToken: 0 });
      expect(s.getLock(getReq(L), at(t0 + 500)).expires.l).toBe(t0 + 1000);
      expect(s.getLock(getReq(L), at(t0 + 1000)).type).toBe(LockType.LockDoesNotExist);
    });

    it('[4.1] same owner: TryExtendLock Extended, same token, expiry = now + ExpiresMs', () => {
      const s = newState();
      s.tryLock(req(L, 'A', 1000), now);
      expect(s.extendLock(req(L, 'A', 3000), at(t0 + 500))).toEqual({ type: LockType.Extended,
        fencingToken: 0 });
      expect(s.getLock(getReq(L), at(t0 + 600)).expires).toEqual({ n: 1, l: t0 + 3500, c: 0 });
      expect(s.getLock(getReq(L), at(t0 + 3000)).type).toBe(LockType.Got);
    });

    it('[4.1] same owner: Unlock Unlocked (token 0 in the reply)', () => {
      const s = newState();
      s.tryLock(req(L, 'A'), now);
      expect(s.unlock(unlockReq(L, 'A'), now)).toEqual({ type: LockType.Unlocked,
        fencingToken: 0 });
    });

    it('[4.1] same owner: GetLock Got', () => {
      const s = newState();
      s.tryLock(req(L, 'A'), now);
      const got = s.getLock(getReq(L), now);
      expect(got.type).toBe(LockType.Got);
      expect(dec(got.owner)).toBe('A');
      expect(got.fencingToken).toBe(0);
    });
  });

  describe('[4.1] held by another owner, unexpired', () => {
    it('[4.1] held by another owner: TryLock Busy with token 0', () => {
      const s = newState();
      s.tryLock(req(L, 'A'), now);
      s.unlock(unlockReq(L, 'A'), now);
      s.tryLock(req(L, 'A'), now); // token 1, so Busy's 0 is not the holder's token
      expect(s.tryLock(req(L, 'B'), now)).toEqual({ type: LockType.Busy, fencingToken: 0 });
    });

    it('[4.1] held by another owner: TryExtendLock InvalidOwner', () => {
      const s = newState();
      s.tryLock(req(L, 'A'), now);
      expect(s.extendLock(req(L, 'B'), now).type).toBe(LockType.InvalidOwner);
    });

    it('[4.1] held by another owner: Unlock InvalidOwner', () => {
      const s = newState();
      s.tryLock(req(L, 'A'), now);
      expect(s.unlock(unlockReq(L, 'B'), now).type).toBe(LockType.InvalidOwner);
      expect(s.getLock(getReq(L), now).type).toBe(LockType.Got);
    });

    it('[4.1] held by another owner: GetLock Got with the holder owner, expiry and token', () => {
      const s = newState();
      s.tryLock(req(L, 'A', 2000), now);
      expect(s.getLock(getReq(L), at(t0 + 1))).toEqual({
        type: LockType.Got, owner: enc('A'), expires: { n: 1, l: t0 + 2000, c: 0 },
        fencingToken: 0,
      });
    });
  });

  describe('[4.1] lease expired, same owner', () => {
    const expired = () => {
      const s = newState();
      s.tryLock(req(L, 'A', 100), now);
      return s;
    };
    const later = at(t0 + 100);

    it('[4.1] expired same owner: TryLock Locked, token + 1', () => {
      expect(expired().tryLock(req(L, 'A'), later)).toEqual({ type: LockType.Locked,
        fencingToken: 1 });
    });

    it('[4.1] expired same owner: TryExtendLock LockDoesNotExist', () => {
      expect(expired().extendLock(req(L, 'A'), later).type).toBe(LockType.LockDoesNotExist);
    });

    it('[4.1] expired same owner unlock -> Unlocked (unlock ignores expiry)', () => {
      const s = expired();
      expect(s.unlock(unlockReq(L, 'A'), later).type).toBe(LockType.Unlocked);
      expect(s.tryLock(req(L, 'B'), later).fencingToken).toBe(1);
    });

    it('[4.1] expired same owner: GetLock LockDoesNotExist', () => {
      expect(expired().getLock(getReq(L), later).type).toBe(LockType.LockDoesNotExist);
    });
  });

  describe('[4.1] lease expired, other owner', () => {
    const expired = () => {
      const s = newState();
      s.tryLock(req(L, 'A', 100), now);
      return s;
    };
    const later = at(t0 + 250);

    it('[4.1] expired other owner: TryLock Locked, token + 1', () => {
      expect(expired().tryLock(req(L, 'B'), later)).toEqual({ type: LockType.Locked,
        fencingToken: 1 });
    });

    it('[4.1] expired other owner: TryExtendLock LockDoesNotExist (expiry before owner check)',
      () => {
        expect(expired().extendLock(req(L, 'B'), later).type).toBe(LockType.LockDoesNotExist);
      });

    it('[4.1] expired other owner: Unlock InvalidOwner', () => {
      expect(expired().unlock(unlockReq(L, 'B'), later).type).toBe(LockType.InvalidOwner);
    });

    it('[4.1] expired other owner: GetLock LockDoesNotExist', () => {
      expect(expired().getLock(getReq(L), later).type).toBe(LockType.LockDoesNotExist);
    });
  });

  describe('[4.1] fencing tokens and lease', () => {
    it('[4.1] extend, re-lock by the same owner and GetLock keep the token', () => {
      const s = newState();
      s.tryLock(req(L, 'A'), now);
      s.unlock(unlockReq(L, 'A'), now);
      expect(s.tryLock(req(L, 'A'), now).fencingToken).toBe(1);
      expect(s.tryLock(req(L, 'A'), now).fencingToken).toBe(1);
      expect(s.extendLock(req(L, 'A'), now).fencingToken).toBe(1);
      expect(s.getLock(getReq(L), now).fencingToken).toBe(1);
    });

    it('[4.1] one counter per resource: another resource starts at 0', () => {
      const s = newState();
      s.tryLock(req(L, 'A'), now);
      s.unlock(unlockReq(L, 'A'), now);
      s.tryLock(req(L, 'A'), now);
      expect(s.tryLock(req('other', 'A'), now).fencingToken).toBe(0);
    });

    it('[4.1] a later extend gives a larger ExpiresPhysical', () => {
      const s = newState();
      s.tryLock(req(L, 'A', 1000), now);
      const first = s.getLock(getReq(L), now).expires.l;
      s.extendLock(req(L, 'A', 1000), at(t0 + 10));
      expect(s.getLock(getReq(L), at(t0 + 10)).expires.l).toBeGreaterThan(first);
    });

    it('[4.1] lease expiry is HLC-physical now + ExpiresMs (node and counter of now)', () => {
      const s = newState();
      s.tryLock(req(L, 'A', 750), { n: 3, l: t0, c: 7 });
      expect(s.getLock(getReq(L), now).expires).toEqual({ n: 3, l: t0 + 750, c: 7 });
    });
  });

  describe('[9.2] kahuna-reference lock cases', () => {
    it('[9.2] TestLockAndUnlock', () => {
      const s = newState();
      expect(s.tryLock(req('', 'A', 10_000), now)).toEqual({ type: LockType.InvalidInput,
        fencingToken: 0 });
      expect(s.tryLock(req(L, ''), now).type).toBe(LockType.InvalidInput);
      expect(s.tryLock(req(L, 'A', 0), now).type).toBe(LockType.InvalidInput);
      expect(s.tryLock(req(L, 'A'), now)).toEqual({ type: LockType.Locked, fencingToken: 0 });
      expect(s.tryLock(req(L, 'B'), now)).toEqual({ type: LockType.Busy, fencingToken: 0 });
      expect(s.unlock(unlockReq(L, 'A'), now).type).toBe(LockType.Unlocked);
      expect(s.tryLock(req(L, 'A'), now)).toEqual({ type: LockType.Locked, fencingToken: 1 });
      expect(s.extendLock(req(L, 'A', 15_000), now)).toEqual({ type: LockType.Extended,
        fencingToken: 1 });
      expect(s.getLock(getReq(L), now).owner).not.toBeNull();
      expect(s.unlock(unlockReq(L, 'A'), now).type).toBe(LockType.Unlocked);
    });

    it('[9.2] TestLockEdgeCases', () => {
      const s = newState();
      expect(s.tryLock(req(L, 'A', -1), now).type).toBe(LockType.InvalidInput);
      expect(s.tryLock(req(L, ''), now).type).toBe(LockType.InvalidInput);
      expect(s.unlock(unlockReq('nope', 'A'), now).type).toBe(LockType.LockDoesNotExist);
      expect(s.extendLock(req('nope', 'A'), now).type).toBe(LockType.LockDoesNotExist);
      expect(s.getLock(getReq('nope'), now).type).toBe(LockType.LockDoesNotExist);
    });

    it('[9.2] TestLockOperationsOutOfOrder', () => {
      const s = newState();
      expect(s.extendLock(req(L, 'A'), now).type).toBe(LockType.LockDoesNotExist);
      expect(s.unlock(unlockReq(L, 'A'), now).type).toBe(LockType.LockDoesNotExist);
      s.tryLock(req(L, 'A'), now);
      expect(s.extendLock(req(L, 'B'), now).type).toBe(LockType.InvalidOwner);
      expect(s.unlock(unlockReq(L, 'B'), now).type).toBe(LockType.InvalidOwner);
      s.unlock(unlockReq(L, 'A'), now);
      expect(s.extendLock(req(L, 'A'), now).type).toBe(LockType.LockDoesNotExist);
    });

    it('[9.2] TestLockConcurrentOperations: of 3 lockers exactly 1 wins; losers cannot extend',
      () => {
        const s = newState();
        const results = ['A', 'B', 'C'].map((o) => s.tryLock(req(L, o), now).type);
        expect(results.filter((t) => t === LockType.Locked)).toHaveLength(1);
        const extends_ = ['A', 'B', 'C'].map((o) => s.extendLock(req(L, o), now).type);
        expect(extends_.filter((t) => t === LockType.Extended)).toHaveLength(1);
        expect(extends_.filter((t) => t === LockType.InvalidOwner)).toHaveLength(2);
      });

    it('[9.2] client: after expiry the next acquire has token 1', () => {
      const s = newState();
      expect(s.tryLock(req(L, 'A', 1000), now).fencingToken).toBe(0);
      expect(s.tryLock(req(L, 'B', 1000), at(t0 + 10)).type).toBe(LockType.Busy);
      expect(s.tryLock(req(L, 'B', 1000), at(t0 + 1001))).toEqual({ type: LockType.Locked,
        fencingToken: 1 });
    });
  });
});
