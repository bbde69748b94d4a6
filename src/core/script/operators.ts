// Operators of Kahuna Script (kahuna-reference.md 4.3), following Kahuna's operator classes:
// arithmetic and ordering convert a numeric string on one side to a number (never two strings),
// `/` on two integers is integer division, equality converts a numeric string against a number
// and treats doubles within 0.001 as equal, null equals only null, `&&`/`||` take booleans or
// numbers, and `a..b` is Enumerable.Range(a, b): b integers starting at a. Pure.
import type { BinaryOp } from './ast.js';
import { scriptArrayItemsMax } from './script-limits.js';
import {
  boolValue, floatValue, intValue, kindName, parseNumeric, ScriptRuntimeError, type Value,
} from './values.js';

type Num = Extract<Value, { t: 'int' | 'float' }>;

const doubleEqualityTolerance = 0.001;
const smallIntMax = 2 ** 31;

function isNum(v: Value): v is Num {
  return v.t === 'int' || v.t === 'float';
}

function invalid(l: Value, op: string, r: Value, line: number): never {
  throw new ScriptRuntimeError(`Invalid operands: ${kindName(l)} ${op} ${kindName(r)}`, line);
}

/** Both sides as numbers: two numbers, or a number and a numeric string. */
function numericOperands(l: Value, op: string, r: Value, line: number): [Num, Num] {
  if (isNum(l)) {
    if (isNum(r)) return [l, r];
    const parsed = r.t === 'str' ? parseNumeric(r.s) : null;
    if (parsed !== null && isNum(parsed)) return [l, parsed];
  } else if (isNum(r) && l.t === 'str') {
    const parsed = parseNumeric(l.s);
    if (parsed !== null && isNum(parsed)) return [parsed, r];
  }
  return invalid(l, op, r, line);
}

/** Truncating integer division, exact for every pair of safe integers. */
function intDivide(a: number, b: number, line: number): Value {
  if (b === 0) throw new ScriptRuntimeError('Attempted to divide by zero', line);
  if (Math.abs(a) < smallIntMax && Math.abs(b) < smallIntMax) {
    return intValue(Math.trunc(a / b), line);
  }
  return intValue(Number(BigInt(a) / BigInt(b)), line);
}

function arithmetic(op: '+' | '-' | '*' | '/', l: Value, r: Value, line: number): Value {
  const [a, b] = numericOperands(l, op, r, line);
  if (a.t === 'int' && b.t === 'int') {
    switch (op) {
      case '+': return intValue(a.n + b.n, line);
      case '-': return intValue(a.n - b.n, line);
      case '*': return intValue(a.n * b.n, line);
      case '/': return intDivide(a.n, b.n, line);
    }
  }
  switch (op) {
    case '+': return floatValue(a.n + b.n);
    case '-': return floatValue(a.n - b.n);
    case '*': return floatValue(a.n * b.n);
    case '/': return floatValue(a.n / b.n);
  }
}

function ordering(op: '<' | '>' | '<=' | '>=', l: Value, r: Value, line: number): Value {
  const [a, b] = numericOperands(l, op, r, line);
  switch (op) {
    case '<': return boolValue(a.n < b.n);
    case '>': return boolValue(a.n > b.n);
    case '<=': return boolValue(a.n <= b.n);
    case '>=': return boolValue(a.n >= b.n);
  }
}

function numbersEqual(a: Num, b: Num): boolean {
  if (a.t === 'int' && b.t === 'int') return a.n === b.n;
  return Math.abs(a.n - b.n) <= doubleEqualityTolerance;
}

/** `=`/`==`; `op` is the spelling for the error reason. */
export function valuesEqual(l: Value, r: Value, op: string, line: number): boolean {
  if (l.t === 'null' || r.t === 'null') return l.t === r.t;
  if (l.t === 'bool' && r.t === 'bool') return l.b === r.b;
  if (l.t === 'str' && r.t === 'str') return l.s === r.s;
  if (isNum(l) || isNum(r)) {
    const [a, b] = numericOperands(l, op, r, line);
    return numbersEqual(a, b);
  }
  return invalid(l, op, r, line);
}

function truthy(v: Value): boolean | null {
  if (v.t === 'bool') return v.b;
  if (isNum(v)) return v.n !== 0;
  return null;
}

/** `&&` and `||` over two booleans or two numbers (Kahuna rejects a mix). */
function logical(op: '&&' | '||', l: Value, r: Value, line: number): Value {
  const a = truthy(l);
  const b = truthy(r);
  if (a === null || b === null || (l.t === 'bool') !== (r.t === 'bool')) {
    return invalid(l, op === '&&' ? 'and' : 'or', r, line);
  }
  return boolValue(op === '&&' ? a && b : a || b);
}

/** `a..b`: b integers from a (Enumerable.Range), so `1..10` is 1..10 and `0..9` is 0..8. */
export function range(l: Value, r: Value, line: number): Value {
  if (l.t !== 'int' || r.t !== 'int') {
    const detail = `Invalid operands for range operator: ${kindName(l)} - ${kindName(r)}`;
    throw new ScriptRuntimeError(detail, line);
  }
  const start = l.n;
  const count = r.n;
  if (count < 0) throw new ScriptRuntimeError(`Invalid range count: ${count}`, line);
  if (count > scriptArrayItemsMax) {
    throw new ScriptRuntimeError(`Range of ${count} items exceeds ${scriptArrayItemsMax}`, line);
  }
  intValue(start + count, line);
  const items: Value[] = new Array<Value>(count);
  for (let i = 0; i < count; i += 1) items[i] = { t: 'int', n: start + i };
  return { t: 'array', items };
}

export function binaryOp(op: BinaryOp, l: Value, r: Value, line: number): Value {
  switch (op) {
    case '+': case '-': case '*': case '/': return arithmetic(op, l, r, line);
    case '<': case '>': case '<=': case '>=': return ordering(op, l, r, line);
    case '==': return boolValue(valuesEqual(l, r, '==', line));
    case '!=': return boolValue(!valuesEqual(l, r, '!=', line));
    case '&&': case '||': return logical(op, l, r, line);
    case '..': return range(l, r, line);
  }
}

export function notOp(v: Value, line: number): Value {
  const b = truthy(v);
  if (b === null) throw new ScriptRuntimeError(`Invalid operand: not ${kindName(v)}`, line);
  return boolValue(!b);
}

export function negate(v: Value, line: number): Value {
  const n = v.t === 'str' ? parseNumeric(v.s) : v;
  if (n === null || !isNum(n)) {
    throw new ScriptRuntimeError(`Invalid operand: - ${kindName(v)}`, line);
  }
  return n.t === 'int' ? intValue(0 - n.n, line) : floatValue(-n.n);
}

/** `x[i]`: arrays only, i an integer (or a float or numeric string naming one) in range. */
export function indexOp(target: Value, index: Value, line: number): Value {
  if (target.t !== 'array') {
    throw new ScriptRuntimeError(`Expression to index must be an array: Found: ${kindName(target)}`,
      line);
  }
  const parsed = index.t === 'str' ? parseNumeric(index.s) : index;
  const i = parsed !== null && isNum(parsed) ? Math.trunc(parsed.n) : Number.NaN;
  const item = Number.isInteger(i) ? target.items[i] : undefined;
  if (item === undefined) {
    const shownIndex = isNum(index) ? String(index.n) : kindName(index);
    const detail = 'Index must be integer and positive and less than size of array. Found: '
      + `${shownIndex} (size ${target.items.length})`;
    throw new ScriptRuntimeError(detail, line);
  }
  return item;
}

/** IF takes its THEN branch only for boolean true (Kahuna's ExecuteIf). */
export function isTrue(v: Value): boolean {
  return v.t === 'bool' && v.b;
}
