// The Kahuna Script syntax tree (kahuna-reference.md 4.2, 4.3) as plain data: objects, arrays,
// strings, numbers, booleans and null only, so a Program parsed in a piscina worker crosses to
// another thread by structured clone unchanged (piscina's rule: protocol as plain types). Every
// node carries the line it starts on, for "... at line N" reasons. Pure.

export type BinaryOp =
  | '+' | '-' | '*' | '/'
  | '==' | '!=' | '<' | '>' | '<=' | '>='
  | '&&' | '||' | '..';

export type Expr =
  | { readonly k: 'int'; readonly v: number; readonly line: number }
  | { readonly k: 'float'; readonly v: number; readonly line: number }
  | { readonly k: 'str'; readonly v: string; readonly line: number }
  | { readonly k: 'bool'; readonly v: boolean; readonly line: number }
  | { readonly k: 'null'; readonly line: number }
  | { readonly k: 'var'; readonly name: string; readonly line: number }
  /** `@name`, name including the `@`. */
  | { readonly k: 'param'; readonly name: string; readonly line: number }
  | {
    readonly k: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr;
    readonly line: number;
  }
  | { readonly k: 'not'; readonly operand: Expr; readonly line: number }
  | { readonly k: 'neg'; readonly operand: Expr; readonly line: number }
  /** NOT SET / NOT FOUND (4.3). */
  | { readonly k: 'notSet'; readonly line: number }
  | { readonly k: 'notFound'; readonly line: number }
  /** name is lower-cased: function names are case-insensitive. */
  | {
    readonly k: 'call'; readonly name: string; readonly args: readonly Expr[];
    readonly line: number;
  }
  | { readonly k: 'index'; readonly target: Expr; readonly index: Expr; readonly line: number };

/** A key name: a literal (identifier, string or backtick name) or a placeholder. */
export type KeyName =
  | { readonly k: 'lit'; readonly name: string }
  | { readonly k: 'param'; readonly name: string };

/** 0 ephemeral (E-commands), 1 persistent. */
export type DurabilityCode = 0 | 1;

export interface SetFlags {
  readonly nx: boolean;
  readonly xx: boolean;
  readonly norev: boolean;
  readonly ex: Expr | null;
  readonly cmp: Expr | null;
  readonly cmprev: Expr | null;
}

/** A BEGIN option value: an identifier's name, a literal's text, or a placeholder to resolve. */
export type OptionValue =
  | { readonly k: 'text'; readonly text: string }
  | { readonly k: 'param'; readonly name: string };

export interface BeginOption {
  readonly name: string;
  readonly value: OptionValue;
  readonly line: number;
}

export type Stmt =
  | {
    readonly k: 'set'; readonly durability: DurabilityCode; readonly key: KeyName;
    readonly value: Expr; readonly flags: SetFlags; readonly line: number;
  }
  | {
    readonly k: 'get' | 'exists'; readonly durability: DurabilityCode; readonly key: KeyName;
    /** -1: the latest revision (no AT). */
    readonly at: number; readonly asOf: Expr | null; readonly into: string | null;
    readonly line: number;
  }
  | {
    readonly k: 'delete'; readonly durability: DurabilityCode; readonly key: KeyName;
    readonly line: number;
  }
  | {
    readonly k: 'extend'; readonly durability: DurabilityCode; readonly key: KeyName;
    readonly ms: number; readonly line: number;
  }
  | {
    /** GET BY BUCKET / SCAN BY PREFIX. */
    readonly k: 'bucket' | 'prefix'; readonly durability: DurabilityCode;
    readonly key: KeyName; readonly asOf: Expr | null; readonly into: string | null;
    readonly line: number;
  }
  | { readonly k: 'let'; readonly name: string; readonly value: Expr; readonly line: number }
  | {
    readonly k: 'if'; readonly cond: Expr; readonly then: readonly Stmt[];
    readonly otherwise: readonly Stmt[] | null; readonly line: number;
  }
  | {
    readonly k: 'for'; readonly name: string; readonly iterable: Expr;
    readonly body: readonly Stmt[]; readonly line: number;
  }
  | {
    readonly k: 'begin'; readonly options: readonly BeginOption[];
    readonly body: readonly Stmt[]; readonly line: number;
  }
  | { readonly k: 'commit' | 'rollback'; readonly line: number }
  | { readonly k: 'return'; readonly value: Expr | null; readonly line: number }
  | { readonly k: 'sleep'; readonly ms: number; readonly line: number }
  | { readonly k: 'throw'; readonly value: Expr; readonly line: number };

export type KeyStmt = Extract<Stmt, { readonly key: KeyName }>;

export interface Program {
  readonly body: readonly Stmt[];
}

const keyKinds: ReadonlySet<string> = new Set(['set', 'get', 'exists', 'delete', 'extend',
  'bucket', 'prefix']);

export function isKeyStmt(stmt: Stmt): stmt is KeyStmt {
  return keyKinds.has(stmt.k);
}
