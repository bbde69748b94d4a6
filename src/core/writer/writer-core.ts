// The writer's batching policy, pure (no I/O, no clock): which frames go into the next RocksDB
// WriteBatch, which links may be drained, and which acks go where after the fsync.
//
// Group commit (architecture.md, "Writer worker"): one round drains every link's inbound ring
// into ONE flush, commits it with one fsync, then acks every batch in it. Whatever arrived
// while the previous fsync ran is committed together, so the batch size adapts to the load.
//
// The glue (workers/writer-worker.ts) owns the rings and RocksDB; it asks this core how many
// frames it may take from a link (framesToTake), reports what it took (takeBatch/takeRead),
// closes the flush, commits it, and asks for the acks (acksFor) and reads (readsFor).
import { assert } from '../../assert.js';

export interface WriterCoreConfig {
  /** Soft cap: no frame is taken once a flush holds this many bytes (frames may overshoot). */
  readonly flushBytesMax: number;
  /** Hard cap on frames (PersistBatches and ReadRequests) in one flush. */
  readonly flushFramesMax: number;
  /** A link whose outbox (frames waiting for room in its outbound ring) is this long or
   *  longer is not drained: a partition worker that does not read its acks gets no new ones. */
  readonly outboxFramesMax: number;
}

/** A PersistBatch taken into a flush, identified by its link (worker + generation). */
export interface PersistRef {
  readonly worker: number;
  readonly generation: number;
  readonly partition: number;
  readonly sequence: bigint;
}

export const ReadQueryKind = { get: 0, range: 1 } as const;
export type ReadQueryKindValue = (typeof ReadQueryKind)[keyof typeof ReadQueryKind];

/** A ReadRequest copied out of its ring frame (the frame view dies with the drain callback). */
export interface ReadQuery {
  readonly id: number;
  readonly kind: ReadQueryKindValue;
  readonly start: Uint8Array;
  /** Exclusive end of a range; empty means "to the end of the key space". */
  readonly end: Uint8Array;
  /** Entries wanted by a range; 0 means the writer's own cap. */
  readonly limit: number;
}

export interface ReadRef {
  readonly worker: number;
  readonly generation: number;
  readonly query: ReadQuery;
}

export interface Flush {
  /** 1, 2, 3...: flushes are committed strictly in this order. */
  readonly flushNumber: number;
  readonly batches: readonly PersistRef[];
  readonly reads: readonly ReadRef[];
  /** WriteOps in all batches. */
  readonly entryCount: number;
  /** Frame bytes of all batches. */
  readonly bytes: number;
}

export interface Ack {
  readonly partition: number;
  readonly sequence: bigint;
}

/** The acks of one flush for one link, in the order the link sent its batches. */
export interface AckGroup {
  readonly worker: number;
  readonly acks: readonly Ack[];
}

interface LinkState {
  readonly generation: number;
  /** Highest sequence taken per partition: sequences must increase per link and partition. */
  readonly sequenceByPartition: Map<number, bigint>;
  /** Encoded frames that did not fit in the outbound ring yet, oldest first. */
  readonly outbox: Uint8Array[];
}

function assertConfig(config: WriterCoreConfig): void {
  assert(Number.isInteger(config.flushBytesMax) && config.flushBytesMax > 0, 'flushBytesMax');
  assert(Number.isInteger(config.flushFramesMax) && config.flushFramesMax > 0, 'flushFramesMax');
  assert(Number.isInteger(config.outboxFramesMax) && config.outboxFramesMax > 0, 'outboxFrames');
}

export class WriterCore {
  readonly config: WriterCoreConfig;
  private readonly links = new Map<number, LinkState>();
  private nextGeneration = 1;
  private flushNumber = 1;
  private rotation = 0;
  private batches: PersistRef[] = [];
  private reads: ReadRef[] = [];
  private entryCount = 0;
  private bytes = 0;
  /** Workers a read was taken from in this flush: nothing more is taken from them until the
   *  flush is committed, so the read sees exactly the writes its link sent before it. */
  private readStopped = new Set<number>();

  constructor(config: WriterCoreConfig) {
    assertConfig(config);
    this.config = config;
  }

  /** Adds or replaces the link of `worker`; a replaced link's outbox and acks are dropped
   *  (its partition worker is gone; the new one restores from disk). Returns the generation. */
  setLink(worker: number): number {
    assert(Number.isInteger(worker) && worker >= 0, 'worker must be an index >= 0');
    const generation = this.nextGeneration;
    this.nextGeneration += 1;
    this.links.set(worker, { generation, sequenceByPartition: new Map(), outbox: [] });
    assert(this.generationOf(worker) === generation, 'link was not installed');
    return generation;
  }

  /** The current generation of a worker's link, or 0 if it has none. */
  generationOf(worker: number): number {
    return this.links.get(worker)?.generation ?? 0;
  }

  workers(): number[] {
    return [...this.links.keys()];
  }

  /** Workers whose inbound ring may be drained this round, starting one later each round so
   *  that no link is always first in line when flushes fill up. */
  drainOrder(): number[] {
    const all = [...this.links.keys()].sort((a, b) => a - b);
    const order: number[] = [];
    for (let i = 0; i < all.length; i += 1) {
      const worker = all[(i + this.rotation) % all.length];
      assert(worker !== undefined, 'rotation out of range');
      if (this.outbox(worker).length < this.config.outboxFramesMax) order.push(worker);
    }
    this.rotation = all.length === 0 ? 0 : (this.rotation + 1) % all.length;
    return order;
  }

  /** How many frames the glue may drain now from a link whose frames are at most
   *  frameBytesMax long, so that the flush stays under its limits: at least one while room is
   *  left, so a flush never exceeds flushBytesMax + one frame. */
  framesToTake(frameBytesMax: number): number {
    assert(Number.isInteger(frameBytesMax) && frameBytesMax > 0, 'frameBytesMax must be > 0');
    const framesLeft = this.config.flushFramesMax - this.batches.length - this.reads.length;
    const bytesLeft = this.config.flushBytesMax - this.bytes;
    if (framesLeft <= 0 || bytesLeft <= 0) return 0;
    const bySize = Math.max(1, Math.floor(bytesLeft / frameBytesMax));
    const frames = Math.min(framesLeft, bySize);
    assert(frames >= 1 && frames <= framesLeft, 'framesToTake out of range');
    return frames;
  }

  takeBatch(worker: number, partition: number, sequence: bigint, entryCount: number,
    frameBytes: number): void {
    const link = this.links.get(worker);
    assert(link !== undefined, `takeBatch from unknown worker ${worker}`);
    assert(!this.readStopped.has(worker), 'takeBatch from a worker stopped by a read');
    assert(entryCount >= 0 && frameBytes > 0, 'takeBatch sizes');
    const last = link.sequenceByPartition.get(partition) ?? 0n;
    assert(sequence > last, `sequence ${sequence} of partition ${partition} not above ${last}`);
    link.sequenceByPartition.set(partition, sequence);
    this.batches.push({ worker, generation: link.generation, partition, sequence });
    this.entryCount += entryCount;
    this.bytes += frameBytes;
  }

  takeRead(worker: number, query: ReadQuery): void {
    const link = this.links.get(worker);
    assert(link !== undefined, `takeRead from unknown worker ${worker}`);
    assert(query.kind === ReadQueryKind.get || query.kind === ReadQueryKind.range, 'read kind');
    assert(!this.readStopped.has(worker), 'takeRead from a worker stopped by a read');
    this.reads.push({ worker, generation: link.generation, query });
    this.readStopped.add(worker);
  }

  /** False once a read was taken from the worker in this flush (see readStopped). */
  mayTakeFrom(worker: number): boolean {
    return !this.readStopped.has(worker);
  }

  hasFlush(): boolean {
    return this.batches.length > 0 || this.reads.length > 0;
  }

  /** Ends the flush being filled and returns it for commit. */
  closeFlush(): Flush {
    assert(this.hasFlush(), 'closeFlush with nothing taken');
    const flush: Flush = {
      flushNumber: this.flushNumber, batches: this.batches, reads: this.reads,
      entryCount: this.entryCount, bytes: this.bytes,
    };
    this.flushNumber += 1;
    this.batches = [];
    this.reads = [];
    this.entryCount = 0;
    this.bytes = 0;
    this.readStopped = new Set();
    assert(!this.hasFlush(), 'closeFlush must leave an empty flush');
    return flush;
  }

  /** The acks of a committed (or failed) flush, grouped per live link in send order. Batches
   *  of links replaced since they were taken are dropped. */
  acksFor(flush: Flush): AckGroup[] {
    const groups = new Map<number, Ack[]>();
    for (const ref of flush.batches) {
      if (this.generationOf(ref.worker) !== ref.generation) continue;
      let acks = groups.get(ref.worker);
      if (acks === undefined) {
        acks = [];
        groups.set(ref.worker, acks);
      }
      acks.push({ partition: ref.partition, sequence: ref.sequence });
    }
    return [...groups].map(([worker, acks]) => ({ worker, acks }));
  }

  /** The reads of a flush whose links are still live; answer them after its commit. */
  readsFor(flush: Flush): ReadRef[] {
    return flush.reads.filter((ref) => this.generationOf(ref.worker) === ref.generation);
  }

  /** Frames waiting for room in a worker's outbound ring (empty for unknown workers). */
  outbox(worker: number): Uint8Array[] {
    return this.links.get(worker)?.outbox ?? [];
  }

  /** Queues a frame (a copy the caller no longer touches) behind the worker's outbox. */
  pushOutbox(worker: number, generation: number, frame: Uint8Array): void {
    const link = this.links.get(worker);
    if (link === undefined || link.generation !== generation) return;
    link.outbox.push(frame);
  }
}

export interface FlushSample {
  readonly batchCount: number;
  readonly entryCount: number;
  readonly bytes: number;
  readonly fsyncMs: number;
}

/** What the writer reports about once a second (the 'stats' message). */
export interface WriterStatsReport {
  readonly flushCount: number;
  readonly batchCount: number;
  readonly entryCount: number;
  readonly bytes: number;
  readonly fsyncMsTotal: number;
  readonly fsyncMsMax: number;
  /** Per-flush samples, evenly thinned to at most samplesMax when there were more flushes:
   *  sample j is flush j * stride and stands for the flushes up to the next sample. */
  readonly samples: {
    readonly stride: number;
    readonly entryCount: number[];
    readonly bytes: number[];
    readonly fsyncMs: number[];
  };
}

/** Flush statistics with bounded memory: keeps every stride-th sample, doubling the stride
 *  (and dropping every other kept sample) whenever the arrays fill up. */
export class WriterStats {
  private readonly samplesMax: number;
  private flushCount = 0;
  private batchCount = 0;
  private entryCount = 0;
  private bytes = 0;
  private fsyncMsTotal = 0;
  private fsyncMsMax = 0;
  private stride = 1;
  private sampleEntries: number[] = [];
  private sampleBytes: number[] = [];
  private sampleFsyncMs: number[] = [];

  constructor(samplesMax: number) {
    assert(Number.isInteger(samplesMax) && samplesMax >= 2, 'samplesMax must be >= 2');
    this.samplesMax = samplesMax;
  }

  record(sample: FlushSample): void {
    assert(sample.fsyncMs >= 0, 'fsyncMs must be >= 0');
    if (this.flushCount % this.stride === 0) {
      if (this.sampleEntries.length >= this.samplesMax) this.thin();
      if (this.flushCount % this.stride === 0) {
        this.sampleEntries.push(sample.entryCount);
        this.sampleBytes.push(sample.bytes);
        this.sampleFsyncMs.push(sample.fsyncMs);
      }
    }
    this.flushCount += 1;
    this.batchCount += sample.batchCount;
    this.entryCount += sample.entryCount;
    this.bytes += sample.bytes;
    this.fsyncMsTotal += sample.fsyncMs;
    this.fsyncMsMax = Math.max(this.fsyncMsMax, sample.fsyncMs);
    assert(this.sampleEntries.length <= this.samplesMax, 'samples exceed samplesMax');
  }

  hasData(): boolean {
    return this.flushCount > 0;
  }

  /** Returns the report since the last take() and starts a new interval. */
  take(): WriterStatsReport {
    const report: WriterStatsReport = {
      flushCount: this.flushCount, batchCount: this.batchCount, entryCount: this.entryCount,
      bytes: this.bytes, fsyncMsTotal: this.fsyncMsTotal, fsyncMsMax: this.fsyncMsMax,
      samples: {
        stride: this.stride, entryCount: this.sampleEntries, bytes: this.sampleBytes,
        fsyncMs: this.sampleFsyncMs,
      },
    };
    this.flushCount = 0;
    this.batchCount = 0;
    this.entryCount = 0;
    this.bytes = 0;
    this.fsyncMsTotal = 0;
    this.fsyncMsMax = 0;
    this.stride = 1;
    this.sampleEntries = [];
    this.sampleBytes = [];
    this.sampleFsyncMs = [];
    return report;
  }

  /** Keeps samples 0, 2, 4...: those are exactly the flushes at multiples of the new stride. */
  private thin(): void {
    const keep = (_: number, i: number): boolean => i % 2 === 0;
    this.sampleEntries = this.sampleEntries.filter(keep);
    this.sampleBytes = this.sampleBytes.filter(keep);
    this.sampleFsyncMs = this.sampleFsyncMs.filter(keep);
    this.stride *= 2;
  }
}
