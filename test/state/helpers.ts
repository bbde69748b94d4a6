// Request builders for the state machine tests: every field a plain non-transactional call
// sends, overridable per case.
import { KvFlags } from '../../src/core/api/codes.js';
import {
  hlcZero, type Hlc, type KvDeleteRequest, type KvExtendRequest, type KvGetByRangeRequest,
  type KvGetRequest, type KvSetRequest, type SeqCreateRequest, type SeqReserveRequest,
  type SeqUpdateRequest, type TryLockRequest,
} from '../../src/core/api/types.js';
import { KahunaState } from '../../src/core/state/kahuna-state-impl.js';

export const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
export const dec = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : new TextDecoder().decode(bytes);

/** An HLC at physical ms `l` (node 1, counter 0). */
export const at = (l: number, c = 0): Hlc => ({ n: 1, l, c });
export const t0 = 1_700_000_000_000;

export const noTx = { txId: hlcZero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0 };

export function newState(): KahunaState {
  return new KahunaState({ partition: 1, nodeId: 1 });
}

export function lockReq(resource: string, owner: string, expiresMs = 10_000): TryLockRequest {
  return { resource, owner: enc(owner), expiresMs, durability: 0 };
}

export function setReq(key: string, value: string | null, more: Partial<KvSetRequest> = {}):
  KvSetRequest {
  return {
    ...noTx, key, value: value === null ? null : enc(value), compareValue: null,
    compareRevision: 0, flags: KvFlags.Set, expiresMs: 0, durability: 0, ...more,
  };
}

export function getReq(key: string, more: Partial<KvGetRequest> = {}): KvGetRequest {
  return { ...noTx, key, revision: -1, readTimestamp: hlcZero, durability: 0, ...more };
}

export function delReq(key: string, more: Partial<KvDeleteRequest> = {}): KvDeleteRequest {
  return { ...noTx, key, durability: 0, ...more };
}

export function extReq(key: string, expiresMs: number, more: Partial<KvExtendRequest> = {}):
  KvExtendRequest {
  return { ...noTx, key, expiresMs, durability: 0, ...more };
}

export function rangeReq(prefix: string, more: Partial<KvGetByRangeRequest> = {}):
  KvGetByRangeRequest {
  return {
    txId: hlcZero, prefix, startKey: null, startInclusive: true, endKey: null,
    endInclusive: false, limit: 0, readTimestamp: hlcZero, durability: 0, cursor: null, ...more,
  };
}

export function createReq(name: string, more: Partial<SeqCreateRequest> = {}): SeqCreateRequest {
  return { name, initialValue: 0, increment: 1, maxValue: null, durability: 1, blockSize: null,
    ...more };
}

export function reserveReq(name: string, count = 1, idempotencyKey: string | null = null,
  more: Partial<SeqReserveRequest> = {}): SeqReserveRequest {
  return { name, count, idempotencyKey, durability: 1, ...more };
}

export function updateReq(name: string, more: Partial<SeqUpdateRequest> = {}):
  SeqUpdateRequest {
  return {
    name, currentValue: null, increment: null, initialValue: null, maxValue: null,
    removeMaxValue: false, blockSize: null, removeBlockSize: false, durability: 1, ...more,
  };
}

export const seqName = (name: string) => ({ name, durability: 1 });
