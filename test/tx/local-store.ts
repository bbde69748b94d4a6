// A TxStore over in-process KahunaState instances, one pair (persistent, ephemeral) per
// partition, with the real placement and dispatch: the coordinator's unit tests run the commit
// protocol against the real partition-side state machine without workers or Raft. Calls may be
// made to fail (a lost reply after the op applied, or a refused call) to drive the recovery paths.
import type { Hlc, KvGetByBucketRequest, KvScanByPrefixRequest, KvScanResponse }
  from '../../src/core/api/types.js';
import type {
  TxDecideRequest, TxDecideResponse, TxFinishRequest, TxFinishResponse, TxLockRequest,
  TxLockReadResponse, TxLockResponse, TxPendingRequest, TxPendingResponse, TxPrepareRequest,
  TxPrepareResponse,
  TxReadRequest, TxReadResponse, TxUnlockRequest,
} from '../../src/core/api/tx-types.js';
import { KvType } from '../../src/core/api/codes.js';
import { PartitionMap } from '../../src/core/routing/placement.js';
import { KahunaState } from '../../src/core/state/kahuna-state-impl.js';
import type { TxStore } from '../../src/main/tx/tx-store.js';

export type Fault = 'none' | 'lose-reply' | 'refuse';

export class LocalTxStore implements TxStore {
  readonly map: PartitionMap;
  readonly states = new Map<number, { persistent: KahunaState; ephemeral: KahunaState }>();
  private ms = 1_000_000;
  private counter = 0;
  /** Decides the fault of each call by op name and partition (default: none). */
  fault: (op: string, partition: number) => Fault = () => 'none';
  readonly calls: string[] = [];

  constructor(readonly partitions = 8) {
    this.map = new PartitionMap(partitions);
    for (let p = 1; p <= partitions; p += 1) {
      this.states.set(p, { persistent: new KahunaState({ partition: p }),
        ephemeral: new KahunaState({ partition: p, persistent: false }) });
    }
  }

  /** Advances the partitions' clock. */
  advance(ms: number): void {
    this.ms += ms;
  }

  now(): Hlc {
    this.counter += 1;
    return { n: 1, l: this.ms, c: this.counter };
  }

  state(partition: number, durability: number): KahunaState {
    const s = this.states.get(partition)!;
    return durability === 1 ? s.persistent : s.ephemeral;
  }

  private run<T>(op: string, partition: number, apply: () => T, retry: T): Promise<T> {
    this.calls.push(`${op}@${partition}`);
    const f = this.fault(op, partition);
    if (f === 'refuse') return Promise.resolve(retry);
    const res = apply();
    return Promise.resolve(f === 'lose-reply' ? retry : res);
  }

  partitionOfKey(key: string): number {
    return this.map.ofKey(key);
  }

  partitionOfBucket(bucket: string): number {
    return this.map.ofKeySpace(bucket);
  }

  lock(req: TxLockRequest): Promise<TxLockResponse> {
    const p = req.prefix ? this.partitionOfBucket(req.key) : this.partitionOfKey(req.key);
    return this.run('lock', p, () => this.state(p, req.durability).txLock(req, this.now()),
      { type: KvType.MustRetry, holder: { n: 0, l: 0, c: 0 } });
  }

  lockRead(req: TxLockRequest): Promise<TxLockReadResponse> {
    const p = this.partitionOfKey(req.key);
    return this.run('lockRead', p, () => this.state(p, req.durability).txLockRead(req,
      this.now()), { type: KvType.MustRetry, value: null, revision: 0,
      expires: { n: 0, l: 0, c: 0 }, lastModified: { n: 0, l: 0, c: 0 }, lastRevision: -1,
      holder: { n: 0, l: 0, c: 0 } });
  }

  unlock(req: TxUnlockRequest): Promise<TxLockResponse> {
    const p = req.prefix ? this.partitionOfBucket(req.key) : this.partitionOfKey(req.key);
    return this.run('unlock', p, () => this.state(p, req.durability).txUnlock(req, this.now()),
      { type: KvType.MustRetry, holder: { n: 0, l: 0, c: 0 } });
  }

  read(req: TxReadRequest): Promise<TxReadResponse> {
    const p = this.partitionOfKey(req.key);
    return this.run('read', p, () => this.state(p, req.durability).txRead(req, this.now()),
      { type: KvType.MustRetry, value: null, revision: 0, expires: { n: 0, l: 0, c: 0 },
        lastModified: { n: 0, l: 0, c: 0 }, lastRevision: -1 });
  }

  prepare(partition: number, req: TxPrepareRequest): Promise<TxPrepareResponse> {
    return this.run('prepare', partition,
      () => this.state(partition, req.durability).txPrepare(req, this.now()),
      { type: KvType.MustRetry, reason: 'lost', items: [], conflictTx: { n: 0, l: 0, c: 0 },
        conflictAnchor: '', at: { n: 0, l: 0, c: 0 } });
  }

  finish(partition: number, req: TxFinishRequest): Promise<TxFinishResponse> {
    return this.run('finish', partition,
      () => this.state(partition, req.durability).txFinish(req, this.now()),
      { type: KvType.MustRetry, items: [] });
  }

  decide(req: TxDecideRequest): Promise<TxDecideResponse> {
    const p = this.partitionOfKey(req.anchorKey);
    return this.run('decide', p, () => this.state(p, 1).txDecide(req, this.now()),
      { type: KvType.MustRetry, decision: 0, at: { n: 0, l: 0, c: 0 } });
  }

  pending(partition: number, req: TxPendingRequest): Promise<TxPendingResponse> {
    return this.run('pending', partition,
      () => this.state(partition, req.durability).txPending(req, this.now()),
      { type: KvType.MustRetry, items: [] });
  }

  getByBucket(req: KvGetByBucketRequest): Promise<KvScanResponse> {
    const p = this.partitionOfBucket(req.prefixKey);
    return this.run('bucket', p, () => this.state(p, req.durability).kvGetByBucket(req,
      this.now()), { type: KvType.MustRetry, items: [] });
  }

  scanByPrefix(req: KvScanByPrefixRequest): Promise<KvScanResponse> {
    const items = [...this.states.values()].flatMap((s) =>
      (req.durability === 1 ? s.persistent : s.ephemeral).kvScanByPrefix(req, this.now()).items);
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return Promise.resolve({ type: KvType.Get, items });
  }

  /** A plain (non-transactional) read of the latest value as text, or null. */
  value(key: string, durability = 1): string | null {
    const p = this.partitionOfKey(key);
    const r = this.state(p, durability).kvGet({ txId: { n: 0, l: 0, c: 0 }, coordinatorKey: '',
      operationIdHigh: 0, operationIdLow: 0, key, revision: -1,
      readTimestamp: { n: 0, l: 0, c: 0 }, durability }, this.now());
    return r.type === KvType.Get && r.value !== null ? new TextDecoder().decode(r.value) : null;
  }

  /** Two keys on different partitions. */
  keysOnTwoPartitions(prefix: string): [string, string] {
    const first = `${prefix}0/k`;
    for (let i = 1; i < 1000; i += 1) {
      const k = `${prefix}${i}/k`;
      if (this.partitionOfKey(k) !== this.partitionOfKey(first)) return [first, k];
    }
    throw new Error('no two partitions');
  }
}
