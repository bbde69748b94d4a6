// The language features kahuna-ts's rate limiters and tests send (wire.md 4.5), in scripts
// written for this test: hlc(), split(), to_int() of placeholders, integer `/`, `!=` against
// null, `EX <expr>` with XX, bucket reads iterated by FOR, `0..(n - 1)` ranges, backtick keys;
// and two concurrent optimistic scripts of kahuna-reference 4.6, of which exactly one aborts.
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { MemoryHost, run, texts } from './helpers.js';

/** A fixed-window counter: state "<window start>:<used>" in an ephemeral key. */
const fixedWindow = `LET now = hlc()
LET window = to_int(@window_ms)
LET limit = to_int(@limit)
LET start = (now / window) * window
LET used = 0
LET state = EGET @key
IF state != null THEN
  LET parts = split(to_string(state), ":")
  IF to_int(parts[0]) == start THEN
    LET used = to_int(parts[1])
  END
END
IF used + 1 > limit THEN
  RETURN concat("0:", to_string(start + window - now))
END
ESET @key concat(to_string(start), concat(":", to_string(used + 1))) EX start + window - now + 1000
RETURN concat("1:", to_string(limit - used - 1))`;

/** Sums the permits of the live leases of a bucket, then takes one if there is room. */
const leases = `LET held = 0
LET all = EGET BY BUCKET @bucket
FOR v IN all DO
  LET held = held + to_int(v)
END
IF held + to_int(@permits) > to_int(@limit) THEN
  RETURN "0:0"
END
ESET @lease @permits EX to_int(@lease_ms)
RETURN concat("1:", to_string(to_int(@limit) - held - to_int(@permits)))`;

describe('rate-limiter style scripts', () => {
  it('a fixed window grants up to the limit, then refuses until the window turns', async () => {
    const host = new MemoryHost();
    host.nowMs = 1_000_000;
    const params = [{ key: '@key', value: 'rl/w' }, { key: '@window_ms', value: '1000' },
      { key: '@limit', value: '2' }];
    const answers: string[] = [];
    for (let i = 0; i < 3; i += 1) answers.push(...texts(await run(fixedWindow, params, host))
      .map(String));
    host.nowMs += 250;
    answers.push(...texts(await run(fixedWindow, params, host)).map(String));
    host.nowMs += 1000;
    answers.push(...texts(await run(fixedWindow, params, host)).map(String));
    expect(answers).toEqual(['1:1', '1:0', '0:1000', '0:750', '1:1']);
    expect(host.read('rl/w', 0)?.value).toBe('1001000:1');
  });

  it('bucket leases: count live ones, expire, renew with XX', async () => {
    const host = new MemoryHost();
    const acquire = (lease: string) => run(leases, [{ key: '@bucket', value: 'sem' },
      { key: '@permits', value: '1' }, { key: '@limit', value: '2' },
      { key: '@lease', value: `sem/${lease}` }, { key: '@lease_ms', value: '500' }], host);
    expect(texts(await acquire('a'))).toEqual(['1:1']);
    expect(texts(await acquire('b'))).toEqual(['1:0']);
    expect(texts(await acquire('c'))).toEqual(['0:0']);
    const renew = 'ESET @lease @permits EX to_int(@lease_ms) XX';
    const renewParams = (lease: string) => [{ key: '@lease', value: `sem/${lease}` },
      { key: '@permits', value: '1' }, { key: '@lease_ms', value: '500' }];
    host.nowMs += 300;
    expect((await run(renew, renewParams('a'), host)).type).toBe(KvType.Set);
    host.nowMs += 300;
    expect((await run(renew, renewParams('b'), host)).type).toBe(KvType.NotSet);
    expect(texts(await acquire('c'))).toEqual(['1:0']);
    expect((await run('EDELETE @lease', [{ key: '@lease', value: 'sem/a' }], host)).type)
      .toBe(KvType.Deleted);
  });

  it('0..(n - 1), indexing past a shift, and != / <= / == on computed values', async () => {
    const out = await run(`LET n = 4
LET parts = split("9:1:2:3:4", ":")
LET total = 0
FOR j IN 0..(n - 1) DO
  IF j + 1 <= n THEN
    LET total = total + to_int(parts[1 + j])
  END
END
RETURN concat(to_string(total), concat("/", to_string(count(parts) != n + 1)))`);
    expect(texts(out)).toEqual(['6/false']);
  });

  it('backtick keys and placeholders as keys and values', async () => {
    const host = new MemoryHost();
    expect((await run('SET `tenant/a b` @v', [{ key: '@v', value: 'x' }], host)).type)
      .toBe(KvType.Set);
    expect(host.read('tenant/a b')?.value).toBe('x');
  });
});

describe('[4.6] concurrent optimistic scripts', () => {
  it('two mirror scripts over the same keys: exactly one aborts', async () => {
    const host = new MemoryHost();
    host.put('a', '10');
    host.put('b', '10');
    const script = (target: string) => `BEGIN (locking="optimistic")
 LET av = GET @keyA
 LET bv = GET @keyB
 IF to_int(av) + to_int(bv) = 20 THEN
  SET ${target} 0
 END
 COMMIT
END`;
    const params = [{ key: '@keyA', value: 'a' }, { key: '@keyB', value: 'b' }];
    const [x, y] = await Promise.all([run(script('@keyA'), params, host),
      run(script('@keyB'), params, host)]);
    expect([x?.type, y?.type].sort()).toEqual([KvType.Set, KvType.Aborted]);
    const final = [host.read('a')?.value, host.read('b')?.value];
    expect([['0', '10'], ['10', '0']]).toContainEqual(final);
  });
});
