// The coordinator's commit protocol (src/main/tx/commit.ts) and session table against the real
// partition-side state machine (in-process KahunaState per partition, test/tx/local-store.ts):
// one-phase and anchored two-phase commits, aborts on conflicts, lost replies at every step, and
// the resolver settling intents whose coordinator went away.
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { hlcZero, type Hlc } from '../../src/core/api/types.js';
import { TxDecision } from '../../src/core/api/tx-types.js';
import { commitTransaction, rollbackTransaction } from '../../src/main/tx/commit.js';
import { SessionTable, sessionsOpenMax } from '../../src/main/tx/sessions.js';
import { Locking, Transaction } from '../../src/main/tx/transaction.js';
import type { KahunaState } from '../../src/core/state/kahuna-state-impl.js';
import { LocalTxStore } from './local-store.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
let idCounter = 0;
const newId = (): Hlc => ({ n: 1, l: 5_000, c: (idCounter += 1) });
const opts = { decisionTimeoutMs: 5000 };

function tx(store: LocalTxStore, locking: number = Locking.Pessimistic): Transaction {
  return new Transaction(newId(), { locking, leaseMs: 5000, snapshot: hlcZero }, store);
}

const set = (t: Transaction, key: string, value: string, durability = 1) =>
  t.set({ key, value: text(value), flags: 1, compareValue: null, compareRevision: 0,
    expiresMs: 0, durability });
/** A pessimistic transaction that staged a := 'A' and b := 'B', keys on two partitions. */
async function stagedPair(tag: string): Promise<{ store: LocalTxStore; a: string; b: string;
  t: Transaction }> {
  const store = new LocalTxStore();
  const [a, b] = store.keysOnTwoPartitions(tag);
  const t = tx(store);
  await set(t, a, 'A');
  await set(t, b, 'B');
  return { store, a, b, t };
}

/** StartTransaction with the defaults kahuna-ts sends. */
const startSession = (sessions: SessionTable, coordinatorKey = 'c') => sessions.start({
  coordinatorKey, lockingType: 0, timeout: 0, asyncRelease: false, autoCommit: true,
  readValidation: 0, decisionDurability: 0, readTimestamp: hlcZero, priority: 2,
  admissionWaitMs: 0, conflictPolicy: 0 });
const get = (t: Transaction, key: string, durability = 1) =>
  t.read({ key, durability, revision: -1, asOf: hlcZero }, true);

describe('commit protocol', () => {
  it('one participant commits in one phase and the writes continue the key history', async () => {
    const store = new LocalTxStore();
    const t1 = tx(store);
    expect((await set(t1, 'acc/a', '1')).row?.revision).toBe(0);
    expect(await commitTransaction(t1, store, opts)).toMatchObject({ type: KvType.Committed });
    const t2 = tx(store);
    expect((await set(t2, 'acc/a', '2')).row?.revision).toBe(1);
    expect((await t2.delete('acc/a', 1)).type).toBe(KvType.Deleted);
    expect((await commitTransaction(t2, store, opts)).type).toBe(KvType.Committed);
    expect(store.value('acc/a')).toBeNull();
    expect(store.calls.filter((c) => c.startsWith('prepare'))).toHaveLength(2);
    // A pessimistic first touch locks and reads in one step.
    expect(store.calls.filter((c) => c.startsWith('lockRead'))).toHaveLength(2);
    expect(store.calls.filter((c) => c.startsWith('read@'))).toHaveLength(0);
  });

  it('reads its own writes; nothing is visible outside before commit', async () => {
    const store = new LocalTxStore();
    const t = tx(store);
    await set(t, 'k', 'mine');
    expect((await get(t, 'k')).row?.value).toEqual(text('mine'));
    expect(store.value('k')).toBeNull();
    await rollbackTransaction(t, store);
    expect(store.value('k')).toBeNull();
  });

  it('two partitions: prepare the other, then the anchor records Commit; all applied', async () => {
    const { store, a, b, t } = await stagedPair('x/');
    const out = await commitTransaction(t, store, opts);
    expect(out.type).toBe(KvType.Committed);
    expect(out.anchorKey).not.toBeNull();
    expect([store.value(a), store.value(b)]).toEqual(['A', 'B']);
    // The decision is on record at the anchor; a later Abort cannot replace it.
    const d = await store.decide({ txId: t.id, anchorKey: out.anchorKey!,
      decision: TxDecision.Abort });
    expect(d.decision).toBe(TxDecision.Commit);
    // Every lock is gone: another transaction takes both keys at once.
    const t2 = tx(store);
    await set(t2, a, 'A2');
    await set(t2, b, 'B2');
    expect((await commitTransaction(t2, store, opts)).type).toBe(KvType.Committed);
  });

  it('a two-partition commit stamps both sides with one commit timestamp, and a snapshot read '
    + 'of a key under an intent waits (MustRetry)', async () => {
    const { store, a, b, t } = await stagedPair('ts/');
    const groups = [...t.participants().values()];
    const pb = store.partitionOfKey(b);
    // Between the other participant's prepare and its finish, a snapshot read of its key waits.
    store.fault = (op, p) => {
      if (op === 'finish' && p === pb) {
        const snap = store.state(pb, 1).kvGet({ txId: hlcZero, coordinatorKey: '',
          operationIdHigh: 0, operationIdLow: 0, key: b, revision: -1,
          readTimestamp: { n: 0, l: 2_000_000, c: 0 }, durability: 1 }, store.now());
        expect(snap.type).toBe(KvType.MustRetry);
      }
      return 'none';
    };
    store.advance(3);
    expect((await commitTransaction(t, store, opts)).type).toBe(KvType.Committed);
    expect(groups).toHaveLength(2);
    const stamp = (key: string) => store.state(store.partitionOfKey(key), 1).kvGet({
      txId: hlcZero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0, key,
      revision: -1, readTimestamp: hlcZero, durability: 1 }, store.now()).lastModified;
    expect(stamp(a)).toEqual(stamp(b));
  });

  it('a pessimistic conflict aborts the second transaction at lock time', async () => {
    const store = new LocalTxStore();
    const t1 = tx(store);
    const t2 = tx(store);
    await set(t1, 'c/k', '1');
    await expect(set(t2, 'c/k', '2')).rejects.toMatchObject({ code: KvType.Aborted });
    expect((await commitTransaction(t1, store, opts)).type).toBe(KvType.Committed);
    expect(store.value('c/k')).toBe('1');
  });

  it('optimistic: a read that changed before commit aborts (write skew prevented)', async () => {
    const store = new LocalTxStore();
    const seed = tx(store);
    await set(seed, 'd/alice', 'true');
    await set(seed, 'd/bob', 'true');
    expect((await commitTransaction(seed, store, opts)).type).toBe(KvType.Committed);
    const t1 = tx(store, Locking.Optimistic);
    const t2 = tx(store, Locking.Optimistic);
    for (const t of [t1, t2]) {
      await get(t, 'd/alice');
      await get(t, 'd/bob');
    }
    await set(t1, 'd/alice', 'false');
    await set(t2, 'd/bob', 'false');
    const outcomes = [await commitTransaction(t1, store, opts),
      await commitTransaction(t2, store, opts)].map((o) => o.type);
    expect(outcomes.sort((x, y) => x - y)).toEqual([KvType.Committed, KvType.Aborted]);
    expect([store.value('d/alice'), store.value('d/bob')].sort()).toEqual(['false', 'true']);
  });

  /** Keys a and b (10 each) on two partitions, and two optimistic transactions that read both;
   *  the first writes a := 0, the second b := 0. */
  async function crossingPair(tag: string): Promise<{ store: LocalTxStore; a: string;
    b: string; t1: Transaction; t2: Transaction }> {
    const store = new LocalTxStore();
    const [a, b] = store.keysOnTwoPartitions(tag);
    const seed = tx(store);
    await set(seed, a, '10');
    await set(seed, b, '10');
    expect((await commitTransaction(seed, store, opts)).type).toBe(KvType.Committed);
    const t1 = tx(store, Locking.Optimistic);
    const t2 = tx(store, Locking.Optimistic);
    for (const t of [t1, t2]) {
      await get(t, a);
      await get(t, b);
    }
    await set(t1, a, '0');
    await set(t2, b, '0');
    return { store, a, b, t1, t2 };
  }

  it('optimistic across partitions: concurrent commits of crossing read/write sets never both '
    + 'commit (snapshot-isolation write skew)', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { store, a, b, t1, t2 } = await crossingPair(`sk${round}/`);
      const outcomes = (await Promise.all([commitTransaction(t1, store, opts),
        commitTransaction(t2, store, opts)])).map((o) => o.type);
      // Wound-wait: exactly one of the crossing pair commits, never both, never neither.
      expect(outcomes.filter((o) => o === KvType.Committed)).toHaveLength(1);
      expect([['0', '10'], ['10', '0']]).toContainEqual([store.value(a), store.value(b)]);
    }
  });

  it('optimistic, one after the other: the first commits (a plain lock on a key it only read '
    + 'is no conflict), the second sees its read changed', async () => {
    const { store, a, b, t1, t2 } = await crossingPair('sq/');
    expect((await commitTransaction(t1, store, opts)).type).toBe(KvType.Committed);
    expect((await commitTransaction(t2, store, opts)).type).toBe(KvType.Aborted);
    expect([store.value(a), store.value(b)]).toEqual(['0', '10']);
  });

  it('a participant that cannot prepare aborts everything and releases the locks', async () => {
    const { store, a, b, t } = await stagedPair('y/');
    store.fault = (op) => (op === 'prepare' ? 'refuse' : 'none');
    expect((await commitTransaction(t, store, opts)).type).toBe(KvType.Aborted);
    store.fault = () => 'none';
    expect([store.value(a), store.value(b)]).toEqual([null, null]);
    const t2 = tx(store);
    await set(t2, a, 'A2');
    expect((await commitTransaction(t2, store, opts)).type).toBe(KvType.Committed);
  });

  it('the anchor applied but its reply was lost: the recorded decision says Committed',
    async () => {
      const { store, a, b, t } = await stagedPair('z/');
      let prepares = 0;
      store.fault = (op) => (op === 'prepare' && (prepares += 1) === 2 ? 'lose-reply' : 'none');
      const out = await commitTransaction(t, store, opts);
      expect(out.type).toBe(KvType.Committed);
      expect([store.value(a), store.value(b)]).toEqual(['A', 'B']);
    });

  it('a lost one-phase reply of a single persistent participant is settled from its record',
    async () => {
      const store = new LocalTxStore();
      const t = tx(store);
      await set(t, 'solo/k', 'v');
      store.fault = (op) => (op === 'prepare' ? 'lose-reply' : 'none');
      expect((await commitTransaction(t, store, opts)).type).toBe(KvType.Committed);
      expect(store.value('solo/k')).toBe('v');
    });

  it('the anchor refused and the decision stays unknown: MustRetry, then a retry settles',
    async () => {
      const store = new LocalTxStore();
      const sessions = new SessionTable({ nodeId: 1, store, decisionTimeoutMs: 5000 });
      const started = startSession(sessions, 'c1');
      const [a, b] = store.keysOnTwoPartitions('w/');
      for (const k of [a, b]) {
        const r = await sessions.operate(started.transactionId, 0, 0,
          (t) => set(t, k, 'v'), (code) => ({ type: code, row: null }));
        expect(r.type).toBe(KvType.Set);
      }
      let prepares = 0;
      store.fault = (op) => ((op === 'prepare' && (prepares += 1) === 2) || op === 'decide'
        ? 'refuse' : 'none');
      const end = { coordinatorKey: 'c1', transactionId: started.transactionId,
        recordAnchorKey: null };
      const first = await sessions.commit(end);
      expect(first.type).toBe(KvType.MustRetry);
      expect(first.recordAnchorKey).not.toBeNull();
      store.fault = () => 'none';
      // The anchor never applied, so settling writes Abort: the retry answers Aborted, and
      // the prepared participant is released.
      const second = await sessions.commit({ ...end, recordAnchorKey: first.recordAnchorKey });
      expect(second.type).toBe(KvType.Aborted);
      expect([store.value(a), store.value(b)]).toEqual([null, null]);
      expect((await sessions.commit(end)).type).toBe(KvType.Aborted);
    });
});

describe('a transactional range read', () => {
  it('lays its own writes over the committed page, within the page span', async () => {
    const store = new LocalTxStore();
    const seed = tx(store);
    for (const k of ['rng/a', 'rng/c', 'rng/e']) await set(seed, k, k);
    expect((await commitTransaction(seed, store, opts)).type).toBe(KvType.Committed);
    const p = store.partitionOfBucket('rng');
    const t = tx(store);
    await set(t, 'rng/b', 'mine');
    await t.delete('rng/c', 1);
    await set(t, 'rng/z', 'beyond the first page');
    const read = (r: Parameters<KahunaState['kvGetByRange']>[0]) =>
      Promise.resolve(store.state(p, 1).kvGetByRange(r, store.now()));
    const base = { txId: t.id, prefix: 'rng', startKey: null, startInclusive: false,
      endKey: null, endInclusive: false, readTimestamp: hlcZero, durability: 1 };
    const page1 = await t.getByRange({ ...base, limit: 2, cursor: null }, read);
    expect(page1.items.map((i) => i.key)).toEqual(['rng/a', 'rng/b']);
    expect(page1.hasMore).toBe(true);
    const page2 = await t.getByRange({ ...base, limit: 2, cursor: page1.nextCursor }, read);
    expect(page2.items.map((i) => i.key)).toEqual(['rng/e', 'rng/z']);
    // Outside, nothing staged is visible.
    expect(store.value('rng/b')).toBeNull();
    expect(store.value('rng/c')).toBe('rng/c');
  });
});

describe('an undecided commit', () => {
  it('is not undone by a rollback: the prepared participant waits for the anchor record',
    async () => {
      const { store, a, b, t } = await stagedPair('u/');
      let prepares = 0;
      // The anchor applies (and records Commit) but its reply is lost; no decide gets through.
      store.fault = (op) => ((op === 'prepare' && (prepares += 1) === 2) || op === 'decide'
        ? (op === 'decide' ? 'refuse' : 'lose-reply') : 'none');
      const out = await commitTransaction(t, store, opts);
      expect(out.type).toBe(KvType.MustRetry);
      // What a script does after a failed commit.
      await rollbackTransaction(t, store);
      store.fault = () => 'none';
      const anchor = out.anchorKey!;
      const other = anchor === a ? b : a;
      const p = store.partitionOfKey(other);
      // The resolver's view: the record says Commit, the participant's intent is still there.
      expect((await store.decide({ txId: t.id, anchorKey: anchor,
        decision: TxDecision.Abort })).decision).toBe(TxDecision.Commit);
      expect((await store.finish(p, { txId: t.id, durability: 1, commit: true,
        commitTs: hlcZero })).type)
        .toBe(KvType.Committed);
      expect([store.value(a), store.value(b)]).toEqual(['A', 'B']);
    });
});

describe('resolver path', () => {
  it('an intent whose coordinator vanished is found past its deadline and aborted via the '
    + 'anchor record; the anchor can no longer commit it', async () => {
    const { store, a, b, t } = await stagedPair('r/');
    const pa = store.partitionOfKey(a);
    const pb = store.partitionOfKey(b);
    // The coordinator prepares b (with a as anchor) and dies.
    const mutations = [...t.participants().values()];
    const bGroup = mutations.find((g) => g.partition === pb)!;
    expect((await store.prepare(pb, { txId: t.id, durability: 1, onePhase: false,
      anchorKey: a, decisionTimeoutMs: 5000, recordDecision: false,
      mutations: bGroup.mutations, reads: [], wounded: [], commitTs: hlcZero })).type)
      .toBe(KvType.Prepared);
    expect((await store.pending(pb, { durability: 1, limit: 10 })).items).toHaveLength(0);
    store.advance(6000);
    const pending = await store.pending(pb, { durability: 1, limit: 10 });
    expect(pending.items.map((i) => i.anchorKey)).toEqual([a]);
    // What coordinator.resolve() does for each item.
    const d = await store.decide({ txId: t.id, anchorKey: a, decision: TxDecision.Abort });
    expect(d.decision).toBe(TxDecision.Abort);
    expect((await store.finish(pb, { txId: t.id, durability: 1, commit: false,
      commitTs: hlcZero })).type)
      .toBe(KvType.RolledBack);
    // A late anchor step of the dead coordinator must not commit.
    const aGroup = mutations.find((g) => g.partition === pa)!;
    expect((await store.prepare(pa, { txId: t.id, durability: 1, onePhase: true, anchorKey: a,
      decisionTimeoutMs: 5000, recordDecision: true, mutations: aGroup.mutations,
      reads: [], wounded: [], commitTs: hlcZero })).type).toBe(KvType.Aborted);
    expect([store.value(a), store.value(b)]).toEqual([null, null]);
  });
});

describe('session table', () => {
  const start = startSession;

  it('refuses a new session with AdmissionRefused once sessionsOpenMax are open, and admits '
    + 'again when one ends', async () => {
    const store = new LocalTxStore();
    const sessions = new SessionTable({ nodeId: 1, store, decisionTimeoutMs: 5000 });
    let first: Hlc | null = null;
    for (let i = 0; i < sessionsOpenMax; i += 1) {
      const r = start(sessions);
      expect(r.type).toBe(KvType.Set);
      first ??= r.transactionId;
    }
    expect(start(sessions).type).toBe(KvType.AdmissionRefused);
    expect((await sessions.rollback({ coordinatorKey: 'c', transactionId: first!,
      recordAnchorKey: null })).type).toBe(KvType.RolledBack);
    expect(start(sessions).type).toBe(KvType.Set);
  });

  it('rejects bad options with InvalidInput', () => {
    const sessions = new SessionTable({ nodeId: 1, store: new LocalTxStore(),
      decisionTimeoutMs: 5000 });
    expect(start(sessions, '').type).toBe(KvType.InvalidInput);
  });
});

describe('the reaper', () => {
  it('settles an undecided session once it is idle, and forgets it later', async () => {
    const store = new LocalTxStore();
    let wall = 1_000_000;
    const sessions = new SessionTable({ nodeId: 1, store, decisionTimeoutMs: 5000,
      clock: () => wall });
    const started = startSession(sessions);
    const [a, b] = store.keysOnTwoPartitions('reap/');
    for (const k of [a, b]) {
      await sessions.operate(started.transactionId, 0, 0, (t) => set(t, k, 'v'),
        (code) => ({ type: code, row: null }));
    }
    let prepares = 0;
    store.fault = (op) => ((op === 'prepare' && (prepares += 1) === 2) || op === 'decide'
      ? 'refuse' : 'none');
    const end = { coordinatorKey: 'c', transactionId: started.transactionId,
      recordAnchorKey: null };
    expect((await sessions.commit(end)).type).toBe(KvType.MustRetry);
    store.fault = () => 'none';
    wall += 40_000;
    await sessions.reap();
    // The anchor never applied: the reaper's rollback settled it (Abort on record) and released
    // the prepared participant; a late commit answers that outcome.
    expect((await sessions.commit(end)).type).toBe(KvType.RolledBack);
    const t2 = tx(store);
    await set(t2, a, 'x');
    await set(t2, b, 'y');
    expect((await commitTransaction(t2, store, opts)).type).toBe(KvType.Committed);
    wall += 200_000;
    await sessions.reap();
    expect(sessions.size).toBe(0);
  });
});

describe('the lock lease', () => {
  it('a transaction whose first lock is older than its lease aborts at commit by timeout',
    async () => {
      const store = new LocalTxStore();
      const t = new Transaction(newId(), { locking: Locking.Pessimistic, leaseMs: 50,
        snapshot: hlcZero }, store);
      await set(t, 'lease/k', 'v');
      await new Promise((r) => setTimeout(r, 80));
      expect(await commitTransaction(t, store, opts)).toMatchObject({ type: KvType.Aborted,
        reason: 'Transaction aborted by timeout' });
      expect(store.value('lease/k')).toBeNull();
      const t2 = tx(store);
      await set(t2, 'lease/k', 'w');
      expect((await commitTransaction(t2, store, opts)).type).toBe(KvType.Committed);
    });
});
