// One transaction's working set on its coordinator (issue 8; kahuna-reference.md 5.1): the keys
// it locked, what it read, and the writes it staged, evaluated against its own view so it
// reads its own writes. Nothing reaches a partition's state until commit (commit.ts). Locking:
// pessimistic takes an exclusive key lock before every point read and write and a prefix lock
// before a bucket read; optimistic locks only before writes and validates what it read at
// commit. A snapshot transaction reads at its timestamp and may not write.
import { KvFlags, KvState, KvType } from '../../core/api/codes.js';
import {
  hlcZero, type Hlc, type KvGetByRangeRequest, type KvGetByRangeResponse, type KvScanItem,
} from '../../core/api/types.js';
import { bytesEqual } from '../../core/state/codec.js';
import { decodeRangeCursor, prefixUpperBound } from '../../core/state/kv-scan.js';
import { bucketOf } from '../../core/state/tx-records.js';
import { TxMutationKind, type TxMutation, type TxReadResponse } from '../../core/api/tx-types.js';
import { ScriptFailure, type ScriptReadArgs, type ScriptResult, type ScriptRow,
  type ScriptSetArgs } from '../../core/script/host.js';
import type { TxStore } from './tx-store.js';

export const Locking = { Pessimistic: 0, Optimistic: 1 } as const;

export interface TransactionOptions {
  readonly locking: number;
  /** Lock lease in ms. */
  readonly leaseMs: number;
  /** Zero: read latest; otherwise a read-only transaction at this HLC. */
  readonly snapshot: Hlc;
}

/** What the transaction knows of a key: as first read from its partition, then as staged. */
interface KeyView {
  readonly key: string;
  readonly durability: number;
  live: boolean;
  value: Uint8Array | null;
  /** Revision of the live value (meaningful when live). */
  revision: number;
  /** Newest revision of any state; -1: none. */
  lastRevision: number;
  expires: Hlc;
  lastModified: Hlc;
  /** The partition's lastRevision when first read: what prepare checks. */
  readonly baseRevision: number;
  /** The staged write, collapsed to one per key; null: only read. */
  mutation: TxMutation | null;
}

const lockRetries = 3;

export function viewId(key: string, durability: number): string {
  return `${durability === 1 ? 1 : 0}:${key}`;
}

function rowOf(v: KeyView, withValue: boolean): ScriptRow {
  return { key: v.key, value: withValue ? v.value : null, revision: v.revision,
    expires: v.expires, lastModified: v.lastModified };
}

export class Transaction {
  private readonly views = new Map<string, KeyView>();
  /** viewId (prefix locks: 'p' + viewId) -> partition, for every lock taken. */
  private readonly locks = new Map<string, { partition: number; durability: number }>();
  /** A commit whose outcome is not known (the anchor may have committed): a rollback must then
   *  leave the prepared participants to the resolver, which settles them from the record. */
  undecided = false;
  /** Wall-clock ms of the first lock taken: past it plus the lease, the locks may have lapsed
   *  (another transaction may have slipped in under a bucket), so commit refuses. */
  firstLockAt: number | null = null;

  constructor(readonly id: Hlc, readonly opts: TransactionOptions,
    private readonly store: TxStore) {}

  /** True when the first lock is older than the lease (see firstLockAt). */
  leaseLapsed(nowMs: number): boolean {
    return this.firstLockAt !== null && nowMs - this.firstLockAt > this.opts.leaseMs;
  }

  get readOnlySnapshot(): boolean {
    return this.opts.snapshot.l !== 0;
  }

  // ---------------------------------------------------------------- locks

  /** Locked (5), or the partition's answer (AlreadyLocked, MustRetry, ...). */
  async lock(key: string, durability: number, prefix: boolean, leaseMs: number):
    Promise<{ type: number; holder: Hlc }> {
    const res = await this.store.lock({ txId: this.id, key, expiresMs: leaseMs, durability,
      prefix });
    if (res.type === KvType.Locked) {
      this.firstLockAt ??= Date.now();
      const partition = prefix ? this.store.partitionOfBucket(key)
        : this.store.partitionOfKey(key);
      this.locks.set((prefix ? 'p' : '') + viewId(key, durability), { partition, durability });
    }
    return res;
  }

  /** TxLockRead: Locked once the lock is held and the key's view is known. */
  private async lockRead(key: string, durability: number): Promise<{ type: number }> {
    const r = await this.store.lockRead({ txId: this.id, key, expiresMs: this.opts.leaseMs,
      durability, prefix: false });
    if (r.type !== KvType.Get && r.type !== KvType.DoesNotExist) return r;
    this.firstLockAt ??= Date.now();
    this.locks.set(viewId(key, durability), { partition: this.store.partitionOfKey(key),
      durability });
    this.views.set(viewId(key, durability), this.viewOf(key, durability, r));
    return { type: KvType.Locked };
  }

  async unlock(key: string, durability: number, prefix: boolean):
    Promise<{ type: number; holder: Hlc }> {
    const id = (prefix ? 'p' : '') + viewId(key, durability);
    if (!prefix && this.views.get(viewId(key, durability))?.mutation != null) {
      // A staged write keeps its lock until commit or rollback.
      return { type: KvType.Unlocked, holder: hlcZero };
    }
    const res = await this.store.unlock({ txId: this.id, key, durability, prefix });
    if (res.type === KvType.Unlocked || res.type === KvType.DoesNotExist) this.locks.delete(id);
    return res;
  }

  /** Takes the lock or fails the transaction: a conflict is Aborted (what Kahuna's client makes
   *  of AlreadyLocked), after a few short retries. A key lock on a key not yet read also reads
   *  it in the same step (TxLockRead). */
  private async mustLock(key: string, durability: number, prefix: boolean): Promise<void> {
    const id = (prefix ? 'p' : '') + viewId(key, durability);
    if (this.locks.has(id)) return;
    const readToo = !prefix && !this.views.has(viewId(key, durability));
    let last = KvType.MustRetry as number;
    for (let attempt = 0; attempt < lockRetries; attempt += 1) {
      const res = readToo ? await this.lockRead(key, durability)
        : await this.lock(key, durability, prefix, this.opts.leaseMs);
      if (res.type === KvType.Locked) return;
      if (res.type === KvType.InvalidInput) throw new ScriptFailure(KvType.InvalidInput,
        `Invalid key: ${key}`);
      last = res.type;
      await new Promise((r) => setTimeout(r, 2 + attempt * 5));
    }
    throw new ScriptFailure(KvType.Aborted, last === KvType.AlreadyLocked
      ? `Transaction aborted: ${key} is locked by another transaction`
      : `Transaction aborted: could not lock ${key}`);
  }

  /** Every (partition, durability) this transaction holds a lock on. */
  lockedParticipants(): { partition: number; durability: number }[] {
    const seen = new Map<string, { partition: number; durability: number }>();
    for (const l of this.locks.values()) seen.set(`${l.partition}:${l.durability}`, l);
    return [...seen.values()];
  }

  // ---------------------------------------------------------------- reads

  private async readLatest(key: string, durability: number): Promise<TxReadResponse> {
    const res = await this.store.read({ txId: this.id, key, revision: -1,
      readTimestamp: this.opts.snapshot, durability });
    if (res.type === KvType.Get || res.type === KvType.DoesNotExist) return res;
    if (res.type === KvType.InvalidInput) {
      throw new ScriptFailure(KvType.InvalidInput, `Invalid key: ${key}`);
    }
    throw new ScriptFailure(KvType.MustRetry, `could not read ${key}`);
  }

  /** The transaction's view of a key (read once, then its own writes). */
  private async view(key: string, durability: number): Promise<KeyView> {
    const id = viewId(key, durability);
    const known = this.views.get(id);
    if (known !== undefined) return known;
    const v = this.viewOf(key, durability, await this.readLatest(key, durability));
    this.views.set(id, v);
    return v;
  }

  private viewOf(key: string, durability: number, r: Omit<TxReadResponse, 'holder'>): KeyView {
    return {
      key, durability, live: r.type === KvType.Get, value: r.value, revision: r.revision,
      lastRevision: r.lastRevision, expires: r.expires, lastModified: r.lastModified,
      baseRevision: r.lastRevision, mutation: null,
    };
  }

  /** GET / EXISTS (and their transactional RPCs). */
  async read(args: ScriptReadArgs, withValue: boolean): Promise<ScriptResult> {
    const found = withValue ? KvType.Get : KvType.Exists;
    if (args.revision >= 0 || args.asOf.l !== 0) {
      // Historical reads see committed history only, and take no locks.
      const r = await this.store.read({ txId: this.id, key: args.key, revision: args.revision,
        readTimestamp: args.asOf, durability: args.durability });
      if (r.type !== KvType.Get && r.type !== KvType.DoesNotExist) {
        throw new ScriptFailure(r.type === KvType.InvalidInput ? r.type : KvType.MustRetry,
          `could not read ${args.key}`);
      }
      return r.type === KvType.Get
        ? { type: found, row: { key: args.key, value: withValue ? r.value : null,
          revision: r.revision, expires: r.expires, lastModified: r.lastModified } }
        : { type: KvType.DoesNotExist, row: null };
    }
    if (this.opts.locking === Locking.Pessimistic && !this.readOnlySnapshot) {
      await this.mustLock(args.key, args.durability, false);
    }
    const v = await this.view(args.key, args.durability);
    return v.live ? { type: found, row: rowOf(v, withValue) }
      : { type: KvType.DoesNotExist, row: null };
  }

  // ---------------------------------------------------------------- writes

  private async writable(key: string, durability: number): Promise<KeyView> {
    if (this.readOnlySnapshot) {
      throw new ScriptFailure(KvType.Aborted,
        'Transaction aborted: a snapshot transaction is read-only');
    }
    await this.mustLock(key, durability, false);
    return this.view(key, durability);
  }

  /** The revision a new write of `v` gets in this transaction (collapsed: one per key). */
  private static nextRevision(v: KeyView): number {
    if (v.mutation !== null && v.mutation.kind !== TxMutationKind.Extend) return v.lastRevision;
    return v.baseRevision + 1;
  }

  async set(a: ScriptSetArgs): Promise<ScriptResult> {
    const v = await this.writable(a.key, a.durability);
    const notSet = { type: KvType.NotSet,
      row: { ...rowOf(v, false), revision: v.live ? v.revision : v.lastRevision } };
    const cond = a.flags & ~KvFlags.SetNoRevision;
    if ((cond & KvFlags.SetIfNotExists) !== 0 && v.live) return notSet;
    if ((cond & KvFlags.SetIfExists) !== 0 && !v.live) return notSet;
    if ((cond & KvFlags.SetIfEqualToValue) !== 0 &&
      !(v.live && bytesEqual(v.value, a.compareValue))) return notSet;
    if ((cond & KvFlags.SetIfEqualToRevision) !== 0 &&
      !(v.live && v.revision === a.compareRevision)) return notSet;
    const revision = Transaction.nextRevision(v);
    v.mutation = { key: a.key, kind: TxMutationKind.Set, value: a.value,
      flags: (a.flags & KvFlags.SetNoRevision) !== 0 ? KvFlags.SetNoRevision : KvFlags.Set,
      expiresMs: a.expiresMs, baseRevision: v.baseRevision };
    Object.assign(v, { live: true, value: a.value, revision, lastRevision: revision,
      expires: hlcZero, lastModified: hlcZero });
    return { type: KvType.Set, row: rowOf(v, false) };
  }

  async delete(key: string, durability: number): Promise<ScriptResult> {
    const v = await this.writable(key, durability);
    if (!v.live) {
      return { type: KvType.DoesNotExist,
        row: { ...rowOf(v, false), revision: Math.max(0, v.lastRevision) } };
    }
    const revision = Transaction.nextRevision(v);
    v.mutation = { key, kind: TxMutationKind.Delete, value: null, flags: KvFlags.Set,
      expiresMs: 0, baseRevision: v.baseRevision };
    Object.assign(v, { live: false, value: null, revision, lastRevision: revision });
    return { type: KvType.Deleted, row: rowOf(v, false) };
  }

  async extend(key: string, expiresMs: number, durability: number): Promise<ScriptResult> {
    const v = await this.writable(key, durability);
    if (!v.live) {
      return { type: KvType.DoesNotExist, row: { ...rowOf(v, false), revision: v.lastRevision } };
    }
    v.mutation = v.mutation !== null && v.mutation.kind === TxMutationKind.Set
      ? { ...v.mutation, expiresMs }
      : { key, kind: TxMutationKind.Extend, value: null, flags: KvFlags.Set, expiresMs,
        baseRevision: v.baseRevision };
    return { type: KvType.Extended, row: rowOf(v, false) };
  }

  // ---------------------------------------------------------------- bucket and prefix reads

  /** The rows of a scan with this transaction's own writes laid over them. */
  private overlay(items: readonly KvScanItem[], durability: number,
    covers: (key: string) => boolean): ScriptRow[] {
    const rows = new Map<string, ScriptRow>();
    for (const i of items) {
      rows.set(i.key, { key: i.key, value: i.value, revision: i.revision, expires: i.expires,
        lastModified: i.lastModified });
    }
    for (const v of this.views.values()) {
      if (v.durability !== durability || v.mutation === null || !covers(v.key)) continue;
      if (v.live) rows.set(v.key, rowOf(v, true));
      else rows.delete(v.key);
    }
    return [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async getByBucket(bucket: string, durability: number, asOf: Hlc): Promise<ScriptRow[]> {
    const at = asOf.l !== 0 ? asOf : this.opts.snapshot;
    const current = at.l === 0;
    if (current && this.opts.locking === Locking.Pessimistic) {
      await this.mustLock(bucket, durability, true);
    }
    const res = await this.store.getByBucket({ txId: this.id, prefixKey: bucket,
      readTimestamp: at, durability });
    if (res.type !== KvType.Get) {
      throw new ScriptFailure(res.type === KvType.InvalidInput ? res.type : KvType.MustRetry,
        `could not read bucket ${bucket}`);
    }
    if (!current) return this.overlay(res.items, durability, () => false);
    for (const i of res.items) this.observe(i, durability);
    return this.overlay(res.items, durability, (k) => bucketOf(k) === bucket);
  }

  async scanByPrefix(prefix: string, durability: number, asOf: Hlc): Promise<ScriptRow[]> {
    const at = asOf.l !== 0 ? asOf : this.opts.snapshot;
    const res = await this.store.scanByPrefix({ prefixKey: prefix, readTimestamp: at,
      durability });
    if (res.type !== KvType.Get) {
      throw new ScriptFailure(res.type === KvType.InvalidInput ? res.type : KvType.MustRetry,
        `could not scan ${prefix}`);
    }
    return at.l !== 0 ? this.overlay(res.items, durability, () => false)
      : this.overlay(res.items, durability, (k) => k.startsWith(prefix));
  }

  /** GetByRange inside the transaction (no range lock: Honu has none yet): the committed page,
   *  with this transaction's own writes inside the page's span laid over it. The span is the
   *  request's bounds (or the cursor's resume point), cut at the page's last key when more
   *  pages follow, so paging neither repeats nor skips a staged key. */
  async getByRange(req: KvGetByRangeRequest, read: (r: KvGetByRangeRequest) =>
    Promise<KvGetByRangeResponse>): Promise<KvGetByRangeResponse> {
    const res = await read({ ...req, txId: hlcZero });
    if (res.type !== KvType.Get || req.readTimestamp.l !== 0) return res;
    const cursor = req.cursor === null || req.cursor === '' ? null : decodeRangeCursor(req.cursor);
    const lower = cursor !== null ? { key: cursor.lastKey, inclusive: false }
      : req.startKey !== null ? { key: req.startKey, inclusive: req.startInclusive }
        : { key: req.prefix, inclusive: true };
    const last = res.items[res.items.length - 1];
    const upper = res.hasMore && last !== undefined ? { key: last.key as string | null,
      inclusive: true } : req.endKey !== null ? { key: req.endKey, inclusive: req.endInclusive }
      : { key: prefixUpperBound(req.prefix), inclusive: false };
    const inSpan = (k: string): boolean =>
      (lower.inclusive ? k >= lower.key : k > lower.key) &&
      (upper.key === null || (upper.inclusive ? k <= upper.key : k < upper.key));
    const rows = this.overlay(res.items, req.durability, inSpan);
    const items: KvScanItem[] = rows.map((r) => ({ key: r.key, value: r.value,
      revision: r.revision, expires: r.expires, lastUsed: hlcZero, lastModified: r.lastModified,
      state: KvState.Set }));
    return { ...res, items };
  }

  /** A bucket row read at the latest state becomes a read the commit validates (optimistic). */
  private observe(i: KvScanItem, durability: number): void {
    const id = viewId(i.key, durability);
    if (this.views.has(id)) return;
    this.views.set(id, { key: i.key, durability, live: true, value: i.value,
      revision: i.revision, lastRevision: i.revision, expires: i.expires,
      lastModified: i.lastModified, baseRevision: i.revision, mutation: null });
  }

  // ---------------------------------------------------------------- what commit needs

  /** Staged writes and (optimistic) read checks, grouped by (partition, durability). */
  participants(): Map<string, Participant> {
    const groups = new Map<string, Participant>();
    const group = (key: string, durability: number): Participant => {
      const partition = this.store.partitionOfKey(key);
      const id = `${partition}:${durability}`;
      let g = groups.get(id);
      if (g === undefined) {
        groups.set(id, g = { partition, durability, mutations: [], reads: [] });
      }
      return g;
    };
    const validate = this.opts.locking === Locking.Optimistic && !this.readOnlySnapshot;
    for (const v of this.views.values()) {
      if (v.mutation !== null) group(v.key, v.durability).mutations.push(v.mutation);
      else if (validate) group(v.key, v.durability).reads.push({ key: v.key,
        lastRevision: v.baseRevision });
    }
    return groups;
  }
}

export interface Participant {
  readonly partition: number;
  readonly durability: number;
  readonly mutations: TxMutation[];
  readonly reads: { key: string; lastRevision: number }[];
}
