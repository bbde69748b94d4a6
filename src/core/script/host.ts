// What a running Kahuna Script needs from the node (issue 8): the interpreter
// (src/core/script/interpreter.ts) is pure and talks to the store only through this contract;
// the transaction coordinator (src/main/tx/) implements it over the partition workers, and unit
// tests implement it in memory. Pure: no node:*.
import type { Hlc } from '../api/types.js';

/** Transaction options of `BEGIN (...)` (kahuna-reference.md 4.5), already validated. */
export interface ScriptTxOptions {
  /** 0 pessimistic (default), 1 optimistic. */
  readonly locking: number;
  /** Lock lease and transaction lifetime in ms (default 5000). */
  readonly timeoutMs: number;
  readonly autoCommit: boolean;
  readonly asyncRelease: boolean;
  /** Non-zero: a read-only transaction reading at this Unix ms; writes abort it. */
  readonly snapshotMs: number;
  /** 0 background .. 4 critical; 2 normal (default). */
  readonly priority: number;
  /** True when the script is one statement outside BEGIN: the host may run it as a plain,
   *  non-transactional command. */
  readonly single: boolean;
}

/** One key as the store shows it to a script (a GET result, a bucket row). */
export interface ScriptRow {
  readonly key: string;
  /** null: no value (a missing key, or a key stored without one). */
  readonly value: Uint8Array | null;
  readonly revision: number;
  readonly expires: Hlc;
  readonly lastModified: Hlc;
}

/** A point command's outcome. `type` is the KvType of wire.md 4.5 (Get, DoesNotExist, Exists,
 *  Set, NotSet, Deleted, Extended); `row` describes the key (revision, expiry, value for GET),
 *  or is null when there is nothing to describe. */
export interface ScriptResult {
  readonly type: number;
  readonly row: ScriptRow | null;
}

export interface ScriptSetArgs {
  readonly key: string;
  readonly value: Uint8Array | null;
  /** KvFlags bit set: Set (1) when no flag was written, SetNoRevision, SetIfExists (XX),
   *  SetIfNotExists (NX), SetIfEqualToValue (CMP), SetIfEqualToRevision (CMPREV). NX/XX/CMP/
   *  CMPREV may be combined with NOREV. */
  readonly flags: number;
  readonly compareValue: Uint8Array | null;
  readonly compareRevision: number;
  /** 0: no expiry. */
  readonly expiresMs: number;
  /** 0 ephemeral (ESET), 1 persistent (SET). */
  readonly durability: number;
}

/** A point read's selectors: `revision` >= 0 reads that revision (GET k AT n); `asOf` non-zero
 *  reads the newest revision at or before that HLC (GET k AS OF t). */
export interface ScriptReadArgs {
  readonly key: string;
  readonly durability: number;
  readonly revision: number;
  readonly asOf: Hlc;
}

/** A failure the script cannot go on from: Aborted (102, a conflict, a timeout, a write in a
 *  snapshot transaction), MustRetry (101), Errored (99) or InvalidInput (100). Hosts throw it;
 *  the interpreter turns it into the script's result and rolls back. Plain data, so it crosses
 *  threads (errors cross as data). */
export class ScriptFailure extends Error {
  constructor(readonly code: number, readonly reason: string) {
    super(reason);
  }
}

/** One transaction as the script sees it: its own writes are visible to its later reads. */
export interface ScriptTx {
  get(args: ScriptReadArgs): Promise<ScriptResult>;
  exists(args: ScriptReadArgs): Promise<ScriptResult>;
  set(args: ScriptSetArgs): Promise<ScriptResult>;
  delete(key: string, durability: number): Promise<ScriptResult>;
  extend(key: string, expiresMs: number, durability: number): Promise<ScriptResult>;
  /** Live keys whose bucket (before the last '/') equals `bucket`, sorted by key. */
  getByBucket(bucket: string, durability: number, asOf: Hlc): Promise<readonly ScriptRow[]>;
  /** Live keys starting with `prefix`, sorted by key. */
  scanByPrefix(prefix: string, durability: number, asOf: Hlc): Promise<readonly ScriptRow[]>;
  /** Makes every write durable and visible; throws ScriptFailure (Aborted, MustRetry) when it
   *  cannot. */
  commit(): Promise<void>;
  /** Drops every write and releases what the transaction holds. Never throws. */
  rollback(): Promise<void>;
}

export interface ScriptHost {
  begin(options: ScriptTxOptions): Promise<ScriptTx>;
  sleep(ms: number): Promise<void>;
  /** The node's current HLC (current_time(), hlc()). */
  now(): Hlc;
}
