// Kahuna Script tokens (kahuna-reference.md 4.1): keywords in any case and their aliases, `@`
// as AT or a placeholder, numbers, strings with C escapes, backtick names, operators and lines.
import { describe, expect, it } from 'vitest';
import { ScriptSyntaxError, TokKind, tokenize } from '../../src/core/script/lexer.js';

function kinds(src: string): Array<[number, string]> {
  return tokenize(src).slice(0, -1).map((t) => [t.kind, t.text]);
}

function strings(src: string): string[] {
  return tokenize(src).filter((t) => t.kind === TokKind.Str).map((t) => t.text);
}

describe('[4.1] keywords', () => {
  it('are case-insensitive and canonical', () => {
    expect(kinds('SET Set sEt set')).toEqual(Array(4).fill([TokKind.Keyword, 'set']));
    expect(kinds('BeGiN CoMmIt RollBack')).toEqual([
      [TokKind.Keyword, 'begin'], [TokKind.Keyword, 'commit'], [TokKind.Keyword, 'rollback']]);
  });

  it('read del and edel as delete and edelete', () => {
    expect(kinds('DEL edel Delete')).toEqual([[TokKind.Keyword, 'delete'],
      [TokKind.Keyword, 'edelete'], [TokKind.Keyword, 'delete']]);
  });

  it('keep longer words identifiers', () => {
    expect(kinds('settle done letter')).toEqual([[TokKind.Ident, 'settle'],
      [TokKind.Ident, 'done'], [TokKind.Ident, 'letter']]);
  });
});

describe('[4.1] @', () => {
  it('followed by a name or digit is a placeholder', () => {
    expect(kinds('@key @k_2 @1')).toEqual([[TokKind.Placeholder, '@key'],
      [TokKind.Placeholder, '@k_2'], [TokKind.Placeholder, '@1']]);
  });

  it('alone is the keyword AT', () => {
    expect(kinds('get k @ 3')).toEqual([[TokKind.Keyword, 'get'], [TokKind.Ident, 'k'],
      [TokKind.Keyword, 'at'], [TokKind.Int, '3']]);
  });
});

describe('[4.1] numbers', () => {
  it('decimal, hex and float', () => {
    const t = tokenize('42 0x1F 0XfF 3.25');
    expect(t.slice(0, 4).map((x) => [x.kind, x.num])).toEqual([[TokKind.Int, 42],
      [TokKind.Int, 31], [TokKind.Int, 255], [TokKind.Float, 3.25]]);
  });

  it('a range between integers is not a float', () => {
    expect(kinds('1..10')).toEqual([[TokKind.Int, '1'], [TokKind.Op, '..'], [TokKind.Int, '10']]);
  });

  it('a minus is an operator token', () => {
    expect(kinds('1 -1')).toEqual([[TokKind.Int, '1'], [TokKind.Op, '-'], [TokKind.Int, '1']]);
  });

  it('refuses letters glued to a number and integers past 2^53', () => {
    expect(() => tokenize('12ab')).toThrow(/Syntax error/);
    expect(() => tokenize('0x')).toThrow(/Syntax error/);
    expect(() => tokenize('9007199254740993')).toThrow(/out of range/);
  });
});

describe('[4.1] strings', () => {
  it('take both quotes', () => {
    expect(strings(`"a'b" 'c"d'`)).toEqual([`a'b`, 'c"d']);
  });

  it('unescape C escapes', () => {
    expect(strings(String.raw`"n\nt\tr\r\\ \" \' z\0 \x41 \u00e9 \q"`))
      .toEqual(['n\nt\tr\r\\ " \' z\0 A é q']);
  });

  it('refuse malformed escapes and an open string with its line', () => {
    expect(() => tokenize(String.raw`"\x4"`)).toThrow(/malformed/);
    try {
      tokenize('\n\n"open');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ScriptSyntaxError);
      expect((err as Error).message).toBe('Syntax error: unterminated string at line 3');
    }
  });
});

describe('[4.1] backtick names', () => {
  it('keep any characters as an identifier', () => {
    const [t] = tokenize('`users/alice-1 x.y`');
    expect(t).toMatchObject({ kind: TokKind.Ident, text: 'users/alice-1 x.y', quoted: true });
  });

  it('a backtick name is never a keyword', () => {
    expect(tokenize('`set`')[0]).toMatchObject({ kind: TokKind.Ident, text: 'set' });
  });
});

describe('[4.1] operators and lines', () => {
  it('longest match first', () => {
    expect(kinds('<= >= <> != == = < > && || ! .. [ ] ( ) , + - * /').map((k) => k[1]))
      .toEqual(['<=', '>=', '<>', '!=', '==', '=', '<', '>', '&&', '||', '!', '..', '[', ']',
        '(', ')', ',', '+', '-', '*', '/']);
  });

  it('counts lines for \\n, \\r\\n and \\r', () => {
    expect(tokenize('a\nb\r\nc\rd').map((t) => t.line)).toEqual([1, 2, 3, 4, 4]);
  });

  it('refuses comments and stray characters', () => {
    expect(() => tokenize('# note')).toThrow("Syntax error: unexpected character '#' at line 1");
    expect(() => tokenize('a & b')).toThrow(/Syntax error/);
  });
});
