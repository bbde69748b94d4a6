// Transaction scoping and outcomes of scripts (kahuna-reference.md 4.5, wire.md 4.5): single
// statements, implicit transactions, BEGIN ... END with COMMIT / ROLLBACK and options, snapshot
// reads, rollback on THROW, on errors and on host failures, and the transaction timeout.
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { ScriptFailure } from '../../src/core/script/host.js';
import { runScriptText } from '../../src/core/script/interpreter.js';
import { firstText, MemoryHost, run, texts } from './helpers.js';

function primed(): MemoryHost {
  const host = new MemoryHost();
  host.put('pp', 'before');
  host.calls.length = 0;
  return host;
}

describe('[4.5] BEGIN ... END', () => {
  it('BEGIN ... ROLLBACK END -> Aborted and the previous value remains', async () => {
    const host = primed();
    const out = await run("BEGIN\n SET pp 'x'\n ROLLBACK\nEND", [], host);
    expect(out).toEqual({ type: KvType.Aborted, reason: 'Transaction aborted', values: [] });
    expect(host.read('pp')).toEqual({ value: 'before', revision: 0 });
    expect(host.calls).toEqual(['begin', 'set 1:pp', 'rollback']);
  });

  it('BEGIN SET ... END without COMMIT -> Aborted and nothing written', async () => {
    const host = primed();
    expect(await run("BEGIN SET pp 'x' END", [], host)).toMatchObject({
      type: KvType.Aborted });
    expect(host.read('pp')?.value).toBe('before');
    expect(host.begun).toMatchObject([{ autoCommit: false, single: false, asyncRelease: false }]);
  });

  it("BEGIN SET pp 'x' COMMIT END on one line commits with the last command's type",
    async () => {
      const host = primed();
      const out = await run("BEGIN SET pp 'x' COMMIT END", [], host);
      expect(out).toMatchObject({ type: KvType.Set, values: [{ key: 'pp', revision: 1 }] });
      expect(host.read('pp')).toEqual({ value: 'x', revision: 1 });
      expect(host.calls).toEqual(['begin', 'set 1:pp', 'commit']);
    });

  it('commands after COMMIT still belong to the transaction', async () => {
    const host = primed();
    const out = await run("BEGIN SET pp 'x' COMMIT GET pp END", [], host);
    expect(out.type).toBe(KvType.Get);
    expect(firstText(out)).toBe('x');
  });

  it('autoCommit=true commits without COMMIT', async () => {
    const host = primed();
    expect(await run("BEGIN (autoCommit = true) SET pp 'y' END", [], host))
      .toMatchObject({ type: KvType.Set });
    expect(host.read('pp')?.value).toBe('y');
  });

  it('passes the options to the host', async () => {
    const host = primed();
    await run('BEGIN (locking="optimistic", timeout=250, asyncRelease=yes, priority=high, '
      + "admissionWait=10, unknownKey='ignored') GET pp COMMIT END", [], host);
    expect(host.begun).toEqual([{ locking: 1, timeoutMs: 250, autoCommit: false,
      asyncRelease: true, snapshotMs: 0, priority: 3, single: false }]);
  });

  it.each([
    ['locking=strict', 'Unsupported locking option: strict at line 1'],
    ['autoCommit=maybe', 'Unsupported autoCommit option: maybe at line 1'],
    ['asyncRelease=1', 'Unsupported asyncRelease option: 1 at line 1'],
    ['priority=urgent', 'Unsupported priority option: urgent at line 1'],
    ['timeout=soon', 'Invalid timeout option: soon at line 1'],
    ['timeout=0', 'Invalid timeout option: 0 at line 1'],
    ['snapshot=-1', 'Invalid snapshot option: -1 at line 1'],
    ['Locking=optimistic, Locking=pessimistic', 'Duplicate BEGIN option: Locking at line 1'],
  ])('BEGIN (%s) -> Errored', async (options, reason) => {
    const host = primed();
    expect(await run(`BEGIN (${options}) SET pp 1 COMMIT END`, [], host)).toEqual({
      type: KvType.Errored, reason, values: [] });
    expect(host.calls).toEqual([]);
  });

  it('an option may come from a placeholder', async () => {
    const host = primed();
    await run('BEGIN (locking=@mode) GET pp COMMIT END', [{ key: '@mode', value: 'optimistic' }],
      host);
    expect(host.begun[0]?.locking).toBe(1);
  });

  it('bare COMMIT / ROLLBACK -> Errored "Invalid transaction"; nested BEGIN -> Errored',
    async () => {
      expect(await run('COMMIT')).toEqual({ type: KvType.Errored,
        reason: 'Invalid transaction at line 1', values: [] });
      expect((await run('ROLLBACK')).reason).toBe('Invalid transaction at line 1');
      const host = primed();
      expect((await run("SET pp 'x'\nBEGIN COMMIT END", [], host)).reason)
        .toBe('Nested transactions are not supported at line 2');
      expect(host.read('pp')?.value).toBe('before');
    });
});

describe('[4.5] snapshot transactions', () => {
  it('reads at the snapshot; a statement AS OF overrides it', async () => {
    const host = new MemoryHost();
    host.put('config/feature-x', 'old');
    const snapshot = host.nowMs;
    host.nowMs += 100;
    host.put('config/feature-x', 'new');
    const out = await run(`BEGIN (snapshot = ${snapshot})\n  GET "config/feature-x"\n  COMMIT\nEND`,
      [], host);
    expect(out.type).toBe(KvType.Get);
    expect(firstText(out)).toBe('old');
    expect(host.begun[0]?.snapshotMs).toBe(snapshot);
    const asOf = await run(`BEGIN (snapshot = ${snapshot}) GET "config/feature-x" AS OF `
      + `${host.nowMs} COMMIT END`, [], host);
    expect(firstText(asOf)).toBe('new');
  });

  it('a write inside -> Aborted and nothing written', async () => {
    const host = primed();
    const out = await run(`BEGIN (snapshot = ${host.nowMs}) SET pp 'w' COMMIT END`, [], host);
    expect(out.type).toBe(KvType.Aborted);
    expect(host.read('pp')?.value).toBe('before');
  });
});

describe('[4.5] implicit transactions and rollback', () => {
  it('several statements are one auto-commit transaction', async () => {
    const host = primed();
    const out = await run("SET a 1\nSET b 2\nGET a", [], host);
    expect(out).toMatchObject({ type: KvType.Get });
    expect(host.calls).toEqual(['begin', 'set 1:a', 'set 1:b', 'get 1:a', 'commit']);
    expect(host.begun).toMatchObject([{ autoCommit: true, single: false, asyncRelease: false }]);
  });

  it('ROLLBACK in an implicit transaction aborts it', async () => {
    const host = primed();
    expect((await run("SET pp 'x' ROLLBACK", [], host)).type).toBe(KvType.Aborted);
    expect(host.read('pp')?.value).toBe('before');
  });

  it('THROW and runtime errors roll back earlier writes', async () => {
    const host = primed();
    expect(await run("SET pp 'x'\nTHROW 'stop'", [], host)).toMatchObject({
      type: KvType.Errored, reason: 'stop at line 2' });
    expect(await run("SET pp 'x'\nLET y = 1 + 'z'", [], host)).toMatchObject({
      type: KvType.Errored, reason: 'Invalid operands: LongType + StringType at line 2' });
    expect(host.read('pp')?.value).toBe('before');
    expect(host.calls.filter((c) => c === 'rollback')).toHaveLength(2);
  });

  it('a host failure ends the script with its code, rolled back', async () => {
    const host = primed();
    host.failNext = { op: 'get', failure: new ScriptFailure(KvType.MustRetry, 'leader moved') };
    expect(await run("SET pp 'x' GET pp", [], host)).toEqual({ type: KvType.MustRetry,
      reason: 'leader moved', values: [] });
    expect(host.read('pp')?.value).toBe('before');
    expect(host.calls.at(-1)).toBe('rollback');
  });

  it('a conflicting write meanwhile -> commit Aborted, then rolled back', async () => {
    const host = primed();
    host.onSleep = () => host.put('pp', 'other');
    const out = await run('BEGIN LET v = GET pp SLEEP 10 SET pp concat(v, "!") COMMIT END', [],
      host);
    expect(out).toEqual({ type: KvType.Aborted, reason: 'Transaction aborted', values: [] });
    expect(host.read('pp')?.value).toBe('other');
    expect(host.calls.slice(-2)).toEqual(['commit', 'rollback']);
  });

  it('a failing host begin is the outcome, with nothing to roll back', async () => {
    const host = primed();
    host.begin = () => Promise.reject(new ScriptFailure(108, 'Admission refused'));
    expect(await run('SET a 1 SET b 2', [], host)).toEqual({ type: 108,
      reason: 'Admission refused', values: [] });
  });

  it('a host bug is Errored, not a rejection', async () => {
    const host = primed();
    host.begin = () => Promise.reject(new TypeError('boom'));
    expect(await run('GET pp', [], host)).toEqual({ type: KvType.Errored,
      reason: 'TypeError: boom', values: [] });
  });
});

describe('[4.5] time', () => {
  it('sleep 1050 return true waits 1050 ms of host time', async () => {
    const host = new MemoryHost();
    const start = host.nowMs;
    expect(texts(await run('sleep 1050 return true', [], host))).toEqual(['true']);
    expect(host.nowMs - start).toBe(1050);
    expect(host.calls).toEqual(['sleep 1050']);
  });

  it('past the timeout -> Aborted "Transaction aborted by timeout", rolled back', async () => {
    const host = primed();
    const start = host.nowMs;
    const out = await run("BEGIN (timeout = 100) SET pp 'x' SLEEP 60 SLEEP 60 COMMIT END", [],
      host);
    expect(out).toEqual({ type: KvType.Aborted, reason: 'Transaction aborted by timeout',
      values: [] });
    expect(host.nowMs - start).toBe(100);
    expect(host.read('pp')?.value).toBe('before');
  });

  it('the default timeout comes from the caller', async () => {
    const host = new MemoryHost();
    const out = await runScriptText('SLEEP 30 RETURN 1', [], host, { timeoutMs: 20,
      priority: 4 });
    expect(out.reason).toBe('Transaction aborted by timeout');
    await runScriptText('SET a 1', [], host, { timeoutMs: 20, priority: 4 });
    expect(host.begun[0]?.priority).toBe(4);
  });
});
