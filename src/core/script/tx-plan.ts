// How a script is scoped into a transaction (kahuna-reference.md 4.5): one key statement alone
// runs as the plain command (single, auto-commit, async release); several statements without
// BEGIN are one implicit auto-commit transaction; a script that is one BEGIN ... END block is an
// explicit transaction whose options come from BEGIN (...) and which commits only on COMMIT
// unless autoCommit says otherwise. Option keys are case-sensitive and unknown keys are ignored,
// as in Kahuna; unknown values are Errored ("Unsupported locking option: ..."). Pure.
import { isKeyStmt, type BeginOption, type Program, type Stmt } from './ast.js';
import type { ScriptTxOptions } from './host.js';
import { ScriptRuntimeError } from './values.js';

export interface ScriptDefaults {
  /** --default-transaction-timeout (5000). */
  readonly timeoutMs: number;
  /** The request's priority, 0 background .. 4 critical; 2 normal when absent. */
  readonly priority?: number;
}

export interface TxPlan {
  /** The statements to run (a BEGIN block's body for an explicit transaction). */
  readonly body: readonly Stmt[];
  /** BEGIN ... END: COMMIT and ROLLBACK are statements of this transaction. */
  readonly explicit: boolean;
  readonly options: ScriptTxOptions;
  /** BEGIN (admissionWait = ms); validated, not part of ScriptTxOptions. */
  readonly admissionWaitMs: number;
}

export const TxLocking = { Pessimistic: 0, Optimistic: 1 } as const;
export const TxPriority = { Background: 0, Low: 1, Normal: 2, High: 3, Critical: 4 } as const;

const lockingValues: ReadonlyMap<string, number> = new Map([
  ['pessimistic', TxLocking.Pessimistic], ['optimistic', TxLocking.Optimistic],
]);
const booleanValues: ReadonlyMap<string, boolean> = new Map([
  ['true', true], ['false', false], ['yes', true], ['no', false],
]);
const priorityValues: ReadonlyMap<string, number> = new Map([
  ['background', TxPriority.Background], ['low', TxPriority.Low],
  ['normal', TxPriority.Normal], ['high', TxPriority.High], ['critical', TxPriority.Critical],
]);

const digits = /^\d+$/;

type ParamLookup = (name: string, line: number) => string | null;

interface MutableOptions {
  locking: number;
  timeoutMs: number;
  autoCommit: boolean;
  asyncRelease: boolean;
  snapshotMs: number;
  priority: number;
  admissionWaitMs: number;
}

function pick<T>(table: ReadonlyMap<string, T>, what: string, text: string, line: number): T {
  const value = table.get(text);
  if (value === undefined) {
    throw new ScriptRuntimeError(`Unsupported ${what} option: ${text}`, line);
  }
  return value;
}

function milliseconds(what: string, text: string, line: number, zeroAllowed: boolean): number {
  const ms = digits.test(text) ? Number.parseInt(text, 10) : Number.NaN;
  if (!Number.isSafeInteger(ms) || (!zeroAllowed && ms === 0)) {
    throw new ScriptRuntimeError(`Invalid ${what} option: ${text}`, line);
  }
  return ms;
}

/** One option per key (Kahuna's setters, keyed by the case-sensitive option name). */
const optionSetters: ReadonlyMap<string, (o: MutableOptions, text: string, line: number) => void> =
  new Map([
    ['locking', (o, t, l) => { o.locking = pick(lockingValues, 'locking', t, l); }],
    ['timeout', (o, t, l) => { o.timeoutMs = milliseconds('timeout', t, l, false); }],
    ['autoCommit', (o, t, l) => { o.autoCommit = pick(booleanValues, 'autoCommit', t, l); }],
    ['asyncRelease', (o, t, l) => { o.asyncRelease = pick(booleanValues, 'asyncRelease', t, l); }],
    ['admissionWait', (o, t, l) => {
      o.admissionWaitMs = milliseconds('admissionWait', t, l, true);
    }],
    ['snapshot', (o, t, l) => { o.snapshotMs = milliseconds('snapshot', t, l, true); }],
    ['priority', (o, t, l) => { o.priority = pick(priorityValues, 'priority', t, l); }],
  ]);

function applyOptions(o: MutableOptions, options: readonly BeginOption[], param: ParamLookup):
  void {
  const seen = new Set<string>();
  for (const opt of options) {
    if (seen.has(opt.name)) {
      throw new ScriptRuntimeError(`Duplicate BEGIN option: ${opt.name}`, opt.line);
    }
    seen.add(opt.name);
    const { value } = opt;
    const text = value.k === 'text' ? value.text : param(value.name, opt.line) ?? 'null';
    optionSetters.get(opt.name)?.(o, text, opt.line);
  }
}

export function planTransaction(program: Program, defaults: ScriptDefaults, param: ParamLookup):
  TxPlan {
  const body = program.body;
  const only = body.length === 1 ? body[0] : undefined;
  const o: MutableOptions = {
    locking: TxLocking.Pessimistic, timeoutMs: defaults.timeoutMs, autoCommit: true,
    asyncRelease: false, snapshotMs: 0, priority: defaults.priority ?? TxPriority.Normal,
    admissionWaitMs: 0,
  };
  if (only?.k === 'commit' || only?.k === 'rollback') {
    throw new ScriptRuntimeError('Invalid transaction', only.line);
  }
  const explicit = only?.k === 'begin';
  const single = only !== undefined && isKeyStmt(only);
  if (only?.k === 'begin') {
    o.autoCommit = false;
    applyOptions(o, only.options, param);
  } else if (single) o.asyncRelease = true;
  const { admissionWaitMs, ...options } = o;
  return {
    body: only?.k === 'begin' ? only.body : body, explicit, options: { ...options, single },
    admissionWaitMs,
  };
}
