// An in-memory ScriptHost for the interpreter's tests: a tiny MVCC map per durability with the
// revision rules of wire.md 4.2/4.7 (first write r0, each set or delete +1, a delete writes a
// tombstone, extend keeps the revision, NotSet reports the current revision or -1), NX / XX /
// CMP / CMPREV / NOREV, EX against the host's fake clock, AT / AS OF reads, bucket and prefix
// reads. A transaction stages its writes (visible to its own reads) and applies them on
// commit; rollback drops them. Commit fails with Aborted when a key it touched changed since
// (first-touch revision check), which is enough to test conflict handling. sleep() advances
// the fake clock instead of waiting.
import { KvFlags, KvType } from '../../src/core/api/codes.js';
import { hlcZero, type Hlc } from '../../src/core/api/types.js';
import {
  ScriptFailure, type ScriptHost, type ScriptReadArgs, type ScriptResult, type ScriptRow,
  type ScriptSetArgs, type ScriptTx, type ScriptTxOptions,
} from '../../src/core/script/host.js';

interface Version {
  readonly revision: number;
  readonly value: Uint8Array | null;
  readonly deleted: boolean;
  readonly norev: boolean;
  /** Absolute ms; 0 never. */
  readonly expiresMs: number;
  readonly lastModified: Hlc;
}

type Versions = readonly Version[];

const utf8 = new TextEncoder();
const text = new TextDecoder();

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function hlcLe(a: Hlc, b: Hlc): boolean {
  if (a.l !== b.l) return a.l < b.l;
  if (a.c !== b.c) return a.c < b.c;
  return a.n <= b.n;
}

function bucketOf(key: string): string | null {
  const i = key.lastIndexOf('/');
  return i < 0 ? null : key.slice(0, i);
}

export class MemoryHost implements ScriptHost {
  nowMs = 1_700_000_000_000;
  private counter = 0;
  /** `${durability}:${key}` -> versions, oldest first. */
  readonly store = new Map<string, Versions>();
  readonly calls: string[] = [];
  readonly begun: ScriptTxOptions[] = [];
  /** Thrown by the next operation whose name (set, get, commit...) matches, once. */
  failNext: { op: string; failure: ScriptFailure } | null = null;

  now(): Hlc {
    this.counter += 1;
    return { n: 1, l: this.nowMs, c: this.counter };
  }

  /** Runs during every sleep: how a test makes "another client" write meanwhile. */
  onSleep: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    this.calls.push(`sleep ${ms}`);
    this.nowMs += ms;
    this.onSleep?.();
    return Promise.resolve();
  }

  begin(options: ScriptTxOptions): Promise<ScriptTx> {
    this.calls.push('begin');
    this.begun.push(options);
    return Promise.resolve(new MemoryTx(this, options.single));
  }

  /** Test helper: a committed write outside any script. */
  put(key: string, value: string | null, durability = 1): void {
    const k = `${durability}:${key}`;
    const versions = this.store.get(k) ?? [];
    const last = versions[versions.length - 1];
    this.store.set(k, [...versions, {
      revision: last === undefined ? 0 : last.revision + 1,
      value: value === null ? null : utf8.encode(value), deleted: false, norev: false,
      expiresMs: 0, lastModified: this.now(),
    }]);
  }

  /** Test helper: the live value as text (undefined: missing), and its revision. */
  read(key: string, durability = 1): { value: string | null; revision: number } | undefined {
    const v = this.live(this.store.get(`${durability}:${key}`) ?? []);
    if (v === undefined) return undefined;
    return { value: v.value === null ? null : text.decode(v.value), revision: v.revision };
  }

  live(versions: Versions): Version | undefined {
    const last = versions[versions.length - 1];
    if (last === undefined || last.deleted) return undefined;
    if (last.expiresMs !== 0 && last.expiresMs <= this.nowMs) return undefined;
    return last;
  }

  check(op: string): void {
    const f = this.failNext;
    if (f === null || f.op !== op) return;
    this.failNext = null;
    throw f.failure;
  }
}

function rowOf(key: string, v: Version, withValue: boolean): ScriptRow {
  const expires = v.expiresMs === 0 ? hlcZero : { n: 1, l: v.expiresMs, c: 0 };
  return { key, value: withValue ? v.value : null, revision: v.revision, expires,
    lastModified: v.lastModified };
}

class MemoryTx implements ScriptTx {
  /** Staged versions per store key (appended after the committed ones). */
  private readonly staged = new Map<string, Version[]>();
  /** Committed revision of each touched key when first touched (-2: absent). */
  private readonly base = new Map<string, number>();
  private done = false;

  constructor(private readonly host: MemoryHost, private readonly single: boolean) {}

  private view(k: string): Versions {
    return [...(this.host.store.get(k) ?? []), ...(this.staged.get(k) ?? [])];
  }

  private touch(k: string): void {
    if (this.base.has(k)) return;
    const committed = this.host.store.get(k) ?? [];
    this.base.set(k, committed[committed.length - 1]?.revision ?? -2);
  }

  private write(k: string, v: Version): void {
    if (this.single) this.host.store.set(k, [...(this.host.store.get(k) ?? []), v]);
    else this.staged.set(k, [...(this.staged.get(k) ?? []), v]);
  }

  private op(name: string, k: string): Versions {
    if (this.done) throw new Error(`${name} after the transaction ended`);
    this.host.calls.push(`${name} ${k}`);
    this.host.check(name);
    this.touch(k);
    return this.view(k);
  }

  private pick(versions: Versions, args: ScriptReadArgs): Version | undefined {
    if (args.revision >= 0) {
      return versions.find((v) => v.revision === args.revision && !v.deleted && !v.norev);
    }
    if (args.asOf.l !== 0) {
      const older = versions.filter((v) => hlcLe(v.lastModified, args.asOf));
      const last = older[older.length - 1];
      return last === undefined || last.deleted ? undefined : last;
    }
    return this.host.live(versions);
  }

  private read(args: ScriptReadArgs, found: number, withValue: boolean): ScriptResult {
    const v = this.pick(this.op(withValue ? 'get' : 'exists', `${args.durability}:${args.key}`),
      args);
    return v === undefined ? { type: KvType.DoesNotExist, row: null }
      : { type: found, row: rowOf(args.key, v, withValue) };
  }

  get(args: ScriptReadArgs): Promise<ScriptResult> {
    return Promise.resolve(this.read(args, KvType.Get, true));
  }

  exists(args: ScriptReadArgs): Promise<ScriptResult> {
    return Promise.resolve(this.read(args, KvType.Exists, false));
  }

  set(a: ScriptSetArgs): Promise<ScriptResult> {
    const k = `${a.durability}:${a.key}`;
    const versions = this.op('set', k);
    const last = versions[versions.length - 1];
    const live = this.host.live(versions);
    const current = live?.revision ?? (last?.deleted === true ? last.revision : -1);
    const notSet = (a.flags & KvFlags.SetIfNotExists) !== 0 ? live !== undefined
      : (a.flags & KvFlags.SetIfExists) !== 0 ? live === undefined
        : (a.flags & KvFlags.SetIfEqualToValue) !== 0
          ? live === undefined || !sameBytes(live.value, a.compareValue)
          : (a.flags & KvFlags.SetIfEqualToRevision) !== 0
            ? live === undefined || live.revision !== a.compareRevision : false;
    if (notSet) {
      return Promise.resolve({ type: KvType.NotSet, row: { key: a.key, value: null,
        revision: current, expires: hlcZero, lastModified: last?.lastModified ?? hlcZero } });
    }
    const v: Version = {
      revision: last === undefined ? 0 : last.revision + 1, value: a.value, deleted: false,
      norev: (a.flags & KvFlags.SetNoRevision) !== 0,
      expiresMs: a.expiresMs > 0 ? this.host.nowMs + a.expiresMs : 0,
      lastModified: this.host.now(),
    };
    this.write(k, v);
    return Promise.resolve({ type: KvType.Set, row: rowOf(a.key, v, false) });
  }

  delete(key: string, durability: number): Promise<ScriptResult> {
    const k = `${durability}:${key}`;
    const live = this.host.live(this.op('delete', k));
    if (live === undefined) return Promise.resolve({ type: KvType.DoesNotExist, row: null });
    const v: Version = { ...live, revision: live.revision + 1, deleted: true, value: null,
      lastModified: this.host.now() };
    this.write(k, v);
    return Promise.resolve({ type: KvType.Deleted, row: rowOf(key, v, false) });
  }

  extend(key: string, expiresMs: number, durability: number): Promise<ScriptResult> {
    const k = `${durability}:${key}`;
    const live = this.host.live(this.op('extend', k));
    if (live === undefined) return Promise.resolve({ type: KvType.DoesNotExist, row: null });
    const v: Version = { ...live, expiresMs: this.host.nowMs + expiresMs };
    this.write(k, v);
    return Promise.resolve({ type: KvType.Extended, row: rowOf(key, v, false) });
  }

  private rows(durability: number, match: (key: string) => boolean): ScriptRow[] {
    const keys = new Set<string>();
    for (const k of [...this.host.store.keys(), ...this.staged.keys()]) {
      const key = k.slice(k.indexOf(':') + 1);
      if (k.startsWith(`${durability}:`) && match(key)) keys.add(key);
    }
    const out: ScriptRow[] = [];
    for (const key of [...keys].sort()) {
      const v = this.host.live(this.view(`${durability}:${key}`));
      if (v !== undefined) out.push(rowOf(key, v, true));
    }
    return out;
  }

  getByBucket(bucket: string, durability: number): Promise<readonly ScriptRow[]> {
    this.host.calls.push(`bucket ${durability}:${bucket}`);
    return Promise.resolve(this.rows(durability, (key) => bucketOf(key) === bucket));
  }

  scanByPrefix(prefix: string, durability: number): Promise<readonly ScriptRow[]> {
    this.host.calls.push(`prefix ${durability}:${prefix}`);
    return Promise.resolve(this.rows(durability, (key) => key.startsWith(prefix)));
  }

  commit(): Promise<void> {
    this.host.calls.push('commit');
    this.done = true;
    this.host.check('commit');
    if (this.single) return Promise.resolve();
    for (const [k, revision] of this.base) {
      const committed = this.host.store.get(k) ?? [];
      if ((committed[committed.length - 1]?.revision ?? -2) !== revision) {
        return Promise.reject(new ScriptFailure(KvType.Aborted, 'Transaction aborted'));
      }
    }
    for (const [k, versions] of this.staged) {
      this.host.store.set(k, [...(this.host.store.get(k) ?? []), ...versions]);
    }
    return Promise.resolve();
  }

  rollback(): Promise<void> {
    this.host.calls.push('rollback');
    this.done = true;
    this.staged.clear();
    return Promise.resolve();
  }
}
