// Kahuna's server script cases (kahuna-reference.md 9.2 "Scripts (server)", 4.6 examples) and
// the result shape of wire.md 4.5, run on the in-memory host: types, revisions, values, RETURN
// rows, THROW and placeholders.
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { firstText, MemoryHost, run, texts } from './helpers.js';

describe('[9.2] key commands', () => {
  it('set -> r0, set via placeholder -> r1, get -> value + r2', async () => {
    const host = new MemoryHost();
    const a = await run("SET pp 'hello world'", [], host);
    expect(a).toMatchObject({ type: KvType.Set, reason: null, values: [{ key: 'pp',
      revision: 0, value: null }] });
    const b = await run('SET pp @v', [{ key: '@v', value: 'from param' }], host);
    expect(b).toMatchObject({ type: KvType.Set, values: [{ revision: 1 }] });
    await run("SET pp 'third'", [], host);
    const c = await run('GET pp', [], host);
    expect(c).toMatchObject({ type: KvType.Get, values: [{ key: 'pp', revision: 2 }] });
    expect(firstText(c)).toBe('third');
  });

  it('a single statement runs as a single auto-commit command', async () => {
    const host = new MemoryHost();
    await run('SET `k 1` 1', [], host);
    expect(host.begun).toMatchObject([{ single: true, autoCommit: true, asyncRelease: true,
      locking: 0, priority: 2, snapshotMs: 0, timeoutMs: 5000 }]);
    expect(host.read('k 1')).toEqual({ value: '1', revision: 0 });
  });

  it('NX on an existing key -> NotSet with the current revision', async () => {
    const host = new MemoryHost();
    host.put('pp', 'a');
    host.put('pp', 'b');
    const out = await run("SET pp 'x' NX", [], host);
    expect(out).toMatchObject({ type: KvType.NotSet, values: [{ revision: 1 }] });
    expect(host.read('pp')?.value).toBe('b');
  });

  it('XX on a missing key -> NotSet r-1; CMP match -> Set r+1; CMPREV mismatch -> NotSet',
    async () => {
      const host = new MemoryHost();
      expect(await run("SET pp 'x' XX", [], host)).toMatchObject({ type: KvType.NotSet,
        values: [{ revision: -1 }] });
      host.put('pp', 'old');
      expect(await run("SET pp 'new' CMP 'old'", [], host)).toMatchObject({ type: KvType.Set,
        values: [{ revision: 1 }] });
      expect(await run("SET pp 'newer' CMPREV 0", [], host)).toMatchObject({
        type: KvType.NotSet, values: [{ revision: 1 }] });
      expect(await run("SET pp 'newer' CMPREV 1 NOREV", [], host)).toMatchObject({
        type: KvType.Set, values: [{ revision: 2 }] });
      expect(host.read('pp')?.value).toBe('newer');
    });

  it('EX expires by host time', async () => {
    const host = new MemoryHost();
    expect(await run("SET pp 'hello world' EX 1000", [], host))
      .toMatchObject({ type: KvType.Set, values: [{ revision: 0 }] });
    host.nowMs += 1100;
    expect(await run('GET pp', [], host)).toMatchObject({ type: KvType.DoesNotExist,
      values: [{ key: 'pp', value: null, revision: -1 }] });
  });

  it('DELETE after SET -> r1, EXTEND -> Extended r0, EXISTS -> Exists r0', async () => {
    const host = new MemoryHost();
    await run("SET a 'v'", [], host);
    expect(await run('EXTEND a 1000', [], host)).toMatchObject({ type: KvType.Extended,
      values: [{ revision: 0 }] });
    expect(await run('EXISTS a', [], host)).toMatchObject({ type: KvType.Exists,
      values: [{ key: 'a', revision: 0, value: null }] });
    expect(await run('DELETE a', [], host)).toMatchObject({ type: KvType.Deleted,
      values: [{ revision: 1 }] });
    expect(await run('EXISTS a', [], host)).toMatchObject({ type: KvType.DoesNotExist });
    expect(await run('DEL a', [], host)).toMatchObject({ type: KvType.DoesNotExist });
  });

  it('ephemeral and persistent are separate namespaces', async () => {
    const host = new MemoryHost();
    await run("ESET k 'e'", [], host);
    expect(await run('GET k', [], host)).toMatchObject({ type: KvType.DoesNotExist });
    expect(firstText(await run('EGET k', [], host))).toBe('e');
  });

  it('GET AT and AS OF read history', async () => {
    const host = new MemoryHost();
    const before = host.nowMs - 1;
    host.put('k', 'v0');
    host.nowMs += 10;
    host.put('k', 'v1');
    expect(firstText(await run('GET k AT 0', [], host))).toBe('v0');
    expect(await run(`GET k AS OF ${before}`, [], host))
      .toMatchObject({ type: KvType.DoesNotExist });
    expect(firstText(await run(`GET k AS OF ${host.nowMs - 5}`, [], host))).toBe('v0');
    expect(await run('GET k AT 1 AS OF 123', [], host)).toMatchObject({ type: KvType.Errored,
      reason: expect.stringMatching(/Syntax error/) as unknown });
    expect(await run('GET k AS OF 0', [], host)).toMatchObject({ type: KvType.Errored,
      reason: 'Invalid AS OF timestamp: 0 at line 1' });
  });

  it('get by bucket over 2 keys -> 2 rows in key order', async () => {
    const host = new MemoryHost();
    host.put('doctors/bob', 'true');
    host.put('doctors/alice', 'true');
    host.put('doctors', 'not in the bucket');
    host.put('doctors/x/y', 'another bucket');
    const out = await run("GET BY BUCKET 'doctors'", [], host);
    expect(out.type).toBe(KvType.Get);
    expect(out.values.map((r) => r.key)).toEqual(['doctors/alice', 'doctors/bob']);
    expect(texts(out)).toEqual(['true', 'true']);
    const scan = await run("SCAN BY PREFIX 'doctors/'", [], host);
    expect(scan.values.map((r) => r.key)).toEqual(['doctors/alice', 'doctors/bob',
      'doctors/x/y']);
    expect(await run("GET BY BUCKET 'none'", [], host)).toEqual({ type: KvType.Get,
      reason: null, values: [] });
  });
});

describe('[4.6] computed scripts', () => {
  it('LET my_var = (100 + 50) * 2 - 1 RETURN my_var -> "299", revision -1, key ""', async () => {
    const host = new MemoryHost();
    const out = await run('LET my_var = (100 + 50) * 2 - 1 RETURN my_var', [], host);
    expect(out).toMatchObject({ type: KvType.Get, reason: null, values: [{ key: '',
      revision: -1, expires: { n: 0, l: 0, c: 0 } }] });
    expect(firstText(out)).toBe('299');
    expect(host.calls).toEqual([]);
  });

  it('sum loops: 1..10 -> 55, 0..9 -> 36', async () => {
    const loop = (range: string): string =>
      `let total = 0\nfor x in ${range} do\n  let total = total + x\nend\nreturn total`;
    expect(texts(await run(loop('1..10')))).toEqual(['55']);
    expect(texts(await run(loop('0..9')))).toEqual(['36']);
  });

  it('RETURN prints booleans, null as empty, arrays as rows, GET values with their revision',
    async () => {
      expect(texts(await run('RETURN true'))).toEqual(['true']);
      expect(texts(await run('RETURN null'))).toEqual(['']);
      expect(texts(await run('RETURN 2.50'))).toEqual(['2.5']);
      expect(texts(await run('RETURN 1..3'))).toEqual(['1', '2', '3']);
      const host = new MemoryHost();
      host.put('k', 'a');
      host.put('k', 'b');
      const out = await run('LET v = GET k RETURN v', [], host);
      expect(out.values).toMatchObject([{ key: 'k', revision: 1 }]);
      expect(texts(out)).toEqual(['b']);
      expect((await run('LET v = GET k RETURN to_str(v)', [], host)).values)
        .toMatchObject([{ key: '', revision: -1 }]);
    });

  it('RETURN without a value keeps the last command; nothing at all is Get with no rows',
    async () => {
      const host = new MemoryHost();
      expect(await run('SET a 1 RETURN SET b 2', [], host)).toMatchObject({
        type: KvType.Set, values: [{ key: 'a' }] });
      expect(host.read('b')).toBeUndefined();
      expect(await run('LET a = 1')).toEqual({ type: KvType.Get, reason: null, values: [] });
    });

  it('throw 100 -> Errored "100 at line 1"; throw null -> "(null) at line 1"', async () => {
    expect(await run('throw 100')).toEqual({ type: KvType.Errored,
      reason: '100 at line 1', values: [] });
    expect((await run('THROW null')).reason).toBe('(null) at line 1');
    expect((await run("THROW 'my exception'")).reason).toBe('my exception at line 1');
  });

  it('the election script on a missing key -> Errored "election failed at line 3"', async () => {
    const host = new MemoryHost();
    const script = 'set @leader_param "node-A" cmprev 0\nif not set then\n'
      + '  throw "election failed"\nend\nreturn true';
    const out = await run(script, [{ key: '@leader_param', value: 'leader' }], host);
    expect(out).toEqual({ type: KvType.Errored, reason: 'election failed at line 3',
      values: [] });
    expect(host.read('leader')).toBeUndefined();
    host.put('leader', 'node-B');
    const won = await run(script, [{ key: '@leader_param', value: 'leader' }], host);
    expect(texts(won)).toEqual(['true']);
    expect(host.read('leader')).toEqual({ value: 'node-A', revision: 1 });
  });

  it('NOT FOUND follows the last GET; NOT SET before any SET is an error', async () => {
    const host = new MemoryHost();
    expect(texts(await run('GET k IF NOT FOUND THEN RETURN "missing" END', [], host)))
      .toEqual(['missing']);
    expect((await run('RETURN NOT SET')).reason).toBe('Invalid NOT SET expression at line 1');
  });

  it('placeholders as keys and values; a missing one is Errored', async () => {
    const host = new MemoryHost();
    const params = new Map<string, string | null>([['@k', 'key-1'], ['@n', '41'], ['@z', null]]);
    const out = await run('SET @k to_int(@n) + 1 LET v = GET @k RETURN concat(v, @z)', params,
      host);
    expect(texts(out)).toEqual(['42']);
    expect(host.read('key-1')?.value).toBe('42');
    expect(await run('RETURN @missing')).toMatchObject({ type: KvType.Errored,
      reason: 'Missing parameter @missing at line 1' });
    expect((await run('GET @z', params, host)).reason).toMatch(/parameter @z is null/);
  });

  it('a write after SET reads its own value (read-your-own-writes)', async () => {
    const host = new MemoryHost();
    host.put('pp', '10');
    const out = await run('LET current_pp = GET pp\nSET pp current_pp + 1\nGET pp', [], host);
    expect(out).toMatchObject({ type: KvType.Get, values: [{ revision: 1 }] });
    expect(firstText(out)).toBe('11');
  });

  it('the doctors write-skew script on one run', async () => {
    const host = new MemoryHost();
    host.put('doctors/alice', 'true');
    host.put('doctors/bob', 'true');
    const script = "let oncall = get by bucket 'doctors'\nif count(oncall) = 2 then\n"
      + "   set 'doctors/alice' false ex 10000\nelse\n   throw 'no both doctors on call'\nend";
    expect(await run(script, [], host)).toMatchObject({ type: KvType.Set });
    expect(host.read('doctors/alice')?.value).toBe('false');
    await run("DELETE 'doctors/bob'", [], host);
    expect((await run(script, [], host)).reason).toBe('no both doctors on call at line 5');
  });
});
