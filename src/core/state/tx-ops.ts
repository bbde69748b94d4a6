// The transactional operations that touch key/values (issue 8, src/core/api/tx-types.ts):
// TxRead, TxPrepare (validation, then a one-phase commit or a prepared intent) and TxFinish.
// Mutations are applied through the KvStore's own set / delete / extend paths (after their
// checks, past the guard), so revisions, tombstones, history, NOREV, TTLs, dirty tracking and
// records are exactly those of plain writes. Pure and deterministic.
import { KvFlags, KvType } from '../api/codes.js';
import {
  TxDecision, TxMutationKind, type TxFinishRequest, type TxFinishResponse, type TxMutation,
  type TxPrepareRequest, type TxPrepareResponse, type TxReadRequest, type TxReadResponse,
} from '../api/tx-types.js';
import { hlcZero, type Hlc, type KvWriteItem, type KvWriteResponse } from '../api/types.js';
import { compareHlc, copyHlc, hlcIsZero } from './hlc.js';
import { isBadExpiresMs, isBadKey, type KvStore } from './kv-store.js';
import { txDecisionTimeoutMsMax, txPrepareKeysMax } from './state-limits.js';
import { bucketOf, txKeyOf, type TxIntent } from './tx-records.js';
import type { TxTable } from './tx-table.js';

const kindsKnown: ReadonlySet<number> = new Set(Object.values(TxMutationKind));

function readFail(type: number): TxReadResponse {
  return { type, value: null, revision: 0, expires: hlcZero, lastModified: hlcZero,
    lastRevision: -1 };
}

/** A point read inside a transaction: as KvGet, plus the key's lastRevision. */
export function txRead(table: TxTable, kv: KvStore, req: TxReadRequest, now: Hlc):
  TxReadResponse {
  if (isBadKey(req.key) || !Number.isSafeInteger(req.revision) || req.revision < -1) {
    return readFail(KvType.InvalidInput);
  }
  if (req.revision >= 0 && !hlcIsZero(req.readTimestamp)) return readFail(KvType.Errored);
  const bucket = bucketOf(req.key);
  if (bucket !== null && table.prefixHolder(bucket, txKeyOf(req.txId), now) !== null) {
    return readFail(KvType.MustRetry);
  }
  // A snapshot read of a key under another transaction's intent waits (see snapshotBlocked).
  if (!hlcIsZero(req.readTimestamp) && table.writeIntentOf(req.key, txKeyOf(req.txId)) !== null) {
    return readFail(KvType.MustRetry);
  }
  const r = kv.readValid(req, now, true);
  return {
    type: r.type, value: r.value, revision: r.revision, expires: r.expires,
    lastModified: r.lastModified, lastRevision: kv.lastRevision(req.key),
  };
}

function prepareAnswer(type: number, reason = '', items: readonly KvWriteItem[] = [],
  conflict: { txId: Hlc; anchorKey: string } | null = null, at: Hlc = hlcZero):
  TxPrepareResponse {
  return { type, reason, items, conflictTx: conflict?.txId ?? hlcZero,
    conflictAnchor: conflict?.anchorKey ?? '', at };
}

/** The later of `now` and a non-zero `ts`. */
function stampOf(now: Hlc, ts: Hlc | undefined): Hlc {
  return ts === undefined || hlcIsZero(ts) || compareHlc(now, ts) >= 0 ? now : copyHlc(ts);
}

/** Why a prepare is malformed (InvalidInput), or null. */
function prepareInputError(req: TxPrepareRequest): string | null {
  if (req.mutations.length + req.reads.length > txPrepareKeysMax) {
    return `more than ${txPrepareKeysMax} mutations and reads`;
  }
  const ms = req.decisionTimeoutMs;
  if (!Number.isInteger(ms) || ms < 0 || ms > txDecisionTimeoutMsMax) {
    return 'bad decisionTimeoutMs';
  }
  if (req.recordDecision && !req.onePhase) return 'recordDecision needs onePhase';
  for (const m of req.mutations) {
    if (isBadKey(m.key)) return `bad key ${JSON.stringify(m.key)}`;
    if (!kindsKnown.has(m.kind)) return `unknown mutation kind ${m.kind} of ${m.key}`;
    if (isBadExpiresMs(m.expiresMs)) return `bad expiresMs of ${m.key}`;
    if (!Number.isSafeInteger(m.flags) || m.flags < 0) return `bad flags of ${m.key}`;
    if (!Number.isSafeInteger(m.baseRevision) || m.baseRevision < -1) {
      return `bad baseRevision of ${m.key}`;
    }
  }
  for (const r of req.reads) {
    if (isBadKey(r.key)) return `bad read key ${JSON.stringify(r.key)}`;
  }
  return null;
}

interface Conflict {
  readonly reason: string;
  /** Another transaction's prepared read check on a mutated key (the coordinator may wound). */
  readonly reader?: { txId: Hlc; anchorKey: string };
}

/** Why the prepare must abort (a foreign lock or intent, a changed revision), or null. */
function prepareConflict(table: TxTable, kv: KvStore, req: TxPrepareRequest, now: Hlc):
  Conflict | null {
  const txKey = txKeyOf(req.txId);
  const wounded = new Set((req.wounded ?? []).map((w) => txKeyOf(w.txId)));
  for (const m of req.mutations) {
    if (table.coverOf(m.key, txKey, now, false) !== null) {
      return { reason: `key ${m.key} is locked by another transaction` };
    }
    const reader = table.readIntentOf(m.key, txKey, wounded);
    if (reader !== null) {
      return { reason: `key ${m.key} was read by another prepared transaction`, reader };
    }
    const last = kv.lastRevision(m.key);
    if (last !== m.baseRevision) {
      return { reason: `key ${m.key} changed (revision ${last}, expected ${m.baseRevision})` };
    }
  }
  for (const r of req.reads) {
    // Kahuna validates read revisions and concurrent WRITE intents; another transaction's
    // plain lock on a key this one only read is no conflict (it may never write).
    if (table.writeIntentOf(r.key, txKey) !== null) {
      return { reason: `read key ${r.key} has another transaction's write intent` };
    }
    const last = kv.lastRevision(r.key);
    if (last !== r.lastRevision) {
      return { reason: `read key ${r.key} changed (revision ${last}, read ${r.lastRevision})` };
    }
  }
  return null;
}

/** Prepare this partition's part: Aborted and nothing changed when a check fails; else a
 *  one-phase commit (Committed) or a stored intent (Prepared). */
export function txPrepare(table: TxTable, kv: KvStore, req: TxPrepareRequest, now: Hlc):
  TxPrepareResponse {
  if (hlcIsZero(req.txId)) return prepareAnswer(KvType.Errored, 'zero txId');
  const bad = prepareInputError(req);
  if (bad !== null) return prepareAnswer(KvType.InvalidInput, bad);
  table.sweep(now);
  const decided = table.decisionOf(req.txId);
  if (decided === TxDecision.Abort) return prepareAnswer(KvType.Aborted, 'transaction aborted');
  // A retry: the intent is there already, or the one-phase step committed and recorded it.
  if (table.intentOf(req.txId) !== undefined) return prepareAnswer(KvType.Prepared);
  if (decided === TxDecision.Commit && req.onePhase) return prepareAnswer(KvType.Committed);
  const conflict = prepareConflict(table, kv, req, now);
  if (conflict !== null) {
    return prepareAnswer(KvType.Aborted, conflict.reason, [], conflict.reader ?? null);
  }
  if (!req.onePhase) {
    table.addIntent(intentOf(req, now));
    return prepareAnswer(KvType.Prepared, '', [], null, now);
  }
  const stamp = stampOf(now, req.commitTs);
  const items = applyMutations(kv, req.mutations, req.durability, stamp);
  if (req.recordDecision) table.record(req.txId, TxDecision.Commit, stamp);
  table.releaseLocks(req.txId);
  return prepareAnswer(KvType.Committed, '', items, null, stamp);
}

function intentOf(req: TxPrepareRequest, now: Hlc): TxIntent {
  const deadline = { n: now.n, l: now.l + req.decisionTimeoutMs, c: now.c };
  const mutations = req.mutations.map((m) => ({
    key: m.key, kind: m.kind, value: m.value === null ? null : m.value.slice(), flags: m.flags,
    expiresMs: m.expiresMs, baseRevision: m.baseRevision,
  }));
  return { txId: copyHlc(req.txId), anchorKey: req.anchorKey, deadline, mutations,
    reads: req.reads.map((r) => r.key) };
}

/** Commit applies the intent's mutations at `now` and releases the transaction's locks; abort
 *  drops the intent and the locks. */
export function txFinish(table: TxTable, kv: KvStore, req: TxFinishRequest, now: Hlc):
  TxFinishResponse {
  if (hlcIsZero(req.txId)) return { type: KvType.Errored, items: [] };
  table.sweep(now);
  const intent = table.intentOf(req.txId);
  table.dropIntent(req.txId);
  // Exactly the commit timestamp (not the later of it and now): every participant's writes of
  // one transaction carry the same stamp. The key was pinned since its prepare, whose HLC is
  // below the commit timestamp, so its history stays in order.
  const stamp = req.commitTs === undefined || hlcIsZero(req.commitTs) ? now
    : copyHlc(req.commitTs);
  const items = req.commit && intent !== undefined ?
    applyMutations(kv, intent.mutations, req.durability, stamp) : [];
  table.releaseLocks(req.txId);
  if (!req.commit) return { type: KvType.RolledBack, items: [] };
  return { type: intent === undefined ? KvType.DoesNotExist : KvType.Committed, items };
}

function applyMutations(kv: KvStore, mutations: readonly TxMutation[], durability: number,
  now: Hlc): KvWriteItem[] {
  return mutations.map((m) => ({ ...applyMutation(kv, m, now), key: m.key, durability }));
}

/** One mutation as the plain write it stands for, without the plain write's checks: the
 *  coordinator evaluated conditions, so a set is unconditional (NOREV kept). */
function applyMutation(kv: KvStore, m: TxMutation, now: Hlc): KvWriteResponse {
  switch (m.kind) {
    case TxMutationKind.Set: {
      const flags = (m.flags & KvFlags.SetNoRevision) !== 0 ? KvFlags.SetNoRevision :
        KvFlags.Set;
      return kv.setValid({ key: m.key, value: m.value, compareValue: null, compareRevision: 0,
        flags, expiresMs: m.expiresMs }, now);
    }
    case TxMutationKind.Delete:
      return kv.deleteValid(m.key, now);
    default:
      return kv.extendValid(m.key, m.expiresMs, now);
  }
}
