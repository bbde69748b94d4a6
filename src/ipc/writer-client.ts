// The partition worker's side of the writer protocol (src/ipc/writer-protocol.ts).
//
// The client owns no loop and no timer: the partition worker runs ONE loop over all its
// inbound rings with one Doorbell. Per turn it calls persist()/get()/range() as needed, then
// flush() once (one publish, one doorbell ring for the whole turn), and passes every frame it
// drains from the writer's outbound ring to handleFrame(). By default a microtask publishes
// too, so calls made from promise continuations (after flush()) are not held a whole turn.
//
// Acks arrive in the order batches were sent (one ring in, FIFO flushes, FIFO outbox), so
// pending persists are a FIFO checked against each ack; reads are matched by id.
import { assert } from '../assert.js';
import { errorCodeOf, errorData, HonuError } from '../errors.js';
import type { ErrorData } from '../errors.js';
import { writerClientPendingMax, writerRingBytesDefault } from '../limits.js';
import {
  Body, encodePersistBatch, encodeReadRequest, FrameReader, KeyValue, ReadKind, WriteKind,
} from './frames.js';
import type { KeyValueData, ReadReply, WriteOpData } from './frames.js';
import { createRingBuffer } from './ring.js';
import type { RingProducer } from './ring.js';
import type { WriterLink } from './writer-protocol.js';

export type WriteOpInput =
  | { readonly kind: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: 'delete'; readonly key: Uint8Array }
  /** Deletes every key in [start, end), atomically with the rest of the batch. */
  | { readonly kind: 'deleteRange'; readonly start: Uint8Array; readonly end: Uint8Array };

export interface ReadResult {
  /** Copies: they outlive the ring frame. */
  readonly entries: KeyValueData[];
  /** A range stopped at its limit (or at the reply size cap): continue after the last key. */
  readonly more: boolean;
}

/** Called for every ack, before the persist() promise settles. */
export type AckListener = (partition: number, sequence: bigint, error: ErrorData | null) => void;

export interface WriterClientOptions {
  readonly onAck?: AckListener;
  /** 'microtask' (default): frames written by persist()/get()/range() are also published by
   *  a microtask queued at the first unpublished write, so a call made from a promise
   *  continuation after the turn's flush() does not wait for the next turn. 'manual': only
   *  flush() publishes (one publish per turn, for callers that always flush). */
  readonly publish?: 'microtask' | 'manual';
  /** Persists plus reads in flight; more are rejected with HONU_ERR_QUEUE_FULL. */
  readonly pendingMax?: number;
}

interface PendingPersist {
  readonly partition: number;
  readonly sequence: bigint;
  readonly resolve: () => void;
  readonly reject: (error: ErrorData) => void;
  /** The frame could not be queued (write() rejected): no ack will come for it. */
  dropped: boolean;
}

interface PendingRead {
  readonly resolve: (result: ReadResult) => void;
  readonly reject: (error: ErrorData) => void;
}

const u32Max = 0xffff_ffff;
/** Frame bytes kept free for the FlatBuffers table around a chain frame's ops. */
const chainFrameSlackBytes = 4096;
/** Per-op FlatBuffers overhead assumed when cutting a chain (vtable, offsets, padding). */
const chainOpOverheadBytes = 48;
const emptyBytes = new Uint8Array(0);

function toWriteOpData(op: WriteOpInput): WriteOpData {
  switch (op.kind) {
    case 'put':
      assert(op.key.length > 0, 'put: empty key');
      return { kind: WriteKind.Put, key: op.key, value: op.value };
    case 'delete':
      assert(op.key.length > 0, 'delete: empty key');
      return { kind: WriteKind.Delete, key: op.key, value: emptyBytes };
    case 'deleteRange':
      assert(op.start.length > 0 && op.end.length > 0, 'deleteRange: empty bound');
      return { kind: WriteKind.DeleteRange, key: op.start, value: op.end };
  }
}

function asErrorData(error: unknown): ErrorData {
  if (error instanceof HonuError) return error.toData();
  return errorData('HONU_ERR_INTERNAL', error instanceof Error ? error.message : String(error));
}

/** Creates the rings of one link. `outboundDoorbell` is the partition worker's doorbell. */
export function createWriterLink(worker: number, outboundDoorbell: SharedArrayBuffer,
  ringBytes: number = writerRingBytesDefault): WriterLink {
  assert(Number.isInteger(worker) && worker >= 0, 'worker must be an index >= 0');
  return {
    worker, inbound: createRingBuffer(ringBytes), outbound: createRingBuffer(ringBytes),
    outboundDoorbell,
  };
}

export class WriterClient {
  private readonly toWriter: RingProducer;
  private readonly onAck: AckListener | undefined;
  private readonly pendingMax: number;
  private readonly reader = new FrameReader();
  private readonly kv = new KeyValue();
  private readonly sequenceByPartition = new Map<number, bigint>();
  private persists: PendingPersist[] = [];
  private persistsFirst = 0;
  private readonly reads = new Map<number, PendingRead>();
  private nextReadId = 1;
  private failedWith: ErrorData | null = null;
  private readonly autoPublish: boolean;
  private publishQueued = false;
  private readonly publishTask = (): void => {
    this.publishQueued = false;
    this.toWriter.publish();
  };

  /** `toWriter` is the producer of the link's inbound ring (constructed with the writer's
   *  doorbell). */
  constructor(toWriter: RingProducer, options: WriterClientOptions = {}) {
    this.toWriter = toWriter;
    this.onAck = options.onAck;
    this.pendingMax = options.pendingMax ?? writerClientPendingMax;
    this.autoPublish = (options.publish ?? 'microtask') === 'microtask';
    assert(this.pendingMax >= 1, 'pendingMax must be >= 1');
  }

  /** Largest encoded frame the link carries. */
  get frameBytesMax(): number {
    return this.toWriter.frameBytesMax;
  }

  /** Persists and reads waiting for the writer. */
  pendingCount(): number {
    return this.persists.length - this.persistsFirst + this.reads.size;
  }

  /** The last sequence assigned to a partition's batch (0n before the first). */
  lastSequence(partition: number): bigint {
    return this.sequenceByPartition.get(partition) ?? 0n;
  }

  /**
   * Sends the ops as one PersistBatch with the partition's next sequence (1, 2, ...). Resolves
   * after the writer's fsync made them durable; rejects with ErrorData (a plain object) if
   * the write failed, the batch does not fit in a frame, too much is pending, or failAll().
   * Call flush() before the end of the turn.
   */
  persist(partition: number, ops: readonly WriteOpInput[]): Promise<void> {
    assert(Number.isInteger(partition) && partition >= 0 && partition <= u32Max, 'partition');
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    const data = ops.map(toWriteOpData);
    const frame = encodePersistBatch({ partition, sequence: this.lastSequence(partition) + 1n,
      ops: data });
    if (frame.length <= this.toWriter.frameBytesMax) return this.persistFrame(partition, frame);
    return this.persistChain(partition, data);
  }

  /** A persist too large for one frame goes as a chain of frames (`more` on all but the last)
   *  that the writer commits in one WriteBatch: still one atomic write. Resolves with the last
   *  frame's ack. One op larger than a frame is refused. */
  private persistChain(partition: number, ops: readonly WriteOpData[]): Promise<void> {
    const budget = this.toWriter.frameBytesMax - chainFrameSlackBytes;
    const chunks: WriteOpData[][] = [[]];
    let bytes = 0;
    for (const op of ops) {
      const size = op.key.length + op.value.length + chainOpOverheadBytes;
      if (size > budget) {
        return Promise.reject(errorData('HONU_ERR_INVALID_INPUT',
          `one write of ${size} bytes exceeds the ${budget}-byte frame budget`));
      }
      if (bytes + size > budget) {
        chunks.push([]);
        bytes = 0;
      }
      chunks[chunks.length - 1]!.push(op);
      bytes += size;
    }
    let last: Promise<void> = Promise.resolve();
    chunks.forEach((chunk, i) => {
      const more = i < chunks.length - 1;
      const frame = encodePersistBatch({ partition, sequence: this.lastSequence(partition) + 1n,
        ops: chunk, more });
      assert(frame.length <= this.toWriter.frameBytesMax, 'chain frame over budget');
      last = this.persistFrame(partition, frame);
      if (more) last.catch(() => {}); // the last frame's promise reports the chain's outcome
    });
    return last;
  }

  private persistFrame(partition: number, frame: Uint8Array): Promise<void> {
    const sequence = this.lastSequence(partition) + 1n;
    this.sequenceByPartition.set(partition, sequence);
    return new Promise<void>((resolve, reject) => {
      const pending: PendingPersist = { partition, sequence, resolve, reject, dropped: false };
      this.persists.push(pending);
      this.send(frame, () => {
        pending.dropped = true;
      }, reject);
    });
  }

  /** The value of one key, after every persist sent before this call was applied. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    assert(key.length > 0, 'get: empty key');
    const result = await this.read(ReadKind.Get, key, emptyBytes, 1);
    return result.entries[0]?.value;
  }

  /** Entries with start <= key < end (end null: to the end of the key space), at most
   *  `limit` (0: the writer's cap); `more` says there are more: continue after the last key. */
  range(start: Uint8Array, end: Uint8Array | null, limit = 0): Promise<ReadResult> {
    assert(start.length > 0, 'range: empty start');
    assert(Number.isInteger(limit) && limit >= 0 && limit <= u32Max, 'range: limit');
    return this.read(ReadKind.Range, start, end ?? emptyBytes, limit);
  }

  /** Publishes what this turn wrote (one atomic store, one doorbell ring at most). */
  flush(): void {
    this.toWriter.publish();
  }

  /** Handles one frame drained from the writer's outbound ring (a view valid only during the
   *  call). Returns false for a frame that is not the writer's (not consumed here). */
  handleFrame(frame: Uint8Array): boolean {
    return this.handleFrameAt(frame, 0, frame.length);
  }

  /** handleFrame for RingConsumer.drainInPlace: the frame is bytes[offset, offset + length). */
  handleFrameAt(bytes: Uint8Array, offset: number, length: number): boolean {
    const decoded = this.reader.readAt(bytes, offset, length);
    const ours = decoded.kind === Body.PersistAck || decoded.kind === Body.ReadReply;
    if (ours && this.failedWith !== null) return true; // failAll() already settled everything
    if (decoded.kind === Body.PersistAck) {
      const ack = decoded.body;
      this.onPersistAck(ack.partition(), ack.sequence(), ack.code(), ack.detail() ?? '');
      return true;
    }
    if (decoded.kind === Body.ReadReply) {
      this.onReadReply(decoded.body);
      return true;
    }
    return false;
  }

  /** Rejects everything pending, and every later call, with `error` (the writer died, or
   *  this worker is being replaced). */
  failAll(error: ErrorData): void {
    this.failedWith = error;
    const persists = this.persists.slice(this.persistsFirst);
    this.persists = [];
    this.persistsFirst = 0;
    const reads = [...this.reads.values()];
    this.reads.clear();
    for (const p of persists) {
      if (p.dropped) continue;
      this.onAck?.(p.partition, p.sequence, error);
      p.reject(error);
    }
    for (const r of reads) r.reject(error);
    assert(this.pendingCount() === 0, 'failAll left work pending');
  }

  private refusal(): ErrorData | null {
    if (this.failedWith !== null) return this.failedWith;
    if (this.pendingCount() >= this.pendingMax) {
      return errorData('HONU_ERR_QUEUE_FULL', `${this.pendingMax} writer requests pending`);
    }
    return null;
  }

  private read(kind: ReadKind, start: Uint8Array, end: Uint8Array,
    limit: number): Promise<ReadResult> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    const id = this.takeReadId();
    const frame = encodeReadRequest({ id, readKind: kind, start, end, limit });
    assert(frame.length <= this.toWriter.frameBytesMax, 'read request larger than a frame');
    return new Promise<ReadResult>((resolve, reject) => {
      this.reads.set(id, { resolve, reject });
      this.send(frame, () => {
        this.reads.delete(id);
      }, reject);
    });
  }

  private takeReadId(): number {
    for (;;) {
      const id = this.nextReadId;
      this.nextReadId = id === u32Max ? 1 : id + 1;
      if (!this.reads.has(id)) return id;
    }
  }

  /** Fast path: copy into the ring now (published by flush() or the publish microtask). Full
   *  ring: write() waits for
   *  space, keeping call order, then publishes itself so the frame is not left unpublished
   *  until the next turn. */
  private send(frame: Uint8Array, forget: () => void, reject: (error: ErrorData) => void): void {
    if (this.toWriter.tryWrite(frame)) {
      if (this.autoPublish && !this.publishQueued) {
        this.publishQueued = true;
        queueMicrotask(this.publishTask);
      }
      return;
    }
    this.toWriter.write(frame).then(() => {
      this.toWriter.publish();
    }, (error: unknown) => {
      forget();
      reject(asErrorData(error));
    });
  }

  private onPersistAck(partition: number, sequence: bigint, code: number, detail: string): void {
    let head = this.persists[this.persistsFirst];
    while (head !== undefined && head.dropped) {
      this.shiftPersist();
      head = this.persists[this.persistsFirst];
    }
    assert(head !== undefined, `ack ${partition}/${sequence} with no persist pending`);
    assert(head.partition === partition && head.sequence === sequence,
      `ack ${partition}/${sequence} out of order: expected ${head.partition}/${head.sequence}`);
    this.shiftPersist();
    const error = code === 0 ? null : errorData(errorCodeOf(code), detail);
    this.onAck?.(partition, sequence, error);
    if (error === null) head.resolve();
    else head.reject(error);
  }

  private shiftPersist(): void {
    this.persistsFirst += 1;
    if (this.persistsFirst === this.persists.length) {
      this.persists = [];
      this.persistsFirst = 0;
    } else if (this.persistsFirst >= 1024 && this.persistsFirst * 2 >= this.persists.length) {
      this.persists = this.persists.slice(this.persistsFirst);
      this.persistsFirst = 0;
    }
  }

  private onReadReply(reply: ReadReply): void {
    const id = reply.id();
    const pending = this.reads.get(id);
    assert(pending !== undefined, `read reply ${id} with no read pending`);
    this.reads.delete(id);
    const code = reply.code();
    if (code !== 0) {
      pending.reject(errorData(errorCodeOf(code), reply.detail() ?? ''));
      return;
    }
    const entries: KeyValueData[] = [];
    for (let i = 0; i < reply.entriesLength(); i += 1) {
      const kv = reply.entries(i, this.kv);
      assert(kv !== null, 'read reply entry missing');
      entries.push({ key: kv.keyArray()?.slice() ?? emptyBytes,
        value: kv.valueArray()?.slice() ?? emptyBytes });
    }
    pending.resolve({ entries, more: reply.more() });
  }
}
