// TryExecuteTransactionScript (wire.md 2.2.10, 4.5): parse (cached), then interpret against a
// ScriptHost whose transactions are this node's coordinator transactions. A script that is a
// single statement runs as the plain command (Kahuna: non-transactional, auto-commit), so a
// one-key SET script costs what a TrySetKeyValue costs.
import { KvType } from '../../core/api/codes.js';
import {
  hlcZero, type Hlc, type KahunaBackend, type KvReadResponse,
} from '../../core/api/types.js';
import type { ScriptRequest, ScriptResponse } from '../../core/api/tx-types.js';
import {
  ScriptFailure, type ScriptHost, type ScriptReadArgs, type ScriptResult, type ScriptRow,
  type ScriptSetArgs, type ScriptTx, type ScriptTxOptions,
} from '../../core/script/host.js';
import type { Program } from '../../core/script/ast.js';
import { runScript } from '../../core/script/interpreter.js';
import { parseScript, ScriptCache } from '../../core/script/parser.js';
import { scriptTimeoutMsDefault } from '../../core/script/script-limits.js';
import { commitTransaction, rollbackTransaction } from './commit.js';
import type { SessionTable } from './sessions.js';
import { Transaction } from './transaction.js';
import type { TxStore } from './tx-store.js';

/** Parses script text into a Program, or throws the parser's syntax error. */
export type ScriptParser = (text: string) => Promise<Program>;

export interface ScriptRunnerOptions {
  readonly backend: KahunaBackend;
  readonly store: TxStore;
  readonly sessions: SessionTable;
  readonly decisionTimeoutMs: number;
  readonly parser?: ScriptParser;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const snapshotCounter = 0xFFFFFFFF;

function failure(type: number): never {
  throw new ScriptFailure(type === KvType.InvalidInput ? type : KvType.MustRetry,
    type === KvType.InvalidInput ? 'Invalid input' : 'The node could not decide; retry');
}

/** One statement outside BEGIN: the plain command on the store. */
class DirectTx implements ScriptTx {
  constructor(private readonly backend: KahunaBackend) {}

  private static readRow(key: string, r: KvReadResponse, withValue: boolean): ScriptRow {
    return { key, value: withValue ? r.value : null, revision: r.revision, expires: r.expires,
      lastModified: r.lastModified };
  }

  private async read(a: ScriptReadArgs, withValue: boolean): Promise<ScriptResult> {
    const req = { txId: hlcZero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0,
      key: a.key, revision: a.revision >= 0 ? a.revision : -1, readTimestamp: a.asOf,
      durability: a.durability };
    const r = withValue ? await this.backend.kvGet(req) : await this.backend.kvExists(req);
    if (r.type === KvType.DoesNotExist) return { type: r.type, row: null };
    if (r.type !== KvType.Get && r.type !== KvType.Exists) failure(r.type);
    return { type: r.type, row: DirectTx.readRow(a.key, r, withValue) };
  }

  get(a: ScriptReadArgs): Promise<ScriptResult> {
    return this.read(a, true);
  }

  exists(a: ScriptReadArgs): Promise<ScriptResult> {
    return this.read(a, false);
  }

  private static written(key: string, r: { type: number; revision: number;
    lastModified: Hlc }, ok: readonly number[]): ScriptResult {
    if (!ok.includes(r.type)) failure(r.type);
    return { type: r.type, row: { key, value: null, revision: r.revision, expires: hlcZero,
      lastModified: r.lastModified } };
  }

  async set(a: ScriptSetArgs): Promise<ScriptResult> {
    const r = await this.backend.kvSet({ txId: hlcZero, coordinatorKey: '', operationIdHigh: 0,
      operationIdLow: 0, key: a.key, value: a.value, compareValue: a.compareValue,
      compareRevision: a.compareRevision, flags: a.flags, expiresMs: a.expiresMs,
      durability: a.durability });
    return DirectTx.written(a.key, r, [KvType.Set, KvType.NotSet]);
  }

  async delete(key: string, durability: number): Promise<ScriptResult> {
    const r = await this.backend.kvDelete({ txId: hlcZero, coordinatorKey: '',
      operationIdHigh: 0, operationIdLow: 0, key, durability });
    return DirectTx.written(key, r, [KvType.Deleted, KvType.DoesNotExist]);
  }

  async extend(key: string, expiresMs: number, durability: number): Promise<ScriptResult> {
    const r = await this.backend.kvExtend({ txId: hlcZero, coordinatorKey: '',
      operationIdHigh: 0, operationIdLow: 0, key, expiresMs, durability });
    return DirectTx.written(key, r, [KvType.Extended, KvType.DoesNotExist]);
  }

  async getByBucket(bucket: string, durability: number, asOf: Hlc): Promise<ScriptRow[]> {
    const r = await this.backend.kvGetByBucket({ txId: hlcZero, prefixKey: bucket,
      readTimestamp: asOf, durability });
    if (r.type !== KvType.Get) failure(r.type);
    return r.items.map((i) => ({ key: i.key, value: i.value, revision: i.revision,
      expires: i.expires, lastModified: i.lastModified }));
  }

  async scanByPrefix(prefix: string, durability: number, asOf: Hlc): Promise<ScriptRow[]> {
    const r = await this.backend.kvScanAllByPrefix({ prefixKey: prefix, readTimestamp: asOf,
      durability });
    if (r.type !== KvType.Get) failure(r.type);
    return r.items.map((i) => ({ key: i.key, value: i.value, revision: i.revision,
      expires: i.expires, lastModified: i.lastModified }));
  }

  commit(): Promise<void> {
    return Promise.resolve();
  }

  rollback(): Promise<void> {
    return Promise.resolve();
  }
}

/** A script's transaction: the coordinator's working set and commit protocol. */
class CoordinatedTx implements ScriptTx {
  constructor(private readonly tx: Transaction, private readonly store: TxStore,
    private readonly decisionTimeoutMs: number) {}

  get(a: ScriptReadArgs): Promise<ScriptResult> {
    return this.tx.read(a, true);
  }

  exists(a: ScriptReadArgs): Promise<ScriptResult> {
    return this.tx.read(a, false);
  }

  set(a: ScriptSetArgs): Promise<ScriptResult> {
    return this.tx.set(a);
  }

  delete(key: string, durability: number): Promise<ScriptResult> {
    return this.tx.delete(key, durability);
  }

  extend(key: string, expiresMs: number, durability: number): Promise<ScriptResult> {
    return this.tx.extend(key, expiresMs, durability);
  }

  getByBucket(bucket: string, durability: number, asOf: Hlc): Promise<readonly ScriptRow[]> {
    return this.tx.getByBucket(bucket, durability, asOf);
  }

  scanByPrefix(prefix: string, durability: number, asOf: Hlc): Promise<readonly ScriptRow[]> {
    return this.tx.scanByPrefix(prefix, durability, asOf);
  }

  async commit(): Promise<void> {
    const out = await commitTransaction(this.tx, this.store,
      { decisionTimeoutMs: this.decisionTimeoutMs });
    if (out.type !== KvType.Committed) throw new ScriptFailure(out.type, out.reason);
  }

  rollback(): Promise<void> {
    return rollbackTransaction(this.tx, this.store);
  }
}

export class ScriptRunner {
  private readonly cache = new ScriptCache();
  private readonly host: ScriptHost;

  constructor(private readonly opts: ScriptRunnerOptions) {
    const { backend, store, sessions, decisionTimeoutMs } = opts;
    this.host = {
      begin: (o: ScriptTxOptions): Promise<ScriptTx> => {
        if (o.single) return Promise.resolve(new DirectTx(backend));
        const snapshot = o.snapshotMs === 0 ? hlcZero
          : { n: 0, l: o.snapshotMs, c: snapshotCounter };
        const tx = new Transaction(sessions.newId(), { locking: o.locking,
          leaseMs: o.timeoutMs, snapshot }, store);
        return Promise.resolve(new CoordinatedTx(tx, store, decisionTimeoutMs));
      },
      sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)),
      now: () => sessions.now(),
    };
  }

  private async parse(text: string): Promise<Program> {
    const now = Date.now();
    const known = this.cache.get(text, now);
    if (known !== undefined) return known;
    const program = this.opts.parser === undefined ? parseScript(text)
      : await this.opts.parser(text);
    this.cache.set(text, program, now);
    return program;
  }

  async execute(req: ScriptRequest): Promise<ScriptResponse> {
    const started = Date.now();
    const answer = (type: number, reason: string | null, values: ScriptResponse['values'] = []):
      ScriptResponse => ({ type, reason, values, timeElapsedMs: Date.now() - started });
    if (req.script === null) return answer(KvType.InvalidInput, 'script is required');
    let text: string;
    try {
      text = decoder.decode(req.script);
    } catch {
      return answer(KvType.InvalidInput, 'script is not valid UTF-8');
    }
    let program: Program;
    try {
      program = await this.parse(text);
    } catch (e) {
      return answer(KvType.Errored, e instanceof Error ? e.message : String(e));
    }
    const out = await runScript(program, req.parameters, this.host,
      { timeoutMs: scriptTimeoutMsDefault });
    return answer(out.type, out.reason, out.values);
  }
}
