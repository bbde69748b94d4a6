// The transaction coordinator of one node (issue 8): serves the TxBackend (scripts, interactive
// sessions, exclusive key and prefix locks) over the partition-side transaction ops, and runs
// two background loops: the reaper of abandoned sessions and the resolver of prepared intents
// whose coordinator went away (on the partitions this node leads).
import { KvType } from '../../core/api/codes.js';
import { hlcZero, type KahunaBackend } from '../../core/api/types.js';
import {
  TxDecision, type EndTxRequest, type EndTxResponse, type ExclusiveLockRequest,
  type ExclusiveLockResponse, type ManyExclusiveLocksRequest, type ManyExclusiveLocksResponse,
  type ReleaseExclusiveLockRequest, type ScriptRequest, type ScriptResponse, type StartTxRequest,
  type StartTxResponse, type TxBackend,
} from '../../core/api/tx-types.js';
import type { WorkerBackend } from '../backend/worker-backend.js';
import { ScriptRunner, type ScriptParser } from './script-runner.js';
import { isZeroHlc, SessionTable } from './sessions.js';
import { withTransactions } from './tx-kv.js';
import { BackendTxStore, type TxStore } from './tx-store.js';

export interface TxCoordinatorOptions {
  readonly nodeId: number;
  readonly partitions: number;
  /** The node leading a partition as this node knows it (0: none). */
  readonly leaderOf: (partition: number) => number;
  /** How long a prepared intent waits for its coordinator (default 5000 ms). */
  readonly decisionTimeoutMs?: number;
  /** Background loop period (default 1000 ms); 0 turns the loops off (tests drive them). */
  readonly intervalMs?: number;
  /** Parses scripts (the CPU pool in production; in-thread by default). */
  readonly parser?: ScriptParser;
}

export class TxCoordinator implements TxBackend {
  readonly sessions: SessionTable;
  readonly store: TxStore;
  /** The KahunaBackend the adapters use: transactional point ops reach the sessions. */
  readonly backend: KahunaBackend;
  private readonly scripts: ScriptRunner;
  private timer: NodeJS.Timeout | null = null;
  private resolving = false;

  constructor(inner: WorkerBackend, private readonly opts: TxCoordinatorOptions) {
    this.store = new BackendTxStore(inner);
    this.sessions = new SessionTable({ nodeId: opts.nodeId, store: this.store,
      decisionTimeoutMs: opts.decisionTimeoutMs ?? 5000 });
    this.backend = withTransactions(inner, this.sessions);
    this.scripts = new ScriptRunner({ backend: inner, store: this.store,
      sessions: this.sessions, decisionTimeoutMs: opts.decisionTimeoutMs ?? 5000,
      ...(opts.parser === undefined ? {} : { parser: opts.parser }) });
    const every = opts.intervalMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => void this.tick(), every);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round of both background loops. */
  async tick(): Promise<void> {
    await Promise.all([this.sessions.reap(), this.resolve()]);
  }

  // ---------------------------------------------------------------- scripts

  executeScript(req: ScriptRequest): Promise<ScriptResponse> {
    return this.scripts.execute(req);
  }

  // ---------------------------------------------------------------- sessions

  startTransaction(req: StartTxRequest): Promise<StartTxResponse> {
    return Promise.resolve(this.sessions.start(req));
  }

  commitTransaction(req: EndTxRequest): Promise<EndTxResponse> {
    return this.sessions.commit(req);
  }

  rollbackTransaction(req: EndTxRequest): Promise<EndTxResponse> {
    return this.sessions.rollback(req);
  }

  // ---------------------------------------------------------------- exclusive locks

  private async acquire(req: ExclusiveLockRequest, prefix: boolean):
    Promise<ExclusiveLockResponse> {
    if (isZeroHlc(req.transactionId) || !Number.isInteger(req.expiresMs) || req.expiresMs < 0) {
      return { type: KvType.Errored, holder: hlcZero };
    }
    const lease = req.expiresMs === 0 ? 5000 : req.expiresMs;
    const failed = (type: number): ExclusiveLockResponse => ({ type, holder: hlcZero });
    // A lock of a session's transaction joins its working set (released at commit or
    // rollback), whether or not the call named the coordinator key.
    if (req.coordinatorKey !== '' || this.sessions.has(req.transactionId)) {
      return this.sessions.operate(req.transactionId, req.operationIdHigh, req.operationIdLow,
        (tx) => tx.lock(req.key, req.durability, prefix, lease), failed);
    }
    return this.store.lock({ txId: req.transactionId, key: req.key, expiresMs: lease,
      durability: req.durability, prefix });
  }

  acquireExclusiveLock(req: ExclusiveLockRequest): Promise<ExclusiveLockResponse> {
    return this.acquire(req, false);
  }

  acquireExclusivePrefixLock(req: ExclusiveLockRequest): Promise<ExclusiveLockResponse> {
    return this.acquire(req, true);
  }

  private async release(req: ReleaseExclusiveLockRequest, prefix: boolean):
    Promise<ExclusiveLockResponse> {
    if (isZeroHlc(req.transactionId)) return { type: KvType.Errored, holder: hlcZero };
    const owned = await this.sessions.operate(req.transactionId, 0, 0,
      (tx) => tx.unlock(req.key, req.durability, prefix), () => null);
    return owned ?? this.store.unlock({ txId: req.transactionId, key: req.key,
      durability: req.durability, prefix });
  }

  releaseExclusiveLock(req: ReleaseExclusiveLockRequest): Promise<ExclusiveLockResponse> {
    return this.release(req, false);
  }

  releaseExclusivePrefixLock(req: ReleaseExclusiveLockRequest): Promise<ExclusiveLockResponse> {
    return this.release(req, true);
  }

  async acquireManyExclusiveLocks(req: ManyExclusiveLocksRequest):
    Promise<ManyExclusiveLocksResponse> {
    const items = await Promise.all(req.items.map(async (i) => {
      const r = await this.acquire({ transactionId: req.transactionId, key: i.key,
        expiresMs: i.expiresMs, durability: i.durability, coordinatorKey: '',
        operationIdHigh: 0, operationIdLow: 0 }, false);
      return { type: r.type, key: i.key, durability: i.durability, holder: r.holder };
    }));
    return { items };
  }

  async releaseManyExclusiveLocks(req: ManyExclusiveLocksRequest):
    Promise<ManyExclusiveLocksResponse> {
    const items = await Promise.all(req.items.map(async (i) => {
      const r = await this.release({ transactionId: req.transactionId, key: i.key,
        durability: i.durability }, false);
      return { type: r.type, key: i.key, durability: i.durability, holder: r.holder };
    }));
    return { items };
  }

  // ---------------------------------------------------------------- the resolver

  /** Settles prepared intents past their deadline on the partitions this node leads: the
   *  anchor's decision record decides, and a missing decision becomes Abort there first. */
  async resolve(): Promise<void> {
    if (this.resolving) return;
    this.resolving = true;
    try {
      for (let p = 1; p <= this.opts.partitions; p += 1) {
        if (this.opts.leaderOf(p) !== this.opts.nodeId) continue;
        for (const durability of [1, 0]) {
          const pending = await this.store.pending(p, { durability, limit: 64 });
          if (pending.type !== KvType.Get) continue;
          for (const item of pending.items) {
            if (this.sessions.isFinalizing(item.txId)) continue;
            const d = await this.store.decide({ txId: item.txId, anchorKey: item.anchorKey,
              decision: TxDecision.Abort });
            if (d.type !== KvType.Set || d.decision === TxDecision.None) continue;
            await this.store.finish(p, { txId: item.txId, durability,
              commit: d.decision === TxDecision.Commit, commitTs: d.at });
          }
        }
      }
    } finally {
      this.resolving = false;
    }
  }
}
