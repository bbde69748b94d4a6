// Ordered reads over one KvStore (wire.md 4.3, 3.4 paging): GetByBucket, ScanByPrefix and
// GetByRange with its opaque cursor. Keys compare ordinally (UTF-16 code units). Pure.
import { assert } from '../../assert.js';
import { KvType } from '../api/codes.js';
import type {
  Hlc, KvGetByBucketRequest, KvGetByRangeRequest, KvGetByRangeResponse, KvScanByPrefixRequest,
  KvScanItem, KvScanResponse,
} from '../api/types.js';
import {
  ByteReader, ByteWriter, fromBase64Url, toBase64Url, tryDecode,
} from './codec.js';
import { hlcIsZero } from './hlc.js';
import { visibleRevision, type KvEntry } from './kv-entry.js';
import type { KvTree } from './kv-store.js';
import { kvScanRowsMax, rangeCursorCharsMax } from './state-limits.js';

const cursorFormat = 1;
const codeUnitMax = 0xffff;

/** The smallest string above every string that starts with `prefix`; null: none exists. */
export function prefixUpperBound(prefix: string): string | null {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === codeUnitMax) end -= 1;
  if (end === 0) return null;
  const bound = prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
  assert(bound > prefix, 'the upper bound sorts after its prefix');
  return bound;
}

export interface RangeCursor {
  readonly lastKey: string;
  readonly snapshot: Hlc;
}

export function encodeRangeCursor(cursor: RangeCursor): string {
  return toBase64Url(new ByteWriter().u8(cursorFormat).hlc(cursor.snapshot)
    .str(cursor.lastKey).finish());
}

/** Null when `text` is not a cursor this code wrote. */
export function decodeRangeCursor(text: string): RangeCursor | null {
  if (text.length > rangeCursorCharsMax) return null;
  const bytes = fromBase64Url(text);
  if (bytes === null) return null;
  return tryDecode(() => {
    const r = new ByteReader(bytes);
    assert(r.u8() === cursorFormat, 'unknown cursor format');
    const snapshot = r.hlc();
    const lastKey = r.str();
    r.end();
    assert(!hlcIsZero(snapshot), 'a cursor carries its snapshot');
    return { lastKey, snapshot };
  });
}

function scanItem(key: string, entry: KvEntry, readTs: Hlc, now: Hlc): KvScanItem | null {
  const rev = visibleRevision(entry, readTs, now);
  if (rev === null) return null;
  return {
    key, value: rev.value, revision: rev.revision, expires: rev.expires,
    lastUsed: entry.lastUsed, lastModified: rev.lastModified, state: rev.state,
  };
}

/** Live rows of keys that start with `prefix` and pass `accept`, ascending, up to the cap. */
function scanPrefix(tree: KvTree, prefix: string, readTs: Hlc, now: Hlc,
  accept: (key: string) => boolean): KvScanItem[] {
  const items: KvScanItem[] = [];
  for (const [key, entry] of tree.entries(prefix)) {
    if (!key.startsWith(prefix) || items.length >= kvScanRowsMax) break;
    if (!accept(key)) continue;
    const item = scanItem(key, entry, readTs, now);
    if (item !== null) items.push(item);
  }
  return items;
}

/** Live keys whose bucket (the part before the last '/') equals `prefixKey`. A transaction's
 *  read (non-zero txId) gets the same rows: its coordinator overlays its own writes, and
 *  KahunaState has already checked other transactions' prefix locks. */
export function getByBucket(tree: KvTree, req: KvGetByBucketRequest, now: Hlc): KvScanResponse {
  if (req.prefixKey.length === 0) return { type: KvType.Get, items: [] };
  const head = `${req.prefixKey}/`;
  const items = scanPrefix(tree, head, req.readTimestamp, now,
    (key) => key.indexOf('/', head.length) === -1);
  return { type: KvType.Get, items };
}

/** Live keys that start with `prefixKey` (a plain string prefix, every bucket). */
export function scanByPrefix(tree: KvTree, req: KvScanByPrefixRequest, now: Hlc):
  KvScanResponse {
  if (req.prefixKey.length === 0) return { type: KvType.InvalidInput, items: [] };
  return { type: KvType.Get, items: scanPrefix(tree, req.prefixKey, req.readTimestamp, now,
    () => true) };
}

interface Bound {
  readonly key: string | null; // null: open
  readonly inclusive: boolean;
}

interface RangePlan {
  readonly lower: Bound;
  readonly upper: Bound;
  readonly snapshot: Hlc;
  readonly limit: number;
}

const rangeInvalid: KvGetByRangeResponse = {
  type: KvType.InvalidInput, items: [], nextCursor: null, hasMore: false,
};

/** Bounds, snapshot and page size of one GetByRange page; null: a malformed cursor. */
function planRange(req: KvGetByRangeRequest, now: Hlc): RangePlan | null {
  let lower: Bound = req.startKey !== null ?
    { key: req.startKey, inclusive: req.startInclusive } : { key: req.prefix, inclusive: true };
  const upper: Bound = req.endKey !== null ?
    { key: req.endKey, inclusive: req.endInclusive } :
    { key: prefixUpperBound(req.prefix), inclusive: false };
  let snapshot = hlcIsZero(req.readTimestamp) ? now : req.readTimestamp;
  if (req.cursor !== null && req.cursor !== '') {
    const cursor = decodeRangeCursor(req.cursor);
    if (cursor === null) return null;
    // The cursor resumes strictly after its key, at its snapshot (wire.md 3.4 paging).
    lower = { key: cursor.lastKey, inclusive: false };
    snapshot = cursor.snapshot;
  }
  const limit = req.limit <= 0 || req.limit > kvScanRowsMax ? kvScanRowsMax : req.limit;
  return { lower, upper, snapshot, limit };
}

function belowUpper(key: string, upper: Bound): boolean {
  if (upper.key === null) return true;
  return upper.inclusive ? key <= upper.key : key < upper.key;
}

/** Up to `limit` live rows in [lower, upper], ascending, with HasMore and NextCursor. */
export function getByRange(tree: KvTree, req: KvGetByRangeRequest, now: Hlc):
  KvGetByRangeResponse {
  if (!hlcIsZero(req.txId)) {
    return { type: KvType.Errored, items: [], nextCursor: null, hasMore: false };
  }
  if (req.prefix.length === 0) return rangeInvalid;
  const plan = planRange(req, now);
  if (plan === null) return rangeInvalid;
  const items: KvScanItem[] = [];
  let hasMore = false;
  const start = plan.lower.key ?? '';
  for (const [key, entry] of tree.entries(start)) {
    if (!plan.lower.inclusive && key === start) continue;
    if (!belowUpper(key, plan.upper)) break;
    const item = scanItem(key, entry, plan.snapshot, now);
    if (item === null) continue;
    if (items.length === plan.limit) {
      hasMore = true;
      break;
    }
    items.push(item);
  }
  const last = items[items.length - 1];
  const nextCursor = hasMore && last !== undefined ?
    encodeRangeCursor({ lastKey: last.key, snapshot: plan.snapshot }) : null;
  return { type: KvType.Get, items, nextCursor, hasMore };
}
