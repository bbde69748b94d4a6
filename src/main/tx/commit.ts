// Committing a transaction's working set (issue 8; kahuna-reference.md 5.1), each step through
// the participant partition's Raft log for persistent state:
// - one participant: one prepare that applies at once (one phase);
// - several: prepare every participant but the anchor (write intents pin their keys), then the
//   anchor's one-phase step, which applies its own writes and records the decision Commit in one
//   entry; that entry is the commit point. Then finish the others. A failed prepare aborts all.
// A coordinator that dies mid-way leaves prepared intents; the resolver (resolver.ts) settles
// each from the anchor's decision record after its deadline, writing Abort there when no
// decision was made, so the anchor can never commit afterwards.
// Rollback releases every lock and intent the transaction holds.
import { KvType } from '../../core/api/codes.js';
import { hlcZero, type Hlc } from '../../core/api/types.js';
import { TxDecision, type TxPrepareResponse } from '../../core/api/tx-types.js';
import { compareHlc, maxHlc } from '../../core/state/hlc.js';
import type { Participant, Transaction } from './transaction.js';
import type { TxStore } from './tx-store.js';

export interface CommitOutcome {
  /** Committed (8), Aborted (102), MustRetry (101: undecided, settle later). */
  readonly type: number;
  readonly reason: string;
  /** The key of the decision record (multi-participant commits), else null. */
  readonly anchorKey: string | null;
}

export interface CommitOptions {
  /** How long a prepared intent waits for its coordinator before a resolver decides it. */
  readonly decisionTimeoutMs: number;
}

export async function commitTransaction(tx: Transaction, store: TxStore,
  opts: CommitOptions): Promise<CommitOutcome> {
  if (tx.leaseLapsed(Date.now())) {
    await rollbackTransaction(tx, store);
    return { type: KvType.Aborted, reason: 'Transaction aborted by timeout', anchorKey: null };
  }
  const groups = [...tx.participants().values()];
  const writing = groups.filter((g) => g.mutations.length > 0);
  if (writing.length === 0) {
    // Read-only: validate what optimistic reads saw (each partition's check applies at once),
    // then release the locks.
    const checks = await Promise.all(groups.map((g) => prepare(store, tx, g,
      { onePhase: true, anchorKey: '', recordDecision: false }, opts)));
    const failed = checks.find((r) => r.type !== KvType.Committed);
    if (failed !== undefined) return abortAll(tx, store, failed, null);
    await release(tx, store, new Set());
    return { type: KvType.Committed, reason: '', anchorKey: null };
  }
  if (groups.length === 1) {
    // One participant: its one-phase step is the commit point. Persistent, it also records the
    // decision, so a step whose answer was lost can be settled (and a retry applies nothing).
    const g = groups[0]!;
    const durable = g.durability === 1;
    const anchorKey = g.mutations[0]!.key;
    const res = await prepare(store, tx, g, { onePhase: true, anchorKey: durable ? anchorKey : '',
      recordDecision: durable }, opts);
    if (res.type === KvType.Committed) {
      await release(tx, store, new Set([idOf(g)]));
      return { type: KvType.Committed, reason: '', anchorKey: durable ? anchorKey : null };
    }
    if (res.type !== KvType.MustRetry || !durable) return abortAll(tx, store, res, null);
    const { decision } = await settleDecision(store, tx, anchorKey);
    if (decision === TxDecision.Commit) {
      await release(tx, store, new Set());
      return { type: KvType.Committed, reason: '', anchorKey };
    }
    if (decision === TxDecision.Abort) return abortAll(tx, store, res, anchorKey);
    return undecided(tx, anchorKey);
  }
  // Several participants. The anchor: the first persistent participant with writes; with
  // ephemeral writes only, a persistent decision record at the first written key's partition.
  const anchorGroup = writing.find((g) => g.durability === 1) ?? null;
  const anchorKey = (anchorGroup ?? writing[0]!).mutations[0]!.key;
  const others = groups.filter((g) => g !== anchorGroup);
  const prepared = await Promise.all(others.map((g) => prepare(store, tx, g,
    { onePhase: false, anchorKey, recordDecision: false }, opts)));
  const failed = prepared.find((r) => r.type !== KvType.Prepared);
  if (failed !== undefined) return abortAll(tx, store, failed, anchorKey);
  // One commit timestamp for every participant: no earlier than any prepare, so each pinned
  // key's history stays in order, and a snapshot read sees all of the transaction or none.
  const latestPrepare = prepared.reduce((m, r) => maxHlc(m, r.at), hlcZero);

  let settled: { decision: number; at: Hlc };
  if (anchorGroup !== null) {
    const res = await prepare(store, tx, anchorGroup, { onePhase: true, anchorKey,
      recordDecision: true }, opts, latestPrepare);
    if (res.type === KvType.Committed) settled = { decision: TxDecision.Commit, at: res.at };
    else if (res.type === KvType.Aborted || res.type === KvType.InvalidInput) {
      return abortAll(tx, store, res, anchorKey);
    } else settled = await settleDecision(store, tx, anchorKey);
  } else {
    const res = await store.decide({ txId: tx.id, anchorKey, decision: TxDecision.Commit });
    settled = res.type === KvType.Set ? { decision: res.decision, at: res.at }
      : await settleDecision(store, tx, anchorKey);
    settled = { ...settled, at: maxHlc(settled.at, latestPrepare) };
  }
  const decision = settled.decision;
  if (decision === TxDecision.Abort) {
    return abortAll(tx, store, { type: KvType.Aborted, reason: 'Transaction aborted', items: [],
      conflictTx: hlcZero, conflictAnchor: '', at: hlcZero }, anchorKey);
  }
  if (decision === TxDecision.None) {
    // Unknown: the anchor may have committed. The resolver settles it; the client retries.
    return undecided(tx, anchorKey);
  }
  await Promise.all(others.map((g) => store.finish(g.partition,
    { txId: tx.id, durability: g.durability, commit: true, commitTs: settled.at })));
  const done = new Set(groups.map(idOf));
  await release(tx, store, done);
  return { type: KvType.Committed, reason: '', anchorKey };
}

/** The outcome is unknown: the anchor may have committed. MustRetry with the anchor key, and
 *  the transaction marked so that a rollback leaves its prepared participants alone. */
function undecided(tx: Transaction, anchorKey: string): CommitOutcome {
  tx.undecided = true;
  return { type: KvType.MustRetry, reason: 'the commit decision is not known yet', anchorKey };
}

/** The recorded decision and when it was recorded (a Commit's commit timestamp), writing
 *  Abort when there is none (so nothing commits later); None when no answer came. */
export async function settleDecision(store: TxStore, tx: Transaction, anchorKey: string):
  Promise<{ decision: number; at: Hlc }> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const res = await store.decide({ txId: tx.id, anchorKey, decision: TxDecision.Abort });
    if (res.type === KvType.Set) return { decision: res.decision, at: res.at };
    await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
  }
  return { decision: TxDecision.None, at: hlcZero };
}

/** After a Commit decision learned late: finish every participant (the anchor's own step
 *  applied already; finishing it again only releases its locks). */
export async function finishCommitted(tx: Transaction, store: TxStore, commitTs: Hlc):
  Promise<void> {
  const groups = [...tx.participants().values()];
  await Promise.all(groups.map((g) => store.finish(g.partition,
    { txId: tx.id, durability: g.durability, commit: true, commitTs })));
  await release(tx, store, new Set(groups.map(idOf)));
}

function idOf(p: { partition: number; durability: number }): string {
  return `${p.partition}:${p.durability}`;
}

/** A prepare step. When it meets a younger transaction's prepared read check on a key it
 *  writes, it wounds that transaction (records Abort at its anchor, so it can never commit) and
 *  tries again past it; an older reader wins and this transaction aborts. Without this, two
 *  optimistic transactions with crossing read and write sets would both abort every time. */
async function prepare(store: TxStore, tx: Transaction, g: Participant,
  step: { onePhase: boolean; anchorKey: string; recordDecision: boolean },
  opts: CommitOptions, commitTs: Hlc = hlcZero): Promise<TxPrepareResponse> {
  const wounded: { txId: Hlc }[] = [];
  for (;;) {
    const res = await store.prepare(g.partition, { txId: tx.id, durability: g.durability,
      ...step, decisionTimeoutMs: opts.decisionTimeoutMs, mutations: g.mutations,
      reads: g.reads, wounded, commitTs });
    if (res.type !== KvType.Aborted || res.conflictAnchor === '' ||
      compareHlc(tx.id, res.conflictTx) >= 0 || wounded.length >= woundsMax) return res;
    const d = await store.decide({ txId: res.conflictTx, anchorKey: res.conflictAnchor,
      decision: TxDecision.Abort });
    if (d.type !== KvType.Set || d.decision !== TxDecision.Abort) return res;
    wounded.push({ txId: res.conflictTx });
  }
}

const woundsMax = 16;

async function abortAll(tx: Transaction, store: TxStore, res: TxPrepareResponse,
  anchorKey: string | null): Promise<CommitOutcome> {
  await rollbackTransaction(tx, store);
  const reason = res.type === KvType.MustRetry ? 'Transaction aborted: a participant could not '
    + 'prepare' : res.reason === '' ? 'Transaction aborted' : res.reason;
  return { type: KvType.Aborted, reason, anchorKey };
}

/** Releases the locks on participants not already finished (`done`). Best effort: a lease
 *  that is not released expires by itself. */
async function release(tx: Transaction, store: TxStore, done: ReadonlySet<string>):
  Promise<void> {
  await Promise.all(tx.lockedParticipants().filter((p) => !done.has(idOf(p))).map((p) =>
    store.finish(p.partition, { txId: tx.id, durability: p.durability, commit: false,
      commitTs: hlcZero })));
}

/** Drops every intent and lock of the transaction (never throws). After an undecided commit
 *  only the partitions it merely locked are released: the prepared ones wait for the resolver
 *  (rolling them back could break a transaction that did commit at its anchor). */
export async function rollbackTransaction(tx: Transaction, store: TxStore): Promise<void> {
  const targets = new Map<string, { partition: number; durability: number }>();
  for (const p of tx.lockedParticipants()) targets.set(idOf(p), p);
  for (const g of tx.participants().values()) {
    if (tx.undecided) targets.delete(idOf(g));
    else targets.set(idOf(g), g);
  }
  await Promise.all([...targets.values()].map((p) => store.finish(p.partition,
    { txId: tx.id, durability: p.durability, commit: false, commitTs: hlcZero })
    .catch(() => undefined)));
}
