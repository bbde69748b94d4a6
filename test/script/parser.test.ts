// Kahuna Script grammar (kahuna-reference.md 4.2, 4.3): statements, SET flags in any order,
// read selectors, LET-assigned commands, BEGIN options, precedence, and syntax errors that say
// "Syntax error" and the right line. The Program is plain data (it crosses threads).
import { describe, expect, it } from 'vitest';
import type { Expr, Stmt } from '../../src/core/script/ast.js';
import { parseScript, tryParseScript } from '../../src/core/script/parser.js';

function one(src: string): Stmt {
  const { body } = parseScript(src);
  expect(body).toHaveLength(1);
  return body[0] as Stmt;
}

/** An expression in s-expression form, for precedence checks. */
function show(e: Expr): string {
  switch (e.k) {
    case 'binary': return `(${e.op} ${show(e.left)} ${show(e.right)})`;
    case 'not': return `(not ${show(e.operand)})`;
    case 'neg': return `(- ${show(e.operand)})`;
    case 'index': return `(idx ${show(e.target)} ${show(e.index)})`;
    case 'call': return `(${e.name} ${e.args.map(show).join(' ')})`;
    case 'var': case 'param': return e.name;
    case 'null': case 'notSet': case 'notFound': return e.k;
    default: return String(e.v);
  }
}

function expr(src: string): string {
  const s = one(`RETURN ${src}`);
  if (s.k !== 'return' || s.value === null) throw new Error('not a RETURN');
  return show(s.value);
}

function syntaxError(src: string): string {
  const r = tryParseScript(src);
  if (r.ok) throw new Error(`parsed: ${src}`);
  return r.reason;
}

describe('[4.2] SET', () => {
  it('takes flags in any order', () => {
    const s = one('SET k v + 1 EX 10 * 2 NOREV NX');
    expect(s).toMatchObject({ k: 'set', durability: 1, key: { k: 'lit', name: 'k' },
      flags: { nx: true, xx: false, norev: true, cmp: null, cmprev: null } });
    if (s.k !== 'set' || s.flags.ex === null) throw new Error('no EX');
    expect(show(s.value)).toBe('(+ v 1)');
    expect(show(s.flags.ex)).toBe('(* 10 2)');
    expect(one('ESET @k "x" XX EX 5')).toMatchObject({ durability: 0, key: { k: 'param',
      name: '@k' }, flags: { xx: true } });
    expect(one("SET k 'v' CMP 'old' NOREV")).toMatchObject({ flags: { norev: true } });
    expect(one('SET k 1 CMPREV 0')).toMatchObject({ flags: { cmprev: { k: 'int', v: 0 } } });
  });

  it('refuses repeated and conflicting conditions', () => {
    expect(syntaxError('SET k 1 NX NX')).toMatch(/^Syntax error: unexpected 'nx' at line 1$/);
    expect(syntaxError('SET k 1 NX XX')).toMatch(/Syntax error: NX, XX, CMP and CMPREV/);
    expect(syntaxError('SET k 1 CMP 1 CMPREV 2')).toMatch(/Syntax error/);
  });

  it('key names: identifier, string, backtick, placeholder', () => {
    expect(one("SET 'a/b' 1")).toMatchObject({ key: { k: 'lit', name: 'a/b' } });
    expect(one('SET `a b` 1')).toMatchObject({ key: { k: 'lit', name: 'a b' } });
    expect(one('GET @who')).toMatchObject({ key: { k: 'param', name: '@who' } });
    expect(syntaxError('SET 12 1')).toMatch(/Syntax error: unexpected '12', expected a key/);
  });
});

describe('[4.2] reads', () => {
  it('GET with AT, AS OF, and LET', () => {
    expect(one('GET k AT 3')).toMatchObject({ k: 'get', at: 3, asOf: null, into: null });
    expect(one('eget k @ 2')).toMatchObject({ k: 'get', durability: 0, at: 2 });
    expect(one('GET k AS OF 123')).toMatchObject({ at: -1, asOf: { k: 'int', v: 123 } });
    expect(one('LET x = GET k')).toMatchObject({ k: 'get', into: 'x' });
    expect(one('LET x = EEXISTS k AT 1')).toMatchObject({ k: 'exists', durability: 0, at: 1,
      into: 'x' });
  });

  it('AT and AS OF together is a syntax error', () => {
    expect(syntaxError('GET k AT 1 AS OF 123')).toBe("Syntax error: unexpected 'as' at line 1");
  });

  it('bucket and prefix reads', () => {
    expect(one("GET BY BUCKET 'doctors'")).toMatchObject({ k: 'bucket', durability: 1,
      key: { k: 'lit', name: 'doctors' } });
    expect(one('let l = eget by bucket @b as of 5')).toMatchObject({ k: 'bucket',
      durability: 0, into: 'l', asOf: { v: 5 } });
    expect(one('SCAN BY PREFIX p')).toMatchObject({ k: 'prefix', durability: 1 });
    expect(one('LET s = ESCAN BY PREFIX p')).toMatchObject({ k: 'prefix', durability: 0,
      into: 's' });
  });

  it('DELETE, EXTEND with an integer literal, SLEEP', () => {
    expect(one('DEL k')).toMatchObject({ k: 'delete', durability: 1 });
    expect(one('EDELETE k')).toMatchObject({ k: 'delete', durability: 0 });
    expect(one('EXTEND k 1000')).toMatchObject({ k: 'extend', ms: 1000 });
    expect(syntaxError('EXTEND @k @ttl')).toMatch(/expected an integer/);
    expect(one('SLEEP 10')).toMatchObject({ k: 'sleep', ms: 10 });
  });
});

describe('[4.2] control flow and transactions', () => {
  it('IF/ELSE, FOR and BEGIN with options', () => {
    const s = one('IF a THEN LET b = 1 ELSE RETURN END');
    expect(s).toMatchObject({ k: 'if', then: [{ k: 'let' }], otherwise: [{ k: 'return',
      value: null }] });
    expect(one('FOR x IN 1..3 DO END')).toMatchObject({ k: 'for', name: 'x', body: [] });
    const b = one('BEGIN (locking="optimistic", timeout = 100, autoCommit=yes, p=@x) COMMIT END');
    expect(b).toMatchObject({ k: 'begin', body: [{ k: 'commit' }], options: [
      { name: 'locking', value: { k: 'text', text: 'optimistic' } },
      { name: 'timeout', value: { k: 'text', text: '100' } },
      { name: 'autoCommit', value: { k: 'text', text: 'yes' } },
      { name: 'p', value: { k: 'param', name: '@x' } }] });
  });

  it('a whole script on one line', () => {
    expect(parseScript("BEGIN SET pp 'x' COMMIT END").body).toMatchObject([{ k: 'begin',
      body: [{ k: 'set' }, { k: 'commit' }] }]);
  });

  it('statements split without separators', () => {
    expect(parseScript('LET a = 1 LET b = a -1 RETURN b').body.map((s) => s.k))
      .toEqual(['let', 'let', 'return']);
  });
});

describe('[4.3] expressions', () => {
  it('precedence, lowest first: .. || && equality relational + * unary []', () => {
    expect(expr('1 + 2 * 3')).toBe('(+ 1 (* 2 3))');
    expect(expr('(100 + 50) * 2 - 1')).toBe('(- (* (+ 100 50) 2) 1)');
    expect(expr('a || b && c')).toBe('(|| a (&& b c))');
    expect(expr('a = b < c')).toBe('(== a (< b c))');
    expect(expr('a <> b')).toBe('(!= a b)');
    expect(expr('1..n + 1')).toBe('(.. 1 (+ n 1))');
    expect(expr('not a == b')).toBe('(== (not a) b)');
    expect(expr('-x[1] * 2')).toBe('(* (- (idx x 1)) 2)');
    expect(expr('10 - 2 - 3')).toBe('(- (- 10 2) 3)');
    expect(expr('-5')).toBe('-5');
  });

  it('NOT SET, NOT FOUND, calls (case-insensitive) and indexing', () => {
    expect(expr('NOT SET')).toBe('notSet');
    expect(expr('! found')).toBe('notFound');
    expect(expr('TO_INT(@a, 2)')).toBe('(to_int @a 2)');
    expect(expr('split(s, ":")[0]')).toBe('(idx (split s :) 0)');
  });
});

describe('syntax errors', () => {
  it('name the token and the line', () => {
    expect(syntaxError('INVALID SYNTAX'))
      .toBe("Syntax error: unexpected 'INVALID', expected a statement at line 1");
    expect(syntaxError('LET a = 1\nIF a THEN\n  LET = 2\nEND'))
      .toBe("Syntax error: unexpected '=', expected an identifier at line 3");
    expect(syntaxError('IF a THEN\nLET b = 1\n')).toMatch(/end of script.*at line 3/);
    expect(syntaxError('RETURN (1 + 2')).toMatch(/Syntax error: unexpected end of script/);
    expect(syntaxError('   ')).toBe('Syntax error: empty script at line 1');
    expect(syntaxError('LET x = SET k 1')).toMatch(/Syntax error/);
  });
});

describe('the Program', () => {
  it('is plain data that survives structured clone', () => {
    const p = parseScript('BEGIN (snapshot=1) LET x = GET k IF x != null THEN RETURN x END '
      + 'COMMIT END');
    expect(structuredClone(p)).toEqual(p);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});
