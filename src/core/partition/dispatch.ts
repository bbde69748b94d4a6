// One handler per Kahuna op (style.md rule 8): which KahunaStateStore method serves it, whether
// it reads or writes, and which durability namespace it belongs to. Batches reach a partition
// already split by durability (the main thread's backend does that), so one request has one.
import { assert } from '../../assert.js';
import { KahunaOp, type KahunaOpValue } from '../../ipc/messages/kahuna.js';
import type { Hlc } from '../api/types.js';
import type { KahunaReads, KahunaStateStore, KahunaWrites } from '../state/kahuna-state.js';

type WriteMethod = keyof KahunaWrites;
type ReadMethod = keyof KahunaReads;

const writes: Partial<Record<KahunaOpValue, WriteMethod>> = {
  [KahunaOp.TryLock]: 'tryLock',
  [KahunaOp.ExtendLock]: 'extendLock',
  [KahunaOp.Unlock]: 'unlock',
  [KahunaOp.KvSet]: 'kvSet',
  [KahunaOp.KvExtend]: 'kvExtend',
  [KahunaOp.KvDelete]: 'kvDelete',
  [KahunaOp.KvSetMany]: 'kvSetMany',
  [KahunaOp.KvDeleteMany]: 'kvDeleteMany',
  [KahunaOp.SeqCreate]: 'seqCreate',
  [KahunaOp.SeqUpdate]: 'seqUpdate',
  [KahunaOp.SeqDelete]: 'seqDelete',
  [KahunaOp.SeqReserve]: 'seqReserve',
  [KahunaOp.TxLock]: 'txLock',
  [KahunaOp.TxLockRead]: 'txLockRead',
  [KahunaOp.TxUnlock]: 'txUnlock',
  [KahunaOp.TxPrepare]: 'txPrepare',
  [KahunaOp.TxFinish]: 'txFinish',
  [KahunaOp.TxDecide]: 'txDecide',
};

const reads: Partial<Record<KahunaOpValue, ReadMethod>> = {
  [KahunaOp.GetLock]: 'getLock',
  [KahunaOp.KvGet]: 'kvGet',
  [KahunaOp.KvExists]: 'kvExists',
  [KahunaOp.KvGetMany]: 'kvGetMany',
  [KahunaOp.KvExistsMany]: 'kvExistsMany',
  [KahunaOp.KvGetByBucket]: 'kvGetByBucket',
  [KahunaOp.KvScanByPrefix]: 'kvScanByPrefix',
  [KahunaOp.KvGetByRange]: 'kvGetByRange',
  [KahunaOp.SeqGet]: 'seqGet',
  [KahunaOp.TxRead]: 'txRead',
  [KahunaOp.TxPending]: 'txPending',
};

const sequenceOps: ReadonlySet<number> = new Set([KahunaOp.SeqCreate, KahunaOp.SeqUpdate,
  KahunaOp.SeqGet, KahunaOp.SeqDelete, KahunaOp.SeqReserve]);
/** Always persistent: sequences, and decision records (TxDecide carries no durability; the
 *  record must survive the anchor partition's leader). */
const persistentOps: ReadonlySet<number> = new Set([...sequenceOps, KahunaOp.TxDecide]);

export function isReadOp(op: KahunaOpValue): boolean {
  return reads[op] !== undefined;
}

/** 1 (persistent) or 0 (ephemeral). Sequences are persistent whatever they say: a wrong
 *  durability is the store's InvalidInput, decided through Raft like any sequence call. So
 *  are decision records. */
export function durabilityOf(op: KahunaOpValue, req: unknown): number {
  if (persistentOps.has(op)) return 1;
  const r = req as { durability?: number; items?: readonly { durability?: number }[] };
  const d = r.durability ?? r.items?.[0]?.durability ?? 0;
  return d === 1 ? 1 : 0;
}

type Call = (req: unknown, now: Hlc) => unknown;

/** Runs a write op on `store`. A store that throws (a bug) must not take the worker down or
 *  diverge replicas: every replica throws on the same entry, and all answer Errored. */
export function dispatchWrite(store: KahunaStateStore, op: KahunaOpValue, req: unknown,
  now: Hlc): unknown {
  const method = writes[op];
  assert(method !== undefined, `op ${op} is not a write`);
  return guarded(op, () => (store[method] as Call).call(store, req, now));
}

export function dispatchRead(store: KahunaStateStore, op: KahunaOpValue, req: unknown,
  now: Hlc): unknown {
  const method = reads[op];
  assert(method !== undefined, `op ${op} is not a read`);
  return guarded(op, () => (store[method] as Call).call(store, req, now));
}

function guarded(op: KahunaOpValue, run: () => unknown): unknown {
  try {
    return run();
  } catch {
    return erroredResponse(op);
  }
}

const zero = { n: 0, l: 0, c: 0 };

/** The Errored outcome of an op, shaped as its response. */
export function erroredResponse(op: KahunaOpValue): unknown {
  if (sequenceOps.has(op)) {
    return op === KahunaOp.SeqReserve ? { type: 99, allocation: null }
      : { type: 99, sequence: null, revision: 0 };
  }
  switch (op) {
    case KahunaOp.TryLock: case KahunaOp.ExtendLock: case KahunaOp.Unlock:
      return { type: 99, fencingToken: 0 };
    case KahunaOp.GetLock:
      return { type: 99, owner: null, expires: zero, fencingToken: 0 };
    case KahunaOp.KvSet: case KahunaOp.KvExtend: case KahunaOp.KvDelete:
      return { type: 99, revision: 0, lastModified: zero };
    case KahunaOp.KvGet: case KahunaOp.KvExists:
      return { type: 99, value: null, revision: 0, expires: zero, lastUsed: zero,
        lastModified: zero, state: 0 };
    case KahunaOp.KvGetByRange:
      return { type: 99, items: [], nextCursor: null, hasMore: false };
    case KahunaOp.TxLock: case KahunaOp.TxUnlock:
      return { type: 99, holder: zero };
    case KahunaOp.TxLockRead:
      return { type: 99, value: null, revision: 0, expires: zero, lastModified: zero,
        lastRevision: -1, holder: zero };
    case KahunaOp.TxRead:
      return { type: 99, value: null, revision: 0, expires: zero, lastModified: zero,
        lastRevision: -1 };
    case KahunaOp.TxPrepare:
      return { type: 99, reason: '', items: [], conflictTx: zero, conflictAnchor: '', at: zero };
    case KahunaOp.TxDecide:
      return { type: 99, decision: 0, at: zero };
    default:
      return { type: 99, items: [] };
  }
}
