// Kahuna Script tokens (kahuna-reference.md 4.1). Keywords are case-insensitive and reserved;
// `del`/`edel` are aliases of `delete`/`edelete`; `@name` is a placeholder and a lone `@` is
// the keyword AT. A leading `-` is always an operator token: the parser reads it as binary minus
// after a value and as unary minus elsewhere, so `x -1` is a subtraction (Kahuna's longest-match
// lexer would make it `x` `-1`, a syntax error). Pure.
import { scriptTextCharsMax } from './script-limits.js';

export const TokKind = {
  Keyword: 0,
  Ident: 1,
  Placeholder: 2,
  Int: 3,
  Float: 4,
  Str: 5,
  Op: 6,
  Eof: 7,
} as const;
export type TokKind = (typeof TokKind)[keyof typeof TokKind];

export interface Token {
  readonly kind: TokKind;
  /** Keyword: its canonical lower-case spelling; Ident: the name; Placeholder: `@name`; Str:
   *  the unescaped text; Op: the operator; Int/Float: the source text. */
  readonly text: string;
  /** Int and Float: the value. */
  readonly num: number;
  /** Ident: written in backticks (a key name, never a keyword). */
  readonly quoted: boolean;
  readonly line: number;
}

/** A script that does not lex or parse. Kahuna's clients match "Syntax error" in the reason. */
export class ScriptSyntaxError extends Error {
  constructor(readonly detail: string, readonly line: number) {
    super(`Syntax error: ${detail} at line ${line}`);
    this.name = 'ScriptSyntaxError';
  }
}

const keywordList = [
  'let', 'set', 'get', 'eset', 'eget', 'if', 'then', 'else', 'end', 'for', 'do', 'in', 'nx',
  'xx', 'ex', 'cmp', 'cmprev', 'norev', 'begin', 'commit', 'rollback', 'return', 'sleep',
  'delete', 'edelete', 'extend', 'eextend', 'exists', 'eexists', 'true', 'false', 'throw',
  'found', 'null', 'at', 'as', 'of', 'not', 'scan', 'escan', 'by', 'bucket', 'prefix',
];
const keywords = new Map<string, string>(keywordList.map((k) => [k, k]));
keywords.set('del', 'delete');
keywords.set('edel', 'edelete');

/** Longest first, so `<=` wins over `<`. */
const operators = [
  '==', '<>', '!=', '<=', '>=', '&&', '||', '..',
  '+', '-', '*', '/', '=', '<', '>', '!', '[', ']', '(', ')', ',',
];

const simpleEscapes: Readonly<Record<string, string>> = {
  n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0', a: '\x07', b: '\b',
  f: '\f', v: '\v', '`': '`',
};

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isIdentChar(c: string): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isHex(c: string): boolean {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

function shown(c: string): string {
  return c === '\n' ? 'end of line' : `'${c}'`;
}

class Lexer {
  private pos = 0;
  private line = 1;
  readonly tokens: Token[] = [];

  constructor(private readonly src: string) {}

  run(): Token[] {
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.src.length) break;
      this.tokens.push(this.next());
    }
    this.tokens.push(this.tok(TokKind.Eof, '<end>', 0));
    return this.tokens;
  }

  private tok(kind: TokKind, text: string, num: number, quoted = false): Token {
    return { kind, text, num, quoted, line: this.line };
  }

  private fail(detail: string): never {
    throw new ScriptSyntaxError(detail, this.line);
  }

  private skipSpace(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\n') this.line += 1;
      else if (c === '\r') {
        if (s[this.pos + 1] !== '\n') this.line += 1;
      } else if (c !== ' ' && c !== '\t') return;
      this.pos += 1;
    }
  }

  private next(): Token {
    const s = this.src;
    const c = s[this.pos] ?? '';
    if (isIdentStart(c)) return this.word();
    if (isDigit(c)) return this.number();
    if (c === '"' || c === "'") return this.string(c);
    if (c === '`') return this.backtick();
    if (c === '@') {
      if (isIdentChar(s[this.pos + 1] ?? '')) return this.placeholder();
      this.pos += 1;
      return this.tok(TokKind.Keyword, 'at', 0);
    }
    for (const op of operators) {
      if (s.startsWith(op, this.pos)) {
        this.pos += op.length;
        return this.tok(TokKind.Op, op, 0);
      }
    }
    return this.fail(`unexpected character ${shown(c)}`);
  }

  private word(): Token {
    const start = this.pos;
    while (this.pos < this.src.length && isIdentChar(this.src[this.pos] ?? '')) this.pos += 1;
    const text = this.src.slice(start, this.pos);
    const keyword = keywords.get(text.toLowerCase());
    if (keyword !== undefined) return this.tok(TokKind.Keyword, keyword, 0);
    return this.tok(TokKind.Ident, text, 0);
  }

  private placeholder(): Token {
    const start = this.pos;
    this.pos += 1;
    while (this.pos < this.src.length && isIdentChar(this.src[this.pos] ?? '')) this.pos += 1;
    return this.tok(TokKind.Placeholder, this.src.slice(start, this.pos), 0);
  }

  private number(): Token {
    const s = this.src;
    const start = this.pos;
    if (s[start] === '0' && (s[start + 1] === 'x' || s[start + 1] === 'X')) {
      this.pos += 2;
      while (isHex(s[this.pos] ?? '')) this.pos += 1;
      if (this.pos === start + 2) this.fail('malformed hex number');
      const hex = s.slice(start + 2, this.pos);
      return this.integer(s.slice(start, this.pos), Number.parseInt(hex, 16));
    }
    while (isDigit(s[this.pos] ?? '')) this.pos += 1;
    // A float needs digits after the dot, so `1..10` is a range and not `1.` `.10`.
    if (s[this.pos] === '.' && isDigit(s[this.pos + 1] ?? '')) {
      this.pos += 1;
      while (isDigit(s[this.pos] ?? '')) this.pos += 1;
      this.noIdentAfterNumber();
      const text = s.slice(start, this.pos);
      return this.tok(TokKind.Float, text, Number.parseFloat(text));
    }
    const text = s.slice(start, this.pos);
    return this.integer(text, Number.parseInt(text, 10));
  }

  private integer(text: string, value: number): Token {
    this.noIdentAfterNumber();
    if (!Number.isSafeInteger(value)) this.fail(`integer ${text} out of range`);
    return this.tok(TokKind.Int, text, value);
  }

  private noIdentAfterNumber(): void {
    const c = this.src[this.pos] ?? '';
    if (isIdentChar(c)) this.fail(`unexpected character ${shown(c)} after a number`);
  }

  private string(quote: string): Token {
    const s = this.src;
    const line = this.line;
    let out = '';
    this.pos += 1;
    for (;;) {
      if (this.pos >= s.length) throw new ScriptSyntaxError('unterminated string', line);
      const c = s[this.pos] ?? '';
      if (c === quote) break;
      if (c === '\n' || (c === '\r' && s[this.pos + 1] !== '\n')) this.line += 1;
      if (c === '\\') out += this.escape();
      else {
        out += c;
        this.pos += 1;
      }
    }
    this.pos += 1;
    return { kind: TokKind.Str, text: out, num: 0, quoted: false, line };
  }

  /** At a backslash: C-style escapes; an unknown escape stands for the character itself. */
  private escape(): string {
    const s = this.src;
    const c = s[this.pos + 1] ?? '';
    if (c === 'x' || c === 'u' || c === 'U') {
      const width = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      const digits = s.slice(this.pos + 2, this.pos + 2 + width);
      const wellFormed = digits.length === width && [...digits].every(isHex);
      if (!wellFormed) this.fail(`malformed \\${c} escape`);
      const code = Number.parseInt(digits, 16);
      if (code > 0x10ffff) this.fail(`malformed \\${c} escape`);
      this.pos += 2 + width;
      return String.fromCodePoint(code);
    }
    if (c === '') this.fail('unterminated string');
    this.pos += 2;
    return simpleEscapes[c] ?? c;
  }

  /** A backtick key name: the text as written, except that \` stands for a backtick. */
  private backtick(): Token {
    const s = this.src;
    const line = this.line;
    let out = '';
    this.pos += 1;
    for (;;) {
      if (this.pos >= s.length) throw new ScriptSyntaxError('unterminated backtick name', line);
      const c = s[this.pos] ?? '';
      if (c === '`') break;
      if (c === '\n') this.line += 1;
      if (c === '\\' && s[this.pos + 1] === '`') {
        out += '`';
        this.pos += 2;
      } else {
        out += c;
        this.pos += 1;
      }
    }
    this.pos += 1;
    if (out.length === 0) throw new ScriptSyntaxError('empty backtick name', line);
    return { kind: TokKind.Ident, text: out, num: 0, quoted: true, line };
  }
}

export function tokenize(src: string): Token[] {
  if (src.length > scriptTextCharsMax) {
    throw new ScriptSyntaxError(`script longer than ${scriptTextCharsMax} characters`, 1);
  }
  return new Lexer(src).run();
}
