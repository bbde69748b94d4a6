// Two clients of one Honu endpoint with the same interface, so every acceptance case runs over
// both transports:
// - RestClient: fetch, Kahuna's REST JSON shapes (wire.md 3), base64 bytes, {n,l,c} timestamps;
// - GrpcClient: a real @grpc/grpc-js client over h2c (prior knowledge) on the same port, built
//   with @grpc/proto-loader over proto/*.proto with kahuna-ts's loader options (keepCase, longs
//   as Number, defaults off, oneofs on; wire.md 1.2). It deliberately does not reuse the server's
//   ts-proto code, so the two sides of the wire are encoded by different libraries.
// Replies are normalized to one camelCase shape: an absent scalar is 0/''/false, absent bytes are
// null (not the same as empty bytes), an absent timestamp is {n:0,l:0,c:0}.
// Scripts, interactive sessions and exclusive locks (wire.md 2.2.10, 2.2.15-2.2.23, 3.4, 4.4)
// are here too: the tx* methods are the point operations of a session (a non-zero
// TransactionId with its CoordinatorKey and a per-operation id, as kahuna-ts sends them).
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoRoot } from '../../src/env/paths.js';

export type Transport = 'rest' | 'grpc';
export const transports: readonly Transport[] = ['rest', 'grpc'];

export const ephemeral = 0;
export const persistent = 1;
export const durabilities = [ephemeral, persistent] as const;

export interface Hlc { readonly n: number; readonly l: number; readonly c: number }
export const zeroHlc: Hlc = { n: 0, l: 0, c: 0 };

// --- Locks ---
export interface LockReply { readonly type: number; readonly fencingToken: number }
export interface LockInfoReply {
  readonly type: number;
  readonly owner: Buffer | null;
  readonly expires: Hlc;
  readonly fencingToken: number;
}

// --- Key/values ---
export interface SetArgs {
  readonly key: string;
  /** undefined or null: the key holds no value (REST null, gRPC Value absent). */
  readonly value?: Buffer | null;
  readonly compareValue?: Buffer | null;
  readonly compareRevision?: number;
  readonly flags?: number;
  readonly expiresMs?: number;
  readonly durability: number;
  /** Non-zero only to test the "transactional item" rejections of the batch calls. */
  readonly transactionId?: Hlc;
}
export interface KvWriteReply {
  readonly type: number;
  readonly revision: number;
  readonly lastModified: Hlc;
}
export interface KvGetReply {
  readonly type: number;
  readonly value: Buffer | null;
  readonly revision: number;
  readonly expires: Hlc;
  readonly lastModified: Hlc;
}
export interface KvExistsReply {
  readonly type: number;
  readonly revision: number;
  readonly expires: Hlc;
  readonly lastModified: Hlc;
}
export interface ManyWriteItem {
  readonly key: string;
  readonly type: number;
  readonly revision: number;
  readonly durability: number;
}
export interface ManyReadItem {
  readonly key: string;
  readonly type: number;
  readonly value: Buffer | null;
  readonly revision: number;
  readonly durability: number;
}
/** `envelope` is the REST top-level `type`; gRPC batch replies have none (null). */
export interface ManyReply<T> { readonly envelope: number | null; readonly items: readonly T[] }
export interface KeyAt { readonly key: string; readonly revision?: number; readonly durability: number }
export interface ScanItem {
  readonly key: string;
  readonly value: Buffer | null;
  readonly revision: number;
  readonly lastModified: Hlc;
}
export interface ScanReply { readonly type: number; readonly items: readonly ScanItem[] }
export interface RangeArgs {
  readonly prefix: string;
  readonly startKey?: string | null;
  readonly startInclusive?: boolean;
  readonly endKey?: string | null;
  readonly endInclusive?: boolean;
  readonly limit: number;
  readonly durability: number;
  readonly cursor?: string | null;
}
export interface RangePage {
  readonly type: number;
  readonly items: readonly ScanItem[];
  readonly nextCursor: string | null;
  readonly hasMore: boolean;
}

// --- Sequences ---
export interface SequenceEntry {
  readonly name: string;
  readonly currentValue: number;
  readonly initialValue: number;
  readonly increment: number;
  readonly maxValue: number | null;
  readonly revision: number;
  readonly durability: number;
  readonly blockSize: number | null;
  readonly incarnation: number;
}
export interface SequenceReply {
  readonly type: number;
  readonly sequence: SequenceEntry | null;
  readonly revision: number;
}
export interface Allocation {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly count: number;
  readonly revision: number;
}
export interface AllocationReply { readonly type: number; readonly allocation: Allocation | null }
export interface CreateSequenceArgs {
  readonly name: string;
  readonly initialValue?: number;
  readonly increment?: number;
  readonly maxValue?: number | null;
  readonly blockSize?: number | null;
  readonly durability?: number; // default 1 (what every client sends)
}
export interface UpdateSequenceArgs {
  readonly name: string;
  readonly currentValue?: number | null;
  readonly increment?: number | null;
  readonly initialValue?: number | null;
  readonly maxValue?: number | null;
  readonly removeMaxValue?: boolean;
  readonly blockSize?: number | null;
  readonly removeBlockSize?: boolean;
  readonly durability?: number;
}

// --- Scripts (wire.md 2.2.10, 3.4, 4.5) ---
export interface ScriptParameter {
  /** The placeholder with its `@`, e.g. `@key`. */
  readonly key: string;
  /** null: the placeholder is null (gRPC Value absent). */
  readonly value: string | null;
}
export interface ScriptOptions {
  readonly parameters?: readonly ScriptParameter[];
  readonly hash?: string | null;
  /** The C#/REST priority 0-4 (Background..Critical); gRPC sends it plus one. Default Normal. */
  readonly priority?: number;
}
export interface ScriptValue {
  readonly key: string;
  readonly value: Buffer | null;
  readonly revision: number;
  readonly expires: Hlc;
  readonly lastModified: Hlc;
}
export interface ScriptReply {
  readonly type: number;
  /** null when absent (gRPC) or null (REST). */
  readonly reason: string | null;
  readonly values: readonly ScriptValue[];
  /** REST only: the legacy top-level value/revision/expires (the first value); gRPC: null. */
  readonly legacy: { readonly value: Buffer | null; readonly revision: number;
    readonly expires: Hlc } | null;
}

// --- Interactive transactions and exclusive locks (wire.md 2.2.15-2.2.23, 3.4, 4.4) ---
/** What a session's operation carries: its transaction, coordinator key and operation id. */
export interface TxOp {
  readonly transactionId: Hlc;
  readonly coordinatorKey: string;
  readonly operationIdHigh: number;
  readonly operationIdLow: number;
}
export interface StartTxArgs {
  readonly coordinatorKey: string;
  /** 0 pessimistic (default), 1 optimistic. */
  readonly lockingType?: number;
  readonly timeout?: number;
  readonly asyncRelease?: boolean;
  /** kahuna-ts sends true. */
  readonly autoCommit?: boolean;
  readonly readValidation?: number;
  readonly decisionDurability?: number;
  readonly readTimestamp?: Hlc;
  /** C#/REST values (0-4); gRPC sends it plus one. Default Normal (2). */
  readonly priority?: number;
  readonly admissionWaitMs?: number;
  /** C#/REST values (0 normal, 1 yield); gRPC sends it plus one. */
  readonly conflictPolicy?: number;
}
export interface StartTxReply { readonly type: number; readonly transactionId: Hlc }
export interface EndTxReply { readonly type: number; readonly recordAnchorKey: string | null }
export interface ExclusiveLockArgs {
  readonly transactionId: Hlc;
  /** The key (or, for the prefix lock, the bucket). */
  readonly key: string;
  readonly expiresMs: number;
  readonly durability: number;
  /** "" and 0/0 when not in a session. */
  readonly coordinatorKey?: string;
  readonly operationIdHigh?: number;
  readonly operationIdLow?: number;
}
export interface ExclusiveLockReply { readonly type: number; readonly holder: Hlc }

export interface KahunaClient {
  readonly transport: Transport;
  tryLock(resource: string, owner: Buffer | null, expiresMs: number,
    durability: number): Promise<LockReply>;
  extendLock(resource: string, owner: Buffer | null, expiresMs: number,
    durability: number): Promise<LockReply>;
  unlock(resource: string, owner: Buffer | null, durability: number): Promise<LockReply>;
  getLock(resource: string, durability: number): Promise<LockInfoReply>;

  set(args: SetArgs): Promise<KvWriteReply>;
  /** revision −1 = latest (what clients send for "latest"). */
  get(key: string, durability: number, revision?: number, readTimestamp?: Hlc):
    Promise<KvGetReply>;
  exists(key: string, durability: number, revision?: number): Promise<KvExistsReply>;
  delete(key: string, durability: number): Promise<KvWriteReply>;
  extend(key: string, expiresMs: number, durability: number): Promise<KvWriteReply>;

  setMany(items: readonly SetArgs[]): Promise<ManyReply<ManyWriteItem>>;
  deleteMany(items: readonly { key: string; durability: number; transactionId?: Hlc }[]):
    Promise<ManyReply<ManyWriteItem>>;
  getMany(items: readonly KeyAt[], transactionId?: Hlc): Promise<ManyReply<ManyReadItem>>;
  existsMany(items: readonly KeyAt[], transactionId?: Hlc): Promise<ManyReply<ManyReadItem>>;
  getByBucket(prefixKey: string, durability: number): Promise<ScanReply>;
  scanAllByPrefix(prefixKey: string, durability: number): Promise<ScanReply>;
  /** One page: REST get-by-range, gRPC GetByRange. */
  getByRange(args: RangeArgs): Promise<RangePage>;
  /** Every page: REST get-by-range looping on `cursor` (as kahuna-ts), gRPC GetByRangeStream. */
  scanRange(args: RangeArgs): Promise<RangePage[]>;

  createSequence(args: CreateSequenceArgs): Promise<SequenceReply>;
  getSequence(name: string, durability?: number): Promise<SequenceReply>;
  updateSequence(args: UpdateSequenceArgs): Promise<SequenceReply>;
  /** REST /v1/sequences/next, gRPC NextSequenceValue. */
  nextSequence(name: string, idempotencyKey?: string, durability?: number):
    Promise<AllocationReply>;
  reserveSequence(name: string, count: number, idempotencyKey?: string, durability?: number):
    Promise<AllocationReply>;
  deleteSequence(name: string, durability?: number): Promise<SequenceReply>;

  /** `script` null is REST's "no script" (100); over gRPC it is the absent (empty) Script. */
  executeScript(script: string | null, options?: ScriptOptions): Promise<ScriptReply>;

  startTransaction(args: StartTxArgs): Promise<StartTxReply>;
  commitTransaction(coordinatorKey: string, transactionId: Hlc,
    recordAnchorKey?: string | null): Promise<EndTxReply>;
  rollbackTransaction(coordinatorKey: string, transactionId: Hlc,
    recordAnchorKey?: string | null): Promise<EndTxReply>;
  tryAcquireExclusiveLock(args: ExclusiveLockArgs): Promise<ExclusiveLockReply>;
  /** REST try-acquire-prefix-lock (`key` = the bucket), gRPC TryAcquireExclusivePrefixLock. */
  tryAcquireExclusivePrefixLock(args: ExclusiveLockArgs): Promise<ExclusiveLockReply>;
  /** REST try-release-prefix-lock, gRPC TryReleaseExclusivePrefixLock (no holder: zero). */
  tryReleaseExclusivePrefixLock(transactionId: Hlc, prefixKey: string, durability: number):
    Promise<ExclusiveLockReply>;
  /** The point operations of a session (SetArgs.transactionId is ignored: op's is sent). */
  txSet(op: TxOp, args: SetArgs): Promise<KvWriteReply>;
  txGet(op: TxOp, key: string, durability: number, revision?: number): Promise<KvGetReply>;
  txExists(op: TxOp, key: string, durability: number): Promise<KvExistsReply>;
  txDelete(op: TxOp, key: string, durability: number): Promise<KvWriteReply>;
  txExtend(op: TxOp, key: string, expiresMs: number, durability: number): Promise<KvWriteReply>;
  /** Every item carries op's transaction id; the coordinator key and operation id are sent once,
   *  at batch level (wire.md 4.4). */
  txDeleteMany(op: TxOp, items: readonly { key: string; durability: number }[]):
    Promise<ManyReply<ManyWriteItem>>;
  txGetByBucket(op: TxOp, prefixKey: string, durability: number): Promise<ScanReply>;

  close(): void;
}

export function createClient(transport: Transport, url: string): KahunaClient {
  return transport === 'rest' ? new RestClient(url) : new GrpcClient(url);
}

// ------------------------------------------------------------------------------------------------
// REST

type Json = Record<string, unknown>;

export class RestError extends Error {
  constructor(readonly status: number, readonly body: string, path: string) {
    super(`POST ${path}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

function b64(bytes: Buffer | null | undefined): string | null {
  return bytes === null || bytes === undefined ? null : bytes.toString('base64');
}

function fromB64(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new Error(`bytes member is not a string: ${String(value)}`);
  return Buffer.from(value, 'base64');
}

function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value !== 'number') throw new Error(`numeric member is ${JSON.stringify(value)}`);
  return value;
}

function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function hlcOf(value: unknown): Hlc {
  if (value === null || value === undefined) return zeroHlc;
  const v = value as Json;
  return { n: num(v['n']), l: num(v['l']), c: num(v['c']) };
}

const restTxFields = { transactionId: zeroHlc, coordinatorKey: '', operationIdHigh: 0,
  operationIdLow: 0 };

function restTxOp(op: TxOp): Json {
  return { transactionId: op.transactionId, coordinatorKey: op.coordinatorKey,
    operationIdHigh: op.operationIdHigh, operationIdLow: op.operationIdLow };
}

function restScriptReply(r: Json): ScriptReply {
  const reason = r['reason'];
  return {
    type: num(r['type']),
    reason: reason === null || reason === undefined ? null : String(reason),
    values: ((r['values'] ?? []) as Json[]).map((v) => ({
      key: str(v['key']), value: fromB64(v['value']), revision: num(v['revision']),
      expires: hlcOf(v['expires']), lastModified: hlcOf(v['lastModified']),
    })),
    legacy: { value: fromB64(r['value']), revision: num(r['revision']),
      expires: hlcOf(r['expires']) },
  };
}

function restExclusiveLock(r: Json): ExclusiveLockReply {
  return { type: num(r['type']), holder: hlcOf(r['holderTransactionId']) };
}

function restEndTx(r: Json): EndTxReply {
  const anchor = r['recordAnchorKey'];
  return { type: num(r['type']),
    recordAnchorKey: anchor === null || anchor === undefined ? null : String(anchor) };
}

/** Priority: C#/REST Normal. */
const priorityNormal = 2;

function restScanItems(value: unknown): ScanItem[] {
  return ((value ?? []) as Json[]).map((i) => ({
    key: str(i['key']), value: fromB64(i['value']), revision: num(i['revision']),
    lastModified: hlcOf(i['lastModified']),
  }));
}

function restSequence(value: unknown): SequenceEntry | null {
  if (value === null || value === undefined) return null;
  const s = value as Json;
  return {
    name: str(s['name']), currentValue: num(s['currentValue']),
    initialValue: num(s['initialValue']), increment: num(s['increment']),
    maxValue: numOrNull(s['maxValue']), revision: num(s['revision']),
    durability: num(s['durability']), blockSize: numOrNull(s['blockSize']),
    incarnation: num(s['incarnation']),
  };
}

function restAllocation(value: unknown): Allocation | null {
  if (value === null || value === undefined) return null;
  const a = value as Json;
  return { name: str(a['name']), start: num(a['start']), end: num(a['end']),
    count: num(a['count']), revision: num(a['revision']) };
}

export class RestClient implements KahunaClient {
  readonly transport = 'rest' as const;
  constructor(readonly url: string) {}

  async post(path: string, body: unknown): Promise<Json> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'accept': 'application/json', 'authorization': 'Bearer xxx',
        'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new RestError(res.status, text, path);
    return text === '' ? {} : JSON.parse(text) as Json;
  }

  async #lock(path: string, body: Json): Promise<LockReply> {
    const r = await this.post(path, body);
    return { type: num(r['type']), fencingToken: num(r['fencingToken']) };
  }

  tryLock(resource: string, owner: Buffer | null, expiresMs: number, durability: number) {
    return this.#lock('/v1/locks/try-lock', { resource, owner: b64(owner), expiresMs, durability });
  }

  extendLock(resource: string, owner: Buffer | null, expiresMs: number, durability: number) {
    return this.#lock('/v1/locks/try-extend',
      { resource, owner: b64(owner), expiresMs, durability });
  }

  unlock(resource: string, owner: Buffer | null, durability: number) {
    return this.#lock('/v1/locks/try-unlock', { resource, owner: b64(owner), durability });
  }

  async getLock(resource: string, durability: number): Promise<LockInfoReply> {
    const r = await this.post('/v1/locks/get-info', { resource, durability });
    return { type: num(r['type']), owner: fromB64(r['owner']), expires: hlcOf(r['expires']),
      fencingToken: num(r['fencingToken']) };
  }

  #setBody(a: SetArgs): Json {
    return {
      ...restTxFields, transactionId: a.transactionId ?? zeroHlc, key: a.key,
      value: b64(a.value), compareValue: b64(a.compareValue),
      compareRevision: a.compareRevision ?? 0, expiresMs: a.expiresMs ?? 0,
      flags: a.flags ?? 1, durability: a.durability,
    };
  }

  async #write(path: string, body: Json): Promise<KvWriteReply> {
    const r = await this.post(path, body);
    return { type: num(r['type']), revision: num(r['revision']),
      lastModified: hlcOf(r['lastModified']) };
  }

  set(args: SetArgs) {
    return this.#write('/v1/kv/try-set', this.#setBody(args));
  }

  async get(key: string, durability: number, revision = -1,
    readTimestamp: Hlc = zeroHlc): Promise<KvGetReply> {
    const r = await this.post('/v1/kv/try-get',
      { ...restTxFields, key, revision, readTimestamp, durability });
    return { type: num(r['type']), value: fromB64(r['value']), revision: num(r['revision']),
      expires: hlcOf(r['expires']), lastModified: hlcOf(r['lastModified']) };
  }

  async exists(key: string, durability: number, revision = -1): Promise<KvExistsReply> {
    const r = await this.post('/v1/kv/try-exists',
      { ...restTxFields, key, revision, readTimestamp: zeroHlc, durability });
    return { type: num(r['type']), revision: num(r['revision']), expires: hlcOf(r['expires']),
      lastModified: hlcOf(r['lastModified']) };
  }

  delete(key: string, durability: number) {
    return this.#write('/v1/kv/try-delete', { ...restTxFields, key, durability });
  }

  extend(key: string, expiresMs: number, durability: number) {
    return this.#write('/v1/kv/try-extend', { ...restTxFields, key, expiresMs, durability });
  }

  #manyWrite(r: Json): ManyReply<ManyWriteItem> {
    return {
      envelope: num(r['type']),
      items: ((r['items'] ?? []) as Json[]).map((i) => ({
        key: str(i['key']), type: num(i['type']), revision: num(i['revision']),
        durability: num(i['durability']),
      })),
    };
  }

  #manyRead(r: Json): ManyReply<ManyReadItem> {
    return {
      envelope: num(r['type']),
      items: ((r['items'] ?? []) as Json[]).map((i) => ({
        key: str(i['key']), type: num(i['type']), value: fromB64(i['value']),
        revision: num(i['revision']), durability: num(i['durability']),
      })),
    };
  }

  async setMany(items: readonly SetArgs[]) {
    const body = {
      items: items.map((a) => {
        const { coordinatorKey: _c, operationIdHigh: _h, operationIdLow: _l, ...item } =
          this.#setBody(a);
        return item;
      }),
    };
    return this.#manyWrite(await this.post('/v1/kv/try-set-many', body));
  }

  async deleteMany(items: readonly { key: string; durability: number; transactionId?: Hlc }[]) {
    const body = { items: items.map((i) => ({ transactionId: i.transactionId ?? zeroHlc,
      key: i.key, durability: i.durability })) };
    return this.#manyWrite(await this.post('/v1/kv/try-delete-many', body));
  }

  #manyReadBody(items: readonly KeyAt[], transactionId?: Hlc): Json {
    return { transactionId: transactionId ?? zeroHlc, readTimestamp: zeroHlc,
      items: items.map((i) => ({ key: i.key, revision: i.revision ?? -1,
        durability: i.durability })) };
  }

  async getMany(items: readonly KeyAt[], transactionId?: Hlc) {
    return this.#manyRead(await this.post('/v1/kv/try-get-many',
      this.#manyReadBody(items, transactionId)));
  }

  async existsMany(items: readonly KeyAt[], transactionId?: Hlc) {
    return this.#manyRead(await this.post('/v1/kv/try-exists-many',
      this.#manyReadBody(items, transactionId)));
  }

  async getByBucket(prefixKey: string, durability: number): Promise<ScanReply> {
    const r = await this.post('/v1/kv/get-by-bucket',
      { ...restTxFields, prefixKey, readTimestamp: zeroHlc, durability });
    return { type: num(r['type']), items: restScanItems(r['items']) };
  }

  async scanAllByPrefix(prefixKey: string, durability: number): Promise<ScanReply> {
    const r = await this.post('/v1/kv/scan-all-by-prefix',
      { prefixKey, readTimestamp: zeroHlc, durability });
    return { type: num(r['type']), items: restScanItems(r['items']) };
  }

  async getByRange(a: RangeArgs): Promise<RangePage> {
    const r = await this.post('/v1/kv/get-by-range', {
      ...restTxFields, prefix: a.prefix, startKey: a.startKey ?? null,
      startInclusive: a.startInclusive ?? true, endKey: a.endKey ?? null,
      endInclusive: a.endInclusive ?? false, limit: a.limit, readTimestamp: zeroHlc,
      durability: a.durability, cursor: a.cursor ?? null,
    });
    const next = r['nextCursor'];
    return { type: num(r['type']), items: restScanItems(r['items']),
      nextCursor: typeof next === 'string' ? next : null, hasMore: r['hasMore'] === true };
  }

  async scanRange(a: RangeArgs): Promise<RangePage[]> {
    const pages: RangePage[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const page = await this.getByRange({ ...a, cursor });
      pages.push(page);
      if (!page.hasMore || page.nextCursor === null || page.nextCursor === '') return pages;
      cursor = page.nextCursor;
    }
    throw new Error('get-by-range did not finish within 1000 pages');
  }

  async #sequence(path: string, body: Json): Promise<SequenceReply> {
    const r = await this.post(path, body);
    return { type: num(r['type']), sequence: restSequence(r['sequence']),
      revision: num(r['revision']) };
  }

  async #allocation(path: string, body: Json): Promise<AllocationReply> {
    const r = await this.post(path, body);
    return { type: num(r['type']), allocation: restAllocation(r['allocation']) };
  }

  createSequence(a: CreateSequenceArgs) {
    return this.#sequence('/v1/sequences/create', {
      name: a.name, initialValue: a.initialValue ?? 0, increment: a.increment ?? 1,
      maxValue: a.maxValue ?? null, blockSize: a.blockSize ?? null, durability: a.durability ?? 1,
    });
  }

  getSequence(name: string, durability = 1) {
    return this.#sequence('/v1/sequences/get', { name, durability });
  }

  updateSequence(a: UpdateSequenceArgs) {
    return this.#sequence('/v1/sequences/update', {
      name: a.name, currentValue: a.currentValue ?? null, increment: a.increment ?? null,
      initialValue: a.initialValue ?? null, maxValue: a.maxValue ?? null,
      removeMaxValue: a.removeMaxValue ?? false, blockSize: a.blockSize ?? null,
      removeBlockSize: a.removeBlockSize ?? false, durability: a.durability ?? 1,
    });
  }

  nextSequence(name: string, idempotencyKey?: string, durability = 1) {
    return this.#allocation('/v1/sequences/next',
      { name, idempotencyKey: idempotencyKey ?? null, durability });
  }

  reserveSequence(name: string, count: number, idempotencyKey?: string, durability = 1) {
    return this.#allocation('/v1/sequences/reserve',
      { name, count, idempotencyKey: idempotencyKey ?? null, durability });
  }

  deleteSequence(name: string, durability = 1) {
    return this.#sequence('/v1/sequences/delete', { name, durability });
  }

  // ---------------------------------------------------------------- scripts and transactions

  async executeScript(script: string | null, o: ScriptOptions = {}): Promise<ScriptReply> {
    const r = await this.post('/v1/kv/try-execute-tx-script', {
      hash: o.hash ?? null,
      script: script === null ? null : Buffer.from(script, 'utf8').toString('base64'),
      parameters: o.parameters === undefined ? null
        : o.parameters.map((p) => ({ key: p.key, value: p.value })),
      priority: o.priority ?? priorityNormal,
    });
    return restScriptReply(r);
  }

  async startTransaction(a: StartTxArgs): Promise<StartTxReply> {
    const r = await this.post('/v1/kv/start-tx-session', {
      coordinatorKey: a.coordinatorKey, timeout: a.timeout ?? 0,
      admissionWaitMs: a.admissionWaitMs ?? 0, lockingType: a.lockingType ?? 0,
      asyncRelease: a.asyncRelease ?? false, autoCommit: a.autoCommit ?? true,
      readValidation: a.readValidation ?? 0, decisionDurability: a.decisionDurability ?? 0,
      priority: a.priority ?? priorityNormal, conflictPolicy: a.conflictPolicy ?? 0,
      readTimestamp: a.readTimestamp ?? zeroHlc,
    });
    return { type: num(r['type']), transactionId: hlcOf(r['transactionId']) };
  }

  async commitTransaction(coordinatorKey: string, transactionId: Hlc,
    recordAnchorKey: string | null = null): Promise<EndTxReply> {
    return restEndTx(await this.post('/v1/kv/commit-tx-session',
      { coordinatorKey, transactionId, recordAnchorKey }));
  }

  async rollbackTransaction(coordinatorKey: string, transactionId: Hlc,
    recordAnchorKey: string | null = null): Promise<EndTxReply> {
    return restEndTx(await this.post('/v1/kv/rollback-tx-session',
      { coordinatorKey, transactionId, recordAnchorKey }));
  }

  #lockBody(a: ExclusiveLockArgs): Json {
    return { transactionId: a.transactionId, coordinatorKey: a.coordinatorKey ?? '',
      operationIdHigh: a.operationIdHigh ?? 0, operationIdLow: a.operationIdLow ?? 0,
      key: a.key, expiresMs: a.expiresMs, durability: a.durability };
  }

  async tryAcquireExclusiveLock(a: ExclusiveLockArgs): Promise<ExclusiveLockReply> {
    return restExclusiveLock(await this.post('/v1/kv/try-acquire-exclusive-lock',
      this.#lockBody(a)));
  }

  async tryAcquireExclusivePrefixLock(a: ExclusiveLockArgs): Promise<ExclusiveLockReply> {
    return restExclusiveLock(await this.post('/v1/kv/try-acquire-prefix-lock',
      this.#lockBody(a)));
  }

  async tryReleaseExclusivePrefixLock(transactionId: Hlc, prefixKey: string,
    durability: number): Promise<ExclusiveLockReply> {
    return restExclusiveLock(await this.post('/v1/kv/try-release-prefix-lock',
      { transactionId, key: prefixKey, durability }));
  }

  txSet(op: TxOp, a: SetArgs) {
    return this.#write('/v1/kv/try-set', { ...this.#setBody(a), ...restTxOp(op) });
  }

  async txGet(op: TxOp, key: string, durability: number, revision = -1): Promise<KvGetReply> {
    const r = await this.post('/v1/kv/try-get',
      { ...restTxOp(op), key, revision, readTimestamp: zeroHlc, durability });
    return { type: num(r['type']), value: fromB64(r['value']), revision: num(r['revision']),
      expires: hlcOf(r['expires']), lastModified: hlcOf(r['lastModified']) };
  }

  async txExists(op: TxOp, key: string, durability: number): Promise<KvExistsReply> {
    const r = await this.post('/v1/kv/try-exists',
      { ...restTxOp(op), key, revision: -1, readTimestamp: zeroHlc, durability });
    return { type: num(r['type']), revision: num(r['revision']), expires: hlcOf(r['expires']),
      lastModified: hlcOf(r['lastModified']) };
  }

  txDelete(op: TxOp, key: string, durability: number) {
    return this.#write('/v1/kv/try-delete', { ...restTxOp(op), key, durability });
  }

  txExtend(op: TxOp, key: string, expiresMs: number, durability: number) {
    return this.#write('/v1/kv/try-extend', { ...restTxOp(op), key, expiresMs, durability });
  }

  async txDeleteMany(op: TxOp, items: readonly { key: string; durability: number }[]) {
    const body = { coordinatorKey: op.coordinatorKey, operationIdHigh: op.operationIdHigh,
      operationIdLow: op.operationIdLow, items: items.map((i) => ({
        transactionId: op.transactionId, key: i.key, durability: i.durability })) };
    return this.#manyWrite(await this.post('/v1/kv/try-delete-many', body));
  }

  async txGetByBucket(op: TxOp, prefixKey: string, durability: number): Promise<ScanReply> {
    const r = await this.post('/v1/kv/get-by-bucket',
      { ...restTxOp(op), prefixKey, readTimestamp: zeroHlc, durability });
    return { type: num(r['type']), items: restScanItems(r['items']) };
  }

  close(): void {}
}

// ------------------------------------------------------------------------------------------------
// gRPC

/** kahuna-ts's proto-loader options (wire.md 1.2). */
export const protoLoaderOptions: protoLoader.Options = {
  keepCase: true, longs: Number, defaults: false, oneofs: true,
  includeDirs: [join(repoRoot, 'proto')],
};

type GrpcMessage = Record<string, unknown>;
type Unary = (req: GrpcMessage, options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, reply: GrpcMessage) => void) => void;
type ServiceClient = grpc.Client & Record<string, Unary>;
type ServiceCtor = new (address: string, credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions) => ServiceClient;

let kahunaPackage: grpc.GrpcObject | null = null;

export function loadKahunaProtos(): grpc.GrpcObject {
  if (kahunaPackage === null) {
    const definition = protoLoader.loadSync(
      ['locks.proto', 'keyvalues.proto', 'sequences.proto', 'cluster.proto'], protoLoaderOptions);
    kahunaPackage = grpc.loadPackageDefinition(definition);
  }
  return kahunaPackage;
}

export const grpcChannelOptions: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

/** kahuna-ts sends a 30 s deadline when the caller gave no signal. */
const grpcDeadlineMs = 30_000;

function gBytes(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  return Buffer.from(value as Uint8Array);
}

function gNum(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value !== 'number') throw new Error(`numeric field is ${String(value)}`);
  return value;
}

function gNumOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : gNum(value);
}

function gStr(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function gHlc(m: GrpcMessage, prefix: string): Hlc {
  return { n: gNum(m[`${prefix}Node`]), l: gNum(m[`${prefix}Physical`]),
    c: gNum(m[`${prefix}Counter`]) };
}

function gHlcFields(prefix: string, hlc: Hlc | undefined): GrpcMessage {
  const h = hlc ?? zeroHlc;
  return { [`${prefix}Node`]: h.n, [`${prefix}Physical`]: h.l, [`${prefix}Counter`]: h.c };
}

function gTxOp(op: TxOp): GrpcMessage {
  return { ...gHlcFields('TransactionId', op.transactionId), CoordinatorKey: op.coordinatorKey,
    OperationIdHigh: op.operationIdHigh, OperationIdLow: op.operationIdLow };
}

function gOptionalString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function gExclusiveLock(r: GrpcMessage): ExclusiveLockReply {
  return { type: gNum(r['Type']), holder: gHlc(r, 'HolderTransactionId') };
}

function gEndTx(r: GrpcMessage): EndTxReply {
  return { type: gNum(r['Type']), recordAnchorKey: gOptionalString(r['RecordAnchorKey']) };
}

function gScanItems(value: unknown): ScanItem[] {
  return ((value ?? []) as GrpcMessage[]).map((i) => ({
    key: gStr(i['Key']), value: gBytes(i['Value']), revision: gNum(i['Revision']),
    lastModified: gHlc(i, 'LastModified'),
  }));
}

/** Presence-aware: an undefined or null optional field is left off the wire. */
function optional(name: string, value: unknown): GrpcMessage {
  return value === undefined || value === null ? {} : { [name]: value };
}

function gSequence(value: unknown): SequenceEntry | null {
  if (value === null || value === undefined) return null;
  const s = value as GrpcMessage;
  if (gStr(s['Name']) === '') return null; // kahuna-ts: an entry with an empty name is no entry
  return {
    name: gStr(s['Name']), currentValue: gNum(s['CurrentValue']),
    initialValue: gNum(s['InitialValue']), increment: gNum(s['Increment']),
    maxValue: gNumOrNull(s['MaxValue']), revision: gNum(s['Revision']),
    durability: gNum(s['Durability']), blockSize: gNumOrNull(s['BlockSize']),
    incarnation: gNum(s['Incarnation']),
  };
}

function gAllocation(value: unknown): Allocation | null {
  if (value === null || value === undefined) return null;
  const a = value as GrpcMessage;
  return { name: gStr(a['Name']), start: gNum(a['Start']), end: gNum(a['End']),
    count: gNum(a['Count']), revision: gNum(a['Revision']) };
}

export class GrpcClient implements KahunaClient {
  readonly transport = 'grpc' as const;
  readonly locker: ServiceClient;
  readonly keyValuer: ServiceClient;
  readonly sequencer: ServiceClient;

  constructor(url: string) {
    const pkg = loadKahunaProtos();
    const target = url.replace(/^http:\/\//, '');
    const credentials = grpc.credentials.createInsecure();
    this.locker = new (pkg['Locker'] as unknown as ServiceCtor)(target, credentials,
      grpcChannelOptions);
    // One channel shared by the stubs, as kahuna-ts does.
    const shared = { ...grpcChannelOptions, channelOverride: this.locker.getChannel() };
    this.keyValuer = new (pkg['KeyValuer'] as unknown as ServiceCtor)(target, credentials,
      shared);
    this.sequencer = new (pkg['Sequencer'] as unknown as ServiceCtor)(target, credentials,
      shared);
  }

  call(client: ServiceClient, method: string, request: GrpcMessage): Promise<GrpcMessage> {
    const fn = client[method];
    if (typeof fn !== 'function') throw new Error(`no gRPC method ${method}`);
    return new Promise((resolve, reject) => {
      fn.call(client, request, { deadline: Date.now() + grpcDeadlineMs }, (error, reply) => {
        if (error !== null) reject(error);
        else resolve(reply);
      });
    });
  }

  async #lock(method: string, request: GrpcMessage): Promise<LockReply> {
    const r = await this.call(this.locker, method, request);
    return { type: gNum(r['Type']), fencingToken: gNum(r['FencingToken']) };
  }

  tryLock(resource: string, owner: Buffer | null, expiresMs: number, durability: number) {
    return this.#lock('TryLock', { Resource: resource, ...optional('Owner', owner),
      ExpiresMs: expiresMs, Durability: durability });
  }

  extendLock(resource: string, owner: Buffer | null, expiresMs: number, durability: number) {
    return this.#lock('TryExtendLock', { Resource: resource, ...optional('Owner', owner),
      ExpiresMs: expiresMs, Durability: durability });
  }

  unlock(resource: string, owner: Buffer | null, durability: number) {
    return this.#lock('Unlock', { Resource: resource, ...optional('Owner', owner),
      Durability: durability });
  }

  async getLock(resource: string, durability: number): Promise<LockInfoReply> {
    const r = await this.call(this.locker, 'GetLock', { Resource: resource, durability });
    return { type: gNum(r['Type']), owner: gBytes(r['Owner']), expires: gHlc(r, 'Expires'),
      fencingToken: gNum(r['FencingToken']) };
  }

  #setFields(a: SetArgs): GrpcMessage {
    return {
      ...gHlcFields('TransactionId', a.transactionId), Key: a.key, ...optional('Value', a.value),
      ...optional('CompareValue', a.compareValue), CompareRevision: a.compareRevision ?? 0,
      Flags: a.flags ?? 1, ExpiresMs: a.expiresMs ?? 0, Durability: a.durability,
    };
  }

  async #write(method: string, request: GrpcMessage): Promise<KvWriteReply> {
    const r = await this.call(this.keyValuer, method, request);
    return { type: gNum(r['Type']), revision: gNum(r['Revision']),
      lastModified: gHlc(r, 'LastModified') };
  }

  set(args: SetArgs) {
    return this.#write('TrySetKeyValue', { ...this.#setFields(args), CoordinatorKey: '' });
  }

  async get(key: string, durability: number, revision = -1,
    readTimestamp: Hlc = zeroHlc): Promise<KvGetReply> {
    const r = await this.call(this.keyValuer, 'TryGetKeyValue', { Key: key, Revision: revision,
      Durability: durability, ...gHlcFields('ReadTimestamp', readTimestamp) });
    return { type: gNum(r['Type']), value: gBytes(r['Value']), revision: gNum(r['Revision']),
      expires: gHlc(r, 'Expires'), lastModified: gHlc(r, 'LastModified') };
  }

  async exists(key: string, durability: number, revision = -1): Promise<KvExistsReply> {
    const r = await this.call(this.keyValuer, 'TryExistsKeyValue',
      { Key: key, Revision: revision, Durability: durability });
    return { type: gNum(r['Type']), revision: gNum(r['Revision']), expires: gHlc(r, 'Expires'),
      lastModified: gHlc(r, 'LastModified') };
  }

  delete(key: string, durability: number) {
    return this.#write('TryDeleteKeyValue', { Key: key, Durability: durability });
  }

  extend(key: string, expiresMs: number, durability: number) {
    return this.#write('TryExtendKeyValue',
      { Key: key, ExpiresMs: expiresMs, Durability: durability });
  }

  #manyWrite(r: GrpcMessage): ManyReply<ManyWriteItem> {
    return {
      envelope: null,
      items: ((r['Items'] ?? []) as GrpcMessage[]).map((i) => ({
        key: gStr(i['Key']), type: gNum(i['Type']), revision: gNum(i['Revision']),
        durability: gNum(i['Durability']),
      })),
    };
  }

  #manyRead(r: GrpcMessage): ManyReply<ManyReadItem> {
    return {
      envelope: null,
      items: ((r['Items'] ?? []) as GrpcMessage[]).map((i) => ({
        key: gStr(i['Key']), type: gNum(i['Type']), value: gBytes(i['Value']),
        revision: gNum(i['Revision']), durability: gNum(i['Durability']),
      })),
    };
  }

  async setMany(items: readonly SetArgs[]) {
    return this.#manyWrite(await this.call(this.keyValuer, 'TrySetManyKeyValue',
      { Items: items.map((a) => this.#setFields(a)) }));
  }

  async deleteMany(items: readonly { key: string; durability: number; transactionId?: Hlc }[]) {
    return this.#manyWrite(await this.call(this.keyValuer, 'TryDeleteManyKeyValue',
      { Items: items.map((i) => ({ ...gHlcFields('TransactionId', i.transactionId), Key: i.key,
        Durability: i.durability })) }));
  }

  #manyReadRequest(items: readonly KeyAt[], transactionId?: Hlc): GrpcMessage {
    return { ...gHlcFields('TransactionId', transactionId),
      Items: items.map((i) => ({ Key: i.key, Revision: i.revision ?? -1,
        Durability: i.durability })) };
  }

  async getMany(items: readonly KeyAt[], transactionId?: Hlc) {
    return this.#manyRead(await this.call(this.keyValuer, 'TryGetManyValues',
      this.#manyReadRequest(items, transactionId)));
  }

  async existsMany(items: readonly KeyAt[], transactionId?: Hlc) {
    return this.#manyRead(await this.call(this.keyValuer, 'TryExistsManyValues',
      this.#manyReadRequest(items, transactionId)));
  }

  async getByBucket(prefixKey: string, durability: number): Promise<ScanReply> {
    const r = await this.call(this.keyValuer, 'GetByBucket',
      { PrefixKey: prefixKey, Durability: durability });
    return { type: gNum(r['Type']), items: gScanItems(r['Items']) };
  }

  async scanAllByPrefix(prefixKey: string, durability: number): Promise<ScanReply> {
    const r = await this.call(this.keyValuer, 'ScanAllByPrefix',
      { PrefixKey: prefixKey, Durability: durability });
    return { type: gNum(r['Type']), items: gScanItems(r['Items']) };
  }

  #rangeRequest(a: RangeArgs): GrpcMessage {
    return {
      Prefix: a.prefix, ...optional('StartKey', a.startKey),
      StartInclusive: a.startInclusive ?? true, ...optional('EndKey', a.endKey),
      EndInclusive: a.endInclusive ?? false, Limit: a.limit, Durability: a.durability,
    };
  }

  async getByRange(a: RangeArgs): Promise<RangePage> {
    const r = await this.call(this.keyValuer, 'GetByRange', this.#rangeRequest(a));
    const next = r['NextCursor'];
    return { type: gNum(r['Type']), items: gScanItems(r['Items']),
      nextCursor: typeof next === 'string' ? next : null, hasMore: r['HasMore'] === true };
  }

  scanRange(a: RangeArgs): Promise<RangePage[]> {
    const stream = (this.keyValuer as unknown as Record<string, (req: GrpcMessage,
      options: grpc.CallOptions) => grpc.ClientReadableStream<GrpcMessage>>)['GetByRangeStream']!
      .call(this.keyValuer, this.#rangeRequest(a), { deadline: Date.now() + grpcDeadlineMs });
    return new Promise((resolve, reject) => {
      const pages: RangePage[] = [];
      stream.on('data', (r: GrpcMessage) => {
        const next = r['NextCursor'];
        pages.push({ type: gNum(r['Type']), items: gScanItems(r['Items']),
          nextCursor: typeof next === 'string' ? next : null, hasMore: r['HasMore'] === true });
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(pages));
    });
  }

  async #sequence(method: string, request: GrpcMessage): Promise<SequenceReply> {
    const r = await this.call(this.sequencer, method, request);
    return { type: gNum(r['Type']), sequence: gSequence(r['Sequence']),
      revision: gNum(r['Revision']) };
  }

  async #allocation(method: string, request: GrpcMessage): Promise<AllocationReply> {
    const r = await this.call(this.sequencer, method, request);
    return { type: gNum(r['Type']), allocation: gAllocation(r['Allocation']) };
  }

  createSequence(a: CreateSequenceArgs) {
    return this.#sequence('CreateSequence', {
      Name: a.name, InitialValue: a.initialValue ?? 0, Increment: a.increment ?? 1,
      ...optional('MaxValue', a.maxValue), ...optional('BlockSize', a.blockSize),
      Durability: a.durability ?? 1,
    });
  }

  getSequence(name: string, durability = 1) {
    return this.#sequence('GetSequence', { Name: name, Durability: durability });
  }

  updateSequence(a: UpdateSequenceArgs) {
    return this.#sequence('UpdateSequence', {
      Name: a.name, ...optional('CurrentValue', a.currentValue),
      ...optional('Increment', a.increment), ...optional('InitialValue', a.initialValue),
      ...optional('MaxValue', a.maxValue), RemoveMaxValue: a.removeMaxValue ?? false,
      ...optional('BlockSize', a.blockSize), RemoveBlockSize: a.removeBlockSize ?? false,
      Durability: a.durability ?? 1,
    });
  }

  nextSequence(name: string, idempotencyKey?: string, durability = 1) {
    return this.#allocation('NextSequenceValue', { Name: name,
      ...optional('IdempotencyKey', idempotencyKey), Durability: durability });
  }

  reserveSequence(name: string, count: number, idempotencyKey?: string, durability = 1) {
    return this.#allocation('ReserveSequenceRange', { Name: name, Count: count,
      ...optional('IdempotencyKey', idempotencyKey), Durability: durability });
  }

  deleteSequence(name: string, durability = 1) {
    return this.#sequence('DeleteSequence', { Name: name, Durability: durability });
  }

  // ---------------------------------------------------------------- scripts and transactions

  async executeScript(script: string | null, o: ScriptOptions = {}): Promise<ScriptReply> {
    const r = await this.call(this.keyValuer, 'TryExecuteTransactionScript', {
      ...optional('Hash', o.hash),
      ...optional('Script', script === null ? null : Buffer.from(script, 'utf8')),
      Parameters: (o.parameters ?? []).map((p) => ({ Key: p.key, ...optional('Value', p.value) })),
      Priority: (o.priority ?? priorityNormal) + 1,
    });
    return {
      type: gNum(r['Type']), reason: gOptionalString(r['Reason']),
      values: ((r['Values'] ?? []) as GrpcMessage[]).map((v) => ({
        key: gStr(v['Key']), value: gBytes(v['Value']), revision: gNum(v['Revision']),
        expires: gHlc(v, 'Expires'), lastModified: gHlc(v, 'LastModified'),
      })),
      legacy: null,
    };
  }

  async startTransaction(a: StartTxArgs): Promise<StartTxReply> {
    const r = await this.call(this.keyValuer, 'StartTransaction', {
      CoordinatorKey: a.coordinatorKey, LockingType: a.lockingType ?? 0, Timeout: a.timeout ?? 0,
      AsyncRelease: a.asyncRelease ?? false, AutoCommit: a.autoCommit ?? true,
      ReadValidation: a.readValidation ?? 0, DecisionDurability: a.decisionDurability ?? 0,
      ...gHlcFields('ReadTimestamp', a.readTimestamp),
      Priority: (a.priority ?? priorityNormal) + 1, AdmissionWaitMs: a.admissionWaitMs ?? 0,
      ConflictPolicy: (a.conflictPolicy ?? 0) + 1,
    });
    return { type: gNum(r['Type']), transactionId: gHlc(r, 'TransactionId') };
  }

  async commitTransaction(coordinatorKey: string, transactionId: Hlc,
    recordAnchorKey: string | null = null): Promise<EndTxReply> {
    return gEndTx(await this.call(this.keyValuer, 'CommitTransaction', {
      CoordinatorKey: coordinatorKey, ...gHlcFields('TransactionId', transactionId),
      ...optional('RecordAnchorKey', recordAnchorKey) }));
  }

  async rollbackTransaction(coordinatorKey: string, transactionId: Hlc,
    recordAnchorKey: string | null = null): Promise<EndTxReply> {
    return gEndTx(await this.call(this.keyValuer, 'RollbackTransaction', {
      CoordinatorKey: coordinatorKey, ...gHlcFields('TransactionId', transactionId),
      ...optional('RecordAnchorKey', recordAnchorKey) }));
  }

  #lockFields(a: ExclusiveLockArgs, keyField: string): GrpcMessage {
    return { ...gHlcFields('TransactionId', a.transactionId), [keyField]: a.key,
      ExpiresMs: a.expiresMs, Durability: a.durability, CoordinatorKey: a.coordinatorKey ?? '',
      OperationIdHigh: a.operationIdHigh ?? 0, OperationIdLow: a.operationIdLow ?? 0 };
  }

  async tryAcquireExclusiveLock(a: ExclusiveLockArgs): Promise<ExclusiveLockReply> {
    return gExclusiveLock(await this.call(this.keyValuer, 'TryAcquireExclusiveLock',
      this.#lockFields(a, 'Key')));
  }

  async tryAcquireExclusivePrefixLock(a: ExclusiveLockArgs): Promise<ExclusiveLockReply> {
    return gExclusiveLock(await this.call(this.keyValuer, 'TryAcquireExclusivePrefixLock',
      this.#lockFields(a, 'PrefixKey')));
  }

  async tryReleaseExclusivePrefixLock(transactionId: Hlc, prefixKey: string,
    durability: number): Promise<ExclusiveLockReply> {
    const r = await this.call(this.keyValuer, 'TryReleaseExclusivePrefixLock', {
      ...gHlcFields('TransactionId', transactionId), PrefixKey: prefixKey,
      Durability: durability });
    return { type: gNum(r['Type']), holder: zeroHlc };
  }

  txSet(op: TxOp, a: SetArgs) {
    return this.#write('TrySetKeyValue', { ...this.#setFields(a), ...gTxOp(op) });
  }

  async txGet(op: TxOp, key: string, durability: number, revision = -1): Promise<KvGetReply> {
    const r = await this.call(this.keyValuer, 'TryGetKeyValue',
      { ...gTxOp(op), Key: key, Revision: revision, Durability: durability });
    return { type: gNum(r['Type']), value: gBytes(r['Value']), revision: gNum(r['Revision']),
      expires: gHlc(r, 'Expires'), lastModified: gHlc(r, 'LastModified') };
  }

  async txExists(op: TxOp, key: string, durability: number): Promise<KvExistsReply> {
    const r = await this.call(this.keyValuer, 'TryExistsKeyValue',
      { ...gTxOp(op), Key: key, Revision: -1, Durability: durability });
    return { type: gNum(r['Type']), revision: gNum(r['Revision']), expires: gHlc(r, 'Expires'),
      lastModified: gHlc(r, 'LastModified') };
  }

  txDelete(op: TxOp, key: string, durability: number) {
    return this.#write('TryDeleteKeyValue', { ...gTxOp(op), Key: key, Durability: durability });
  }

  txExtend(op: TxOp, key: string, expiresMs: number, durability: number) {
    return this.#write('TryExtendKeyValue',
      { ...gTxOp(op), Key: key, ExpiresMs: expiresMs, Durability: durability });
  }

  async txDeleteMany(op: TxOp, items: readonly { key: string; durability: number }[]) {
    return this.#manyWrite(await this.call(this.keyValuer, 'TryDeleteManyKeyValue', {
      CoordinatorKey: op.coordinatorKey, OperationIdHigh: op.operationIdHigh,
      OperationIdLow: op.operationIdLow,
      Items: items.map((i) => ({ ...gHlcFields('TransactionId', op.transactionId), Key: i.key,
        Durability: i.durability })),
    }));
  }

  async txGetByBucket(op: TxOp, prefixKey: string, durability: number): Promise<ScanReply> {
    const r = await this.call(this.keyValuer, 'GetByBucket',
      { ...gTxOp(op), PrefixKey: prefixKey, Durability: durability });
    return { type: gNum(r['Type']), items: gScanItems(r['Items']) };
  }

  close(): void {
    this.locker.close(); // closes the channel the three stubs share
  }
}

// ------------------------------------------------------------------------------------------------
// Codes (wire.md 2.6)

export const Lock = {
  Locked: 0, Busy: 1, Extended: 2, Unlocked: 3, Got: 4, Errored: 99, InvalidInput: 100,
  MustRetry: 101, LockDoesNotExist: 102, InvalidOwner: 103,
} as const;

export const Kv = {
  Set: 0, NotSet: 1, Extended: 2, Get: 3, Deleted: 4, Locked: 5, Unlocked: 6, Committed: 8,
  RolledBack: 9, Exists: 10, Errored: 99, InvalidInput: 100, MustRetry: 101, Aborted: 102,
  DoesNotExist: 103, AlreadyLocked: 104, PrefixLockUnsupportedOnRangedSpace: 105,
  AdmissionRefused: 108,
} as const;

export const Flags = {
  Set: 1, SetNoRevision: 2, SetIfExists: 4, SetIfNotExists: 8, SetIfEqualToValue: 16,
  SetIfEqualToRevision: 32,
} as const;

export const Seq = {
  Success: 0, NotFound: 1, AlreadyExists: 2, InvalidInput: 3, MaxValueExceeded: 4,
  MustRetry: 5, Error: 99,
} as const;

let uniqueCounter = 0;
/** A name no other case uses (tests share one server). */
export function unique(label: string): string {
  uniqueCounter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${uniqueCounter}`;
}

/** kahuna-ts owner tokens: 32 ASCII hex characters. */
export function owner(): Buffer {
  const hex = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16));
  return Buffer.from(hex.join(''), 'ascii');
}

/** A kahuna-ts style operation id half: random, below 2^53. */
export function operationIdHalf(): number {
  return Math.floor(Math.random() * Number.MAX_SAFE_INTEGER) + 1;
}

/** A TxOp with a fresh operation id (kahuna-ts sends one per operation). */
export function freshOp(transactionId: Hlc, coordinatorKey: string): TxOp {
  return { transactionId, coordinatorKey, operationIdHigh: operationIdHalf(),
    operationIdLow: operationIdHalf() };
}

/** The partition of a key, from the route hint of a REST try-exists reply (wire.md 2.5). */
export async function partitionOfKey(url: string, key: string, durability = 1):
  Promise<number | null> {
  const r = await new RestClient(url).post('/v1/kv/try-exists',
    { ...restTxFields, key, revision: -1, readTimestamp: zeroHlc, durability });
  const route = r['route'] as Json | null | undefined;
  return route === null || route === undefined ? null : num(route['partitionId']);
}

export function text(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
