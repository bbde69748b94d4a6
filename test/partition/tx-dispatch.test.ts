// The transaction ops at the partition boundary: every request and response shape of ops
// 50-56 round-trips through the ring codec, dispatch routes each to KahunaState, the results
// and the Errored shapes encode with the op's response schema, and TxDecide is persistent.
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { TxDecision, TxMutationKind } from '../../src/core/api/tx-types.js';
import {
  dispatchRead, dispatchWrite, durabilityOf, erroredResponse, isReadOp,
} from '../../src/core/partition/dispatch.js';
import { KahunaState } from '../../src/core/state/kahuna-state-impl.js';
import { decode, encode } from '../../src/ipc/messages/codec.js';
import { KahunaOp, opCodecs, type KahunaOpValue } from '../../src/ipc/messages/kahuna.js';

const hlc = { n: 3, l: 1_700_000_000_123, c: 9 };
const zero = { n: 0, l: 0, c: 0 };
const now = { n: 1, l: 1_700_000_000_500, c: 0 };
const item = { type: KvType.Set, revision: 4, lastModified: hlc, key: 'a/k', durability: 1 };

const requests: Record<number, unknown> = {
  [KahunaOp.TxLock]: { txId: hlc, key: 'a/k', expiresMs: 5000, durability: 1, prefix: false },
  [KahunaOp.TxUnlock]: { txId: hlc, key: 'a', durability: 0, prefix: true },
  [KahunaOp.TxRead]: { txId: hlc, key: 'a/k', revision: -1, readTimestamp: zero,
    durability: 1 },
  [KahunaOp.TxPrepare]: { txId: hlc, durability: 1, onePhase: false, anchorKey: 'a/k',
    decisionTimeoutMs: 5000, recordDecision: false, mutations: [
      { key: 'a/k', kind: TxMutationKind.Set, value: Uint8Array.of(1, 2), flags: 1,
        expiresMs: 0, baseRevision: -1 },
      { key: 'a/e', kind: TxMutationKind.Set, value: new Uint8Array(0), flags: 2,
        expiresMs: 10, baseRevision: 3 },
      { key: 'a/d', kind: TxMutationKind.Delete, value: null, flags: 0, expiresMs: 0,
        baseRevision: 7 }],
    reads: [{ key: 'r/1', lastRevision: -1 }, { key: 'r/2', lastRevision: 12 }],
    wounded: [{ txId: { n: 2, l: 9, c: 1 } }], commitTs: hlc },
  [KahunaOp.TxFinish]: { txId: hlc, durability: 1, commit: true, commitTs: zero },
  [KahunaOp.TxDecide]: { txId: hlc, anchorKey: 'a/k', decision: TxDecision.Abort },
  [KahunaOp.TxPending]: { durability: 1, limit: 10 },
  [KahunaOp.TxLockRead]: { txId: hlc, key: 'a/k', expiresMs: 5000, durability: 1,
    prefix: false },
};

const responses: Record<number, unknown> = {
  [KahunaOp.TxLock]: { type: KvType.AlreadyLocked, holder: hlc },
  [KahunaOp.TxUnlock]: { type: KvType.Unlocked, holder: zero },
  [KahunaOp.TxRead]: { type: KvType.Get, value: null, revision: 2, expires: zero,
    lastModified: hlc, lastRevision: 3 },
  [KahunaOp.TxPrepare]: { type: KvType.Committed, reason: 'ключ a/k', items: [item, item],
    conflictTx: hlc, conflictAnchor: 'b/k', at: now },
  [KahunaOp.TxFinish]: { type: KvType.Committed, items: [item] },
  [KahunaOp.TxDecide]: { type: KvType.Set, decision: TxDecision.Commit, at: now },
  [KahunaOp.TxPending]: { type: KvType.Get, items: [{ txId: hlc, anchorKey: 'a/k',
    deadline: now }] },
  [KahunaOp.TxLockRead]: { type: KvType.Get, value: Uint8Array.of(7), revision: 2,
    expires: zero, lastModified: hlc, lastRevision: 3, holder: zero },
};

/** The prepare of `requests`, every key new (so it prepares instead of aborting). */
const freshPrepare = { ...(requests[KahunaOp.TxPrepare] as object), mutations: [
  { key: 'a/k', kind: TxMutationKind.Set, value: Uint8Array.of(1, 2), flags: 1, expiresMs: 0,
    baseRevision: -1 }], reads: [{ key: 'r/1', lastRevision: -1 }] };

const txOps: KahunaOpValue[] = [KahunaOp.TxLock, KahunaOp.TxUnlock, KahunaOp.TxRead,
  KahunaOp.TxPrepare, KahunaOp.TxFinish, KahunaOp.TxDecide, KahunaOp.TxPending];

const roundTrip = (schema: (typeof opCodecs)[KahunaOpValue]['request'], value: unknown) =>
  decode(schema, encode(schema, value));

describe('transaction ops at the partition boundary', () => {
  it('every request and response shape round-trips through the ring codec', () => {
    for (const op of txOps) {
      const codec = opCodecs[op];
      expect(roundTrip(codec.request, requests[op])).toEqual(requests[op]);
      expect(roundTrip(codec.response, responses[op])).toEqual(responses[op]);
    }
  });

  it('dispatch runs each op on the state; answers and Errored shapes encode', () => {
    const s = new KahunaState({ partition: 1 });
    for (const op of txOps) {
      const codec = opCodecs[op];
      expect(isReadOp(op)).toBe(!codec.write);
      const req = roundTrip(codec.request,
        op === KahunaOp.TxPrepare ? freshPrepare : requests[op]);
      const res = isReadOp(op) ? dispatchRead(s, op, req, now) : dispatchWrite(s, op, req, now);
      expect((res as { type: number }).type).not.toBe(KvType.Errored);
      expect(roundTrip(codec.response, res)).toEqual(res);
      const errored = erroredResponse(op);
      expect(roundTrip(codec.response, errored)).toEqual(errored);
      expect((errored as { type: number }).type).toBe(KvType.Errored);
    }
    // The prepare above stored an intent; the finish committed it.
    expect(s.kvGet({ txId: zero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0,
      key: 'a/k', revision: -1, readTimestamp: zero, durability: 1 }, now)).toMatchObject({
      type: KvType.Get, value: Uint8Array.of(1, 2), revision: 0 });
  });

  it('routes by durability; decision records are always persistent', () => {
    expect(durabilityOf(KahunaOp.TxDecide, requests[KahunaOp.TxDecide])).toBe(1);
    expect(durabilityOf(KahunaOp.TxUnlock, requests[KahunaOp.TxUnlock])).toBe(0);
    expect(durabilityOf(KahunaOp.TxPrepare, requests[KahunaOp.TxPrepare])).toBe(1);
  });
});
