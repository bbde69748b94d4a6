// Functions of Kahuna Script (kahuna-reference.md 4.4, Kahuna's CallFunction registry) plus
// hlc() and split(text, sep), which kahuna-ts's rate limiters send (wire.md 4.5). Names are
// case-insensitive (the parser lower-cases them). current_time() and hlc() read the HLC the host
// passes in, never a clock of their own. Pure.
import { scriptArrayItemsMax, scriptStringCharsMax } from './script-limits.js';
import {
  boolValue, floatValue, intValue, kindName, nullValue, parseNumeric, ScriptRuntimeError,
  strValue, valueJson, valueText, type Value,
} from './values.js';

export interface CallContext {
  readonly name: string;
  readonly line: number;
  /** The host's HLC physical time in ms. */
  nowMs(): number;
}

interface ScriptFunction {
  readonly argsMin: number;
  readonly argsMax: number;
  readonly run: (args: readonly Value[], ctx: CallContext) => Value;
}

/** .NET Math.Round accepts 0..15 digits. */
const roundDigitsMax = 15;

function fail(ctx: CallContext, detail: string): never {
  throw new ScriptRuntimeError(detail, ctx.line);
}

function cannotUse(ctx: CallContext, v: Value): never {
  return fail(ctx, `Cannot use '${ctx.name}' function with argument ${kindName(v)}`);
}

function arg(args: readonly Value[], i: number): Value {
  return args[i] ?? nullValue;
}

function num(v: Value, ctx: CallContext): number {
  if (v.t === 'int' || v.t === 'float') return v.n;
  return cannotUse(ctx, v);
}

function checkedString(s: string, ctx: CallContext): Value {
  if (s.length > scriptStringCharsMax) {
    fail(ctx, `String longer than ${scriptStringCharsMax} characters in '${ctx.name}'`);
  }
  return strValue(s);
}

/** .NET's Math.Round(x, digits): midpoints go to the even neighbour. */
function roundHalfEven(x: number, digits: number): number {
  const scale = 10 ** digits;
  const scaled = x * scale;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  let rounded = diff > 0.5 ? floor + 1 : floor;
  if (diff === 0.5) rounded = floor % 2 === 0 ? floor : floor + 1;
  return rounded / scale;
}

function toInt(v: Value, ctx: CallContext): Value {
  switch (v.t) {
    case 'bool': return intValue(v.b ? 1 : 0, ctx.line);
    case 'int': return v;
    case 'float': return intValue(Math.trunc(v.n), ctx.line);
    case 'str': {
      if (v.s.length === 0) return intValue(0, ctx.line);
      const parsed = parseNumeric(v.s);
      if (parsed === null || (parsed.t !== 'int' && parsed.t !== 'float')) {
        return fail(ctx, `Cannot cast string value '${v.s}' to int`);
      }
      return intValue(Math.trunc(parsed.n), ctx.line);
    }
    default: return fail(ctx, `Cannot cast ${kindName(v)} to int`);
  }
}

function toFloat(v: Value, ctx: CallContext): Value {
  switch (v.t) {
    case 'bool': return floatValue(v.b ? 1 : 0);
    case 'int': case 'float': return floatValue(v.n);
    case 'str': {
      if (v.s.length === 0) return floatValue(0);
      const parsed = parseNumeric(v.s);
      if (parsed === null || (parsed.t !== 'int' && parsed.t !== 'float')) {
        return fail(ctx, `Cannot cast string value '${v.s}' to float`);
      }
      return floatValue(parsed.n);
    }
    default: return fail(ctx, `Cannot cast ${kindName(v)} to float`);
  }
}

function toBool(v: Value, ctx: CallContext): Value {
  switch (v.t) {
    case 'bool': return v;
    case 'int': case 'float': return boolValue(v.n !== 0);
    case 'str': return boolValue(v.s.toLowerCase() === 'true');
    default: return fail(ctx, `Cannot cast ${kindName(v)} to bool`);
  }
}

/** Text of a concat() or split() operand: scalars print, arrays are refused. */
function textOf(v: Value, ctx: CallContext): string {
  if (v.t === 'array') return cannotUse(ctx, v);
  return valueText(v);
}

function split(text: Value, sep: Value, ctx: CallContext): Value {
  if (text.t === 'null') return cannotUse(ctx, text);
  const s = textOf(text, ctx);
  const separator = textOf(sep, ctx);
  const parts = separator.length === 0 ? [s] : s.split(separator, scriptArrayItemsMax + 1);
  if (parts.length > scriptArrayItemsMax) {
    fail(ctx, `split() gives more than ${scriptArrayItemsMax} items`);
  }
  return { t: 'array', items: parts.map(strValue) };
}

function minMax(args: readonly Value[], ctx: CallContext, max: boolean): Value {
  const a = arg(args, 0);
  const b = arg(args, 1);
  const x = num(a, ctx);
  const y = num(b, ctx);
  const pick = max ? Math.max(x, y) : Math.min(x, y);
  return a.t === 'int' && b.t === 'int' ? intValue(pick, ctx.line) : floatValue(pick);
}

function is(kind: Value['t']): ScriptFunction {
  return { argsMin: 1, argsMax: 1, run: (args) => boolValue(arg(args, 0).t === kind) };
}

function unary(run: (v: Value, ctx: CallContext) => Value): ScriptFunction {
  return { argsMin: 1, argsMax: 1, run: (args, ctx) => run(arg(args, 0), ctx) };
}

const clock: ScriptFunction = {
  argsMin: 0, argsMax: 0, run: (_args, ctx) => intValue(ctx.nowMs(), ctx.line),
};

// Maps, not object literals: a script's function name must never reach Object.prototype.
const registry: ReadonlyMap<string, ScriptFunction> = new Map(Object.entries({
  abs: unary((v, ctx) => (v.t === 'int' ? intValue(Math.abs(v.n), ctx.line)
    : floatValue(Math.abs(num(v, ctx))))),
  pow: {
    argsMin: 2, argsMax: 2,
    run: (args, ctx) => floatValue(num(arg(args, 0), ctx) ** num(arg(args, 1), ctx)),
  },
  round: {
    argsMin: 1, argsMax: 2,
    run: (args, ctx) => {
      const digitsArg = args.length > 1 ? arg(args, 1) : intValue(0, ctx.line);
      if (digitsArg.t !== 'int') return cannotUse(ctx, digitsArg);
      if (digitsArg.n < 0 || digitsArg.n > roundDigitsMax) {
        return fail(ctx, `Invalid value for digits ${digitsArg.n} in 'round' function`);
      }
      return floatValue(roundHalfEven(num(arg(args, 0), ctx), digitsArg.n));
    },
  },
  ceil: unary((v, ctx) => floatValue(Math.ceil(num(v, ctx)))),
  floor: unary((v, ctx) => floatValue(Math.floor(num(v, ctx)))),
  min: { argsMin: 2, argsMax: 2, run: (args, ctx) => minMax(args, ctx, false) },
  max: { argsMin: 2, argsMax: 2, run: (args, ctx) => minMax(args, ctx, true) },
  to_int: unary(toInt),
  to_float: unary(toFloat),
  to_str: unary((v) => strValue(valueText(v))),
  to_bool: unary(toBool),
  is_int: is('int'),
  is_float: is('float'),
  is_str: is('str'),
  is_bool: is('bool'),
  is_null: is('null'),
  is_array: is('array'),
  concat: {
    argsMin: 2, argsMax: 64,
    run: (args, ctx) => checkedString(args.map((v) => textOf(v, ctx)).join(''), ctx),
  },
  upper: unary((v, ctx) => (v.t === 'str' ? strValue(v.s.toUpperCase()) : cannotUse(ctx, v))),
  lower: unary((v, ctx) => (v.t === 'str' ? strValue(v.s.toLowerCase()) : cannotUse(ctx, v))),
  length: unary((v, ctx) => {
    if (v.t === 'str') return intValue(v.s.length, ctx.line);
    if (v.t === 'array') return intValue(v.items.length, ctx.line);
    return cannotUse(ctx, v);
  }),
  to_json: unary((v, ctx) => checkedString(valueJson(v), ctx)),
  revision: unary((v, ctx) => intValue(v.t === 'str' && v.row !== null ? v.row.revision : -1,
    ctx.line)),
  expires: unary((v, ctx) => intValue(v.t === 'str' && v.row !== null ? v.row.expires.l : 0,
    ctx.line)),
  count: unary((v, ctx) => (v.t === 'array' ? intValue(v.items.length, ctx.line)
    : fail(ctx, `Cannot use 'count' function on argument ${kindName(v)}`))),
  current_time: clock,
  hlc: clock,
  split: { argsMin: 2, argsMax: 2, run: (args, ctx) => split(arg(args, 0), arg(args, 1), ctx) },
}));

const aliases: ReadonlyMap<string, string> = new Map(Object.entries({
  to_integer: 'to_int', to_long: 'to_int', to_number: 'to_int', to_double: 'to_float',
  to_string: 'to_str', to_boolean: 'to_bool', is_integer: 'is_int', is_long: 'is_int',
  is_double: 'is_float', is_string: 'is_str', is_boolean: 'is_bool', len: 'length',
  rev: 'revision',
}));

function lookup(name: string): ScriptFunction | undefined {
  return registry.get(aliases.get(name) ?? name);
}

export function isKnownFunction(name: string): boolean {
  return lookup(name) !== undefined;
}

/** Calls `ctx.name` (lower-case) with evaluated arguments. */
export function callFunction(args: readonly Value[], ctx: CallContext): Value {
  const fn = lookup(ctx.name);
  if (fn === undefined) return fail(ctx, `Undefined function ${ctx.name}`);
  if (args.length < fn.argsMin || args.length > fn.argsMax) {
    return fail(ctx, `Invalid number of arguments for '${ctx.name}' function`);
  }
  return fn.run(args, ctx);
}
