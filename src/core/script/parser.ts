// Statements of Kahuna Script (kahuna-reference.md 4.2): parseScript(text) -> Program, plain
// data (ast.ts). Whitespace and newlines are insignificant, so a statement ends where the next
// token cannot continue it (every statement starts with a keyword). Errors are
// ScriptSyntaxError, whose message reads "Syntax error: <what> at line N". Pure.
import type {
  BeginOption, DurabilityCode, Expr, KeyName, OptionValue, Program, SetFlags, Stmt,
} from './ast.js';
import { ScriptSyntaxError, TokKind, tokenize, type Token } from './lexer.js';
import { ExprParser } from './parse-expr.js';

type StmtParser = (p: ScriptParser, tok: Token) => Stmt;

/** Tokens that close a block, where a statement list stops. */
const blockEnds: ReadonlySet<string> = new Set(['end', 'else']);

const setFlagWords: ReadonlySet<string> = new Set(['nx', 'xx', 'ex', 'cmp', 'cmprev', 'norev']);

/** Condition flags that exclude each other (KvFlags checks exactly one condition). */
const conditionFlags = ['nx', 'xx', 'cmp', 'cmprev'] as const;

/** One parser per statement keyword (style.md: dispatch tables, not if chains). */
const statementParsers: Readonly<Record<string, StmtParser>> = {
  set: (p, t) => p.setStmt(t, 1),
  eset: (p, t) => p.setStmt(t, 0),
  get: (p, t) => p.getStmt(t, 1, null),
  eget: (p, t) => p.getStmt(t, 0, null),
  exists: (p, t) => p.existsStmt(t, 1, null),
  eexists: (p, t) => p.existsStmt(t, 0, null),
  scan: (p, t) => p.scanStmt(t, 1, null),
  escan: (p, t) => p.scanStmt(t, 0, null),
  delete: (p, t) => ({ k: 'delete', durability: 1, key: p.keyName(), line: t.line }),
  edelete: (p, t) => ({ k: 'delete', durability: 0, key: p.keyName(), line: t.line }),
  extend: (p, t) => p.extendStmt(t, 1),
  eextend: (p, t) => p.extendStmt(t, 0),
  let: (p, t) => p.letStmt(t),
  if: (p, t) => p.ifStmt(t),
  for: (p, t) => p.forStmt(t),
  begin: (p, t) => p.beginStmt(t),
  commit: (_p, t) => ({ k: 'commit', line: t.line }),
  rollback: (_p, t) => ({ k: 'rollback', line: t.line }),
  return: (p, t) => ({ k: 'return', value: p.optionalExpr(), line: t.line }),
  sleep: (p, t) => ({ k: 'sleep', ms: p.intLiteral(false), line: t.line }),
  throw: (p, t) => ({ k: 'throw', value: p.expr(), line: t.line }),
};

/** Commands LET can assign (`LET x = GET k`), keyed by keyword. */
const assignable: Readonly<Record<string, (p: ScriptParser, t: Token, into: string) => Stmt>> = {
  get: (p, t, into) => p.getStmt(t, 1, into),
  eget: (p, t, into) => p.getStmt(t, 0, into),
  exists: (p, t, into) => p.existsStmt(t, 1, into),
  eexists: (p, t, into) => p.existsStmt(t, 0, into),
  scan: (p, t, into) => p.scanStmt(t, 1, into),
  escan: (p, t, into) => p.scanStmt(t, 0, into),
};

class ScriptParser extends ExprParser {
  program(): Program {
    const body = this.statements();
    const tok = this.peek();
    if (tok.kind !== TokKind.Eof) this.fail(tok);
    if (body.length === 0) throw new ScriptSyntaxError('empty script', tok.line);
    return { body };
  }

  /** Statements up to END, ELSE or the end of the script. */
  private statements(): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      const tok = this.peek();
      if (tok.kind === TokKind.Eof) return out;
      if (tok.kind !== TokKind.Keyword) this.fail(tok, 'a statement');
      if (blockEnds.has(tok.text)) return out;
      const parse = statementParsers[tok.text];
      if (parse === undefined) this.fail(tok, 'a statement');
      this.pos += 1;
      out.push(parse(this, tok));
    }
  }

  private block(line: number): Stmt[] {
    this.enter(line);
    const body = this.statements();
    this.leave();
    return body;
  }

  expr(): Expr {
    return this.expression();
  }

  optionalExpr(): Expr | null {
    return this.atExprStart() ? this.expression() : null;
  }

  /** An identifier (the literal name), a backtick name, a string or a placeholder. */
  keyName(): KeyName {
    const tok = this.advance();
    if (tok.kind === TokKind.Ident || tok.kind === TokKind.Str) {
      if (tok.text.length === 0) throw new ScriptSyntaxError('empty key name', tok.line);
      return { k: 'lit', name: tok.text };
    }
    if (tok.kind === TokKind.Placeholder) return { k: 'param', name: tok.text };
    return this.fail(tok, 'a key name');
  }

  intLiteral(allowNegative: boolean): number {
    const negative = allowNegative && this.acceptOp('-');
    const tok = this.advance();
    if (tok.kind !== TokKind.Int) this.fail(tok, 'an integer');
    return negative ? 0 - tok.num : tok.num;
  }

  private identifier(): string {
    const tok = this.advance();
    if (tok.kind !== TokKind.Ident) this.fail(tok, 'an identifier');
    return tok.text;
  }

  setStmt(tok: Token, durability: DurabilityCode): Stmt {
    const key = this.keyName();
    const value = this.expression();
    return { k: 'set', durability, key, value, flags: this.setFlags(), line: tok.line };
  }

  /** NX XX EX CMP CMPREV NOREV in any order, each at most once, one condition at most. */
  private setFlags(): SetFlags {
    const seen = new Set<string>();
    let ex: Expr | null = null;
    let cmp: Expr | null = null;
    let cmprev: Expr | null = null;
    for (;;) {
      const tok = this.peek();
      if (tok.kind !== TokKind.Keyword || !setFlagWords.has(tok.text)) break;
      this.pos += 1;
      if (seen.has(tok.text)) this.fail(tok);
      seen.add(tok.text);
      if (tok.text === 'ex') ex = this.expression();
      else if (tok.text === 'cmp') cmp = this.expression();
      else if (tok.text === 'cmprev') cmprev = this.expression();
      if (conditionFlags.filter((f) => seen.has(f)).length > 1) {
        throw new ScriptSyntaxError('NX, XX, CMP and CMPREV exclude each other', tok.line);
      }
    }
    return { nx: seen.has('nx'), xx: seen.has('xx'), norev: seen.has('norev'), ex, cmp, cmprev };
  }

  getStmt(tok: Token, durability: DurabilityCode, into: string | null): Stmt {
    if (this.acceptKw('by')) {
      this.expectKw('bucket');
      const key = this.keyName();
      return { k: 'bucket', durability, key, asOf: this.asOf(), into, line: tok.line };
    }
    return this.pointRead('get', tok, durability, into);
  }

  existsStmt(tok: Token, durability: DurabilityCode, into: string | null): Stmt {
    return this.pointRead('exists', tok, durability, into);
  }

  scanStmt(tok: Token, durability: DurabilityCode, into: string | null): Stmt {
    this.expectKw('by');
    this.expectKw('prefix');
    const key = this.keyName();
    return { k: 'prefix', durability, key, asOf: this.asOf(), into, line: tok.line };
  }

  /** key [AT <int> | AS OF <expr>]: one selector, not both. */
  private pointRead(
    k: 'get' | 'exists', tok: Token, durability: DurabilityCode, into: string | null,
  ): Stmt {
    const key = this.keyName();
    const at = this.acceptKw('at') ? this.intLiteral(false) : -1;
    const asOf = at === -1 ? this.asOf() : null;
    if (this.isKw('as')) this.fail(this.peek());
    return { k, durability, key, at, asOf, into, line: tok.line };
  }

  private asOf(): Expr | null {
    if (!this.acceptKw('as')) return null;
    this.expectKw('of');
    return this.expression();
  }

  extendStmt(tok: Token, durability: DurabilityCode): Stmt {
    const key = this.keyName();
    return { k: 'extend', durability, key, ms: this.intLiteral(true), line: tok.line };
  }

  letStmt(tok: Token): Stmt {
    const name = this.identifier();
    this.expectOp('=');
    const next = this.peek();
    const command = next.kind === TokKind.Keyword ? assignable[next.text] : undefined;
    if (command !== undefined) {
      this.pos += 1;
      return command(this, tok, name);
    }
    return { k: 'let', name, value: this.expression(), line: tok.line };
  }

  ifStmt(tok: Token): Stmt {
    const cond = this.expression();
    this.expectKw('then');
    const then = this.block(tok.line);
    const otherwise = this.acceptKw('else') ? this.block(tok.line) : null;
    this.expectKw('end');
    return { k: 'if', cond, then, otherwise, line: tok.line };
  }

  forStmt(tok: Token): Stmt {
    const name = this.identifier();
    this.expectKw('in');
    const iterable = this.expression();
    this.expectKw('do');
    const body = this.block(tok.line);
    this.expectKw('end');
    return { k: 'for', name, iterable, body, line: tok.line };
  }

  beginStmt(tok: Token): Stmt {
    const options: BeginOption[] = [];
    if (this.acceptOp('(')) {
      do options.push(this.beginOption()); while (this.acceptOp(','));
      this.expectOp(')');
    }
    const body = this.block(tok.line);
    this.expectKw('end');
    return { k: 'begin', options, body, line: tok.line };
  }

  /** name = identifier | number | string | true | false | null | placeholder. */
  private beginOption(): BeginOption {
    const nameTok = this.advance();
    if (nameTok.kind !== TokKind.Ident) this.fail(nameTok, 'an option name');
    this.expectOp('=');
    const negative = this.acceptOp('-');
    const tok = this.advance();
    let value: OptionValue;
    if (tok.kind === TokKind.Placeholder && !negative) value = { k: 'param', name: tok.text };
    else if (tok.kind === TokKind.Int || tok.kind === TokKind.Float) {
      value = { k: 'text', text: negative ? `-${tok.text}` : tok.text };
    } else if (negative) return this.fail(tok, 'a number');
    else if (tok.kind === TokKind.Ident || tok.kind === TokKind.Str) {
      value = { k: 'text', text: tok.text };
    } else if (tok.kind === TokKind.Keyword && ['true', 'false', 'null'].includes(tok.text)) {
      value = { k: 'text', text: tok.text };
    } else return this.fail(tok, 'an option value');
    return { name: nameTok.text, value, line: nameTok.line };
  }
}

/** Parses a whole script; throws ScriptSyntaxError. */
export function parseScript(text: string): Program {
  return new ScriptParser(tokenize(text)).program();
}

/** The outcome of a parse as plain data, for crossing threads (errors travel as data). */
export type ParseResult =
  | { readonly ok: true; readonly program: Program }
  | { readonly ok: false; readonly reason: string; readonly line: number };

export function tryParseScript(text: string): ParseResult {
  try {
    return { ok: true, program: parseScript(text) };
  } catch (err) {
    if (err instanceof ScriptSyntaxError) return { ok: false, reason: err.message, line: err.line };
    // The caps should make this unreachable; a stack overflow is still the script's fault.
    if (err instanceof RangeError) {
      return { ok: false, reason: 'Syntax error: script too complex at line 1', line: 1 };
    }
    throw err;
  }
}

export { ScriptCache, type ScriptCacheOptions } from './cache.js';
