// Transactions against a real `honu server`, over REST and gRPC:
// - the concurrency and anomaly cases of kahuna-reference.md 9.2 "Transactions (client)" run as
//   concurrent scripts (Promise.all), each asserting the outcome the spec gives or, where the
//   interleaving is racy, the invariant, every round;
// - interactive sessions as kahuna-ts drives them (wire.md 4.4): StartTransaction, an exclusive
//   lock before every write (and, pessimistic, every point read; a prefix lock before a bucket
//   read), operations carrying the transaction id, coordinator key and a fresh operation id,
//   then CommitTransaction or RollbackTransaction.
// Scripts that must overlap sleep between their read and their write, so the interleaving the
// spec describes happens every round rather than by luck.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Flags, Kv, freshOp, partitionOfKey, persistent, sleep, text, transports, unique, zeroHlc,
  type Hlc, type KahunaClient, type ScriptParameter, type ScriptReply, type SetArgs,
  type StartTxArgs, type TxOp,
} from './clients.js';
import { useHonu } from './harness.js';

const honu = useHonu('transactions');

const defaultLeaseMs = 5000;

function utf8(b: Buffer | null): string | null {
  return b === null ? null : b.toString('utf8');
}

function param(key: string, value: string | null): ScriptParameter {
  return { key, value };
}

function isZero(h: Hlc): boolean {
  return h.n === 0 && h.l === 0 && h.c === 0;
}

/** One interactive session, driven as kahuna-ts drives it (wire.md 4.4). */
class Session {
  private constructor(readonly c: KahunaClient, readonly coordinatorKey: string,
    readonly id: Hlc, readonly leaseMs: number, readonly pessimistic: boolean) {}

  static async start(c: KahunaClient, args: Partial<StartTxArgs> = {}): Promise<Session> {
    const coordinatorKey = randomUUID();
    const r = await c.startTransaction({ coordinatorKey, ...args });
    expect(r.type, JSON.stringify(r)).toBe(Kv.Set);
    expect(isZero(r.transactionId)).toBe(false);
    const timeout = args.timeout ?? 0;
    return new Session(c, coordinatorKey, r.transactionId,
      timeout === 0 ? defaultLeaseMs : timeout, (args.lockingType ?? 0) === 0);
  }

  /** A fresh operation id for the next call. */
  op(): TxOp {
    return freshOp(this.id, this.coordinatorKey);
  }

  lock(key: string, durability = persistent) {
    return this.c.tryAcquireExclusiveLock({ ...this.op(), key, expiresMs: this.leaseMs,
      durability });
  }

  prefixLock(bucket: string, durability = persistent) {
    return this.c.tryAcquireExclusivePrefixLock({ ...this.op(), key: bucket,
      expiresMs: this.leaseMs, durability });
  }

  async mustLock(key: string, durability = persistent): Promise<void> {
    const r = await this.lock(key, durability);
    expect(r.type, `lock ${key}: ${JSON.stringify(r)}`).toBe(Kv.Locked);
  }

  async set(key: string, value: string, durability = persistent,
    extra: Partial<SetArgs> = {}) {
    await this.mustLock(key, durability);
    return this.c.txSet(this.op(), { key, value: text(value), durability, ...extra });
  }

  async get(key: string, durability = persistent) {
    if (this.pessimistic) await this.mustLock(key, durability);
    return this.c.txGet(this.op(), key, durability);
  }

  async extend(key: string, expiresMs: number, durability = persistent) {
    await this.mustLock(key, durability);
    return this.c.txExtend(this.op(), key, expiresMs, durability);
  }

  async delete(key: string, durability = persistent) {
    await this.mustLock(key, durability);
    return this.c.txDelete(this.op(), key, durability);
  }

  async deleteMany(keys: readonly string[], durability = persistent) {
    for (const key of keys) await this.mustLock(key, durability);
    return this.c.txDeleteMany(this.op(), keys.map((key) => ({ key, durability })));
  }

  async getByBucket(bucket: string, durability = persistent) {
    if (this.pessimistic) {
      const r = await this.prefixLock(bucket, durability);
      expect(r.type, `prefix lock ${bucket}: ${JSON.stringify(r)}`).toBe(Kv.Locked);
    }
    return this.c.txGetByBucket(this.op(), bucket, durability);
  }

  commit() {
    return this.c.commitTransaction(this.coordinatorKey, this.id);
  }

  rollback() {
    return this.c.rollbackTransaction(this.coordinatorKey, this.id);
  }
}

/** A script's outcome is a result (< 99, or DoesNotExist) or an error; Aborted is definite. */
function succeeded(r: ScriptReply): boolean {
  return r.type < Kv.Errored || r.type === Kv.DoesNotExist;
}

describe.each(transports)('transaction anomalies (scripts) over %s', (transport) => {
  const c = (): KahunaClient => honu.client(transport);
  const run = (script: string, parameters: ScriptParameter[] = []): Promise<ScriptReply> =>
    c().executeScript(script, { parameters });
  const value = async (key: string): Promise<string | null> => {
    const r = await c().get(key, persistent);
    return r.type === Kv.Get ? utf8(r.value) : null;
  };
  const rounds = 3;

  // kahuna-reference.md 9.2 / 5.1: read checks conflict with prepared write intents only, and
  // crossing read sets are settled by wound-wait (the older transaction aborts the younger), so
  // exactly one of the mirror scripts commits. The test is the spec's script, unchanged.
  it('TestSnapshotIsolationConflict: two optimistic scripts read both keys and each ' +
    'write a different key: at most one commits; final {10,0} or {0,10}', async () => {
    const mirror = (write: string) => [
      'BEGIN (locking="optimistic")',
      ' LET av = GET @keyA',
      ' LET bv = GET @keyB',
      ' IF to_int(av) + to_int(bv) = 20 THEN',
      `  SET ${write} 0`,
      ' END',
      ' COMMIT',
      'END',
    ].join('\n');
    for (let round = 0; round < 5; round += 1) {
      const a = unique('si-a');
      const b = unique('si-b');
      await c().set({ key: a, value: text('10'), durability: persistent });
      await c().set({ key: b, value: text('10'), durability: persistent });
      const p = [param('@keyA', a), param('@keyB', b)];
      const results = await Promise.all([run(mirror('@keyA'), p), run(mirror('@keyB'), p)]);
      const final = [await value(a), await value(b)];
      const msg = `round ${round}: ${JSON.stringify(results.map((r) => [r.type, r.reason]))} ` +
        `final ${JSON.stringify(final)}`;
      for (const r of results) expect(succeeded(r) || r.type === Kv.Aborted, msg).toBe(true);
      expect([['0', '10'], ['10', '0']], msg).toContainEqual(final);
      // An aborted script wrote nothing; with both running, the other one committed.
      for (const [i, r] of results.entries()) {
        if (r.type === Kv.Aborted) expect(final[i], msg).toBe('10');
      }
    }
  });

  it('TestSerializableConflict: pessimistic read-sleep-write vs a write of the same key: ' +
    'exactly one Aborted', async () => {
    for (let round = 0; round < rounds; round += 1) {
      const k = unique('ser');
      await c().set({ key: k, value: text('1'), durability: persistent });
      const p = [param('@k', k)];
      const slow = run(
        'BEGIN\n LET v = GET @k\n SLEEP 300\n SET @k to_int(v) + 1\n COMMIT\nEND', p);
      await sleep(80);
      const fast = run('BEGIN\n SET @k 100\n COMMIT\nEND', p);
      const results = await Promise.all([slow, fast]);
      const msg = `round ${round}: ${JSON.stringify(results.map((r) => [r.type, r.reason]))}`;
      expect(results.filter((r) => r.type === Kv.Aborted), msg).toHaveLength(1);
      expect(results.filter(succeeded), msg).toHaveLength(1);
      // The reader held the key from its read to its commit: the write is the one refused.
      expect(results[1]!.type, msg).toBe(Kv.Aborted);
      expect(await value(k), msg).toBe('2');
    }
  });

  it('TestWriteSkewAnomaly (doctors on call): exactly one Aborted; afterwards one "true" and ' +
    'one "false"', async () => {
    const offCall = [
      'let oncall = get by bucket @bucket',
      'sleep 200',
      'if count(oncall) = 2 then',
      '   set @me false ex 10000',
      'else',
      "   throw 'no both doctors on call'",
      'end',
    ].join('\n');
    for (let round = 0; round < rounds; round += 1) {
      const bucket = unique('doctors');
      const alice = `${bucket}/alice`;
      const bob = `${bucket}/bob`;
      await c().set({ key: alice, value: text('true'), durability: persistent });
      await c().set({ key: bob, value: text('true'), durability: persistent });
      const results = await Promise.all([
        run(offCall, [param('@bucket', bucket), param('@me', alice)]),
        run(offCall, [param('@bucket', bucket), param('@me', bob)]),
      ]);
      const final = [await value(alice), await value(bob)];
      const msg = `round ${round}: ${JSON.stringify(results.map((r) => [r.type, r.reason]))} ` +
        `final ${JSON.stringify(final)}`;
      expect(results.filter((r) => r.type === Kv.Aborted), msg).toHaveLength(1);
      expect(results.filter((r) => r.type === Kv.Set), msg).toHaveLength(1);
      expect([...final].sort(), msg).toEqual(['false', 'true']);
      const winner = results[0]!.type === Kv.Set ? 0 : 1;
      expect(final[winner], msg).toBe('false');
    }
  });

  for (const locking of ['pessimistic', 'optimistic'] as const) {
    it(`lost update (${locking}): N concurrent read-increment-write scripts; the final ` +
      'counter is the number that committed', async () => {
      const n = 6;
      const script = [
        `BEGIN (locking="${locking}")`,
        ' LET v = GET @k',
        ' SET @k to_int(v) + 1',
        ' COMMIT',
        'END',
      ].join('\n');
      for (let round = 0; round < rounds; round += 1) {
        const k = unique(`lost-${locking}`);
        await c().set({ key: k, value: text('0'), durability: persistent });
        const results = await Promise.all(Array.from({ length: n }, () =>
          run(script, [param('@k', k)])));
        const types = results.map((r) => r.type);
        const msg = `round ${round}: ${JSON.stringify(types)}`;
        const committed = results.filter((r) => r.type === Kv.Set).length;
        const unknown = results.filter((r) => r.type === Kv.MustRetry).length;
        for (const t of types) expect([Kv.Set, Kv.Aborted, Kv.MustRetry], msg).toContain(t);
        expect(committed, msg).toBeGreaterThanOrEqual(1);
        const final = Number(await value(k));
        expect(final, msg).toBeGreaterThanOrEqual(committed);
        expect(final, msg).toBeLessThanOrEqual(committed + unknown);
        // Every committed increment read the value the previous one wrote.
        const get = await c().get(k, persistent);
        expect(get.revision, msg).toBe(final);
      }
    });
  }

  it('dirty read: a concurrent reader never sees a value of a script that rolls back or ' +
    'throws', async () => {
    for (const ending of ['ROLLBACK\nEND', "THROW 'abandon'\nEND"]) {
      const k = unique('dirty');
      await c().set({ key: k, value: text('clean'), durability: persistent });
      const p = [param('@k', k)];
      let done = false;
      const writer = run(`BEGIN\n SET @k 'dirty'\n SLEEP 300\n ${ending}`, p).finally(() => {
        done = true;
      });
      const seen = new Set<string | null>();
      let reads = 0;
      while (!done) {
        const [plain, scripted] = await Promise.all([c().get(k, persistent), run('GET @k', p)]);
        expect(plain.type).toBe(Kv.Get);
        expect(scripted.type).toBe(Kv.Get);
        seen.add(utf8(plain.value));
        seen.add(utf8(scripted.values[0]?.value ?? null));
        reads += 1;
        await sleep(20);
      }
      const w = await writer;
      expect(w.type, ending).toBe(ending.startsWith('ROLLBACK') ? Kv.Aborted : Kv.Errored);
      expect(reads).toBeGreaterThanOrEqual(3);
      expect([...seen]).toEqual(['clean']);
      expect(await value(k)).toBe('clean');
    }
  });

  it('non-repeatable read: inside a pessimistic script two reads of a key agree while a ' +
    'concurrent write is refused', async () => {
    for (let round = 0; round < 2; round += 1) {
      const k = unique('nrr');
      await c().set({ key: k, value: text('v0'), durability: persistent });
      const p = [param('@k', k)];
      const reader = run(
        'BEGIN\n LET a = GET @k\n SLEEP 300\n LET b = GET @k\n COMMIT\n RETURN concat(a, b)\nEND',
        p);
      await sleep(80);
      // A plain write meets the reader's lock: MustRetry; a transactional one aborts.
      const plain = await c().set({ key: k, value: text('v1'), durability: persistent });
      const scripted = await run("BEGIN\n SET @k 'v2'\n COMMIT\nEND", p);
      const r = await reader;
      const msg = JSON.stringify({ reader: [r.type, r.reason], plain: plain.type,
        scripted: [scripted.type, scripted.reason] });
      expect(r.type, msg).toBe(Kv.Get);
      expect(utf8(r.values[0]?.value ?? null), msg).toBe('v0v0');
      expect(plain.type, msg).toBe(Kv.MustRetry);
      expect(scripted.type, msg).toBe(Kv.Aborted);
      expect(await value(k), msg).toBe('v0');
      // The lock went with the reader's commit.
      expect((await c().set({ key: k, value: text('v3'), durability: persistent })).type)
        .toBe(Kv.Set);
    }
  });

  it('phantom: a pessimistic bucket read then a concurrent insert into the bucket: never both ' +
    'succeed with the reader inconsistent with the final state', async () => {
    for (const inserter of ['plain', 'script'] as const) {
      for (let round = 0; round < 2; round += 1) {
        const bucket = unique('phantom');
        const summary = `${unique('phantom-summary')}/count`;
        await c().set({ key: `${bucket}/a`, value: text('1'), durability: persistent });
        await c().set({ key: `${bucket}/b`, value: text('1'), durability: persistent });
        const reader = run([
          'BEGIN',
          ' LET rows = GET BY BUCKET @bucket',
          ' SLEEP 300',
          ' SET @summary count(rows)',
          ' COMMIT',
          'END',
        ].join('\n'), [param('@bucket', bucket), param('@summary', summary)]);
        await sleep(80);
        const newKey = `${bucket}/new`;
        const insertType = inserter === 'plain'
          ? (await c().set({ key: newKey, value: text('1'), durability: persistent })).type
          : (await run("BEGIN\n SET @k '1'\n COMMIT\nEND", [param('@k', newKey)])).type;
        const r = await reader;
        const rows = (await c().getByBucket(bucket, persistent)).items.length;
        const counted = await value(summary);
        const msg = JSON.stringify({ inserter, reader: [r.type, r.reason], insertType, rows,
          counted });
        const insertOk = insertType === Kv.Set;
        const readerOk = r.type === Kv.Set;
        expect(insertOk || [Kv.MustRetry, Kv.Aborted].includes(insertType as 101 | 102), msg)
          .toBe(true);
        expect(readerOk || r.type === Kv.Aborted, msg).toBe(true);
        expect(insertOk && readerOk && counted !== String(rows), msg).toBe(false);
        // What the reader wrote matches the bucket it saw: 2 rows, unless it aborted.
        if (readerOk) expect(counted, msg).toBe('2');
        if (!insertOk) expect(rows, msg).toBe(2);
      }
    }
  });
});

describe.each(transports)('interactive sessions over %s', (transport) => {
  const c = (): KahunaClient => honu.client(transport);

  it('StartTransaction -> Set with a non-zero TransactionId (physical > 0)', async () => {
    const r = await c().startTransaction({ coordinatorKey: randomUUID() });
    expect(r.type).toBe(Kv.Set);
    expect(r.transactionId.l).toBeGreaterThan(0);
    const other = await c().startTransaction({ coordinatorKey: randomUUID() });
    expect(other.transactionId).not.toEqual(r.transactionId);
  });

  it('StartTransaction with an empty CoordinatorKey -> InvalidInput', async () => {
    const r = await c().startTransaction({ coordinatorKey: '' });
    expect(r.type).toBe(Kv.InvalidInput);
  });

  it('TryAcquireExclusiveLock -> Locked, again -> Locked; set -> r0; commit -> Committed, ' +
    'visible to a plain get', async () => {
    const s = await Session.start(c());
    const k = unique('sess-commit');
    expect((await s.lock(k)).type).toBe(Kv.Locked);
    expect((await s.lock(k)).type).toBe(Kv.Locked);
    const set = await s.c.txSet(s.op(), { key: k, value: text('committed'),
      durability: persistent });
    expect(set).toMatchObject({ type: Kv.Set, revision: 0 });
    expect((await c().get(k, persistent)).type).toBe(Kv.DoesNotExist);
    const commit = await s.commit();
    expect(commit.type).toBe(Kv.Committed);
    expect(await c().get(k, persistent)).toMatchObject({ type: Kv.Get,
      value: text('committed'), revision: 0 });
  });

  it('rollback -> RolledBack; the key DoesNotExist', async () => {
    const s = await Session.start(c());
    const k = unique('sess-rollback');
    expect((await s.set(k, 'staged')).type).toBe(Kv.Set);
    expect((await s.rollback()).type).toBe(Kv.RolledBack);
    expect((await c().get(k, persistent)).type).toBe(Kv.DoesNotExist);
  });

  it('a multi-key commit across partitions makes every key visible at once', async () => {
    const base = unique('sess-multi');
    const keys = Array.from({ length: 10 }, (_, i) => `${base}-b${i}/k`);
    const s = await Session.start(c());
    for (const [i, k] of keys.entries()) {
      expect(await s.set(k, `v${i}`)).toMatchObject({ type: Kv.Set, revision: 0 });
    }
    for (const k of keys) expect((await c().get(k, persistent)).type, k).toBe(Kv.DoesNotExist);
    expect((await s.commit()).type).toBe(Kv.Committed);
    for (const [i, k] of keys.entries()) {
      expect(await c().get(k, persistent), k).toMatchObject({ type: Kv.Get,
        value: text(`v${i}`), revision: 0 });
    }
    const partitions = new Set(await Promise.all(keys.map((k) => partitionOfKey(honu.url, k))));
    expect(partitions.size).toBeGreaterThanOrEqual(2);
  });

  it('a multi-key rollback across partitions leaves every key absent', async () => {
    const base = unique('sess-multi-rb');
    const keys = Array.from({ length: 10 }, (_, i) => `${base}-b${i}/k`);
    const s = await Session.start(c());
    for (const k of keys) expect((await s.set(k, 'x')).type).toBe(Kv.Set);
    expect((await s.rollback()).type).toBe(Kv.RolledBack);
    for (const k of keys) expect((await c().get(k, persistent)).type, k).toBe(Kv.DoesNotExist);
  });

  it('set + extend + commit: the key exists with an expiry; set + extend + rollback: absent',
    async () => {
      const k = unique('sess-extend');
      const s = await Session.start(c());
      expect((await s.set(k, 'v')).type).toBe(Kv.Set);
      expect((await s.extend(k, 60_000)).type).toBe(Kv.Extended);
      expect((await s.commit()).type).toBe(Kv.Committed);
      const got = await c().get(k, persistent);
      expect(got).toMatchObject({ type: Kv.Get, value: text('v'), revision: 0 });
      expect(got.expires.l).toBeGreaterThan(Date.now() + 30_000);

      const r = unique('sess-extend-rb');
      const t = await Session.start(c());
      expect((await t.set(r, 'v')).type).toBe(Kv.Set);
      expect((await t.extend(r, 60_000)).type).toBe(Kv.Extended);
      expect((await t.rollback()).type).toBe(Kv.RolledBack);
      expect((await c().get(r, persistent)).type).toBe(Kv.DoesNotExist);
    });

  it('read-your-own-writes inside the session while a plain get still sees the old value',
    async () => {
      const k = unique('sess-ryow');
      await c().set({ key: k, value: text('old'), durability: persistent });
      const s = await Session.start(c());
      expect(await s.get(k)).toMatchObject({ type: Kv.Get, value: text('old'), revision: 0 });
      expect(await s.set(k, 'new')).toMatchObject({ type: Kv.Set, revision: 1 });
      expect(await s.get(k)).toMatchObject({ type: Kv.Get, value: text('new'), revision: 1 });
      expect(await s.c.txExists(s.op(), k, persistent)).toMatchObject({ type: Kv.Exists,
        revision: 1 });
      expect(await c().get(k, persistent)).toMatchObject({ type: Kv.Get, value: text('old'),
        revision: 0 });
      expect((await s.commit()).type).toBe(Kv.Committed);
      expect(await c().get(k, persistent)).toMatchObject({ value: text('new'), revision: 1 });
    });

  it('a second session locking a locked key -> AlreadyLocked with the holder\'s id; after ' +
    'commit or rollback the lock is free', async () => {
    for (const end of ['commit', 'rollback'] as const) {
      const k = unique(`sess-held-${end}`);
      const first = await Session.start(c());
      const second = await Session.start(c());
      expect((await first.set(k, 'first')).type).toBe(Kv.Set);
      const denied = await second.lock(k);
      expect(denied.type).toBe(Kv.AlreadyLocked);
      expect(denied.holder).toEqual(first.id);
      const ended = end === 'commit' ? await first.commit() : await first.rollback();
      expect(ended.type).toBe(end === 'commit' ? Kv.Committed : Kv.RolledBack);
      const granted = await second.lock(k);
      expect(granted.type).toBe(Kv.Locked);
      expect(granted.holder).toEqual(zeroHlc);
      expect(await second.c.txSet(second.op(), { key: k, value: text('second'),
        durability: persistent })).toMatchObject({ type: Kv.Set,
        revision: end === 'commit' ? 1 : 0 });
      expect((await second.commit()).type).toBe(Kv.Committed);
      expect(await c().get(k, persistent)).toMatchObject({ value: text('second') });
    }
  });

  it('a plain write to a key a session holds -> MustRetry; reads are not blocked', async () => {
    const k = unique('sess-plain-write');
    await c().set({ key: k, value: text('before'), durability: persistent });
    const s = await Session.start(c());
    expect((await s.set(k, 'staged')).type).toBe(Kv.Set);
    expect((await c().set({ key: k, value: text('plain'), durability: persistent })).type)
      .toBe(Kv.MustRetry);
    expect((await c().delete(k, persistent)).type).toBe(Kv.MustRetry);
    expect((await c().extend(k, 1000, persistent)).type).toBe(Kv.MustRetry);
    expect(await c().get(k, persistent)).toMatchObject({ type: Kv.Get, value: text('before') });
    expect((await s.commit()).type).toBe(Kv.Committed);
    expect((await c().set({ key: k, value: text('plain'), durability: persistent })).type)
      .toBe(Kv.Set);
  });

  it('non-repeatable read in a pessimistic session: the read lock refuses a plain write',
    async () => {
      const k = unique('sess-nrr');
      await c().set({ key: k, value: text('v0'), durability: persistent });
      const s = await Session.start(c());
      expect(await s.get(k)).toMatchObject({ type: Kv.Get, value: text('v0') });
      expect((await c().set({ key: k, value: text('v1'), durability: persistent })).type)
        .toBe(Kv.MustRetry);
      expect(await s.get(k)).toMatchObject({ type: Kv.Get, value: text('v0') });
      expect((await s.commit()).type).toBe(Kv.Committed);
      expect((await c().set({ key: k, value: text('v1'), durability: persistent })).type)
        .toBe(Kv.Set);
    });

  it('dirty read: a session\'s staged write is never visible outside, and vanishes on ' +
    'rollback', async () => {
    const k = unique('sess-dirty');
    await c().set({ key: k, value: text('clean'), durability: persistent });
    const s = await Session.start(c());
    expect((await s.set(k, 'dirty')).type).toBe(Kv.Set);
    for (let i = 0; i < 3; i += 1) {
      expect(await c().get(k, persistent)).toMatchObject({ value: text('clean') });
      const scripted = await c().executeScript('GET @k', { parameters: [param('@k', k)] });
      expect(utf8(scripted.values[0]?.value ?? null)).toBe('clean');
    }
    expect((await s.rollback()).type).toBe(Kv.RolledBack);
    expect(await c().get(k, persistent)).toMatchObject({ value: text('clean'), revision: 0 });
  });

  it('operation-id replay: the same id twice gives the same result and applies once',
    async () => {
      const k = unique('sess-replay');
      const s = await Session.start(c());
      await s.mustLock(k);
      const op = s.op();
      const nx = { key: k, value: text('first'), durability: persistent,
        flags: Flags.SetIfNotExists };
      const once = await s.c.txSet(op, nx);
      expect(once).toMatchObject({ type: Kv.Set, revision: 0 });
      // A fresh id runs again: the key now exists in the transaction, so NX is NotSet.
      expect((await s.c.txSet(s.op(), nx)).type).toBe(Kv.NotSet);
      // A write with another id, then the first id replayed with a different value: the
      // cached result comes back and nothing is re-applied.
      expect((await s.c.txSet(s.op(), { key: k, value: text('second'),
        durability: persistent })).type).toBe(Kv.Set);
      const replay = await s.c.txSet(op, { ...nx, value: text('replayed') });
      expect(replay).toEqual(once);
      expect(await s.c.txGet(s.op(), k, persistent)).toMatchObject({ value: text('second') });
      expect((await s.commit()).type).toBe(Kv.Committed);
      expect(await c().get(k, persistent)).toMatchObject({ value: text('second'), revision: 0 });
    });

  it('operations after commit -> Errored; commit again answers the outcome', async () => {
    const k = unique('sess-after');
    const s = await Session.start(c());
    expect((await s.set(k, 'v')).type).toBe(Kv.Set);
    expect((await s.commit()).type).toBe(Kv.Committed);
    expect((await s.c.txSet(s.op(), { key: k, value: text('late'), durability: persistent }))
      .type).toBe(Kv.Errored);
    expect((await s.c.txGet(s.op(), k, persistent)).type).toBe(Kv.Errored);
    expect((await s.c.txDelete(s.op(), k, persistent)).type).toBe(Kv.Errored);
    expect((await s.lock(k)).type).toBe(Kv.Errored);
    expect(await c().get(k, persistent)).toMatchObject({ value: text('v'), revision: 0 });
    // A retried commit answers the outcome again; a rollback now cannot undo it.
    expect((await s.commit()).type).toBe(Kv.Committed);
    expect(await c().get(k, persistent)).toMatchObject({ value: text('v'), revision: 0 });
  });

  it('operations after rollback -> Errored', async () => {
    const k = unique('sess-after-rb');
    const s = await Session.start(c());
    expect((await s.set(k, 'v')).type).toBe(Kv.Set);
    expect((await s.rollback()).type).toBe(Kv.RolledBack);
    expect((await s.c.txSet(s.op(), { key: k, value: text('late'), durability: persistent }))
      .type).toBe(Kv.Errored);
    expect((await c().get(k, persistent)).type).toBe(Kv.DoesNotExist);
  });

  it('commit or rollback of an unknown transaction -> Errored', async () => {
    const unknown: Hlc = { n: 1, l: 12_345, c: 7 };
    expect((await c().commitTransaction(randomUUID(), unknown)).type).toBe(Kv.Errored);
    expect((await c().rollbackTransaction(randomUUID(), unknown)).type).toBe(Kv.Errored);
  });

  it('a session started with timeout 1 still accepts a set 100 ms later (wire.md 4.4)',
    async () => {
      const k = unique('sess-timeout-1');
      const s = await Session.start(c(), { timeout: 1 });
      await sleep(100);
      expect(await s.set(k, 'late but fine')).toMatchObject({ type: Kv.Set, revision: 0 });
      expect((await s.commit()).type).toBe(Kv.Committed);
      expect(await c().get(k, persistent)).toMatchObject({ value: text('late but fine') });
    });

  it('phantom: a prefix lock on a bucket makes a second session\'s key lock inside it ' +
    'AlreadyLocked and a plain insert MustRetry', async () => {
    const bucket = unique('sess-prefix');
    await c().set({ key: `${bucket}/a`, value: text('1'), durability: persistent });
    const first = await Session.start(c());
    const rows = await first.getByBucket(bucket);
    expect(rows.type).toBe(Kv.Get);
    expect(rows.items.map((i) => i.key)).toEqual([`${bucket}/a`]);

    const second = await Session.start(c());
    const denied = await second.lock(`${bucket}/new`);
    expect(denied.type).toBe(Kv.AlreadyLocked);
    expect(denied.holder).toEqual(first.id);
    expect((await c().set({ key: `${bucket}/new`, value: text('1'), durability: persistent }))
      .type).toBe(Kv.MustRetry);
    // The holder writes inside its own bucket.
    expect((await first.set(`${bucket}/b`, '2')).type).toBe(Kv.Set);
    expect((await first.getByBucket(bucket)).items.map((i) => i.key))
      .toEqual([`${bucket}/a`, `${bucket}/b`]);
    // Plain reads under a foreign prefix lock: MustRetry (wire.md 4.2), never the staged row.
    expect((await c().getByBucket(bucket, persistent)).type).toBe(Kv.MustRetry);
    expect((await c().get(`${bucket}/a`, persistent)).type).toBe(Kv.MustRetry);
    expect((await first.commit()).type).toBe(Kv.Committed);
    expect((await c().getByBucket(bucket, persistent)).items.map((i) => i.key))
      .toEqual([`${bucket}/a`, `${bucket}/b`]);

    expect((await second.lock(`${bucket}/new`)).type).toBe(Kv.Locked);
    expect((await second.rollback()).type).toBe(Kv.RolledBack);
    expect((await c().set({ key: `${bucket}/new`, value: text('1'), durability: persistent }))
      .type).toBe(Kv.Set);
    expect((await c().getByBucket(bucket, persistent)).items.map((i) => i.key))
      .toEqual([`${bucket}/a`, `${bucket}/b`, `${bucket}/new`]);
  });

  it('an explicit prefix lock: Locked; a second session\'s key lock inside -> AlreadyLocked; ' +
    'released by TryReleaseExclusivePrefixLock', async () => {
    const bucket = unique('sess-prefix-explicit');
    const first = await Session.start(c());
    const second = await Session.start(c());
    expect((await first.prefixLock(bucket)).type).toBe(Kv.Locked);
    const denied = await second.lock(`${bucket}/k`);
    expect(denied.type).toBe(Kv.AlreadyLocked);
    expect(denied.holder).toEqual(first.id);
    expect((await c().tryReleaseExclusivePrefixLock(first.id, bucket, persistent)).type)
      .toBe(Kv.Unlocked);
    expect((await second.lock(`${bucket}/k`)).type).toBe(Kv.Locked);
    expect((await second.rollback()).type).toBe(Kv.RolledBack);
    expect((await first.rollback()).type).toBe(Kv.RolledBack);
  });

  it('delete-many inside a session: Deleted per key, visible only after commit', async () => {
    const base = unique('sess-delmany');
    const keys = [`${base}-a/k`, `${base}-b/k`, `${base}-c/k`];
    for (const k of keys) await c().set({ key: k, value: text('v'), durability: persistent });
    const s = await Session.start(c());
    const r = await s.deleteMany(keys);
    expect(r.items.map((i) => [i.key, i.type])).toEqual(keys.map((k) => [k, Kv.Deleted]));
    for (const i of r.items) expect(i.revision).toBe(1);
    for (const k of keys) expect((await c().get(k, persistent)).type, k).toBe(Kv.Get);
    expect((await s.get(keys[0]!)).type).toBe(Kv.DoesNotExist);
    expect((await s.commit()).type).toBe(Kv.Committed);
    for (const k of keys) expect((await c().get(k, persistent)).type, k).toBe(Kv.DoesNotExist);
  });

  it('a transactional delete then commit: Deleted r+1, gone outside', async () => {
    const k = unique('sess-delete');
    await c().set({ key: k, value: text('v'), durability: persistent });
    const s = await Session.start(c());
    expect(await s.delete(k)).toMatchObject({ type: Kv.Deleted, revision: 1 });
    expect((await s.commit()).type).toBe(Kv.Committed);
    expect((await c().get(k, persistent)).type).toBe(Kv.DoesNotExist);
  });

  it('TryAcquireExclusiveLock with a zero TransactionId -> Errored', async () => {
    const r = await c().tryAcquireExclusiveLock({ transactionId: zeroHlc,
      key: unique('lock-zero-tx'), expiresMs: 5000, durability: persistent });
    expect(r.type).toBe(Kv.Errored);
    const prefix = await c().tryAcquireExclusivePrefixLock({ transactionId: zeroHlc,
      key: unique('prefix-zero-tx'), expiresMs: 5000, durability: persistent });
    expect(prefix.type).toBe(Kv.Errored);
  });

  it('exactly one of CoordinatorKey / OperationId on a transactional set -> InvalidInput',
    async () => {
      const s = await Session.start(c());
      const k = unique('sess-half');
      await s.mustLock(k);
      const noOp: TxOp = { ...s.op(), operationIdHigh: 0, operationIdLow: 0 };
      const noKey: TxOp = { ...s.op(), coordinatorKey: '' };
      for (const op of [noOp, noKey]) {
        expect((await s.c.txSet(op, { key: k, value: text('v'), durability: persistent })).type)
          .toBe(Kv.InvalidInput);
      }
      expect((await s.rollback()).type).toBe(Kv.RolledBack);
    });

  it('optimistic session: a read of a key another transaction changes before commit -> ' +
    'commit Aborted, nothing written', async () => {
    const k = unique('sess-opt-read');
    const out = unique('sess-opt-out');
    await c().set({ key: k, value: text('v0'), durability: persistent });
    const s = await Session.start(c(), { lockingType: 1 });
    expect(await s.get(k)).toMatchObject({ type: Kv.Get, value: text('v0') });
    expect((await s.set(out, 'derived from v0')).type).toBe(Kv.Set);
    // Optimistic reads take no lock: the plain write goes through.
    expect((await c().set({ key: k, value: text('v1'), durability: persistent })).type)
      .toBe(Kv.Set);
    expect((await s.commit()).type).toBe(Kv.Aborted);
    expect((await c().get(out, persistent)).type).toBe(Kv.DoesNotExist);
  });
});
