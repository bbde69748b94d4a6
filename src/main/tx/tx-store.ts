// The partition-side transaction ops (src/core/api/tx-types.ts) as the coordinator calls them:
// each routed by Kahuna's placement to the partition of its key (or bucket), through the
// WorkerBackend, so a partition led by another node is reached by forwarding like any request.
// A node that cannot decide answers the family's MustRetry, never a rejection.
import { KvType } from '../../core/api/codes.js';
import { hlcZero, type KvGetByBucketRequest, type KvScanByPrefixRequest,
  type KvScanResponse } from '../../core/api/types.js';
import type {
  TxDecideRequest, TxDecideResponse, TxFinishRequest, TxFinishResponse, TxLockRequest,
  TxLockReadResponse, TxLockResponse, TxPendingRequest, TxPendingResponse, TxPrepareRequest,
  TxPrepareResponse,
  TxReadRequest, TxReadResponse, TxUnlockRequest,
} from '../../core/api/tx-types.js';
import { TxDecision } from '../../core/api/tx-types.js';
import { KahunaOp } from '../../ipc/messages/kahuna.js';
import type { WorkerBackend } from '../backend/worker-backend.js';

export interface TxStore {
  partitionOfKey(key: string): number;
  partitionOfBucket(bucket: string): number;
  lock(req: TxLockRequest): Promise<TxLockResponse>;
  /** Lock a key and read it in one step (pessimistic first touch). */
  lockRead(req: TxLockRequest): Promise<TxLockReadResponse>;
  unlock(req: TxUnlockRequest): Promise<TxLockResponse>;
  read(req: TxReadRequest): Promise<TxReadResponse>;
  prepare(partition: number, req: TxPrepareRequest): Promise<TxPrepareResponse>;
  finish(partition: number, req: TxFinishRequest): Promise<TxFinishResponse>;
  /** At the partition of `req.anchorKey`, in the persistent namespace. */
  decide(req: TxDecideRequest): Promise<TxDecideResponse>;
  pending(partition: number, req: TxPendingRequest): Promise<TxPendingResponse>;
  getByBucket(req: KvGetByBucketRequest): Promise<KvScanResponse>;
  scanByPrefix(req: KvScanByPrefixRequest): Promise<KvScanResponse>;
}

const lockRetry: TxLockResponse = { type: KvType.MustRetry, holder: hlcZero };

export class BackendTxStore implements TxStore {
  constructor(private readonly backend: WorkerBackend) {}

  partitionOfKey(key: string): number {
    return this.backend.partitionOfKey(key);
  }

  partitionOfBucket(bucket: string): number {
    return this.backend.partitionOfBucket(bucket);
  }

  lock(req: TxLockRequest): Promise<TxLockResponse> {
    const p = req.prefix ? this.partitionOfBucket(req.key) : this.partitionOfKey(req.key);
    return this.backend.op(p, KahunaOp.TxLock, req, () => lockRetry);
  }

  lockRead(req: TxLockRequest): Promise<TxLockReadResponse> {
    return this.backend.op(this.partitionOfKey(req.key), KahunaOp.TxLockRead, req, () => ({
      type: KvType.MustRetry, value: null, revision: 0, expires: hlcZero,
      lastModified: hlcZero, lastRevision: -1, holder: hlcZero }));
  }

  unlock(req: TxUnlockRequest): Promise<TxLockResponse> {
    const p = req.prefix ? this.partitionOfBucket(req.key) : this.partitionOfKey(req.key);
    return this.backend.op(p, KahunaOp.TxUnlock, req, () => lockRetry);
  }

  read(req: TxReadRequest): Promise<TxReadResponse> {
    return this.backend.op(this.partitionOfKey(req.key), KahunaOp.TxRead, req, () => ({
      type: KvType.MustRetry, value: null, revision: 0, expires: hlcZero,
      lastModified: hlcZero, lastRevision: -1 }));
  }

  prepare(partition: number, req: TxPrepareRequest): Promise<TxPrepareResponse> {
    return this.backend.op(partition, KahunaOp.TxPrepare, req,
      () => ({ type: KvType.MustRetry, reason: 'the partition could not decide', items: [],
        conflictTx: hlcZero, conflictAnchor: '', at: hlcZero }));
  }

  finish(partition: number, req: TxFinishRequest): Promise<TxFinishResponse> {
    return this.backend.op(partition, KahunaOp.TxFinish, req,
      () => ({ type: KvType.MustRetry, items: [] }));
  }

  decide(req: TxDecideRequest): Promise<TxDecideResponse> {
    return this.backend.op(this.partitionOfKey(req.anchorKey), KahunaOp.TxDecide, req,
      () => ({ type: KvType.MustRetry, decision: TxDecision.None, at: hlcZero }));
  }

  pending(partition: number, req: TxPendingRequest): Promise<TxPendingResponse> {
    return this.backend.op(partition, KahunaOp.TxPending, req,
      () => ({ type: KvType.MustRetry, items: [] }));
  }

  getByBucket(req: KvGetByBucketRequest): Promise<KvScanResponse> {
    return this.backend.kvGetByBucket(req);
  }

  scanByPrefix(req: KvScanByPrefixRequest): Promise<KvScanResponse> {
    return this.backend.kvScanAllByPrefix(req);
  }
}
