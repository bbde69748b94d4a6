// A script's answer (wire.md 4.5): the type of the last executed command or Get (3) for
// RETURN, a reason for errors, and the rows. RETURN rows have key "" and revision -1, unless the
// value came from the store, which keeps its key, revision and expiry; an array gives one row
// per element. Errors carry no rows. Pure.
import { KvType } from '../api/codes.js';
import { hlcZero } from '../api/types.js';
import type { ScriptRow } from './host.js';
import { ScriptSyntaxError } from './lexer.js';
import { encodeText, ScriptRuntimeError, valueText, type Value } from './values.js';

export interface ScriptOutcome {
  /** KvType: the last command's code, Get for RETURN, or an error code (>= 99). */
  readonly type: number;
  /** Why, when type is an error: "Syntax error: ...", "<thrown> at line N", "Transaction
   *  aborted", "Transaction aborted by timeout"... null otherwise. */
  readonly reason: string | null;
  readonly values: readonly ScriptRow[];
}

/** A failure with a KvType code; ScriptFailure (host.ts) and errors that crossed a thread
 *  as plain data look alike. */
interface CodedFailure {
  readonly code: number;
  readonly reason: string;
}

function isCodedFailure(err: unknown): err is CodedFailure {
  if (typeof err !== 'object' || err === null) return false;
  const { code, reason } = err as { code?: unknown; reason?: unknown };
  return typeof code === 'number' && code >= KvType.Errored && typeof reason === 'string';
}

/** A key the command found nothing at (Kahuna answers revision -1 in scripts). */
export function missingRow(key: string): ScriptRow {
  return { key, value: null, revision: -1, expires: hlcZero, lastModified: hlcZero };
}

/** The row of a command that reports no value (SET, EXISTS, DELETE, EXTEND). */
export function metaRow(key: string, row: ScriptRow | null): ScriptRow {
  if (row === null) return missingRow(key);
  return { key, value: null, revision: row.revision, expires: row.expires,
    lastModified: row.lastModified };
}

function returnRow(v: Value): ScriptRow {
  if (v.t === 'str' && v.row !== null) {
    const { key, bytes, revision, expires, lastModified } = v.row;
    return { key, value: bytes, revision, expires, lastModified };
  }
  return { key: '', value: encodeText(valueText(v)), revision: -1, expires: hlcZero,
    lastModified: hlcZero };
}

export function returnOutcome(v: Value): ScriptOutcome {
  const values = v.t === 'array' ? v.items.map(returnRow) : [returnRow(v)];
  return { type: KvType.Get, reason: null, values };
}

export function errorOutcome(type: number, reason: string): ScriptOutcome {
  return { type, reason, values: [] };
}

/** What a thrown error means for the client. Anything unexpected is Errored with its message:
 *  a host bug must not take the node down, and the script is rolled back either way. */
export function failureOutcome(err: unknown): ScriptOutcome {
  if (err instanceof ScriptRuntimeError || err instanceof ScriptSyntaxError) {
    return errorOutcome(KvType.Errored, err.message);
  }
  if (isCodedFailure(err)) return errorOutcome(err.code, err.reason);
  if (err instanceof Error) return errorOutcome(KvType.Errored, `${err.name}: ${err.message}`);
  return errorOutcome(KvType.Errored, String(err));
}
