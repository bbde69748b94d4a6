// Two clients of one Honu endpoint with the same interface, so every acceptance case runs over
// both transports:
// - RestClient: fetch, Kahuna's REST JSON shapes (wire.md 3), base64 bytes, {n,l,c} timestamps;
// - GrpcClient: a real @grpc/grpc-js client over h2c (prior knowledge) on the same port, built
//   with @grpc/proto-loader over proto/*.proto with kahuna-ts's loader options (keepCase, longs
//   as Number, defaults off, oneofs on; wire.md 1.2). It deliberately does not reuse the server's
//   ts-proto code, so the two sides of the wire are encoded by different libraries.
// Replies are normalized to one camelCase shape: an absent scalar is 0/''/false, absent bytes are
// null (not the same as empty bytes), an absent timestamp is {n:0,l:0,c:0}.
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
  Set: 0, NotSet: 1, Extended: 2, Get: 3, Deleted: 4, Exists: 10, Errored: 99,
  InvalidInput: 100, MustRetry: 101, DoesNotExist: 103,
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

export function text(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
