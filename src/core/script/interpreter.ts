// Runs a parsed Kahuna Script against a ScriptHost (kahuna-reference.md 4.5, wire.md 4.5).
// The transaction is begun on the first key command, so a script that only computes never
// costs a round trip; it commits at the end when the scoping says so (auto-commit, or COMMIT in
// BEGIN ... END) and is rolled back otherwise, and on THROW, on a runtime error, on a host
// failure and on timeout. The timeout is measured on host.now(); steps (statements and loop
// iterations) are capped, and every stepsPerYield steps the run yields to the host's event loop
// so a long pure loop cannot starve it. Pure: async only through the host's promises
// (coroutine.ts).
import { KvType } from '../api/codes.js';
import type { KeyName, Program, Stmt } from './ast.js';
import { runKeyStmt, type CommandContext } from './commands.js';
import { drive, wait, type Co } from './coroutine.js';
import { evaluate } from './evaluate.js';
import {
  ScriptFailure, type ScriptHost, type ScriptRow, type ScriptTx, type ScriptTxOptions,
} from './host.js';
import { isTrue } from './operators.js';
import {
  errorOutcome, failureOutcome, returnOutcome, type ScriptOutcome,
} from './outcome.js';
import { tryParseScript } from './parser.js';
import { scriptStepsMax } from './script-limits.js';
import { planTransaction, type ScriptDefaults, type TxPlan } from './tx-plan.js';
import { kindName, reasonText, ScriptRuntimeError, type Value } from './values.js';

export type { ScriptOutcome } from './outcome.js';
export type { ScriptDefaults } from './tx-plan.js';

export interface ScriptParam {
  /** The placeholder, `@name` (a name without `@` is accepted too). */
  readonly key: string;
  /** null: the parameter is bound to null. */
  readonly value: string | null;
}

export type ScriptParams = ReadonlyMap<string, string | null> | readonly ScriptParam[];

/** Steps between yields to the host (host.sleep(0)) during long synchronous stretches. */
const stepsPerYield = 4096;

function placeholderName(key: string): string {
  return key.startsWith('@') ? key : `@${key}`;
}

function paramMap(params: ScriptParams): ReadonlyMap<string, string | null> {
  const out = new Map<string, string | null>();
  const entries = params instanceof Map ? params.entries()
    : (params as readonly ScriptParam[]).map((p) => [p.key, p.value] as const);
  for (const [key, value] of entries) out.set(placeholderName(key), value);
  return out;
}

function timeoutFailure(): ScriptFailure {
  return new ScriptFailure(KvType.Aborted, 'Transaction aborted by timeout');
}

class Run implements CommandContext {
  readonly vars = new Map<string, Value>();
  private txHandle: ScriptTx | null = null;
  private txEnded = false;
  private result: ScriptOutcome | null = null;
  private lastSetType: number | null = null;
  private lastGetType: number | null = null;
  private stopped = false;
  private steps = 0;
  private commitWanted: boolean;
  private readonly deadlineMs: number;

  constructor(private readonly plan: TxPlan, private readonly params: ReadonlyMap<string,
    string | null>, private readonly host: ScriptHost) {
    this.commitWanted = plan.options.autoCommit;
    this.deadlineMs = host.now().l + plan.options.timeoutMs;
  }

  get options(): ScriptTxOptions {
    return this.plan.options;
  }

  *tx(): Co<ScriptTx> {
    if (this.txHandle === null) this.txHandle = yield* wait(this.host.begin(this.options));
    return this.txHandle;
  }

  param(name: string, line: number): string | null {
    const value = this.params.get(name);
    if (value === undefined) throw new ScriptRuntimeError(`Missing parameter ${name}`, line);
    return value;
  }

  notSet(line: number): boolean {
    if (this.lastSetType === null) throw new ScriptRuntimeError('Invalid NOT SET expression', line);
    return this.lastSetType !== KvType.Set;
  }

  notFound(line: number): boolean {
    if (this.lastGetType === null) {
      throw new ScriptRuntimeError('Invalid NOT FOUND expression', line);
    }
    return this.lastGetType !== KvType.Get;
  }

  nowMs(): number {
    return this.host.now().l;
  }

  resolveKey(key: KeyName, line: number): string {
    if (key.k === 'lit') return key.name;
    const value = this.param(key.name, line);
    if (value === null) {
      throw new ScriptRuntimeError(`Invalid key: parameter ${key.name} is null`, line);
    }
    return value;
  }

  assign(name: string, v: Value): void {
    this.vars.set(name, v);
  }

  record(type: number, rows: readonly ScriptRow[]): void {
    this.result = { type, reason: null, values: rows };
  }

  recordSet(type: number): void {
    this.lastSetType = type;
  }

  recordGet(type: number): void {
    this.lastGetType = type;
  }

  /** Counts one step, enforces the step cap and the timeout, and yields now and then. */
  private *tick(line: number): Co<void> {
    this.steps += 1;
    if (this.steps > scriptStepsMax) {
      throw new ScriptRuntimeError(`Script exceeded ${scriptStepsMax} steps`, line);
    }
    if (!this.options.single && this.host.now().l > this.deadlineMs) throw timeoutFailure();
    if (this.steps % stepsPerYield === 0) yield* wait(this.host.sleep(0));
  }

  *block(stmts: readonly Stmt[]): Co<void> {
    for (const s of stmts) {
      if (this.stopped) return;
      yield* this.tick(s.line);
      yield* this.exec(s);
    }
  }

  private *exec(s: Stmt): Co<void> {
    switch (s.k) {
      case 'let': this.vars.set(s.name, evaluate(s.value, this)); return;
      case 'if': {
        const branch = isTrue(evaluate(s.cond, this)) ? s.then : s.otherwise;
        if (branch !== null) yield* this.block(branch);
        return;
      }
      case 'for': yield* this.loop(s); return;
      case 'begin': throw new ScriptRuntimeError('Nested transactions are not supported', s.line);
      case 'commit': case 'rollback': this.commitWanted = s.k === 'commit'; return;
      case 'return':
        if (s.value !== null) this.result = returnOutcome(evaluate(s.value, this));
        this.stopped = true;
        return;
      case 'sleep': yield* this.sleep(s.ms); return;
      case 'throw': throw new ScriptRuntimeError(reasonText(evaluate(s.value, this)), s.line);
      default: yield* runKeyStmt(this, s);
    }
  }

  private *loop(s: Extract<Stmt, { k: 'for' }>): Co<void> {
    const iterable = evaluate(s.iterable, this);
    if (iterable.t !== 'array') {
      throw new ScriptRuntimeError(`FOR needs an array: Found: ${kindName(iterable)}`, s.line);
    }
    for (const item of iterable.items) {
      if (this.stopped) return;
      yield* this.tick(s.line);
      this.vars.set(s.name, item);
      yield* this.block(s.body);
    }
  }

  /** Sleeps, but not past the deadline: a sleep the timeout cuts short aborts the script. */
  private *sleep(ms: number): Co<void> {
    const remainingMs = this.deadlineMs - this.host.now().l;
    if (ms <= remainingMs) {
      yield* wait(this.host.sleep(ms));
      return;
    }
    if (remainingMs > 0) yield* wait(this.host.sleep(remainingMs));
    throw timeoutFailure();
  }

  *finish(): Co<ScriptOutcome> {
    const tx = this.txHandle;
    if (!this.commitWanted) {
      yield* this.abandon();
      return errorOutcome(KvType.Aborted, 'Transaction aborted');
    }
    if (tx !== null) {
      if (!this.options.single && this.host.now().l > this.deadlineMs) throw timeoutFailure();
      yield* wait(tx.commit());
      this.txEnded = true;
    }
    return this.result ?? { type: KvType.Get, reason: null, values: [] };
  }

  /** Rolls the transaction back once; a failed commit is rolled back too (releases locks). */
  *abandon(): Co<void> {
    const tx = this.txHandle;
    if (tx === null || this.txEnded) return;
    this.txEnded = true;
    try {
      yield* wait(tx.rollback());
    } catch {
      // rollback() never throws by contract; a host that does is not the script's failure.
    }
  }
}

function* main(run: Run, body: readonly Stmt[]): Co<ScriptOutcome> {
  try {
    yield* run.block(body);
    return yield* run.finish();
  } catch (err) {
    yield* run.abandon();
    return failureOutcome(err);
  }
}

/** Runs `program` with its placeholder bindings. Never rejects: every failure is an outcome
 *  (Errored, Aborted, MustRetry...) and leaves nothing written. */
export function runScript(program: Program, params: ScriptParams, host: ScriptHost,
  defaults: ScriptDefaults): Promise<ScriptOutcome> {
  const bound = paramMap(params);
  let run: Run;
  let plan: TxPlan;
  try {
    plan = planTransaction(program, defaults, (name, line) => {
      const value = bound.get(name);
      if (value === undefined) throw new ScriptRuntimeError(`Missing parameter ${name}`, line);
      return value;
    });
    run = new Run(plan, bound, host);
  } catch (err) {
    return Promise.resolve(failureOutcome(err));
  }
  return drive(main(run, plan.body)).catch((err: unknown) => failureOutcome(err));
}

/** Parses and runs `text`; a syntax error is Errored with its "Syntax error ..." reason. */
export function runScriptText(text: string, params: ScriptParams, host: ScriptHost,
  defaults: ScriptDefaults): Promise<ScriptOutcome> {
  const parsed = tryParseScript(text);
  if (!parsed.ok) return Promise.resolve(errorOutcome(KvType.Errored, parsed.reason));
  return runScript(parsed.program, params, host, defaults);
}
