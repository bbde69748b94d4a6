// Expressions of Kahuna Script (kahuna-reference.md 4.3) by precedence climbing, lowest first:
// `..` < `||` < `&&` < equality < relational < `+ -` < `* /` < unary `not ! -` < `[ ]`. Binary
// operators are left-associative. The parser's own recursion (parentheses, unary operators,
// calls, blocks) is capped by scriptNestingMax and the finished tree's depth by
// scriptExprDepthMax, so no script can overflow the stack here or in the evaluator. Pure.
import type { BinaryOp, Expr } from './ast.js';
import { ScriptSyntaxError, TokKind, type Token } from './lexer.js';
import { scriptExprDepthMax, scriptNestingMax } from './script-limits.js';

/** Binary operators per precedence level, lowest first; `=` and `<>` are spelling variants. */
const levels: ReadonlyArray<ReadonlyMap<string, BinaryOp>> = [
  new Map([['..', '..']]),
  new Map([['||', '||']]),
  new Map([['&&', '&&']]),
  new Map([['==', '=='], ['=', '=='], ['!=', '!='], ['<>', '!=']]),
  new Map([['<', '<'], ['>', '>'], ['<=', '<='], ['>=', '>=']]),
  new Map([['+', '+'], ['-', '-']]),
  new Map([['*', '*'], ['/', '/']]),
];

const exprStartKeywords: ReadonlySet<string> = new Set(['true', 'false', 'null', 'not']);
const exprStartOps: ReadonlySet<string> = new Set(['(', '-', '!']);

function describe(tok: Token): string {
  if (tok.kind === TokKind.Eof) return 'end of script';
  if (tok.kind === TokKind.Str) return `string '${tok.text}'`;
  return `'${tok.text}'`;
}

/** Children of a node, for the iterative depth check. */
function children(e: Expr): readonly Expr[] {
  switch (e.k) {
    case 'binary': return [e.left, e.right];
    case 'not': case 'neg': return [e.operand];
    case 'call': return e.args;
    case 'index': return [e.target, e.index];
    default: return [];
  }
}

/** Depth of a tree without recursing (a left-leaning chain can be thousands deep). */
export function exprDepth(root: Expr): number {
  let deepest = 0;
  const stack: Array<[Expr, number]> = [[root, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, depth] = top;
    if (depth > deepest) deepest = depth;
    for (const child of children(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** A token cursor plus the expression grammar; the statement parser extends it. */
export class ExprParser {
  protected pos = 0;
  private nesting = 0;

  constructor(protected readonly toks: readonly Token[]) {}

  protected peek(offset = 0): Token {
    const last = this.toks[this.toks.length - 1];
    const tok = this.toks[this.pos + offset] ?? last;
    if (tok === undefined) throw new ScriptSyntaxError('empty token stream', 1);
    return tok;
  }

  protected advance(): Token {
    const tok = this.peek();
    if (tok.kind !== TokKind.Eof) this.pos += 1;
    return tok;
  }

  protected fail(tok: Token, expected?: string): never {
    const tail = expected === undefined ? '' : `, expected ${expected}`;
    throw new ScriptSyntaxError(`unexpected ${describe(tok)}${tail}`, tok.line);
  }

  protected isKw(word: string, offset = 0): boolean {
    const tok = this.peek(offset);
    return tok.kind === TokKind.Keyword && tok.text === word;
  }

  protected acceptKw(word: string): boolean {
    if (!this.isKw(word)) return false;
    this.pos += 1;
    return true;
  }

  protected expectKw(word: string): Token {
    if (!this.isKw(word)) this.fail(this.peek(), `'${word.toUpperCase()}'`);
    return this.advance();
  }

  protected isOp(op: string): boolean {
    const tok = this.peek();
    return tok.kind === TokKind.Op && tok.text === op;
  }

  protected acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.pos += 1;
    return true;
  }

  protected expectOp(op: string): Token {
    if (!this.isOp(op)) this.fail(this.peek(), `'${op}'`);
    return this.advance();
  }

  /** Guards one level of parser recursion. */
  protected enter(line: number): void {
    this.nesting += 1;
    if (this.nesting > scriptNestingMax) {
      throw new ScriptSyntaxError(`nesting deeper than ${scriptNestingMax} levels`, line);
    }
  }

  protected leave(): void {
    this.nesting -= 1;
  }

  /** Whether the next token can begin an expression (RETURN's expression is optional). */
  protected atExprStart(): boolean {
    const tok = this.peek();
    switch (tok.kind) {
      case TokKind.Keyword: return exprStartKeywords.has(tok.text);
      case TokKind.Op: return exprStartOps.has(tok.text);
      case TokKind.Eof: return false;
      default: return true;
    }
  }

  /** A whole expression, depth-checked. */
  protected expression(): Expr {
    const expr = this.binary(0);
    if (exprDepth(expr) > scriptExprDepthMax) {
      throw new ScriptSyntaxError(`expression deeper than ${scriptExprDepthMax} levels`, expr.line);
    }
    return expr;
  }

  private binary(level: number): Expr {
    const ops = levels[level];
    if (ops === undefined) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const tok = this.peek();
      const op = tok.kind === TokKind.Op ? ops.get(tok.text) : undefined;
      if (op === undefined) return left;
      this.pos += 1;
      const right = this.binary(level + 1);
      left = { k: 'binary', op, left, right, line: tok.line };
    }
  }

  private unary(): Expr {
    const tok = this.peek();
    const isNot = this.isKw('not') || this.isOp('!');
    if (!isNot && !this.isOp('-')) return this.postfix();
    this.pos += 1;
    if (isNot && this.acceptKw('set')) return { k: 'notSet', line: tok.line };
    if (isNot && this.acceptKw('found')) return { k: 'notFound', line: tok.line };
    this.enter(tok.line);
    const operand = this.unary();
    this.leave();
    if (!isNot && operand.k === 'int') return { k: 'int', v: 0 - operand.v, line: tok.line };
    if (!isNot && operand.k === 'float') return { k: 'float', v: -operand.v, line: tok.line };
    return { k: isNot ? 'not' : 'neg', operand, line: tok.line };
  }

  private postfix(): Expr {
    let target = this.primary();
    while (this.isOp('[')) {
      const tok = this.advance();
      this.enter(tok.line);
      const index = this.binary(0);
      this.leave();
      this.expectOp(']');
      target = { k: 'index', target, index, line: tok.line };
    }
    return target;
  }

  private primary(): Expr {
    const tok = this.advance();
    const line = tok.line;
    switch (tok.kind) {
      case TokKind.Int: return { k: 'int', v: tok.num, line };
      case TokKind.Float: return { k: 'float', v: tok.num, line };
      case TokKind.Str: return { k: 'str', v: tok.text, line };
      case TokKind.Placeholder: return { k: 'param', name: tok.text, line };
      case TokKind.Ident:
        if (!tok.quoted && this.isOp('(')) return this.call(tok);
        return { k: 'var', name: tok.text, line };
      case TokKind.Keyword:
        if (tok.text === 'true' || tok.text === 'false') {
          return { k: 'bool', v: tok.text === 'true', line };
        }
        if (tok.text === 'null') return { k: 'null', line };
        return this.fail(tok, 'an expression');
      case TokKind.Op:
        if (tok.text !== '(') return this.fail(tok, 'an expression');
        return this.parenthesized(line);
      default:
        return this.fail(tok, 'an expression');
    }
  }

  private parenthesized(line: number): Expr {
    this.enter(line);
    const inner = this.binary(0);
    this.leave();
    this.expectOp(')');
    return inner;
  }

  private call(name: Token): Expr {
    this.expectOp('(');
    this.enter(name.line);
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      do args.push(this.binary(0)); while (this.acceptOp(','));
    }
    this.leave();
    this.expectOp(')');
    return { k: 'call', name: name.text.toLowerCase(), args, line: name.line };
  }
}
