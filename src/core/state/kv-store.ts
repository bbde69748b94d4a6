// The key/values of one durability namespace (wire.md 4.2, 4.3, 4.7): an ordered map from key
// to its MVCC record, point operations and batches. Scans are in kv-scan.ts. Pure and
// deterministic: `now` is the leader-stamped HLC of the entry being applied, or of the read.
import { DirtySet, type DirtyRecord } from './dirty-set.js';
import m from 'sorted-btree';
import { assert } from '../../assert.js';
import { KvFlags, KvState, KvType, reservedKeyPrefix } from '../api/codes.js';
import {
  hlcZero, type Hlc, type KvDeleteManyItem, type KvDeleteManyRequest, type KvDeleteManyResponse,
  type KvDeleteRequest, type KvExtendRequest, type KvGetManyRequest, type KvGetManyResponse,
  type KvGetRequest, type KvReadItem, type KvReadResponse, type KvSetManyRequest,
  type KvSetManyResponse, type KvSetRequest, type KvWriteItem, type KvWriteResponse,
} from '../api/types.js';
import { bytesEqual, compareKeys, fnvField, fromUtf8, utf8 } from './codec.js';
import { copyHlc, expiryAfter, hlcIsZero } from './hlc.js';
import {
  currentOf, decodeKvEntry, encodeKvEntry, isLiveAt, newRevision, revisionNumbered, tombstone,
  visibleRevision, withExpiry, withRevision, type KvEntry, type KvRevision,
} from './kv-entry.js';
import { expiresMsMax } from './state-limits.js';

type BTreeClass = typeof m.default;
// Node's ESM loader hands over the CJS module.exports (the class sits on .default); vitest's
// interop may hand over the class itself.
export const BTree: BTreeClass = (m as unknown as { default?: BTreeClass }).default ??
  (m as unknown as BTreeClass);
export type KvTree = InstanceType<typeof BTree<string, KvEntry>>;

/** What transactions (tx-table.ts) tell the plain operations: a write of a key covered by
 *  another transaction's live lock or intent, and a read under another transaction's prefix
 *  lock on the key's bucket, answer MustRetry (wire.md 4.2). Both must answer false at once
 *  when no transaction is around: they sit on every plain operation's path. */
export interface KvGuard {
  writeBlocked(key: string, now: Hlc): boolean;
  readBlocked(key: string, now: Hlc): boolean;
  /** A snapshot read (AS OF a time) of a key with a prepared intent: the intent's transaction
   *  may commit at a timestamp the read covers, so the read cannot answer yet (MustRetry). */
  snapshotBlocked(key: string): boolean;
}

/** The fields of a set that shape the write (the coordinator's and the condition's). */
export type KvSetArgs = Pick<KvSetRequest,
  'key' | 'value' | 'compareValue' | 'compareRevision' | 'flags' | 'expiresMs'>;

/** Empty, reserved (`__kahuna:`), or not representable in a proto3 string (lone surrogates). */
export function isBadKey(key: string): boolean {
  return key.length === 0 || key.startsWith(reservedKeyPrefix) || !key.isWellFormed();
}

export function isBadExpiresMs(ms: number): boolean {
  return !Number.isInteger(ms) || ms < 0 || ms > expiresMsMax;
}

function writeAnswer(type: number, revision: number, lastModified: Hlc): KvWriteResponse {
  return { type, revision, lastModified };
}

const mustRetryAnswer: KvWriteResponse = { type: KvType.MustRetry, revision: 0,
  lastModified: hlcZero };

const readMissAnswer: KvReadResponse = {
  type: KvType.DoesNotExist, value: null, revision: 0, expires: hlcZero, lastUsed: hlcZero,
  lastModified: hlcZero, state: KvState.Undefined,
};

function readAnswer(type: number, rev: KvRevision, entry: KvEntry, withValue: boolean):
  KvReadResponse {
  return {
    type, value: withValue ? rev.value : null, revision: rev.revision, expires: rev.expires,
    lastUsed: entry.lastUsed, lastModified: rev.lastModified, state: rev.state,
  };
}

/** Exactly one condition bit is checked (wire.md 4.2), in this order; none: unconditional. */
function conditionHolds(req: KvSetArgs, cur: KvRevision | null, live: boolean): boolean {
  if ((req.flags & KvFlags.SetIfExists) !== 0) return live;
  if ((req.flags & KvFlags.SetIfNotExists) !== 0) return !live;
  if ((req.flags & KvFlags.SetIfEqualToValue) !== 0) {
    return live && cur !== null && bytesEqual(cur.value, req.compareValue);
  }
  if ((req.flags & KvFlags.SetIfEqualToRevision) !== 0) {
    return live && cur !== null && cur.revision === req.compareRevision;
  }
  return true;
}

function copyBytes(bytes: Uint8Array | null): Uint8Array | null {
  return bytes === null ? null : bytes.slice();
}

export class KvStore {
  readonly tree: KvTree = new BTree<string, KvEntry>(undefined, compareKeys);
  readonly dirty = new DirtySet();
  /** Null: no transactions in this namespace's state (tests of the bare store). */
  guard: KvGuard | null = null;

  private put(key: string, entry: KvEntry): void {
    this.tree.set(key, entry);
    this.dirty.mark(key);
  }

  set(req: KvSetRequest, now: Hlc): KvWriteResponse {
    if (isBadKey(req.key) || isBadExpiresMs(req.expiresMs)) {
      return writeAnswer(KvType.InvalidInput, 0, hlcZero);
    }
    if (!hlcIsZero(req.txId)) return writeAnswer(KvType.Errored, 0, hlcZero);
    if (this.guard !== null && this.guard.writeBlocked(req.key, now)) return mustRetryAnswer;
    return this.setValid(req, now);
  }

  /** A set already validated and not blocked: plain sets, and transactions applying theirs. */
  setValid(req: KvSetArgs, now: Hlc): KvWriteResponse {
    const entry = this.tree.get(req.key);
    const cur = entry === undefined ? null : currentOf(entry);
    const live = cur !== null && isLiveAt(cur, now);
    if (!conditionHolds(req, cur, live)) {
      // NotSet carries the current revision: -1 never existed, else the last one (wire.md 4.9.8)
      return cur === null ? writeAnswer(KvType.NotSet, -1, hlcZero) :
        writeAnswer(KvType.NotSet, cur.revision, cur.lastModified);
    }
    const stamp = copyHlc(now);
    const archived = (req.flags & KvFlags.SetNoRevision) === 0;
    const rev = newRevision(cur === null ? 0 : cur.revision + 1, copyBytes(req.value),
      expiryAfter(stamp, req.expiresMs), stamp, archived);
    this.put(req.key, withRevision(entry, rev, stamp));
    return writeAnswer(KvType.Set, rev.revision, stamp);
  }

  extend(req: KvExtendRequest, now: Hlc): KvWriteResponse {
    if (isBadKey(req.key) || isBadExpiresMs(req.expiresMs)) {
      return writeAnswer(KvType.InvalidInput, 0, hlcZero);
    }
    if (!hlcIsZero(req.txId)) return writeAnswer(KvType.Errored, 0, hlcZero);
    if (this.guard !== null && this.guard.writeBlocked(req.key, now)) return mustRetryAnswer;
    return this.extendValid(req.key, req.expiresMs, now);
  }

  extendValid(key: string, expiresMs: number, now: Hlc): KvWriteResponse {
    const entry = this.tree.get(key);
    if (entry === undefined) return writeAnswer(KvType.DoesNotExist, 0, hlcZero);
    const cur = currentOf(entry);
    if (!isLiveAt(cur, now)) {
      return writeAnswer(KvType.DoesNotExist, cur.revision, cur.lastModified);
    }
    const stamp = copyHlc(now);
    this.put(key, withExpiry(entry, expiryAfter(stamp, expiresMs), stamp));
    return writeAnswer(KvType.Extended, cur.revision, cur.lastModified);
  }

  delete(req: KvDeleteRequest, now: Hlc): KvWriteResponse {
    if (isBadKey(req.key)) return writeAnswer(KvType.InvalidInput, 0, hlcZero);
    if (!hlcIsZero(req.txId)) return writeAnswer(KvType.Errored, 0, hlcZero);
    if (this.guard !== null && this.guard.writeBlocked(req.key, now)) return mustRetryAnswer;
    return this.deleteValid(req.key, now);
  }

  deleteValid(key: string, now: Hlc): KvWriteResponse {
    const entry = this.tree.get(key);
    if (entry === undefined) return writeAnswer(KvType.DoesNotExist, 0, hlcZero);
    const cur = currentOf(entry);
    if (cur.state === KvState.Deleted) {
      return writeAnswer(KvType.DoesNotExist, cur.revision, cur.lastModified);
    }
    // A live or expired-but-resident value is deletable: tombstone at r + 1 (wire.md 4.2 note).
    const stamp = copyHlc(now);
    this.put(key, withRevision(entry, tombstone(cur.revision + 1, stamp), stamp));
    return writeAnswer(KvType.Deleted, cur.revision + 1, stamp);
  }

  /** Get and exists: latest, an archived revision, or a snapshot (wire.md 4.2). */
  read(req: KvGetRequest, now: Hlc, withValue: boolean): KvReadResponse {
    if (isBadKey(req.key) || !Number.isSafeInteger(req.revision) || req.revision < -1) {
      return { ...readMissAnswer, type: KvType.InvalidInput };
    }
    // Transactional reads are TxRead (tx-ops.ts); a revision together with a snapshot time is
    // contradictory (Kahuna Script `GET k AT 1 AS OF t` is Errored, kahuna-reference 9.2).
    if (!hlcIsZero(req.txId)) return { ...readMissAnswer, type: KvType.Errored };
    if (req.revision >= 0 && !hlcIsZero(req.readTimestamp)) {
      return { ...readMissAnswer, type: KvType.Errored };
    }
    if (this.guard !== null && (this.guard.readBlocked(req.key, now) ||
      (!hlcIsZero(req.readTimestamp) && this.guard.snapshotBlocked(req.key)))) {
      return { ...readMissAnswer, type: KvType.MustRetry };
    }
    return this.readValid(req, now, withValue);
  }

  /** A read already validated and not blocked (plain reads and transactional ones). */
  readValid(req: Pick<KvGetRequest, 'key' | 'revision' | 'readTimestamp'>, now: Hlc,
    withValue: boolean): KvReadResponse {
    const entry = this.tree.get(req.key);
    if (entry === undefined) return readMissAnswer;
    let rev = visibleRevision(entry, req.readTimestamp, now);
    if (req.revision >= 0) {
      // An archived revision answers while it is a live value (tombstones and expired miss).
      rev = revisionNumbered(entry, req.revision);
      if (rev !== null && !isLiveAt(rev, now)) rev = null;
    }
    if (rev === null) return readMissAnswer;
    return readAnswer(withValue ? KvType.Get : KvType.Exists, rev, entry, withValue);
  }

  /** The revision of the key's newest revision in any state (live, tombstone, or expired but
   *  resident); -1 when it has none. What transactions build on and validate against. */
  lastRevision(key: string): number {
    const entry = this.tree.get(key);
    return entry === undefined ? -1 : currentOf(entry).revision;
  }

  setMany(req: KvSetManyRequest, now: Hlc): KvSetManyResponse {
    const txn = req.items.some((item) => !hlcIsZero(item.txId));
    const reserved = req.items.some((item) => item.key.startsWith(reservedKeyPrefix));
    if (txn || reserved) {
      const items = req.items.map((item) => writeItem(item, item.durability,
        writeAnswer(KvType.InvalidInput, 0, hlcZero)));
      return { type: txn ? KvType.InvalidInput : KvType.Set, items };
    }
    const items = req.items.map((item) => writeItem(item, item.durability, this.set(item, now)));
    return { type: KvType.Set, items };
  }

  deleteMany(req: KvDeleteManyRequest, now: Hlc): KvDeleteManyResponse {
    const txn = req.items.some((item) => !hlcIsZero(item.txId));
    const registered = req.coordinatorKey !== null && req.coordinatorKey !== '' &&
      req.operationIdHigh !== null && req.operationIdLow !== null;
    const reserved = req.items.some((item) => item.key.startsWith(reservedKeyPrefix));
    if (txn || reserved) {
      // Unregistered transactional batch or a reserved key: every row InvalidInput (wire.md
      // 4.3, 4.7). A registered one needs transactions, which come later: Errored.
      const type = txn && registered ? KvType.Errored : KvType.InvalidInput;
      const items = req.items.map((item) => writeItem(item, item.durability,
        writeAnswer(type, 0, hlcZero)));
      return { type: txn ? type : KvType.Deleted, items };
    }
    const items = req.items.map((item) => writeItem(item, item.durability,
      this.delete(deleteRequestOf(item), now)));
    return { type: KvType.Deleted, items };
  }

  readMany(req: KvGetManyRequest, now: Hlc, withValue: boolean): KvGetManyResponse {
    const txn = !hlcIsZero(req.txId);
    const reserved = req.items.some((item) => item.key.startsWith(reservedKeyPrefix));
    const items: KvReadItem[] = req.items.map((item) => {
      const answer = txn || reserved ? { ...readMissAnswer, type: KvType.InvalidInput } :
        this.read({
          key: item.key, revision: item.revision, readTimestamp: req.readTimestamp,
          durability: item.durability, txId: hlcZero, coordinatorKey: '', operationIdHigh: 0,
          operationIdLow: 0,
        }, now, withValue);
      return { ...answer, key: item.key, durability: item.durability };
    });
    return { type: txn ? KvType.InvalidInput : KvType.Get, items };
  }

  // ---------------------------------------------------------------- persistence

  takeDirty(): DirtyRecord[] {
    return this.dirty.take((key) => this.tree.get(key), encodeKvEntry);
  }

  load(key: Uint8Array, value: Uint8Array | null): void {
    const name = fromUtf8(key);
    assert(name.length > 0, 'a kv record has a key');
    if (value === null) this.tree.delete(name);
    else this.tree.set(name, decodeKvEntry(value));
  }

  /** Folds every record, in key order, into an FNV digest. */
  /** Every key with its whole entry, in key order (a snapshot of the partition). */
  allRecords(): DirtyRecord[] {
    const out: DirtyRecord[] = [];
    this.tree.forEachPair((key, entry) => {
      out.push({ key: utf8(key), value: encodeKvEntry(entry) });
    });
    return out;
  }

  hashInto(hash: number): number {
    let h = hash;
    this.tree.forEachPair((key, entry) => {
      h = fnvField(fnvField(h, utf8(key)), encodeKvEntry(entry));
    });
    return h;
  }
}

function writeItem(item: { readonly key: string }, durability: number,
  answer: KvWriteResponse): KvWriteItem {
  return { ...answer, key: item.key, durability };
}

function deleteRequestOf(item: KvDeleteManyItem): KvDeleteRequest {
  return {
    key: item.key, durability: item.durability, txId: item.txId, coordinatorKey: '',
    operationIdHigh: 0, operationIdLow: 0,
  };
}
