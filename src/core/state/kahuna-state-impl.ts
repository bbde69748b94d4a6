// KahunaState: the KahunaStateStore of one partition and one durability namespace (issue 4,
// deliverable 3). It composes the key/value store (kv-store.ts, kv-scan.ts), the lock table
// (lock-table.ts), the sequences (sequences.ts) and the transaction table (tx-table.ts,
// tx-ops.ts; issue 8), which guards the key/values' plain operations; each keeps its own dirty
// set and record codec, and this class routes persistence by StateNamespace. Pure and
// deterministic.
import { assert } from '../../assert.js';
import { KvType } from '../api/codes.js';
import { hlcZero } from '../api/types.js';
import type {
  ExtendLockRequest, GetLockRequest, GetLockResponse, Hlc, KvDeleteManyRequest,
  KvDeleteManyResponse, KvDeleteRequest, KvExtendRequest, KvGetByBucketRequest,
  KvGetByRangeRequest, KvGetByRangeResponse, KvGetManyRequest, KvGetManyResponse,
  KvGetRequest, KvReadResponse, KvScanByPrefixRequest, KvScanResponse, KvSetManyRequest,
  KvSetManyResponse, KvSetRequest, KvWriteResponse, LockResponse, SeqCreateRequest,
  SeqNameRequest, SeqReserveRequest, SeqUpdateRequest, SequenceAllocationResponse,
  SequenceResponse, TryLockRequest, UnlockRequest,
} from '../api/types.js';
import type {
  TxDecideRequest, TxDecideResponse, TxFinishRequest, TxFinishResponse, TxLockRequest,
  TxLockReadResponse, TxLockResponse, TxPendingRequest, TxPendingResponse, TxPrepareRequest,
  TxPrepareResponse,
  TxReadRequest, TxReadResponse, TxUnlockRequest, TxUnlockResponse,
} from '../api/tx-types.js';
import { fnvField, fnvOffset } from './codec.js';
import type { DirtyRecord } from './dirty-set.js';
import { StateNamespace, type KahunaStateStore, type StateRecord } from './kahuna-state.js';
import { hlcIsZero } from './hlc.js';
import { getByBucket, getByRange, scanByPrefix } from './kv-scan.js';
import { KvStore } from './kv-store.js';
import { LockTable } from './lock-table.js';
import { Sequences } from './sequences.js';
import { txFinish, txPrepare, txRead } from './tx-ops.js';
import { TxTable } from './tx-table.js';

export interface KahunaStateOptions {
  /** For diagnostics only: the state does not depend on where it lives. */
  readonly partition?: number;
  /** false: an ephemeral store, whose changes are never persisted (takeDirty stays empty). */
  readonly persistent?: boolean;
  readonly nodeId?: number;
}

export class KahunaState implements KahunaStateStore {
  readonly partition: number;
  private readonly kv = new KvStore();
  private readonly locks = new LockTable();
  private readonly seqs = new Sequences();
  private readonly txs = new TxTable();

  constructor(opts: KahunaStateOptions = {}) {
    this.partition = opts.partition ?? 0;
    const track = opts.persistent !== false;
    this.kv.dirty.tracking = track;
    this.locks.dirty.tracking = track;
    this.seqs.dirty.tracking = track;
    this.txs.dirty.tracking = track;
    this.kv.guard = this.txs;
    assert(Number.isInteger(this.partition) && this.partition >= 0, 'partition id');
  }

  // ---------------------------------------------------------------- locks (wire.md 4.1)
  tryLock(req: TryLockRequest, now: Hlc): LockResponse {
    return this.locks.tryLock(req, now);
  }

  extendLock(req: ExtendLockRequest, now: Hlc): LockResponse {
    return this.locks.extendLock(req, now);
  }

  unlock(req: UnlockRequest, now: Hlc): LockResponse {
    return this.locks.unlock(req, now);
  }

  getLock(req: GetLockRequest, now: Hlc): GetLockResponse {
    return this.locks.getLock(req, now);
  }

  // ---------------------------------------------------------------- key/values (4.2, 4.3)
  kvSet(req: KvSetRequest, now: Hlc): KvWriteResponse {
    return this.kv.set(req, now);
  }

  kvExtend(req: KvExtendRequest, now: Hlc): KvWriteResponse {
    return this.kv.extend(req, now);
  }

  kvDelete(req: KvDeleteRequest, now: Hlc): KvWriteResponse {
    return this.kv.delete(req, now);
  }

  kvSetMany(req: KvSetManyRequest, now: Hlc): KvSetManyResponse {
    return this.kv.setMany(req, now);
  }

  kvDeleteMany(req: KvDeleteManyRequest, now: Hlc): KvDeleteManyResponse {
    return this.kv.deleteMany(req, now);
  }

  kvGet(req: KvGetRequest, now: Hlc): KvReadResponse {
    return this.kv.read(req, now, true);
  }

  kvExists(req: KvGetRequest, now: Hlc): KvReadResponse {
    return this.kv.read(req, now, false);
  }

  kvGetMany(req: KvGetManyRequest, now: Hlc): KvGetManyResponse {
    return this.kv.readMany(req, now, true);
  }

  kvExistsMany(req: KvGetManyRequest, now: Hlc): KvGetManyResponse {
    return this.kv.readMany(req, now, false);
  }

  kvGetByBucket(req: KvGetByBucketRequest, now: Hlc): KvScanResponse {
    if (this.txs.bucketBlocked(req.prefixKey, req.txId, now) ||
      (!hlcIsZero(req.readTimestamp) && this.txs.bucketSnapshotBlocked(req.prefixKey))) {
      return { type: KvType.MustRetry, items: [] };
    }
    return getByBucket(this.kv.tree, req, now);
  }

  kvScanByPrefix(req: KvScanByPrefixRequest, now: Hlc): KvScanResponse {
    return scanByPrefix(this.kv.tree, req, now);
  }

  kvGetByRange(req: KvGetByRangeRequest, now: Hlc): KvGetByRangeResponse {
    return getByRange(this.kv.tree, req, now);
  }

  // ---------------------------------------------------------------- sequences (4.6)
  seqCreate(req: SeqCreateRequest, now: Hlc): SequenceResponse {
    return this.seqs.create(req, now);
  }

  seqUpdate(req: SeqUpdateRequest, now: Hlc): SequenceResponse {
    return this.seqs.update(req, now);
  }

  seqDelete(req: SeqNameRequest, now: Hlc): SequenceResponse {
    return this.seqs.delete(req, now);
  }

  seqReserve(req: SeqReserveRequest, now: Hlc): SequenceAllocationResponse {
    return this.seqs.reserve(req, now);
  }

  seqGet(req: SeqNameRequest, now: Hlc): SequenceResponse {
    return this.seqs.get(req, now);
  }

  // ---------------------------------------------------------------- transactions (issue 8)
  txLock(req: TxLockRequest, now: Hlc): TxLockResponse {
    return this.txs.lock(req, now);
  }

  txLockRead(req: TxLockRequest, now: Hlc): TxLockReadResponse {
    const locked = req.prefix ? { type: KvType.InvalidInput, holder: hlcZero }
      : this.txs.lock(req, now);
    if (locked.type !== KvType.Locked) {
      return { ...locked, value: null, revision: 0, expires: hlcZero, lastModified: hlcZero,
        lastRevision: -1 };
    }
    const read = txRead(this.txs, this.kv, { txId: req.txId, key: req.key, revision: -1,
      readTimestamp: hlcZero, durability: req.durability }, now);
    return { ...read, holder: hlcZero };
  }

  txUnlock(req: TxUnlockRequest, now: Hlc): TxUnlockResponse {
    return this.txs.unlock(req, now);
  }

  txRead(req: TxReadRequest, now: Hlc): TxReadResponse {
    return txRead(this.txs, this.kv, req, now);
  }

  txPrepare(req: TxPrepareRequest, now: Hlc): TxPrepareResponse {
    return txPrepare(this.txs, this.kv, req, now);
  }

  txFinish(req: TxFinishRequest, now: Hlc): TxFinishResponse {
    return txFinish(this.txs, this.kv, req, now);
  }

  txDecide(req: TxDecideRequest, now: Hlc): TxDecideResponse {
    return this.txs.decide(req, now);
  }

  txPending(req: TxPendingRequest, now: Hlc): TxPendingResponse {
    return this.txs.pending(req, now);
  }

  // ---------------------------------------------------------------- persistence

  takeDirty(): StateRecord[] {
    return this.#records((part) => part.takeDirty());
  }

  allRecords(): StateRecord[] {
    return this.#records((part) => part.allRecords());
  }

  /** `read` of each part, its records tagged with the part's namespace, in namespace order. */
  #records(read: (part: { takeDirty(): DirtyRecord[]; allRecords(): DirtyRecord[] }) =>
    DirtyRecord[]): StateRecord[] {
    const tagged = (namespace: number, records: DirtyRecord[]): StateRecord[] =>
      records.map((r) => ({ namespace, ...r }));
    return [
      ...tagged(StateNamespace.Kv, read(this.kv)),
      ...tagged(StateNamespace.Lock, read(this.locks)),
      ...tagged(StateNamespace.Sequence, read(this.seqs)),
      ...tagged(StateNamespace.Tx, read(this.txs)),
    ];
  }

  load(record: StateRecord): void {
    switch (record.namespace) {
      case StateNamespace.Kv:
        this.kv.load(record.key, record.value);
        return;
      case StateNamespace.Lock:
        this.locks.load(record.key, record.value);
        return;
      case StateNamespace.Sequence:
        this.seqs.load(record.key, record.value);
        return;
      case StateNamespace.Tx:
        this.txs.load(record.key, record.value);
        return;
      default:
        assert(false, `not a Kahuna state namespace: ${record.namespace}`);
    }
  }

  /** FNV-1a over every record, namespace by namespace, each in key order. */
  hash(): number {
    let h = fnvField(fnvOffset, Uint8Array.of(StateNamespace.Kv));
    h = this.kv.hashInto(h);
    h = this.locks.hashInto(fnvField(h, Uint8Array.of(StateNamespace.Lock)));
    h = this.seqs.hashInto(fnvField(h, Uint8Array.of(StateNamespace.Sequence)));
    return this.txs.hashInto(fnvField(h, Uint8Array.of(StateNamespace.Tx)));
  }
}
