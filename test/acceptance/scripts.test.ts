// Kahuna Script against a real `honu server`, over REST and gRPC (TryExecuteTransactionScript,
// /v1/kv/try-execute-tx-script): every case of kahuna-reference.md 9.2 "Scripts (server)" and
// the 4.6 examples, the result shapes and pinned revisions of wire.md 4.5, the ephemeral
// commands, an implicit multi-key transaction spanning partitions, and REST's own input checks.
// Scripts that need a key get unique ones, passed by placeholder or spliced in as quoted keys.
import { describe, expect, it } from 'vitest';
import {
  Kv, ephemeral, partitionOfKey, persistent, sleep, text, transports, unique,
  type KahunaClient, type ScriptParameter, type ScriptReply,
} from './clients.js';
import { useHonu } from './harness.js';

const honu = useHonu('scripts');

function utf8(b: Buffer | null): string | null {
  return b === null ? null : b.toString('utf8');
}

/** The one row a key command or a scalar RETURN gives. */
function only(r: ScriptReply): ScriptReply['values'][number] {
  expect(r.values, JSON.stringify(r)).toHaveLength(1);
  return r.values[0]!;
}

function param(key: string, value: string | null): ScriptParameter {
  return { key, value };
}

describe.each(transports)('scripts over %s', (transport) => {
  const c = (): KahunaClient => honu.client(transport);
  const run = (script: string, parameters?: ScriptParameter[]): Promise<ScriptReply> =>
    c().executeScript(script, parameters === undefined ? {} : { parameters });

  describe('9.2: key commands and their revisions', () => {
    it('SET -> Set r0; SET via placeholder -> r1; placeholder value -> r2; GET -> value r2',
      async () => {
        const k = unique('s-set');
        const first = await run(`SET \`${k}\` 'hello'`);
        expect(first.type).toBe(Kv.Set);
        expect(only(first)).toMatchObject({ key: k, revision: 0 });
        expect(first.reason).toBeNull();

        const second = await run(`SET @key 'world'`, [param('@key', k)]);
        expect(second.type).toBe(Kv.Set);
        expect(only(second)).toMatchObject({ key: k, revision: 1 });

        const third = await run(`SET @key @value`, [param('@key', k), param('@value', 'again')]);
        expect(third.type).toBe(Kv.Set);
        expect(only(third).revision).toBe(2);

        const got = await run(`GET @key`, [param('@key', k)]);
        expect(got.type).toBe(Kv.Get);
        expect(only(got)).toMatchObject({ key: k, revision: 2 });
        expect(utf8(only(got).value)).toBe('again');
        // The script wrote the store itself: a plain get sees the same.
        expect(await c().get(k, persistent)).toMatchObject({ type: Kv.Get, revision: 2,
          value: text('again') });
      });

    it('SET NX on an existing key -> NotSet with the current revision; the value stays',
      async () => {
        const k = unique('s-nx');
        expect((await run(`SET @k 'a'`, [param('@k', k)])).type).toBe(Kv.Set);
        expect((await run(`SET @k 'b'`, [param('@k', k)])).type).toBe(Kv.Set);
        const nx = await run(`SET @k 'c' NX`, [param('@k', k)]);
        expect(nx.type).toBe(Kv.NotSet);
        expect(only(nx).revision).toBe(1);
        expect(await c().get(k, persistent)).toMatchObject({ value: text('b'), revision: 1 });
        // NX on a missing key sets it at r0.
        const fresh = unique('s-nx-fresh');
        const set = await run(`SET @k 'x' NX`, [param('@k', fresh)]);
        expect(set.type).toBe(Kv.Set);
        expect(only(set).revision).toBe(0);
      });

    it('SET CMP match -> Set r+1; CMP mismatch -> NotSet; CMPREV match -> Set', async () => {
      const k = unique('s-cmp');
      expect((await run(`SET @k 'v1'`, [param('@k', k)])).type).toBe(Kv.Set);
      const match = await run(`SET @k 'v2' CMP 'v1'`, [param('@k', k)]);
      expect(match.type).toBe(Kv.Set);
      expect(only(match).revision).toBe(1);
      const mismatch = await run(`SET @k 'v3' CMP 'nope'`, [param('@k', k)]);
      expect(mismatch.type).toBe(Kv.NotSet);
      expect(only(mismatch).revision).toBe(1);
      const byRevision = await run(`SET @k 'v3' CMPREV 1`, [param('@k', k)]);
      expect(byRevision.type).toBe(Kv.Set);
      expect(only(byRevision).revision).toBe(2);
      expect(await c().get(k, persistent)).toMatchObject({ value: text('v3'), revision: 2 });
    });

    it('wire.md 4.5 pinned revisions: SET 0, GET 0, EXTEND 1000 Extended 0, EXISTS 0, ' +
      'DELETE after SET Deleted 1', async () => {
      const k = unique('s-pinned');
      const p = [param('@k', k)];
      const set = await run(`SET @k 'v'`, p);
      expect(set.type).toBe(Kv.Set);
      expect(only(set)).toMatchObject({ key: k, revision: 0 });
      const get = await run(`GET @k`, p);
      expect(get.type).toBe(Kv.Get);
      expect(only(get)).toMatchObject({ key: k, revision: 0 });
      expect(utf8(only(get).value)).toBe('v');
      const extend = await run(`EXTEND @k 1000`, p);
      expect(extend.type).toBe(Kv.Extended);
      expect(only(extend)).toMatchObject({ key: k, revision: 0 });
      const exists = await run(`EXISTS @k`, p);
      expect(exists.type).toBe(Kv.Exists);
      expect(only(exists)).toMatchObject({ key: k, revision: 0 });

      const d = unique('s-pinned-del');
      expect((await run(`SET @k 'v'`, [param('@k', d)])).type).toBe(Kv.Set);
      const del = await run(`DELETE @k`, [param('@k', d)]);
      expect(del.type).toBe(Kv.Deleted);
      expect(only(del)).toMatchObject({ key: d, revision: 1 });
      expect((await c().get(d, persistent)).type).toBe(Kv.DoesNotExist);
      expect((await run(`GET @k`, [param('@k', d)])).type).toBe(Kv.DoesNotExist);
    });

    it('GET of a missing key -> DoesNotExist (a result, not an error)', async () => {
      const r = await run(`GET @k`, [param('@k', unique('s-missing'))]);
      expect(r.type).toBe(Kv.DoesNotExist);
      expect(r.reason).toBeNull();
    });

    it('REST legacy top-level value/revision are the first value (gRPC has none)', async () => {
      const k = unique('s-legacy');
      await run(`SET @k 'legacy'`, [param('@k', k)]);
      const r = await run(`GET @k`, [param('@k', k)]);
      if (transport === 'rest') {
        expect(r.legacy).not.toBeNull();
        expect(utf8(r.legacy!.value)).toBe('legacy');
        expect(r.legacy!.revision).toBe(0);
      } else {
        expect(r.legacy).toBeNull();
      }
    });
  });

  describe('9.2: BEGIN ... END', () => {
    it('BEGIN SET ... ROLLBACK END -> Aborted; the previous value remains', async () => {
      const k = unique('s-rollback');
      await c().set({ key: k, value: text('before'), durability: persistent });
      const r = await run(`BEGIN SET @k 'after' ROLLBACK END`, [param('@k', k)]);
      expect(r.type).toBe(Kv.Aborted);
      expect(await c().get(k, persistent)).toMatchObject({ type: Kv.Get, value: text('before'),
        revision: 0 });
    });

    it('BEGIN SET ... END without COMMIT -> Aborted; the previous value remains', async () => {
      const k = unique('s-nocommit');
      await c().set({ key: k, value: text('before'), durability: persistent });
      const r = await run(`BEGIN SET @k 'after' END`, [param('@k', k)]);
      expect(r.type).toBe(Kv.Aborted);
      expect(await c().get(k, persistent)).toMatchObject({ value: text('before'), revision: 0 });
    });

    it('BEGIN SET ... COMMIT END -> Set, written; inside, GET reads its own write', async () => {
      const k = unique('s-commit');
      await c().set({ key: k, value: text('before'), durability: persistent });
      const r = await run(`BEGIN SET @k 'after' LET v = GET @k COMMIT RETURN v END`,
        [param('@k', k)]);
      expect(r.type).toBe(Kv.Get);
      expect(utf8(only(r).value)).toBe('after');
      expect(await c().get(k, persistent)).toMatchObject({ value: text('after'), revision: 1 });
    });

    it('a bare COMMIT outside BEGIN -> Errored', async () => {
      const r = await run(`COMMIT`);
      expect(r.type).toBe(Kv.Errored);
    });
  });

  describe('9.2 and 4.6: expressions, THROW, SLEEP, errors', () => {
    it('LET my_var = (100 + 50) * 2 - 1 RETURN my_var -> Get "299", Revision -1, Key ""',
      async () => {
        const r = await run(`LET my_var = (100 + 50) * 2 - 1 RETURN my_var`);
        expect(r.type).toBe(Kv.Get);
        expect(only(r)).toMatchObject({ key: '', revision: -1 });
        expect(utf8(only(r).value)).toBe('299');
      });

    it('throw 100 -> Errored "100 at line 1"', async () => {
      const r = await run(`throw 100`);
      expect(r.type).toBe(Kv.Errored);
      expect(r.reason).toBe('100 at line 1');
    });

    it('a THROW after a SET rolls the write back', async () => {
      const k = unique('s-throw-rollback');
      const r = await run(`SET @k 'x'\nthrow 'my exception'`, [param('@k', k)]);
      expect(r.type).toBe(Kv.Errored);
      expect(r.reason).toBe('my exception at line 2');
      expect((await c().get(k, persistent)).type).toBe(Kv.DoesNotExist);
    });

    it('sleep 1050 return true takes >= 1 s and returns "true"', async () => {
      const started = Date.now();
      const r = await run(`sleep 1050 return true`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(r.type).toBe(Kv.Get);
      expect(utf8(only(r).value)).toBe('true');
    });

    it('a syntax error -> Errored with a reason containing "Syntax error"', async () => {
      const r = await run(`SET @k 'v' WHATEVER )(`, [param('@k', unique('s-syntax'))]);
      expect(r.type).toBe(Kv.Errored);
      expect(r.reason).toMatch(/Syntax error/);
    });

    it('for x in 1..10 sums to "55"', async () => {
      const r = await run(
        'let total = 0\nfor x in 1..10 do\n  let total = total + x\nend\nreturn total');
      expect(r.type).toBe(Kv.Get);
      expect(utf8(only(r).value)).toBe('55');
    });

    it('LET x = 1..10 RETURN x[9] -> "10"', async () => {
      const r = await run(`LET x = 1..10\nRETURN x[9]`);
      expect(r.type).toBe(Kv.Get);
      expect(utf8(only(r).value)).toBe('10');
    });
  });

  describe('4.6: the election script (throw on line 3)', () => {
    const election = [
      'set @leader_param "node-A" cmprev 0',
      'if not set then',
      '  throw "election failed"',
      'end',
      'return true',
    ].join('\n');

    it('on a missing key -> Errored "election failed at line 3"; nothing written', async () => {
      const k = unique('s-election-missing');
      const r = await run(election, [param('@leader_param', k)]);
      expect(r.type).toBe(Kv.Errored);
      expect(r.reason).toBe('election failed at line 3');
      expect((await c().get(k, persistent)).type).toBe(Kv.DoesNotExist);
    });

    it('on a key at revision 0 -> "true", and the key is node-A at r1', async () => {
      const k = unique('s-election-r0');
      await c().set({ key: k, value: text('nobody'), durability: persistent });
      const r = await run(election, [param('@leader_param', k)]);
      expect(r.type).toBe(Kv.Get);
      expect(utf8(only(r).value)).toBe('true');
      expect(await c().get(k, persistent)).toMatchObject({ value: text('node-A'), revision: 1 });
    });

    const byRevision = [
      'let current_leader = get @leader',
      'if rev(current_leader) == 0 then set @leader "node-A" else throw "election failed" end',
    ].join('\n');

    it('rev() of a GET: a key at r0 -> Set r1 node-A; at r1 -> Errored "election failed at ' +
      'line 2"', async () => {
      const k = unique('s-election-rev');
      await c().set({ key: k, value: text('nobody'), durability: persistent });
      const won = await run(byRevision, [param('@leader', k)]);
      expect(won.type).toBe(Kv.Set);
      expect(only(won).revision).toBe(1);
      expect(await c().get(k, persistent)).toMatchObject({ value: text('node-A'), revision: 1 });
      const lost = await run(byRevision, [param('@leader', k)]);
      expect(lost.type).toBe(Kv.Errored);
      expect(lost.reason).toBe('election failed at line 2');
      expect(await c().get(k, persistent)).toMatchObject({ value: text('node-A'), revision: 1 });
    });
  });

  describe('9.2: history (AS OF, AT, snapshot)', () => {
    it('GET k AS OF <t before the first write> -> DoesNotExist; AS OF between two writes ' +
      '-> the first value', async () => {
      const k = unique('s-asof');
      const first = await c().set({ key: k, value: text('one'), durability: persistent });
      await sleep(25);
      const second = await c().set({ key: k, value: text('two'), durability: persistent });
      expect(second.lastModified.l - first.lastModified.l).toBeGreaterThanOrEqual(20);
      const before = await run(`GET @k AS OF ${first.lastModified.l - 1}`, [param('@k', k)]);
      expect(before.type).toBe(Kv.DoesNotExist);
      const between = await run(`GET @k AS OF ${second.lastModified.l - 1}`, [param('@k', k)]);
      expect(between.type).toBe(Kv.Get);
      expect(utf8(only(between).value)).toBe('one');
      expect(only(between).revision).toBe(0);
    });

    it('GET k AT 1 AS OF 123 -> Errored', async () => {
      const k = unique('s-at-asof');
      await c().set({ key: k, value: text('a'), durability: persistent });
      await c().set({ key: k, value: text('b'), durability: persistent });
      const r = await run(`GET @k AT 1 AS OF 123`, [param('@k', k)]);
      expect(r.type).toBe(Kv.Errored);
    });

    it('GET k AT <revision> reads that revision', async () => {
      const k = unique('s-at');
      await c().set({ key: k, value: text('a'), durability: persistent });
      await c().set({ key: k, value: text('b'), durability: persistent });
      const r = await run(`GET @k AT 0`, [param('@k', k)]);
      expect(r.type).toBe(Kv.Get);
      expect(utf8(only(r).value)).toBe('a');
      expect(only(r).revision).toBe(0);
    });

    it('BEGIN (snapshot = <ms>) GET ... COMMIT END reads history; a SET inside -> Aborted',
      async () => {
        const k = unique('s-snapshot');
        const first = await c().set({ key: k, value: text('old'), durability: persistent });
        await sleep(25);
        const second = await c().set({ key: k, value: text('new'), durability: persistent });
        const at = second.lastModified.l - 1;
        expect(at).toBeGreaterThan(first.lastModified.l);
        const read = await run(`BEGIN (snapshot = ${at})\n  GET @k\n  COMMIT\nEND`,
          [param('@k', k)]);
        expect(read.type).toBe(Kv.Get);
        expect(utf8(only(read).value)).toBe('old');

        const write = await run(`BEGIN (snapshot = ${at})\n  SET @k 'nope'\n  COMMIT\nEND`,
          [param('@k', k)]);
        expect(write.type).toBe(Kv.Aborted);
        expect(await c().get(k, persistent)).toMatchObject({ value: text('new'), revision: 1 });
      });
  });

  describe('9.2: buckets and expiry', () => {
    it('GET BY BUCKET over 2 keys -> Get, 2 values in key order', async () => {
      const b = unique('s-bucket');
      // Written out of order; the bucket read sorts by key.
      await c().set({ key: `${b}/y`, value: text('Y'), durability: persistent });
      await c().set({ key: `${b}/x`, value: text('X'), durability: persistent });
      const r = await run(`GET BY BUCKET @b`, [param('@b', b)]);
      expect(r.type).toBe(Kv.Get);
      expect(r.values.map((v) => v.key)).toEqual([`${b}/x`, `${b}/y`]);
      expect(r.values.map((v) => utf8(v.value))).toEqual(['X', 'Y']);
      // LET + count over the same bucket.
      const n = await run(`LET all = GET BY BUCKET @b\nRETURN count(all)`, [param('@b', b)]);
      expect(utf8(only(n).value)).toBe('2');
    });

    it('SET ... EX 1000 -> Set r0; after 1.1 s GET -> DoesNotExist', async () => {
      const k = unique('s-ex');
      const set = await run(`SET @k 'hello world' EX 1000`, [param('@k', k)]);
      expect(set.type).toBe(Kv.Set);
      expect(only(set).revision).toBe(0);
      const live = await run(`GET @k`, [param('@k', k)]);
      expect(live.type).toBe(Kv.Get);
      expect(only(live).expires.l).toBeGreaterThan(0);
      await sleep(1100);
      expect((await run(`GET @k`, [param('@k', k)])).type).toBe(Kv.DoesNotExist);
    });
  });

  describe('ephemeral commands', () => {
    it('ESET / EGET / EEXISTS / EGET BY BUCKET use the ephemeral namespace only', async () => {
      const b = unique('s-eph');
      const k = `${b}/a`;
      const set = await run(`ESET @k 'e1'`, [param('@k', k)]);
      expect(set.type).toBe(Kv.Set);
      expect(only(set).revision).toBe(0);
      expect((await run(`ESET @k 'e2'`, [param('@k', `${b}/b`)])).type).toBe(Kv.Set);

      const got = await run(`EGET @k`, [param('@k', k)]);
      expect(got.type).toBe(Kv.Get);
      expect(utf8(only(got).value)).toBe('e1');
      expect((await run(`EEXISTS @k`, [param('@k', k)])).type).toBe(Kv.Exists);
      // Not in the persistent namespace.
      expect((await run(`GET @k`, [param('@k', k)])).type).toBe(Kv.DoesNotExist);
      expect((await c().get(k, persistent)).type).toBe(Kv.DoesNotExist);
      expect(await c().get(k, ephemeral)).toMatchObject({ type: Kv.Get, value: text('e1') });

      const bucket = await run(`EGET BY BUCKET @b`, [param('@b', b)]);
      expect(bucket.type).toBe(Kv.Get);
      expect(bucket.values.map((v) => v.key)).toEqual([`${b}/a`, `${b}/b`]);
      expect((await run(`GET BY BUCKET @b`, [param('@b', b)])).values).toHaveLength(0);

      const del = await run(`EDELETE @k`, [param('@k', k)]);
      expect(del.type).toBe(Kv.Deleted);
      expect((await c().get(k, ephemeral)).type).toBe(Kv.DoesNotExist);
    });
  });

  describe('implicit multi-key transactions', () => {
    const bucketCount = 12;

    it('several SETs over keys of many buckets (>= 2 partitions) commit together', async () => {
      const base = unique('s-multi');
      const keys = Array.from({ length: bucketCount }, (_, i) => `${base}-b${i}/k`);
      const script = keys.map((k, i) => `SET \`${k}\` 'v${i}'`).join('\n');
      const r = await run(script);
      expect(r.type, JSON.stringify(r)).toBe(Kv.Set);
      for (const [i, k] of keys.entries()) {
        expect(await c().get(k, persistent), k).toMatchObject({ type: Kv.Get,
          value: text(`v${i}`), revision: 0 });
      }
      const partitions = new Set(await Promise.all(keys.map((k) => partitionOfKey(honu.url, k))));
      expect(partitions.has(null)).toBe(false);
      expect(partitions.size).toBeGreaterThanOrEqual(2);
    });

    it('the same SETs followed by a THROW write nothing, on any partition', async () => {
      const base = unique('s-multi-throw');
      const keys = Array.from({ length: bucketCount }, (_, i) => `${base}-b${i}/k`);
      const script = `${keys.map((k) => `SET \`${k}\` 'x'`).join('\n')}\nTHROW 'stop'`;
      const r = await run(script);
      expect(r.type).toBe(Kv.Errored);
      expect(r.reason).toBe(`stop at line ${bucketCount + 1}`);
      for (const k of keys) expect((await c().get(k, persistent)).type, k).toBe(Kv.DoesNotExist);
      const partitions = new Set(await Promise.all(keys.map((k) => partitionOfKey(honu.url, k))));
      expect(partitions.size).toBeGreaterThanOrEqual(2);
    });

    it('read-modify-write across two keys in one implicit transaction', async () => {
      const base = unique('s-transfer');
      const from = `${base}-a/balance`;
      const to = `${base}-b/balance`;
      await c().set({ key: from, value: text('100'), durability: persistent });
      await c().set({ key: to, value: text('5'), durability: persistent });
      const r = await run([
        'LET a = GET @from', 'LET b = GET @to',
        'SET @from to_int(a) - 30', 'SET @to to_int(b) + 30', 'RETURN to_int(a) + to_int(b)',
      ].join('\n'), [param('@from', from), param('@to', to)]);
      expect(r.type).toBe(Kv.Get);
      expect(utf8(only(r).value)).toBe('105');
      expect(await c().get(from, persistent)).toMatchObject({ value: text('70'), revision: 1 });
      expect(await c().get(to, persistent)).toMatchObject({ value: text('35'), revision: 1 });
    });
  });
});

describe('scripts over REST only', () => {
  async function rawPost(path: string, body: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`${honu.url}${path}`, { method: 'POST',
      headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, text: await res.text() };
  }

  it('a null script -> type 100 (InvalidInput)', async () => {
    const r = await honu.client('rest').executeScript(null);
    expect(r.type).toBe(Kv.InvalidInput);
    const missing = await rawPost('/v1/kv/try-execute-tx-script', '{}');
    expect(missing.status).toBe(200);
    expect((JSON.parse(missing.text) as { type: number }).type).toBe(Kv.InvalidInput);
  });

  it('malformed JSON -> HTTP 400', async () => {
    for (const body of ['{"script":', 'not json', '{"script": "AAA" ']) {
      const r = await rawPost('/v1/kv/try-execute-tx-script', body);
      expect(r.status, body).toBe(400);
    }
    // The route still answers.
    const ok = await honu.client('rest').executeScript('RETURN 1');
    expect(ok.type).toBe(Kv.Get);
  });
});
