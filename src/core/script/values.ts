// Kahuna Script values (kahuna-reference.md 4.3, wire.md 4.5). Kahuna's expression types are
// NullType, BoolType, LongType (int64), DoubleType, StringType and ArrayType; error reasons name
// them ("Invalid operands: LongType + StringType"), so kindName() keeps those names. Integers are
// safe JS integers (wire.md 1.5). A value read from the store is a string carrying `row`: its
// key, revision and expiry (for revision(), expires() and RETURN) and its exact bytes. Pure.
import type { Hlc } from '../api/types.js';

/** Where a string value came from when a GET or a bucket read produced it. */
export interface RowOrigin {
  readonly key: string;
  readonly revision: number;
  readonly expires: Hlc;
  readonly lastModified: Hlc;
  /** The stored bytes as read (null: a key stored without a value). */
  readonly bytes: Uint8Array | null;
}

export type Value =
  | { readonly t: 'null' }
  | { readonly t: 'bool'; readonly b: boolean }
  | { readonly t: 'int'; readonly n: number }
  | { readonly t: 'float'; readonly n: number }
  | { readonly t: 'str'; readonly s: string; readonly row: RowOrigin | null }
  | { readonly t: 'array'; readonly items: readonly Value[] };

export type ValueKind = Value['t'];

/** A failure of the script itself (bad operands, THROW, a missing parameter): Errored (99)
 *  with reason "<message> at line N". */
export class ScriptRuntimeError extends Error {
  constructor(readonly detail: string, readonly line: number) {
    super(`${detail} at line ${line}`);
    this.name = 'ScriptRuntimeError';
  }
}

export const nullValue: Value = { t: 'null' };
export const trueValue: Value = { t: 'bool', b: true };
export const falseValue: Value = { t: 'bool', b: false };

export function boolValue(b: boolean): Value {
  return b ? trueValue : falseValue;
}

export function strValue(s: string): Value {
  return { t: 'str', s, row: null };
}

export function floatValue(n: number): Value {
  return { t: 'float', n };
}

/** An int result; `line` places the error when it leaves the safe integer range. */
export function intValue(n: number, line: number): Value {
  if (!Number.isSafeInteger(n)) throw new ScriptRuntimeError('Integer overflow', line);
  return { t: 'int', n };
}

const kindNames: Readonly<Record<ValueKind, string>> = {
  null: 'NullType',
  bool: 'BoolType',
  int: 'LongType',
  float: 'DoubleType',
  str: 'StringType',
  array: 'ArrayType',
};

export function kindName(v: Value): string {
  return kindNames[v.t];
}

const intPattern = /^\s*[+-]?\d+\s*$/;
const floatPattern = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** A numeric string as .NET reads it: long.TryParse first, then double.TryParse; null when
 *  the text is not a number. */
export function parseNumeric(text: string): Value | null {
  if (intPattern.test(text)) {
    const n = Number.parseInt(text, 10);
    if (Number.isSafeInteger(n)) return { t: 'int', n };
    return { t: 'float', n };
  }
  if (floatPattern.test(text)) return { t: 'float', n: Number.parseFloat(text) };
  return null;
}

/** A double printed like .NET's double.ToString(InvariantCulture): the shortest round-trip
 *  digits, no trailing ".0", scientific notation ("1E+15", "1E-05") from 1e15 up and below
 *  1e-4. */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa = '0', exponentText = '0'] = n.toExponential().split('e');
  const exponent = Number.parseInt(exponentText, 10);
  if (exponent > -5 && exponent < 15) return String(n);
  const sign = exponent < 0 ? '-' : '+';
  return `${mantissa}E${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** The text of a value as RETURN, to_str, concat and SET write it; null -> "". */
export function valueText(v: Value): string {
  switch (v.t) {
    case 'null': return '';
    case 'bool': return v.b ? 'true' : 'false';
    case 'int': return String(v.n);
    case 'float': return formatFloat(v.n);
    case 'str': return v.s;
    case 'array': return valueJson(v);
  }
}

/** The text THROW puts in its reason: Kahuna prints null as "(null)". */
export function reasonText(v: Value): string {
  return v.t === 'null' ? '(null)' : valueText(v);
}

/** JSON of a value (to_json, and arrays nested in a RETURN). */
export function valueJson(v: Value): string {
  switch (v.t) {
    case 'null': return 'null';
    case 'bool': return v.b ? 'true' : 'false';
    case 'int': return String(v.n);
    case 'float': return Number.isFinite(v.n) ? formatFloat(v.n) : JSON.stringify(formatFloat(v.n));
    case 'str': return JSON.stringify(v.s);
    case 'array': return `[${v.items.map(valueJson).join(',')}]`;
  }
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function encodeText(text: string): Uint8Array {
  return utf8.encode(text);
}

export function decodeText(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** The bytes a SET stores or a CMP compares: null stays null (a key without a value), a value
 *  read from the store keeps its exact bytes. */
export function valueBytes(v: Value, line: number): Uint8Array | null {
  if (v.t === 'null') return null;
  if (v.t === 'array') throw new ScriptRuntimeError('Cannot store an ArrayType value', line);
  if (v.t === 'str' && v.row !== null && v.row.bytes !== null) return v.row.bytes;
  return encodeText(valueText(v));
}

/** A string value read from the store. */
export function rowValue(row: RowOrigin): Value {
  return { t: 'str', s: row.bytes === null ? '' : decodeText(row.bytes), row };
}
