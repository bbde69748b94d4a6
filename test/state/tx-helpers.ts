// Request builders for the transaction tests (src/core/api/tx-types.ts): every field, with
// overrides per case.
import { KvFlags } from '../../src/core/api/codes.js';
import {
  TxMutationKind, type TxFinishRequest, type TxLockRequest, type TxMutation,
  type TxPrepareRequest, type TxReadRequest, type TxUnlockRequest,
} from '../../src/core/api/tx-types.js';
import { hlcZero, type Hlc } from '../../src/core/api/types.js';
import { enc } from './helpers.js';

/** Transaction ids: HLCs of node 7, distinct per `k`. */
export const tx = (k: number): Hlc => ({ n: 7, l: 1_600_000_000_000 + k, c: k });
export const T1 = tx(1);
export const T2 = tx(2);
export const T3 = tx(3);

export function txLockReq(txId: Hlc, key: string, more: Partial<TxLockRequest> = {}):
  TxLockRequest {
  return { txId, key, expiresMs: 5000, durability: 1, prefix: false, ...more };
}

export function txPrefixReq(txId: Hlc, bucket: string, more: Partial<TxLockRequest> = {}):
  TxLockRequest {
  return txLockReq(txId, bucket, { prefix: true, ...more });
}

export function txUnlockReq(txId: Hlc, key: string, prefix = false): TxUnlockRequest {
  return { txId, key, durability: 1, prefix };
}

export function txReadReq(txId: Hlc, key: string, more: Partial<TxReadRequest> = {}):
  TxReadRequest {
  return { txId, key, revision: -1, readTimestamp: hlcZero, durability: 1, ...more };
}

export function setM(key: string, value: string | null, baseRevision: number,
  more: Partial<TxMutation> = {}): TxMutation {
  return { key, kind: TxMutationKind.Set, value: value === null ? null : enc(value),
    flags: KvFlags.Set, expiresMs: 0, baseRevision, ...more };
}

export function delM(key: string, baseRevision: number): TxMutation {
  return { key, kind: TxMutationKind.Delete, value: null, flags: 0, expiresMs: 0,
    baseRevision };
}

export function extM(key: string, expiresMs: number, baseRevision: number): TxMutation {
  return { key, kind: TxMutationKind.Extend, value: null, flags: 0, expiresMs, baseRevision };
}

export function prepareReq(txId: Hlc, mutations: readonly TxMutation[],
  more: Partial<TxPrepareRequest> = {}): TxPrepareRequest {
  return {
    txId, durability: 1, onePhase: false, anchorKey: mutations[0]?.key ?? '',
    decisionTimeoutMs: 5000, recordDecision: false, mutations, reads: [], wounded: [],
    commitTs: hlcZero, ...more,
  };
}

export function finishReq(txId: Hlc, commit: boolean): TxFinishRequest {
  return { txId, durability: 1, commit, commitTs: hlcZero };
}
