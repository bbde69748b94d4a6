// Kahuna's lock routes (wire.md 3.3): POST /v1/locks/try-lock, try-extend, try-unlock and
// get-info. Always HTTP 200; the outcome is `type` (LockType). The semantics (wire.md 4.1) are
// the backend's; this file only maps JSON to the plain requests and back.
import type {
  GetLockResponse, KahunaBackend, LockResponse, TryLockRequest,
} from '../../core/api/types.js';
import { hlcZero } from '../../core/api/types.js';
import { LockType } from '../../core/api/codes.js';
import type { RestReply, RestRouter } from './router.js';
import { routed } from './route-hints.js';
import { addJsonPost, base64OrNull, hlcJson, sharedReply, type JsonFields } from './json-fields.js';

export interface LockRouteDeps {
  readonly backend: KahunaBackend;
}

function lockReply(res: LockResponse): RestReply {
  return { json: { servedFrom: '', type: res.type, fencingToken: res.fencingToken } };
}

function getInfoReply(res: GetLockResponse): RestReply {
  return { json: { servedFrom: '', type: res.type, owner: base64OrNull(res.owner),
    expires: hlcJson(res.expires), fencingToken: res.fencingToken } };
}

const invalidLock = sharedReply(lockReply({ type: LockType.InvalidInput, fencingToken: 0 }));

/** try-lock and try-extend share one body; a missing or null owner is 100 (wire.md 3.3). */
function tryLockRequest(f: JsonFields): TryLockRequest | null {
  const resource = f.string('resource');
  const owner = f.bytes('owner');
  const expiresMs = f.int32('expiresMs');
  const durability = f.int32('durability');
  if (f.problem !== null || owner === null) return null;
  return { resource, owner, expiresMs, durability };
}

export function registerLockRoutes(router: RestRouter, deps: LockRouteDeps): void {
  const { backend } = deps;
  const must = LockType.MustRetry;
  const hinted = (h: Parameters<typeof routed>[3]) => routed(backend, 'lock', 'resource', h);
  addJsonPost(router, '/v1/locks/try-lock', must, hinted(async (f) => {
    const req = tryLockRequest(f);
    return req === null ? invalidLock : lockReply(await backend.tryLock(req));
  }));
  addJsonPost(router, '/v1/locks/try-extend', must, hinted(async (f) => {
    const req = tryLockRequest(f);
    return req === null ? invalidLock : lockReply(await backend.extendLock(req));
  }));
  addJsonPost(router, '/v1/locks/try-unlock', must, hinted(async (f) => {
    // expiresMs is not read: Kahuna ignores it on unlock, so a bad one must not fail the call.
    const owner = f.bytes('owner');
    const resource = f.string('resource');
    const durability = f.int32('durability');
    if (f.problem !== null || owner === null) return invalidLock;
    return lockReply(await backend.unlock({ resource, owner, durability }));
  }));
  addJsonPost(router, '/v1/locks/get-info', must, hinted(async (f) => {
    const req = { resource: f.string('resource'), durability: f.int32('durability') };
    if (f.problem !== null) {
      return getInfoReply({ type: LockType.InvalidInput, owner: null, expires: hlcZero,
        fencingToken: 0 });
    }
    return getInfoReply(await backend.getLock(req));
  }));
}
