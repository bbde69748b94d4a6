// The Locker service (wire.md 2.1): TryLock, TryExtendLock, Unlock, GetLock and the
// BatchClientLockRequests stream that the .NET client and kahuna-cli send every lock call
// through (wire.md 2.7). BatchServerLockRequests is inter-node: UNIMPLEMENTED.
import { LockType } from '../../core/api/codes.js';
import type {
  GetLockResponse, KahunaBackend, LockResponse,
} from '../../core/api/types.js';
import {
  GrpcExtendLockResponse, GrpcGetLockResponse, GrpcLockClientBatchType, GrpcTryLockResponse,
  GrpcUnlockResponse,
  type GrpcBatchClientLockRequest, type GrpcBatchClientLockResponse, type GrpcExtendLockRequest,
  type GrpcGetLockRequest, type GrpcTryLockRequest, type GrpcUnlockRequest, type LockerServer,
} from './generated/locks.js';
import { bytesTo, hlcTo, long } from './convert.js';
import { hinted } from './route-hints.js';
import {
  serveBatch, unary, unimplementedBidi, type HandlerContext,
} from './handlers.js';

const noOwner = new Uint8Array(0);

/** The owner token; absent on extend/unlock (optional there) is the empty token. */
function ownerFrom(owner: Buffer | undefined): Uint8Array {
  return owner ?? noOwner;
}

function lockTo(res: LockResponse): GrpcTryLockResponse {
  return { ServedFrom: '', Type: res.type, FencingToken: long(res.fencingToken) };
}

function getLockTo(res: GetLockResponse): GrpcGetLockResponse {
  return {
    ServedFrom: '', Type: res.type, Owner: bytesTo(res.owner), ...hlcTo('Expires', res.expires),
    FencingToken: long(res.fencingToken),
  };
}

/** One function per RPC, shared by the unary handlers and the batch stream; each response
 *  carries the resource's route hint (wire.md 2.5). */
export function lockOperations(backend: KahunaBackend) {
  const ops = plainLockOperations(backend);
  const byResource = (m: { Resource: string }): string => m.Resource;
  return {
    tryLock: hinted(backend, 'lock', byResource, ops.tryLock),
    extendLock: hinted(backend, 'lock', byResource, ops.extendLock),
    unlock: hinted(backend, 'lock', byResource, ops.unlock),
    getLock: hinted(backend, 'lock', byResource, ops.getLock),
  };
}

function plainLockOperations(backend: KahunaBackend) {
  return {
    tryLock: async (m: GrpcTryLockRequest): Promise<GrpcTryLockResponse> => lockTo(
      await backend.tryLock({
        resource: m.Resource, owner: ownerFrom(m.Owner), expiresMs: m.ExpiresMs,
        durability: m.Durability,
      })),
    extendLock: async (m: GrpcExtendLockRequest): Promise<GrpcExtendLockResponse> => lockTo(
      await backend.extendLock({
        resource: m.Resource, owner: ownerFrom(m.Owner), expiresMs: m.ExpiresMs,
        durability: m.Durability,
      })),
    unlock: async (m: GrpcUnlockRequest): Promise<GrpcUnlockResponse> => {
      const res = await backend.unlock({
        resource: m.Resource, owner: ownerFrom(m.Owner), durability: m.Durability,
      });
      return { ServedFrom: '', Type: res.type }; // GrpcUnlockResponse has no token
    },
    getLock: async (m: GrpcGetLockRequest): Promise<GrpcGetLockResponse> => getLockTo(
      await backend.getLock({ resource: m.Resource, durability: m.durability })),
  };
}

type LockOperations = ReturnType<typeof lockOperations>;
type Payload = Omit<GrpcBatchClientLockResponse, 'Type' | 'RequestId'>;

function need<T>(payload: T | undefined, type: number): T {
  if (payload === undefined) throw new Error(`batch lock request of type ${type} has no payload`);
  return payload;
}

/** Type -> the payload it carries (wire.md 2.7), answered and failed. */
const batchKinds: Record<number, {
  readonly answer: (ops: LockOperations, r: GrpcBatchClientLockRequest) => Promise<Payload>;
  readonly failed: () => Payload;
}> = {
  [GrpcLockClientBatchType.TYPE_TRY_LOCK]: {
    answer: async (ops, r) => ({ TryLock: await ops.tryLock(need(r.TryLock, r.Type)) }),
    failed: () => ({ TryLock: GrpcTryLockResponse.fromPartial(mustRetry) }),
  },
  [GrpcLockClientBatchType.TYPE_EXTEND_LOCK]: {
    answer: async (ops, r) => ({ ExtendLock: await ops.extendLock(need(r.ExtendLock, r.Type)) }),
    failed: () => ({ ExtendLock: GrpcExtendLockResponse.fromPartial(mustRetry) }),
  },
  [GrpcLockClientBatchType.TYPE_UNLOCK]: {
    answer: async (ops, r) => ({ Unlock: await ops.unlock(need(r.Unlock, r.Type)) }),
    failed: () => ({ Unlock: GrpcUnlockResponse.fromPartial(mustRetry) }),
  },
  [GrpcLockClientBatchType.TYPE_GET_LOCK]: {
    answer: async (ops, r) => ({ GetLock: await ops.getLock(need(r.GetLock, r.Type)) }),
    failed: () => ({ GetLock: GrpcGetLockResponse.fromPartial(mustRetry) }),
  },
};

const mustRetry = { ServedFrom: '', Type: LockType.MustRetry } as const;

/** An unknown Type still gets its one response: the echo, with no payload to misread. */
async function answerBatch(ops: LockOperations,
  r: GrpcBatchClientLockRequest): Promise<GrpcBatchClientLockResponse> {
  const kind = batchKinds[r.Type];
  const payload = kind === undefined ? {} : await kind.answer(ops, r);
  return { Type: r.Type, RequestId: r.RequestId, ...payload };
}

function failBatch(r: GrpcBatchClientLockRequest): GrpcBatchClientLockResponse {
  return { Type: r.Type, RequestId: r.RequestId, ...batchKinds[r.Type]?.failed() };
}

export function createLockerService(backend: KahunaBackend, ctx: HandlerContext): LockerServer {
  const ops = lockOperations(backend);
  const fail = <T>(msg: { fromPartial(o: typeof mustRetry): T }) => (): T =>
    msg.fromPartial(mustRetry);
  return {
    tryLock: unary(ctx, 'TryLock', ops.tryLock, fail(GrpcTryLockResponse)),
    tryExtendLock: unary(ctx, 'TryExtendLock', ops.extendLock, fail(GrpcExtendLockResponse)),
    unlock: unary(ctx, 'Unlock', ops.unlock, fail(GrpcUnlockResponse)),
    getLock: unary(ctx, 'GetLock', ops.getLock, fail(GrpcGetLockResponse)),
    batchClientLockRequests: (call) => serveBatch(ctx, 'BatchClientLockRequests', call, {
      answer: (r) => answerBatch(ops, r),
      failed: failBatch,
    }),
    batchServerLockRequests: unimplementedBidi('BatchServerLockRequests'),
  };
}
