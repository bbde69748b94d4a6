// Lease locks of one durability namespace (wire.md 4.1, kahuna-reference 2.1): per resource an
// owner (null once unlocked), a lease expiry on the leader's HLC and a fencing token counter
// that starts at -1, so the first grant is 0. Pure.
import { DirtySet, type DirtyRecord } from './dirty-set.js';
import { assert } from '../../assert.js';
import { LockType } from '../api/codes.js';
import {
  hlcZero, type ExtendLockRequest, type GetLockRequest, type GetLockResponse, type Hlc,
  type LockResponse, type TryLockRequest, type UnlockRequest,
} from '../api/types.js';
import { ByteReader, ByteWriter, compareKeys, fnvField, fromUtf8, utf8 } from './codec.js';
import { copyHlc, expiryAfter, isExpired } from './hlc.js';
import { expiresMsMax } from './state-limits.js';

export interface LockEntry {
  /** null: unlocked (the entry stays for its token counter). */
  readonly owner: Uint8Array | null;
  readonly expires: Hlc;
  /** The token of the latest grant; -1 before the first. */
  readonly fencingToken: number;
}

const lockFormat = 1;
const tokenNone = -1;

function answer(type: number, fencingToken = 0): LockResponse {
  return { type, fencingToken };
}

const getMiss: GetLockResponse = {
  type: LockType.LockDoesNotExist, owner: null, expires: hlcZero, fencingToken: 0,
};

function sameOwner(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function isBadResource(resource: string): boolean {
  return resource.length === 0 || !resource.isWellFormed();
}

function isBadLease(ms: number): boolean {
  return !Number.isInteger(ms) || ms <= 0 || ms > expiresMsMax;
}

/** Held: has an owner and the lease has not run out at `now`. */
function isHeld(entry: LockEntry | undefined, now: Hlc): entry is LockEntry & {
  readonly owner: Uint8Array;
} {
  return entry !== undefined && entry.owner !== null && !isExpired(entry.expires, now);
}

export class LockTable {
  private readonly locks = new Map<string, LockEntry>();
  readonly dirty = new DirtySet();

  private put(resource: string, entry: LockEntry): void {
    this.locks.set(resource, entry);
    this.dirty.mark(resource);
  }

  tryLock(req: TryLockRequest, now: Hlc): LockResponse {
    if (isBadResource(req.resource) || req.owner.length === 0 || isBadLease(req.expiresMs)) {
      return answer(LockType.InvalidInput);
    }
    const entry = this.locks.get(req.resource);
    if (isHeld(entry, now)) {
      // Same owner: idempotent, same token, lease not refreshed. Another: Busy with token 0.
      return sameOwner(entry.owner, req.owner) ? answer(LockType.Locked, entry.fencingToken) :
        answer(LockType.Busy);
    }
    // Free, unlocked or expired: a new grant.
    const fencingToken = (entry?.fencingToken ?? tokenNone) + 1;
    assert(Number.isSafeInteger(fencingToken), 'fencing token beyond 2^53');
    const stamp = copyHlc(now);
    this.put(req.resource, {
      owner: req.owner.slice(), expires: expiryAfter(stamp, req.expiresMs), fencingToken,
    });
    return answer(LockType.Locked, fencingToken);
  }

  extendLock(req: ExtendLockRequest, now: Hlc): LockResponse {
    if (isBadResource(req.resource) || req.owner.length === 0 || isBadLease(req.expiresMs)) {
      return answer(LockType.InvalidInput);
    }
    const entry = this.locks.get(req.resource);
    // The expiry check comes before the owner check (wire.md 4.1).
    if (!isHeld(entry, now)) return answer(LockType.LockDoesNotExist);
    if (!sameOwner(entry.owner, req.owner)) return answer(LockType.InvalidOwner);
    this.put(req.resource, { ...entry, expires: expiryAfter(copyHlc(now), req.expiresMs) });
    return answer(LockType.Extended, entry.fencingToken);
  }

  unlock(req: UnlockRequest, _now: Hlc): LockResponse {
    if (isBadResource(req.resource) || req.owner.length === 0) {
      return answer(LockType.InvalidInput);
    }
    const entry = this.locks.get(req.resource);
    if (entry === undefined || entry.owner === null) return answer(LockType.LockDoesNotExist);
    // Unlock ignores the lease: the owner may release an expired entry (wire.md 4.1).
    if (!sameOwner(entry.owner, req.owner)) return answer(LockType.InvalidOwner);
    this.put(req.resource, { owner: null, expires: hlcZero, fencingToken: entry.fencingToken });
    return answer(LockType.Unlocked);
  }

  getLock(req: GetLockRequest, now: Hlc): GetLockResponse {
    if (isBadResource(req.resource)) return { ...getMiss, type: LockType.InvalidInput };
    const entry = this.locks.get(req.resource);
    if (!isHeld(entry, now)) return getMiss;
    return {
      type: LockType.Got, owner: entry.owner, expires: entry.expires,
      fencingToken: entry.fencingToken,
    };
  }

  // ---------------------------------------------------------------- persistence

  takeDirty(): DirtyRecord[] {
    return this.dirty.take((key) => this.locks.get(key), encodeLock);
  }

  load(key: Uint8Array, value: Uint8Array | null): void {
    const resource = fromUtf8(key);
    assert(resource.length > 0, 'a lock record has a resource');
    if (value === null) this.locks.delete(resource);
    else this.locks.set(resource, decodeLock(value));
  }

  /** Every lock, in resource order (a snapshot of the partition). */
  allRecords(): DirtyRecord[] {
    return [...this.locks.keys()].sort(compareKeys)
      .map((key) => ({ key: utf8(key), value: encodeLock(this.locks.get(key)!) }));
  }

  hashInto(hash: number): number {
    let h = hash;
    for (const key of [...this.locks.keys()].sort(compareKeys)) {
      const entry = this.locks.get(key);
      assert(entry !== undefined, 'lock key present');
      h = fnvField(fnvField(h, utf8(key)), encodeLock(entry));
    }
    return h;
  }
}

export function encodeLock(entry: LockEntry): Uint8Array {
  return new ByteWriter().u8(lockFormat).optBytes(entry.owner).hlc(entry.expires)
    .int(entry.fencingToken).finish();
}

export function decodeLock(bytes: Uint8Array): LockEntry {
  const r = new ByteReader(bytes);
  assert(r.u8() === lockFormat, 'unknown lock record format');
  const owner = r.optBytes();
  const expires = r.hlc();
  const fencingToken = r.int();
  r.end();
  assert(fencingToken >= tokenNone, 'fencing tokens start at -1');
  return { owner, expires, fencingToken };
}
