// Expression evaluation (kahuna-reference.md 4.3): synchronous and recursive, one frame per tree
// level, which the parser capped at scriptExprDepthMax. Variables, placeholders, NOT SET /
// NOT FOUND and the clock come from the running script through EvalEnv. Pure.
import type { Expr } from './ast.js';
import { callFunction } from './functions.js';
import { binaryOp, indexOp, negate, notOp } from './operators.js';
import {
  boolValue, floatValue, intValue, kindName, nullValue, ScriptRuntimeError, strValue,
  type Value,
} from './values.js';

export interface EvalEnv {
  readonly vars: ReadonlyMap<string, Value>;
  /** A placeholder's value; throws for a parameter the request did not bind. */
  param(name: string, line: number): string | null;
  /** NOT SET / NOT FOUND; throw when no SET / GET ran yet. */
  notSet(line: number): boolean;
  notFound(line: number): boolean;
  /** HLC physical ms (current_time(), hlc()). */
  nowMs(): number;
}

export function evaluate(e: Expr, env: EvalEnv): Value {
  switch (e.k) {
    case 'int': return intValue(e.v, e.line);
    case 'float': return floatValue(e.v);
    case 'str': return strValue(e.v);
    case 'bool': return boolValue(e.v);
    case 'null': return nullValue;
    case 'var': {
      const v = env.vars.get(e.name);
      if (v === undefined) throw new ScriptRuntimeError(`Undefined variable ${e.name}`, e.line);
      return v;
    }
    case 'param': {
      const text = env.param(e.name, e.line);
      return text === null ? nullValue : strValue(text);
    }
    case 'binary':
      return binaryOp(e.op, evaluate(e.left, env), evaluate(e.right, env), e.line);
    case 'not': return notOp(evaluate(e.operand, env), e.line);
    case 'neg': return negate(evaluate(e.operand, env), e.line);
    case 'notSet': return boolValue(env.notSet(e.line));
    case 'notFound': return boolValue(env.notFound(e.line));
    case 'call': {
      const args = e.args.map((a) => evaluate(a, env));
      return callFunction(args, { name: e.name, line: e.line, nowMs: () => env.nowMs() });
    }
    case 'index': return indexOp(evaluate(e.target, env), evaluate(e.index, env), e.line);
  }
}

/** An integer operand of EX, CMPREV, AS OF: an int, a float (truncated) or a numeric string. */
export function evaluateInt(e: Expr, env: EvalEnv, what: string): number {
  const v = evaluate(e, env);
  let n = Number.NaN;
  if (v.t === 'int' || v.t === 'float') n = Math.trunc(v.n);
  else if (v.t === 'str' && /^\s*[+-]?\d+\s*$/.test(v.s)) n = Number.parseInt(v.s, 10);
  if (Number.isSafeInteger(n)) return n;
  const shown = v.t === 'str' ? `'${v.s}'` : kindName(v);
  throw new ScriptRuntimeError(`Invalid ${what} value: ${shown}`, e.line);
}
