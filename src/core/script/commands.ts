// The key commands of Kahuna Script (kahuna-reference.md 4.2, wire.md 4.5) against the host's
// transaction: SET/ESET, GET/EGET, EXISTS/EEXISTS, DELETE/EDELETE, EXTEND/EEXTEND and the bucket
// and prefix reads. Each records the script's result so far (type and rows) and the state NOT SET
// and NOT FOUND read. A host answer with an error code stops the script (Kahuna aborts on
// Aborted, Errored and MustRetry), as does a write inside a snapshot transaction. Pure.
import { KvFlags, KvType } from '../api/codes.js';
import { hlcZero, type Hlc } from '../api/types.js';
import type { Expr, KeyName, KeyStmt } from './ast.js';
import { wait, type Co } from './coroutine.js';
import { evaluate, evaluateInt, type EvalEnv } from './evaluate.js';
import {
  ScriptFailure, type ScriptRow, type ScriptTx, type ScriptTxOptions,
} from './host.js';
import { metaRow, missingRow } from './outcome.js';
import { scriptArrayItemsMax } from './script-limits.js';
import {
  nullValue, rowValue, ScriptRuntimeError, trueValue, valueBytes, type Value,
} from './values.js';

/** What a key command needs from the running script. */
export interface CommandContext extends EvalEnv {
  readonly options: ScriptTxOptions;
  /** The script's transaction, begun on first use. */
  tx(): Co<ScriptTx>;
  resolveKey(key: KeyName, line: number): string;
  assign(name: string, v: Value): void;
  /** The script's result so far: the last command's type and rows. */
  record(type: number, rows: readonly ScriptRow[]): void;
  recordSet(type: number): void;
  recordGet(type: number): void;
}

/** kahuna-ts builds read timestamps from ms as {node 0, ms, counter 0xFFFFFFFF} (wire.md 4.2):
 *  everything committed in that millisecond. */
const snapshotCounter = 0xffffffff;

function failureReason(type: number, key: string): string {
  switch (type) {
    case KvType.Aborted: case KvType.AlreadyLocked: return 'Transaction aborted';
    case KvType.MustRetry: return 'Must retry';
    case KvType.InvalidInput: return `Invalid input: ${key}`;
    default: return `Command on ${key} failed with type ${type}`;
  }
}

/** Error codes stop the script; DoesNotExist is an ordinary answer. */
function checked(type: number, key: string): number {
  if (type < KvType.Errored || type === KvType.DoesNotExist) return type;
  const code = type === KvType.AlreadyLocked ? KvType.Aborted : type;
  throw new ScriptFailure(code, failureReason(type, key));
}

function refuseSnapshotWrite(ctx: CommandContext): void {
  if (ctx.options.snapshotMs === 0) return;
  throw new ScriptFailure(KvType.Aborted, 'Transaction aborted: write in a snapshot transaction');
}

/** A statement's AS OF, else the transaction's snapshot, else the latest (zero). */
function readTimestamp(ctx: CommandContext, asOf: Expr | null, line: number): Hlc {
  if (asOf !== null) {
    const ms = evaluateInt(asOf, ctx, 'AS OF');
    if (ms <= 0) throw new ScriptRuntimeError(`Invalid AS OF timestamp: ${ms}`, line);
    return { n: 0, l: ms, c: snapshotCounter };
  }
  const snapshotMs = ctx.options.snapshotMs;
  return snapshotMs === 0 ? hlcZero : { n: 0, l: snapshotMs, c: snapshotCounter };
}

function setFlags(s: Extract<KeyStmt, { k: 'set' }>): number {
  const f = s.flags;
  let flags: number = KvFlags.None;
  if (f.nx) flags = KvFlags.SetIfNotExists;
  else if (f.xx) flags = KvFlags.SetIfExists;
  else if (f.cmp !== null) flags = KvFlags.SetIfEqualToValue;
  else if (f.cmprev !== null) flags = KvFlags.SetIfEqualToRevision;
  if (f.norev) flags |= KvFlags.SetNoRevision;
  return flags === KvFlags.None ? KvFlags.Set : flags;
}

function* setCommand(ctx: CommandContext, s: Extract<KeyStmt, { k: 'set' }>): Co<void> {
  refuseSnapshotWrite(ctx);
  const key = ctx.resolveKey(s.key, s.line);
  const value = valueBytes(evaluate(s.value, ctx), s.line);
  const { ex, cmp, cmprev } = s.flags;
  const expiresMs = ex === null ? 0 : evaluateInt(ex, ctx, 'EX');
  const compareValue = cmp === null ? null : valueBytes(evaluate(cmp, ctx), s.line);
  const compareRevision = cmprev === null ? 0 : evaluateInt(cmprev, ctx, 'CMPREV');
  const tx = yield* ctx.tx();
  const res = yield* wait(tx.set({
    key, value, flags: setFlags(s), compareValue, compareRevision, expiresMs,
    durability: s.durability,
  }));
  const type = checked(res.type, key);
  ctx.recordSet(type);
  ctx.record(type, [metaRow(key, res.row)]);
}

function* pointRead(ctx: CommandContext, s: Extract<KeyStmt, { k: 'get' | 'exists' }>): Co<void> {
  const key = ctx.resolveKey(s.key, s.line);
  const asOf = s.at >= 0 ? hlcZero : readTimestamp(ctx, s.asOf, s.line);
  const tx = yield* ctx.tx();
  const args = { key, durability: s.durability, revision: s.at, asOf };
  const res = yield* wait(s.k === 'get' ? tx.get(args) : tx.exists(args));
  const type = checked(res.type, key);
  const row = res.row;
  if (s.k === 'exists') {
    const found = type === KvType.Exists;
    if (s.into !== null) ctx.assign(s.into, found ? trueValue : nullValue);
    ctx.record(type, [found ? metaRow(key, row) : missingRow(key)]);
    return;
  }
  ctx.recordGet(type);
  if (type !== KvType.Get || row === null) {
    if (s.into !== null) ctx.assign(s.into, nullValue);
    ctx.record(type, [missingRow(key)]);
    return;
  }
  if (s.into !== null) {
    ctx.assign(s.into, rowValue({ key, revision: row.revision, expires: row.expires,
      lastModified: row.lastModified, bytes: row.value }));
  }
  ctx.record(type, [{ ...row, key }]);
}

function* rowsRead(ctx: CommandContext, s: Extract<KeyStmt, { k: 'bucket' | 'prefix' }>): Co<void> {
  const key = ctx.resolveKey(s.key, s.line);
  const asOf = readTimestamp(ctx, s.asOf, s.line);
  const tx = yield* ctx.tx();
  const rows = yield* wait(s.k === 'bucket' ? tx.getByBucket(key, s.durability, asOf)
    : tx.scanByPrefix(key, s.durability, asOf));
  if (s.into !== null) {
    if (rows.length > scriptArrayItemsMax) {
      throw new ScriptRuntimeError(`Read of ${rows.length} rows exceeds ${scriptArrayItemsMax}`,
        s.line);
    }
    ctx.assign(s.into, { t: 'array', items: rows.map((r) => rowValue({ key: r.key,
      revision: r.revision, expires: r.expires, lastModified: r.lastModified, bytes: r.value })) });
  }
  ctx.record(KvType.Get, rows);
}

function* deleteCommand(ctx: CommandContext, s: Extract<KeyStmt, { k: 'delete' }>): Co<void> {
  refuseSnapshotWrite(ctx);
  const key = ctx.resolveKey(s.key, s.line);
  const tx = yield* ctx.tx();
  const res = yield* wait(tx.delete(key, s.durability));
  ctx.record(checked(res.type, key), [metaRow(key, res.row)]);
}

function* extendCommand(ctx: CommandContext, s: Extract<KeyStmt, { k: 'extend' }>): Co<void> {
  refuseSnapshotWrite(ctx);
  const key = ctx.resolveKey(s.key, s.line);
  const tx = yield* ctx.tx();
  const res = yield* wait(tx.extend(key, s.ms, s.durability));
  ctx.record(checked(res.type, key), [metaRow(key, res.row)]);
}

export function runKeyStmt(ctx: CommandContext, s: KeyStmt): Co<void> {
  switch (s.k) {
    case 'set': return setCommand(ctx, s);
    case 'get': case 'exists': return pointRead(ctx, s);
    case 'bucket': case 'prefix': return rowsRead(ctx, s);
    case 'delete': return deleteCommand(ctx, s);
    case 'extend': return extendCommand(ctx, s);
  }
}
