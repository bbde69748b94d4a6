// Interactive transaction sessions (issue 8; wire.md 4.4, kahuna-reference.md 5.1-5.2): the
// table of open sessions on this node (kahuna-ts sends every call of a session to the node that
// started it), operation ids so a retried call replays its first result, the finalization fence
// (commit or rollback first stops new operations and waits for those in flight), and the
// reaper of abandoned sessions. The working set and the commit protocol are transaction.ts and
// commit.ts.
import { KvType } from '../../core/api/codes.js';
import { hlcZero, type Hlc } from '../../core/api/types.js';
import type { EndTxRequest, EndTxResponse, StartTxRequest, StartTxResponse }
  from '../../core/api/tx-types.js';
import { HlcClock } from '../../core/partition/hlc-clock.js';
import { ScriptFailure } from '../../core/script/host.js';
import { commitTransaction, rollbackTransaction, settleDecision, finishCommitted }
  from './commit.js';
import { Locking, Transaction } from './transaction.js';
import type { TxStore } from './tx-store.js';

export const defaultTxTimeoutMs = 5000;
/** Pending plus completed operations remembered per session (Kahuna: 65536). */
const operationsMax = 65_536;
/** How long after its last call an idle session is rolled back: its timeout plus this. */
const reapGraceMs = 30_000;
/** Open sessions per node; past it StartTransaction answers AdmissionRefused (108): nothing
 *  was started, so the client may back off and retry (wire.md 4.4). */
export const sessionsOpenMax = 65_536;
/** How long a finished session's outcome answers a retried commit or rollback. */
const outcomeKeepMs = 120_000;

type SessionState = 'pending' | 'finalizing' | 'undecided' | 'done';

interface Session {
  readonly tx: Transaction;
  readonly coordinatorKey: string;
  readonly timeoutMs: number;
  lastUsed: number;
  state: SessionState;
  readonly operations: Map<string, Promise<unknown>>;
  readonly inFlight: Set<Promise<unknown>>;
  anchorKey: string | null;
  outcome: EndTxResponse | null;
  finishedAt: number;
}

export function txKey(id: Hlc): string {
  return `${id.n}:${id.l}:${id.c}`;
}

export function isZeroHlc(h: Hlc): boolean {
  return h.n === 0 && h.l === 0 && h.c === 0;
}

export interface SessionTableOptions {
  readonly nodeId: number;
  readonly store: TxStore;
  readonly decisionTimeoutMs: number;
  /** Wall clock in ms (tests may inject). */
  readonly clock?: () => number;
}

export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  private readonly hlc: HlcClock;
  private readonly wall: () => number;
  /** Sessions in the table whose outcome is kept (state 'done'). */
  private finished = 0;

  constructor(private readonly opts: SessionTableOptions) {
    this.hlc = new HlcClock(opts.nodeId);
    this.wall = opts.clock ?? Date.now;
  }

  /** A fresh, unique, non-zero transaction id. */
  newId(): Hlc {
    return this.hlc.now(this.wall());
  }

  /** The HLC now (scripts' current_time()). */
  now(): Hlc {
    return this.hlc.now(this.wall());
  }

  /** A pending session with this transaction id. */
  has(id: Hlc): boolean {
    return this.sessions.get(txKey(id))?.state === 'pending';
  }

  /** Transaction ids being finalized here (the resolver leaves them to their coordinator). */
  isFinalizing(id: Hlc): boolean {
    const s = this.sessions.get(txKey(id));
    return s !== undefined && (s.state === 'finalizing');
  }

  start(req: StartTxRequest): StartTxResponse {
    const bad = { type: KvType.InvalidInput, transactionId: hlcZero };
    if (req.coordinatorKey === '' || !Number.isInteger(req.timeout) || req.timeout < 0) return bad;
    if (req.lockingType !== Locking.Pessimistic && req.lockingType !== Locking.Optimistic) {
      return bad;
    }
    if (!isZeroHlc(req.readTimestamp) && req.readValidation === 1) return bad;
    if (this.openCount() >= sessionsOpenMax) {
      return { type: KvType.AdmissionRefused, transactionId: hlcZero };
    }
    const id = this.newId();
    const timeoutMs = req.timeout === 0 ? defaultTxTimeoutMs : req.timeout;
    const tx = new Transaction(id, {
      locking: req.lockingType, leaseMs: Math.max(timeoutMs, defaultTxTimeoutMs),
      snapshot: req.readTimestamp,
    }, this.opts.store);
    this.sessions.set(txKey(id), {
      tx, coordinatorKey: req.coordinatorKey, timeoutMs, lastUsed: this.wall(),
      state: 'pending', operations: new Map(), inFlight: new Set(), anchorKey: null,
      outcome: null, finishedAt: 0,
    });
    return { type: KvType.Set, transactionId: id };
  }

  /** Runs one operation of a session: `errored` when there is no pending session with that id;
   *  a repeated operation id answers the first call's result. */
  async operate<T>(id: Hlc, opHigh: number, opLow: number, run: (tx: Transaction) => Promise<T>,
    failed: (code: number, reason: string) => T): Promise<T> {
    const s = this.sessions.get(txKey(id));
    if (s === undefined || s.state !== 'pending') {
      return failed(KvType.Errored, 'Cannot perform actions on a completed transaction.');
    }
    s.lastUsed = this.wall();
    const opId = opHigh === 0 && opLow === 0 ? null : `${opHigh}:${opLow}`;
    if (opId !== null) {
      const earlier = s.operations.get(opId);
      if (earlier !== undefined) return earlier as Promise<T>;
      if (s.operations.size >= operationsMax) {
        return failed(KvType.MustRetry, 'too many operations in this transaction');
      }
    }
    const p = run(s.tx).catch((e: unknown) => {
      if (e instanceof ScriptFailure) return failed(e.code, e.reason);
      return failed(KvType.Errored, e instanceof Error ? e.message : String(e));
    });
    if (opId !== null) s.operations.set(opId, p);
    s.inFlight.add(p);
    void p.finally(() => s.inFlight.delete(p));
    return p;
  }

  async commit(req: EndTxRequest): Promise<EndTxResponse> {
    return this.finalize(req, true);
  }

  async rollback(req: EndTxRequest): Promise<EndTxResponse> {
    return this.finalize(req, false);
  }

  private async finalize(req: EndTxRequest, commit: boolean): Promise<EndTxResponse> {
    if (req.coordinatorKey === '') return { type: KvType.InvalidInput, recordAnchorKey: null };
    const s = this.sessions.get(txKey(req.transactionId));
    if (s === undefined) return { type: KvType.Errored, recordAnchorKey: null };
    if (s.outcome !== null) return s.outcome;
    if (s.state === 'finalizing') return { type: KvType.MustRetry, recordAnchorKey: s.anchorKey };
    const undecided = s.state === 'undecided';
    s.state = 'finalizing';
    await Promise.allSettled([...s.inFlight]);
    let res: EndTxResponse;
    if (undecided && s.anchorKey !== null) {
      res = await this.resettle(s, commit);
    } else if (commit) {
      const out = await commitTransaction(s.tx, this.opts.store,
        { decisionTimeoutMs: this.opts.decisionTimeoutMs });
      s.anchorKey = out.anchorKey;
      res = { type: out.type, recordAnchorKey: out.anchorKey };
    } else {
      await rollbackTransaction(s.tx, this.opts.store);
      res = { type: KvType.RolledBack, recordAnchorKey: null };
    }
    if (res.type === KvType.MustRetry) {
      s.state = 'undecided';
      return res;
    }
    s.state = 'done';
    s.outcome = res;
    s.finishedAt = this.wall();
    this.finished += 1;
    return res;
  }

  /** A retried commit or rollback whose earlier commit left the decision unknown. */
  private async resettle(s: Session, commit: boolean): Promise<EndTxResponse> {
    const anchorKey = s.anchorKey!;
    const { decision, at } = await settleDecision(this.opts.store, s.tx, anchorKey);
    if (decision !== 0) s.tx.undecided = false;
    if (decision === 1) {
      await finishCommitted(s.tx, this.opts.store, at);
      return { type: commit ? KvType.Committed : KvType.Aborted, recordAnchorKey: anchorKey };
    }
    if (decision === 2) {
      await rollbackTransaction(s.tx, this.opts.store);
      return { type: commit ? KvType.Aborted : KvType.RolledBack, recordAnchorKey: anchorKey };
    }
    return { type: KvType.MustRetry, recordAnchorKey: anchorKey };
  }

  /** Rolls back sessions idle past their timeout plus a grace, and forgets old outcomes. */
  async reap(): Promise<void> {
    const now = this.wall();
    const stale: Session[] = [];
    for (const [id, s] of this.sessions) {
      if (s.state === 'done') {
        if (now - s.finishedAt > outcomeKeepMs) {
          this.sessions.delete(id);
          this.finished -= 1;
        }
      } else if (s.state === 'undecided' && now - s.lastUsed > outcomeKeepMs) {
        // Its participants are the resolver's; the session itself is of no more use.
        this.sessions.delete(id);
      } else if ((s.state === 'pending' || s.state === 'undecided') &&
        now - s.lastUsed > Math.max(s.timeoutMs, defaultTxTimeoutMs) + reapGraceMs) {
        stale.push(s);
      }
    }
    await Promise.all(stale.map((s) => this.rollback({ coordinatorKey: s.coordinatorKey,
      transactionId: s.tx.id, recordAnchorKey: null })));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Sessions not yet finished (pending, finalizing or undecided). */
  private openCount(): number {
    return this.sessions.size - this.finished;
  }
}
