// The TxBackend of a node that has no transaction coordinator wired in: every script, session
// and exclusive-lock call answers Errored (99), the outcome Kahuna gives a call it cannot serve,
// so both adapters answer every such request (gRPC status OK, REST HTTP 200) instead of
// UNIMPLEMENTED or 404. The default of createKeyValuerService, createGrpcServer and
// registerKahunaRoutes until server.ts passes the coordinator (src/main/tx/).
import { KvType } from '../../core/api/codes.js';
import { hlcZero } from '../../core/api/types.js';
import type {
  ExclusiveLockResponse, ManyExclusiveLocksRequest, ManyExclusiveLocksResponse, TxBackend,
} from '../../core/api/tx-types.js';

export const txUnavailableReason = 'transactions are not available';

const errored = KvType.Errored;
const lockErrored: ExclusiveLockResponse = { type: errored, holder: hlcZero };

function manyErrored(req: ManyExclusiveLocksRequest): ManyExclusiveLocksResponse {
  return { items: req.items.map((i) => ({ type: errored, key: i.key, durability: i.durability,
    holder: hlcZero })) };
}

export const unavailableTxBackend: TxBackend = {
  executeScript: () => Promise.resolve({ type: errored, reason: txUnavailableReason,
    values: [], timeElapsedMs: 0 }),
  startTransaction: () => Promise.resolve({ type: errored, transactionId: hlcZero }),
  commitTransaction: () => Promise.resolve({ type: errored, recordAnchorKey: null }),
  rollbackTransaction: () => Promise.resolve({ type: errored, recordAnchorKey: null }),
  acquireExclusiveLock: () => Promise.resolve(lockErrored),
  acquireManyExclusiveLocks: (req) => Promise.resolve(manyErrored(req)),
  releaseExclusiveLock: () => Promise.resolve(lockErrored),
  releaseManyExclusiveLocks: (req) => Promise.resolve(manyErrored(req)),
  acquireExclusivePrefixLock: () => Promise.resolve(lockErrored),
  releaseExclusivePrefixLock: () => Promise.resolve(lockErrored),
};
