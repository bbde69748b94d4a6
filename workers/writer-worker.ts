// The writer worker: the only owner of RocksDB (architecture.md, "Writer worker"). Glue only:
// the policy lives in src/core/writer/writer-core.ts, the storage in src/env/rocksdb.ts.
//
// One round: retry acks queued for full outbound rings; drain every link's inbound ring into
// ONE RocksDB WriteBatch (as much as the flush limits allow); commit it with sync: true (one
// WAL fsync); ack every batch in it, answer the reads taken with it, publish once per ring.
// Then sleep on the doorbell until a producer publishes (or a short timeout). Whatever arrives
// while the fsync runs is taken by the next round: that is the group commit.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { assert } from '../src/assert.js';
import {
  ReadQueryKind, WriterCore, WriterStats,
} from '../src/core/writer/writer-core.js';
import type { Flush, ReadQuery, ReadRef } from '../src/core/writer/writer-core.js';
import { RocksStore } from '../src/env/rocksdb.js';
import type { StoreBatch } from '../src/env/rocksdb.js';
import { errorData, errorId } from '../src/errors.js';
import type { ErrorData } from '../src/errors.js';
import {
  Body, encodePersistAck, encodeReadReply, FrameReader, ReadKind, WriteKind, WriteOp,
} from '../src/ipc/frames.js';
import type { PersistBatch, ReadRequest } from '../src/ipc/frames.js';
import { Doorbell, RingConsumer, RingProducer } from '../src/ipc/ring.js';
import { isWriterControl, PersistAckEncoder } from '../src/ipc/writer-protocol.js';
import type {
  WriterControl, WriterEvent, WriterLink, WriterWorkerData,
} from '../src/ipc/writer-protocol.js';
import {
  writerFlushBytesMax, writerFlushFramesMax, writerIdleWaitMs, writerOutboxFramesMax,
  writerOutboxRetryMs, writerReadEntriesMax, writerReadEntryOverheadBytes,
  writerReadReplyOverheadBytes, writerStatsIntervalMs, writerStatsSamplesMax,
} from '../src/limits.js';

/** The thread side of one link. */
interface LinkIo {
  readonly worker: number;
  readonly generation: number;
  readonly consumer: RingConsumer;
  readonly producer: RingProducer;
  readonly reader: FrameReader;
  /** Upper bound of an inbound frame: a ring's frames are at most half its buffer. */
  readonly inboundFrameBytesMax: number;
  /** An open chain (PersistBatch frames with `more`): copied out of the ring, applied and
   *  reported only when its last frame arrives, so the chain commits whole or not at all. A
   *  link replaced mid-chain (its worker died) drops it with the LinkIo. */
  chain: ChainPart[] | null;
}

interface ChainPart {
  readonly partition: number;
  readonly sequence: bigint;
  readonly frameBytes: number;
  readonly ops: { readonly kind: number; readonly key: Uint8Array; readonly value: Uint8Array }[];
}

const emptyBytes = new Uint8Array(0);

function post(event: WriterEvent): void {
  parentPort?.postMessage(event);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class WriterWorker {
  private readonly store: RocksStore;
  private readonly doorbell: Doorbell;
  private readonly core: WriterCore;
  private readonly stats = new WriterStats(writerStatsSamplesMax);
  private readonly links = new Map<number, LinkIo>();
  private readonly writeOp = new WriteOp();
  private readonly ackEncoder = new PersistAckEncoder();
  private batch: StoreBatch | null = null;
  private stopping = false;
  private touched = new Set<LinkIo>();

  constructor(store: RocksStore, data: WriterWorkerData) {
    this.store = store;
    this.doorbell = new Doorbell(data.doorbell);
    this.core = new WriterCore({
      flushBytesMax: writerFlushBytesMax, flushFramesMax: writerFlushFramesMax,
      outboxFramesMax: writerOutboxFramesMax,
    });
    for (const link of data.links) this.setLink(link);
  }

  onControl(message: WriterControl): void {
    if (message.type === 'link') this.setLink(message.link);
    else this.stop();
  }

  stop(): void {
    this.stopping = true;
    this.doorbell.ring(); // wakes the loop if it sleeps (ring() notifies only a sleeper)
  }

  /** Runs rounds until stop() or a failed write. Returns the failure, if any. */
  async run(): Promise<ErrorData | null> {
    const hasWork = (): boolean => this.stopping || this.hasInbound();
    while (!this.stopping) {
      const failure = await this.round();
      if (failure !== null) return failure;
      const waitMs = this.outboxPending() ? writerOutboxRetryMs : writerIdleWaitMs;
      await this.doorbell.wait(hasWork, waitMs);
    }
    this.sendOutboxes(); // best effort: the partition workers may be gone already
    return null;
  }

  postStats(): void {
    if (this.stats.hasData()) post({ type: 'stats', ...this.stats.take() });
  }

  private setLink(link: WriterLink): void {
    const generation = this.core.setLink(link.worker);
    this.links.set(link.worker, {
      worker: link.worker, generation,
      consumer: new RingConsumer(link.inbound),
      producer: new RingProducer(link.outbound, link.outboundDoorbell),
      reader: new FrameReader(),
      inboundFrameBytesMax: Math.floor(link.inbound.byteLength / 2), chain: null,
    });
  }

  private hasInbound(): boolean {
    for (const io of this.links.values()) if (io.consumer.hasData()) return true;
    return false;
  }

  private outboxPending(): boolean {
    for (const worker of this.links.keys()) if (this.core.outbox(worker).length > 0) return true;
    return false;
  }

  private async round(): Promise<ErrorData | null> {
    this.sendOutboxes();
    for (const worker of this.core.drainOrder()) {
      const io = this.links.get(worker);
      assert(io !== undefined, `no io for worker ${worker}`);
      this.drainLink(io);
    }
    if (!this.core.hasFlush()) return null;
    const flush = this.core.closeFlush();
    const failure = await this.commit(flush);
    this.answer(flush, failure);
    this.publishTouched();
    return failure;
  }

  /** Takes frames one at a time: after a ReadRequest nothing more may be taken from the link
   *  in this round (the read must not see writes sent after it), and a frame cannot be put
   *  back once drained. */
  private drainLink(io: LinkIo): void {
    const onFrame = (bytes: Uint8Array, offset: number, length: number): void =>
      this.takeFrame(io, bytes, offset, length);
    let frames = this.core.framesToTake(io.inboundFrameBytesMax);
    while (frames > 0 && this.core.mayTakeFrom(io.worker)) {
      if (io.consumer.drainInPlace(onFrame, 1) === 0) return;
      frames -= 1;
      if (frames === 0) frames = this.core.framesToTake(io.inboundFrameBytesMax);
    }
  }

  private takeFrame(io: LinkIo, bytes: Uint8Array, offset: number, length: number): void {
    const decoded = io.reader.readAt(bytes, offset, length);
    if (decoded.kind === Body.PersistBatch) {
      this.takeBatch(io, decoded.body, length);
    } else if (decoded.kind === Body.ReadRequest) {
      this.core.takeRead(io.worker, copyReadQuery(decoded.body));
    } else {
      assert(false, `writer got a frame of kind ${decoded.kind} from worker ${io.worker}`);
    }
  }

  /** Applies the ops to the open WriteBatch at once: RocksDB copies them, so the ring frame
   *  they alias may be released right after. */
  private takeBatch(io: LinkIo, batch: PersistBatch, frameBytes: number): void {
    if (batch.more() || io.chain !== null) {
      this.takeChainPart(io, batch, frameBytes);
      return;
    }
    const store = (this.batch ??= this.store.batch());
    const opCount = batch.opsLength();
    for (let i = 0; i < opCount; i += 1) {
      const op = batch.ops(i, this.writeOp);
      assert(op !== null, 'PersistBatch op missing');
      const key = op.keyArray() ?? emptyBytes;
      const value = op.valueArray() ?? emptyBytes;
      const kind = op.kind();
      if (kind === WriteKind.Put) store.put(key, value);
      else if (kind === WriteKind.Delete) store.del(key);
      else if (kind === WriteKind.DeleteRange) store.deleteRange(key, value);
      else assert(false, `unknown write kind ${String(kind)}`);
    }
    this.core.takeBatch(io.worker, batch.partition(), batch.sequence(), opCount, frameBytes);
  }

  private takeChainPart(io: LinkIo, batch: PersistBatch, frameBytes: number): void {
    const ops: ChainPart['ops'] = [];
    for (let i = 0; i < batch.opsLength(); i += 1) {
      const op = batch.ops(i, this.writeOp);
      assert(op !== null, 'PersistBatch op missing');
      ops.push({ kind: op.kind(), key: (op.keyArray() ?? emptyBytes).slice(),
        value: (op.valueArray() ?? emptyBytes).slice() });
    }
    const chain = (io.chain ??= []);
    chain.push({ partition: batch.partition(), sequence: batch.sequence(), frameBytes, ops });
    if (batch.more()) return;
    io.chain = null;
    const store = (this.batch ??= this.store.batch());
    for (const part of chain) {
      for (const op of part.ops) {
        if (op.kind === WriteKind.Put) store.put(op.key, op.value);
        else if (op.kind === WriteKind.Delete) store.del(op.key);
        else if (op.kind === WriteKind.DeleteRange) store.deleteRange(op.key, op.value);
        else assert(false, `unknown write kind ${String(op.kind)}`);
      }
      this.core.takeBatch(io.worker, part.partition, part.sequence, part.ops.length,
        part.frameBytes);
    }
  }

  /** One WAL fsync for the whole flush. Returns the failure, if the write failed. */
  private async commit(flush: Flush): Promise<ErrorData | null> {
    const batch = this.batch;
    this.batch = null;
    if (batch === null || batch.length === 0) {
      await batch?.discard();
      return null;
    }
    const startMs = performance.now();
    try {
      await batch.commit();
    } catch (error) {
      return errorData('HONU_ERR_WRITE_FAILED', `RocksDB write failed: ${messageOf(error)}`);
    }
    this.stats.record({
      batchCount: flush.batches.length, entryCount: flush.entryCount, bytes: flush.bytes,
      fsyncMs: performance.now() - startMs,
    });
    return null;
  }

  private answer(flush: Flush, failure: ErrorData | null): void {
    const code = failure === null ? 0 : errorId(failure.code);
    const detail = failure?.detail ?? '';
    for (const group of this.core.acksFor(flush)) {
      const io = this.links.get(group.worker);
      assert(io !== undefined, 'ack group for an unknown worker');
      for (const ack of group.acks) {
        const frame = code === 0 ? this.ackEncoder.encode(ack.partition, ack.sequence)
          : encodePersistAck({ partition: ack.partition, sequence: ack.sequence, code, detail });
        this.send(io, frame);
      }
    }
    for (const ref of this.core.readsFor(flush)) this.answerRead(ref, failure);
  }

  private answerRead(ref: ReadRef, failure: ErrorData | null): void {
    const io = this.links.get(ref.worker);
    assert(io !== undefined, 'read for an unknown worker');
    const id = ref.query.id;
    let frame: Uint8Array;
    if (failure !== null) {
      frame = encodeReadReply({
        id, code: errorId(failure.code), detail: failure.detail, entries: [], more: false,
      });
    } else {
      frame = this.readReplyFrame(io, ref.query);
    }
    this.send(io, frame);
  }

  private readReplyFrame(io: LinkIo, query: ReadQuery): Uint8Array {
    const replyBytesMax = io.producer.frameBytesMax - writerReadReplyOverheadBytes;
    let entries: { key: Uint8Array; value: Uint8Array }[] = [];
    let more = false;
    if (query.kind === ReadQueryKind.get) {
      const value = this.store.getSync(query.start);
      if (value !== undefined) entries = [{ key: query.start, value }];
    } else {
      const limit = query.limit === 0 ? writerReadEntriesMax
        : Math.min(query.limit, writerReadEntriesMax);
      const result = this.store.rangeSync({
        start: query.start, end: query.end.length === 0 ? null : query.end, limit,
        bytesMax: replyBytesMax, entryOverheadBytes: writerReadEntryOverheadBytes,
      });
      entries = result.entries;
      more = result.more;
    }
    const frame = encodeReadReply({ id: query.id, code: 0, detail: '', entries, more });
    if (frame.length <= io.producer.frameBytesMax && (entries.length > 0 || !more)) return frame;
    return encodeReadReply({
      id: query.id, code: errorId('HONU_ERR_INTERNAL'), entries: [], more: false,
      detail: `an entry at or after the read's start does not fit in a ring frame of ` +
        `${io.producer.frameBytesMax} bytes`,
    });
  }

  /** Writes a frame to a link's outbound ring, or queues a copy behind its outbox. */
  private send(io: LinkIo, frame: Uint8Array): void {
    this.touched.add(io);
    if (this.core.outbox(io.worker).length === 0 && io.producer.tryWrite(frame)) return;
    this.core.pushOutbox(io.worker, io.generation, frame.slice());
  }

  private sendOutboxes(): void {
    for (const io of this.links.values()) {
      const outbox = this.core.outbox(io.worker);
      let sent = 0;
      while (sent < outbox.length && io.producer.tryWrite(outbox[sent] as Uint8Array)) sent += 1;
      if (sent === 0) continue;
      outbox.splice(0, sent);
      io.producer.publish();
    }
  }

  private publishTouched(): void {
    for (const io of this.touched) io.producer.publish();
    this.touched = new Set();
  }
}

function copyReadQuery(request: ReadRequest): ReadQuery {
  const kind = request.kind() === ReadKind.Get ? ReadQueryKind.get : ReadQueryKind.range;
  return {
    id: request.id(), kind, start: request.startArray()?.slice() ?? emptyBytes,
    end: request.endArray()?.slice() ?? emptyBytes, limit: request.limit(),
  };
}

async function main(): Promise<void> {
  assert(parentPort !== null, 'writer-worker must run in a worker thread');
  const port = parentPort;
  const data = workerData as WriterWorkerData;
  let store: RocksStore;
  try {
    store = await RocksStore.open(data.dataDir);
  } catch (error) {
    post({ type: 'fatal', code: 'HONU_ERR_WRITE_FAILED',
      detail: `cannot open RocksDB at ${data.dataDir}: ${messageOf(error)}` });
    process.exit(1);
  }
  const writer = new WriterWorker(store, data);
  port.on('message', (message: unknown) => {
    if (isWriterControl(message)) writer.onControl(message);
  });
  const statsTimer = setInterval(() => writer.postStats(), writerStatsIntervalMs);
  post({ type: 'ready' });
  const failure = await writer.run();
  clearInterval(statsTimer);
  writer.postStats();
  if (failure !== null) {
    post({ type: 'fatal', code: failure.code, detail: failure.detail });
    await store.close().catch(() => undefined);
    process.exit(1);
  }
  await store.close();
  post({ type: 'closed' });
  port.close();
}

await main();
