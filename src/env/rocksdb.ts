// A small typed wrapper over @nxtedition/rocksdb's RocksLevel (the package ships no .d.ts).
//
// Durability: the binding honours `sync` only on batch writes (batch_write in binding.cc); a
// put(..., {sync: true}) goes through a batch written WITHOUT sync. So this wrapper offers no
// single-key writes at all: every write is a Batch committed with {sync: true}.
//
// The binding's writes, gets and iterator steps run synchronously on the calling thread
// (binding.cc: batch_write, db_get_many_sync, iterator_nextv_sync). Only the writer worker
// opens the database, and it wants exactly that: it blocks during the fsync while the
// partition workers keep filling its rings, which is what makes group commit work.
import { createRequire } from 'node:module';
import { assert } from '../assert.js';

/** The parts of RocksLevel used here (see node_modules/@nxtedition/rocksdb/index.js). */
interface RawBatch {
  // The binding's own methods (chained-batch.js), not abstract-level's put/del wrappers: those
  // re-encode every key and keep a JS copy of every operation; the binding copies the bytes
  // into the native WriteBatch at once and counts operations itself (`length`).
  _put(key: Uint8Array, value: Uint8Array, options: object): void;
  _del(key: Uint8Array, options: object): void;
  readonly length: number;
  toArray(options: { keyEncoding: 'buffer'; values: false }): (Buffer | string | null)[];
  write(options: { sync: true }): Promise<void>;
  close(): Promise<void>;
}

interface RawIterator {
  _nextvSync(size: number, options: object): { rows: Buffer[]; finished: boolean };
  close(): Promise<void>;
}

interface RawIteratorOptions {
  gte: Uint8Array;
  lt?: Uint8Array;
  limit: number;
  keys: boolean;
  values: boolean;
}

interface RawDb {
  readonly status: string;
  open(options: { createIfMissing: boolean; errorIfExists: boolean }): Promise<void>;
  close(): Promise<void>;
  batch(): RawBatch;
  _getManySync(keys: Uint8Array[], options: object): (Buffer | undefined)[];
  iterator(options: RawIteratorOptions): RawIterator;
}

type RawDbConstructor = new (location: string, options: object) => RawDb;

const require = createRequire(import.meta.url);
const { RocksLevel } = require('@nxtedition/rocksdb') as { RocksLevel: RawDbConstructor };

export interface KeyValueEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface RangeResult {
  readonly entries: KeyValueEntry[];
  /** True when the range holds more entries after the last one returned. */
  readonly more: boolean;
}

export interface RangeQuery {
  readonly start: Uint8Array;
  /** Exclusive; null (or omitted) reads to the end of the key space. */
  readonly end?: Uint8Array | null;
  /** Most entries returned (>= 1). */
  readonly limit: number;
  /** Stop early (with more = true) before the entries' bytes would exceed this; an entry
   *  counts key + value + entryOverheadBytes. */
  readonly bytesMax?: number;
  readonly entryOverheadBytes?: number;
}

export interface OpenOptions {
  /** Fail if the database does not exist yet (default false: create it). */
  readonly mustExist?: boolean;
}

/** Rows the iterator fetches per synchronous step while scanning a range. */
const iteratorStepRows = 256;
const noOptions = {};
/** ChainedBatch.toArray() returns [type, key, value, column] per operation. */
const batchRowStride = 4;

/**
 * One pending WriteBatch. Operations are copied into the native batch at once, so the caller
 * may reuse (or lose, e.g. a ring frame view) its key and value buffers right after a call.
 */
export class StoreBatch {
  private readonly db: RocksStore;
  private raw: RawBatch | null;
  private byteCount = 0;
  /**
   * Keys put into this batch, collected from the first deleteRange on (one toArray scan, then
   * a copy of each later put's key), so several ranges in one batch (snapshot installs of
   * several partitions in one flush) do not each copy the whole batch out of the binding.
   * null until a deleteRange needs it: plain batches pay nothing.
   */
  private putKeys: Buffer[] | null = null;

  constructor(db: RocksStore, raw: RawBatch) {
    this.db = db;
    this.raw = raw;
  }

  /** Operations in the batch. */
  get length(): number {
    return this.live().length;
  }

  /** Key and value bytes put into the batch so far. */
  get bytes(): number {
    return this.byteCount;
  }

  put(key: Uint8Array, value: Uint8Array): void {
    assert(key.length > 0, 'RocksDB keys must not be empty');
    this.live()._put(key, value, noOptions);
    this.byteCount += key.length + value.length;
    if (this.putKeys !== null) this.putKeys.push(Buffer.from(key));
  }

  del(key: Uint8Array): void {
    assert(key.length > 0, 'RocksDB keys must not be empty');
    this.live()._del(key, noOptions);
    this.byteCount += key.length;
  }

  /**
   * Deletes every key in [start, end) atomically with the rest of the batch. The binding has
   * no WriteBatch::DeleteRange, so this enumerates the keys: those already in the database
   * and those put earlier in this very batch (which an iterator over the database cannot
   * see). Costs O(keys in range); meant for log compaction, not for huge ranges.
   */
  deleteRange(start: Uint8Array, end: Uint8Array): number {
    assert(start.length > 0 && end.length > 0, 'deleteRange bounds must not be empty');
    if (Buffer.compare(start, end) >= 0) return 0;
    const keys = this.db.keysSync(start, end);
    for (const key of this.batchPutKeys()) {
      if (Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0) keys.push(key);
    }
    for (const key of keys) this.del(key);
    return keys.length;
  }

  /** Writes the batch with sync: true (WAL fsync) and closes it. */
  async commit(): Promise<void> {
    const raw = this.live();
    this.raw = null;
    await raw.write({ sync: true });
  }

  /** Drops the batch without writing it. */
  async discard(): Promise<void> {
    const raw = this.raw;
    this.raw = null;
    if (raw !== null) await raw.close();
  }

  private batchPutKeys(): Buffer[] {
    if (this.putKeys !== null) return this.putKeys;
    // toArray rows come in strides of four: type ('put' | 'del'), key, value, column.
    const rows = this.live().toArray({ keyEncoding: 'buffer', values: false });
    assert(rows.length % batchRowStride === 0, 'batch rows are not in strides of four');
    const keys: Buffer[] = [];
    for (let i = 0; i < rows.length; i += batchRowStride) {
      const key = rows[i + 1];
      if (rows[i] === 'put' && Buffer.isBuffer(key)) keys.push(key);
    }
    this.putKeys = keys;
    return keys;
  }

  private live(): RawBatch {
    assert(this.raw !== null, 'the batch was already committed or discarded');
    return this.raw;
  }
}

/** One RocksDB database, opened by exactly one owner (the writer worker, or a test). */
export class RocksStore {
  readonly location: string;
  private readonly raw: RawDb;

  private constructor(location: string, raw: RawDb) {
    this.location = location;
    this.raw = raw;
  }

  static async open(location: string, options: OpenOptions = {}): Promise<RocksStore> {
    assert(location.length > 0, 'location must not be empty');
    const raw = new RocksLevel(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const mustExist = options.mustExist ?? false;
    await raw.open({ createIfMissing: !mustExist, errorIfExists: false });
    assert(raw.status === 'open', 'RocksDB did not open');
    return new RocksStore(location, raw);
  }

  get isOpen(): boolean {
    return this.raw.status === 'open';
  }

  batch(): StoreBatch {
    assert(this.isOpen, 'the database is not open');
    return new StoreBatch(this, this.raw.batch());
  }

  /** Convenience for tests and tools: one batch of puts, committed with sync. */
  async putAll(entries: readonly KeyValueEntry[]): Promise<void> {
    const batch = this.batch();
    for (const entry of entries) batch.put(entry.key, entry.value);
    await batch.commit();
  }

  getSync(key: Uint8Array): Buffer | undefined {
    return this.getManySync([key])[0];
  }

  getManySync(keys: readonly Uint8Array[]): (Buffer | undefined)[] {
    assert(this.isOpen, 'the database is not open');
    const values = this.raw._getManySync([...keys], {});
    assert(values.length === keys.length, 'getMany returned a wrong count');
    return values;
  }

  /** Entries with start <= key < end in key order, at most `limit` of them. */
  rangeSync(query: RangeQuery): RangeResult {
    assert(Number.isInteger(query.limit) && query.limit >= 1, 'limit must be >= 1');
    const bytesMax = query.bytesMax ?? Number.POSITIVE_INFINITY;
    const overhead = query.entryOverheadBytes ?? 0;
    const it = this.openIterator(query.start, query.end ?? null, query.limit + 1, true);
    const entries: KeyValueEntry[] = [];
    let bytes = 0;
    let more = false;
    try {
      for (;;) {
        const { rows, finished } = it._nextvSync(iteratorStepRows, {});
        for (let i = 0; i + 1 < rows.length; i += 2) {
          const key = rows[i];
          const value = rows[i + 1];
          assert(key !== undefined && value !== undefined, 'iterator row without key or value');
          const entryBytes = key.length + value.length + overhead;
          if (entries.length >= query.limit || bytes + entryBytes > bytesMax) {
            more = true;
            break;
          }
          entries.push({ key, value });
          bytes += entryBytes;
        }
        if (more || finished || rows.length === 0) break;
      }
    } finally {
      void it.close();
    }
    assert(entries.length <= query.limit, 'range returned more than limit');
    return { entries, more };
  }

  /** Every key in [start, end); for deleteRange and tests. */
  keysSync(start: Uint8Array, end: Uint8Array | null): Buffer[] {
    const it = this.openIterator(start, end, -1, false);
    const keys: Buffer[] = [];
    try {
      for (;;) {
        const { rows, finished } = it._nextvSync(iteratorStepRows, {});
        for (let i = 0; i < rows.length; i += 2) {
          const key = rows[i];
          assert(key !== undefined, 'iterator row without key');
          keys.push(key);
        }
        if (finished || rows.length === 0) break;
      }
    } finally {
      void it.close();
    }
    return keys;
  }

  async close(): Promise<void> {
    if (this.raw.status === 'open' || this.raw.status === 'opening') await this.raw.close();
  }

  private openIterator(start: Uint8Array, end: Uint8Array | null, limit: number,
    values: boolean): RawIterator {
    assert(this.isOpen, 'the database is not open');
    assert(start.length > 0, 'range start must not be empty');
    const options: RawIteratorOptions = { gte: start, limit, keys: true, values };
    if (end !== null && end.length > 0) options.lt = end;
    return this.raw.iterator(options);
  }
}
