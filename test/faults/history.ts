// The history a fault-injection run records (issue 7) and every checker reads. One Op per
// client call: invoked at `invokeMs`, completed at `completeMs` (monotonic ms since the run
// started, performance.now() based) with an outcome:
//   'ok'   the call took effect and `result` is what the server answered;
//   'fail' the call certainly did not take effect (the server said so: e.g. a lock Busy, a CAS
//          that did not match is 'ok' with result false, not 'fail');
//   'info' unknown: a timeout, a dropped connection, MustRetry (Kahuna's MustRetry means the
//          node could not decide; a forwarded write may still have been applied). An 'info'
//          op may or may not have happened, at any time after its invocation.
// `completeMs` is null when the run ended (or the client gave up) without an answer; such an op
// is 'info'.

export type Outcome = 'ok' | 'fail' | 'info';

export interface Op<F extends string = string, V = unknown, R = unknown> {
  /** The client (a logical process: one call at a time). */
  readonly process: number;
  readonly f: F;
  /** The register, lock resource, sequence or key the op is about. */
  readonly key: string;
  readonly value: V;
  readonly invokeMs: number;
  completeMs: number | null;
  outcome: Outcome;
  result: R | null;
  /** Which node the client called (diagnostics). */
  readonly node: number;
}

// --- register workload: get, set and compare-and-set on a few keys -------------------------
/** read: value null; write: the new value; cas: [expected, new]. Values are strings.
 *  read result: the value (null = absent). write result: null. cas result: true if it set. */
export type RegisterOp =
  | Op<'read', null, string | null>
  | Op<'write', string, null>
  | Op<'cas', readonly [string, string], boolean>;

// --- lock workload: a persistent lock per resource, a fenced resource written under it ------
/** acquire: value = owner; result { token } (ok) — 'fail' when the lock was busy.
 *  release: value = owner; result null. extend: value = owner; result { token }.
 *  fencedWrite: value { owner, token, data }: a write to the fenced resource (a register that
 *  only accepts tokens >= the highest it has seen; Honu: a CAS loop on a KV key holding the
 *  highest token); result { accepted: boolean }.
 *  Each acquire's lease is `leaseMs` long from its invocation (the checker may only assume
 *  exclusion while a lease is certainly valid: from the acquire's completion until
 *  invoke + leaseMs, minus clock slack). */
export interface LockAcquire { readonly owner: string; readonly leaseMs: number }
export type LockOp =
  | Op<'acquire', LockAcquire, { readonly token: number }>
  | Op<'extend', LockAcquire, { readonly token: number }>
  | Op<'release', { readonly owner: string }, null>
  | Op<'fencedWrite', { readonly owner: string; readonly token: number; readonly data: string },
    { readonly accepted: boolean }>;

// --- sequencer workload ----------------------------------------------------------------------
/** reserve: value { count, idempotencyKey | null }; result { start, end } (inclusive start,
 *  exclusive end: the values handed out are start..end-1). A replay with the same
 *  idempotency key must return the same allocation. */
export type SequencerOp = Op<'reserve',
  { readonly count: number; readonly idempotencyKey: string | null },
  { readonly start: number; readonly end: number }>;

// --- durability workload ---------------------------------------------------------------------
/** write: value = data (unique per key); result null. After the full-cluster crash, `final`
 *  reads: one per key, value null, result the data read (null = absent). */
export type DurabilityOp =
  | Op<'write', string, null>
  | Op<'final', null, string | null>;

// --- bank workload (issue 8): transfers between accounts in transaction scripts ---------------
/** init: the opening balances the workload's setup wrote (one op, recorded when the clock
 *  starts; value = every account's balance, result null). transfer: value { from, to, amount };
 *  result { applied }: true when it moved the money, false when refused for insufficient funds
 *  (a 'fail' transfer was aborted: nothing moved). read: every account read in ONE transaction
 *  script, value { locking }, result the balances (null: the account was absent). final: the
 *  same read after the faults healed, retried until answered. Every op's key is "bank". */
export interface BankTransfer {
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}
export type BankBalances = Readonly<Record<string, number | null>>;
export type BankOp =
  | Op<'init', BankBalances, null>
  | Op<'transfer', BankTransfer, { readonly applied: boolean }>
  | Op<'read' | 'final', { readonly locking: 'pessimistic' | 'optimistic' }, BankBalances>;

/** A checker's verdict. `window` is the smallest part of the history that shows the problem
 *  (the ops a human needs to see), empty when valid. */
export interface Verdict {
  readonly valid: boolean;
  readonly checker: string;
  /** One line per problem found (the first few). */
  readonly problems: readonly string[];
  readonly window: readonly Op[];
}
