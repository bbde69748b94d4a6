// Values, coercion and functions (kahuna-reference.md 4.3, 4.4; wire.md 4.5): the coercion
// table, integer division, float printing, ranges, equality, every function and its errors.
import { describe, expect, it } from 'vitest';
import { formatFloat } from '../../src/core/script/values.js';
import { MemoryHost, run, texts, value } from './helpers.js';

async function reason(script: string): Promise<string | null> {
  const out = await run(script);
  expect(out.type).toBe(99);
  return out.reason;
}

describe('[4.3] arithmetic and coercion', () => {
  it.each([
    ['(100 + 50) * 2 - 1', '299'],
    ["100 + '50'", '150'],
    ["'50' + 100", '150'],
    ["100 / '0.5'", '200'],
    ['7 / 2', '3'],
    ['-7 / 2', '-3'],
    ['7.0 / 2', '3.5'],
    ['10.5 + 0.5', '11'],
    ["100.5 * '50'", '5025'],
    ['1 -1', '0'],
    ['2 - -1', '3'],
    ["'10' - 4", '6'],
    ['0.1 + 0.2', '0.30000000000000004'],
  ])('%s = %s', async (expr, expected) => {
    expect(await value(expr)).toBe(expected);
  });

  it('refuses a non-numeric string, null and two strings', async () => {
    expect(await reason("RETURN 100 + 'hello'"))
      .toBe('Invalid operands: LongType + StringType at line 1');
    expect(await reason('LET x = 1\nRETURN x + null'))
      .toBe('Invalid operands: LongType + NullType at line 2');
    expect(await reason("RETURN '1' + '2'")).toMatch(/StringType \+ StringType/);
    expect(await reason('RETURN 1 / 0')).toMatch(/divide by zero at line 1/);
    expect(await reason('RETURN 9007199254740991 + 1')).toBe('Integer overflow at line 1');
  });
});

describe('[4.3] comparison and equality', () => {
  it.each([
    ["100 = '100'", 'true'],
    ["'50' = 100", 'false'],
    ["'100' == 100", 'true'],
    ['null == null', 'true'],
    ["null == ''", 'false'],
    ["'' == null", 'false'],
    ['1 != null', 'true'],
    ["'a' <> 'b'", 'true'],
    ['1.0005 == 1', 'true'],
    ['true == true', 'true'],
    ['3 <= 3', 'true'],
    ["'9' > 10", 'false'],
    ['2.5 >= 2', 'true'],
    ['true && 1 < 2', 'true'],
    ['false || 0 == 1', 'false'],
    ['not (1 == 2)', 'true'],
    ['!true', 'false'],
  ])('%s is %s', async (expr, expected) => {
    expect(await value(expr)).toBe(expected);
  });

  it('refuses what Kahuna refuses', async () => {
    expect(await reason("RETURN 'x' == 1")).toMatch(/Invalid operands: StringType == LongType/);
    expect(await reason("RETURN 'a' < 'b'")).toMatch(/StringType < StringType/);
    expect(await reason('RETURN true && 1')).toMatch(/BoolType and LongType/);
    expect(await reason('RETURN not "x"')).toMatch(/Invalid operand: not StringType/);
  });

  it('a GET value compares equal to a string of the same bytes', async () => {
    const host = new MemoryHost();
    host.put('k', 'hello');
    const out = await run("LET v = GET k\nRETURN v == 'hello' && 'hello' == v", [], host);
    expect(texts(out)).toEqual(['true']);
  });
});

describe('[4.3] ranges and arrays', () => {
  it('a..b is b values from a (Enumerable.Range)', async () => {
    expect(await value('to_json(1..10)')).toBe('[1,2,3,4,5,6,7,8,9,10]');
    expect(await value('to_json(10..1)')).toBe('[10]');
    expect(await value('count(0..9)')).toBe('9');
    expect(await value('count(5..0)')).toBe('0');
    const out = await run('LET x = 1..10 RETURN x[9]');
    expect(texts(out)).toEqual(['10']);
  });

  it('indexes from 0 and refuses out of range', async () => {
    expect(await value("split('a:b:c', ':')[2]")).toBe('c');
    expect(await reason('LET x = 1..3 RETURN x[3]')).toMatch(/Index must be .* at line 1/);
    expect(await reason('RETURN 5[0]')).toMatch(/must be an array: Found: LongType/);
    expect(await reason("RETURN 1..'a'")).toMatch(/range operator/);
    expect(await reason('RETURN 1..-1')).toMatch(/Invalid range count/);
  });
});

describe('float printing (.NET double.ToString)', () => {
  it.each([
    [11, '11'], [2.5, '2.5'], [-0.5, '-0.5'], [1e14, '100000000000000'], [1e15, '1E+15'],
    [1.5e20, '1.5E+20'], [0.0001, '0.0001'], [0.00001, '1E-05'], [-2.5e-7, '-2.5E-07'],
    [Infinity, 'Infinity'], [Number.NaN, 'NaN'],
  ])('%d prints %s', (n, text) => {
    expect(formatFloat(n)).toBe(text);
  });
});

describe('[4.4] functions', () => {
  it.each([
    ['abs(-3)', '3'], ['abs(-2.5)', '2.5'], ['pow(2, 10)', '1024'], ['round(2.5, 0)', '2'],
    ['round(3.5)', '4'], ['round(1.2345, 2)', '1.23'], ['ceil(1.2)', '2'], ['floor(-1.2)', '-2'],
    ['min(3, 2)', '2'], ['max(3, 2.5)', '3'], ['to_int(1.2)', '1'], ['to_int(true)', '1'],
    ["to_int('42')", '42'], ["to_int('')", '0'], ["to_float('1.5') * 2", '3'],
    ['to_double(2) / 4', '0.5'], ['to_str(null)', ''], ['to_str(1.0)', '1'],
    ['to_string(12) + 1', '13'], ['to_bool(0)', 'false'], ["to_bool('false')", 'false'],
    ['to_bool(1)', 'true'], ['to_bool(2.0)', 'true'], ["to_bool('TRUE')", 'true'],
    ['is_int(1)', 'true'], ['is_integer(1.5)', 'false'], ['is_float(1.5)', 'true'],
    ["is_str('a')", 'true'], ['is_bool(false)', 'true'], ['is_null(null)', 'true'],
    ['is_array(1..2)', 'true'], ["concat('a', 'b')", 'ab'], ["concat('n=', 5)", 'n=5'],
    ["upper('aB')", 'AB'], ["lower('aB')", 'ab'], ["len('héllo')", '5'],
    ["length('')", '0'], ["to_json('a\"b')", '"a\\"b"'], ['to_json(2.5)', '2.5'],
    ['count(split("a,b", ","))', '2'], ['revision(1)', '-1'], ['expires(1)', '0'],
    ['TO_INT(3)', '3'], ['Count(1..4)', '4'],
  ])('%s = %s', async (expr, expected) => {
    expect(await value(expr)).toBe(expected);
  });

  it('hlc() and current_time() are the host HLC ms', async () => {
    const host = new MemoryHost();
    const out = await run('RETURN concat(to_string(hlc()), concat(":", current_time()))', [],
      host);
    expect(texts(out)).toEqual([`${host.nowMs}:${host.nowMs}`]);
  });

  it('split() gives strings; an empty separator keeps the text whole', async () => {
    expect(await value("to_json(split('1:2::3', ':'))")).toBe('["1","2","","3"]');
    expect(await value("to_json(split('abc', ''))")).toBe('["abc"]');
  });

  it('revision() and expires() of a GET value', async () => {
    const host = new MemoryHost();
    host.put('k', 'a');
    host.put('k', 'b');
    await run('SET e 1 EX 1000', [], host);
    const out = await run('LET v = GET k LET w = GET e '
      + 'RETURN concat(rev(v), concat(":", expires(w) - hlc()))', [], host);
    expect(texts(out)).toEqual(['1:1000']);
  });

  it('errors: unknown function, arity, bad casts', async () => {
    expect(await reason('RETURN nope(1)')).toBe('Undefined function nope at line 1');
    expect(await reason('RETURN\n  constructor(1)'))
      .toBe('Undefined function constructor at line 2');
    expect(await reason('RETURN abs(1, 2)'))
      .toBe("Invalid number of arguments for 'abs' function at line 1");
    expect(await reason("RETURN to_int('x1')")).toMatch(/Cannot cast string value 'x1' to int/);
    expect(await reason('RETURN to_int(null)')).toMatch(/Cannot cast NullType to int/);
    expect(await reason('RETURN count(1)')).toMatch(/'count' function on argument LongType/);
    expect(await reason("RETURN upper(1)")).toMatch(/'upper' function with argument LongType/);
    expect(await reason('RETURN round(1.5, 16)')).toMatch(/Invalid value for digits 16/);
  });
});
