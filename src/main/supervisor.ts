// Spawns and supervises the node's threads: one writer worker (sole RocksDB owner) and W
// partition workers (long-lived worker_threads, not a pool), or with W = 0 one partition host
// on the main thread (src/main/inline-worker.ts) that it supervises the same way. Wires their
// rings, routes client requests to the worker owning a partition, and turns a dead worker into
// MustRetry answers while it is restarted from disk. Nothing here waits without a deadline:
// the node never hangs.
import { Worker } from 'node:worker_threads';
import { assert } from '../assert.js';
import { errorCodeOf, errorData, type ErrorData } from '../errors.js';
import { Body, encodeClientRequest, encodeRaftMessage, FrameReader } from '../ipc/frames.js';
import { splitPeerBatch } from '../core/raft/multi/batch-codec.js';
import { LeaderTable } from '../ipc/leader-table.js';
import {
  partitionsOfWorker, workerOfPartition, type PartitionEvent, type PartitionWorkerData,
} from '../ipc/partition-protocol.js';
import {
  createDoorbell, createRingBuffer, Doorbell, RingConsumer, RingProducer,
} from '../ipc/ring.js';
import { createWriterLink } from '../ipc/writer-client.js';
import { InlineWorker } from './inline-worker.js';
import { encode } from '../ipc/messages/codec.js';
import { type KahunaOpValue, opCodecs } from '../ipc/messages/kahuna.js';
import { defaultReadMode, type ReadMode } from '../core/partition/raft-config.js';
import type { WriterEvent, WriterLink, WriterWorkerData } from '../ipc/writer-protocol.js';
import { workerPath } from '../env/paths.js';
import {
  mainRingBytes, partitionCheckpointEntries, shutdownDeadlineMs, threadIdleWaitMs, workerRequestSweepMs,
  workerRequestTimeoutMs, workerRequestsInflightMax, workerRestartDelayMaxMs,
  workerRestartDelayMs, workerStableMs, workerStartTimeoutMs,
} from '../limits.js';
import type { Logger } from './log.js';
import type { Metrics, RingDepth, ThreadWakeups } from './metrics.js';

export interface SupervisorOptions {
  readonly nodeId: number;
  /** Node ids of the initial cluster (every partition's bootstrap voters); default [nodeId]. */
  readonly voters?: readonly number[];
  /** Applied entries between checkpoints; default partitionCheckpointEntries. */
  readonly checkpointEntries?: number;
  /** --reads (default defaultReadMode). */
  readonly reads?: ReadMode;
  readonly dataDir: string;
  readonly partitions: number;
  /** Partition worker threads; 0: every partition on the main thread (one inline host). */
  readonly workers: number;
  readonly log: Logger;
  readonly metrics: Metrics;
}

/** A worker's answer: `error` null on success. */
export interface WorkerReply {
  readonly error: ErrorData | null;
  readonly payload: Uint8Array;
  /** The decoded response object instead of `payload` (empty then): only to a request made
   *  with wantValue, answered by an inline host. Shared with the state: never mutated. */
  readonly value?: unknown;
}

interface Pending {
  readonly resolve: (reply: WorkerReply) => void;
  readonly deadlineMs: number;
  /** The request's op, to encode an object answer for a caller that wants bytes. */
  readonly op: number;
  readonly wantValue: boolean;
}

type SlotState = 'starting' | 'up' | 'down' | 'stopping';

/** A partition worker thread, or the main thread's inline host, as the supervisor sees it. */
type PartitionThread = Worker | InlineWorker;

/** One partition worker and its rings, replaced wholesale when the worker restarts. */
interface Slot {
  readonly index: number;
  readonly partitions: readonly number[];
  state: SlotState;
  worker: PartitionThread | null;
  toWorker: RingProducer | null;
  fromWorker: RingConsumer | null;
  /** The worker's own doorbell (main and the writer ring it). */
  bell: Doorbell | null;
  link: WriterLink | null;
  readonly pending: Map<number, Pending>;
  nextId: number;
  consecutiveDeaths: number;
  startedAtMs: number;
  restartTimer: NodeJS.Timeout | null;
}

const emptyPayload = new Uint8Array(0);

/** HONU_DEBUG_FREEZE_REPLIES=1 (the test suite sets it): object answers are deep-frozen, so a
 *  consumer that mutates one, or a state that mutates what it shared with one, throws. */
const freezeReplies = process.env['HONU_DEBUG_FREEZE_REPLIES'] === '1';

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return;
  if (Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

/** What an inline host may hold handed over and not yet handled: a worker thread's ring. */
const inlineQueuedBytesMax = mainRingBytes;

/** Room for a ClientRequest frame's own fields: below this a payload surely fits its frame. */
const inlineFrameSlackBytes = 256;

function tooLargeReply(frame: Uint8Array, ring: RingProducer): WorkerReply {
  return retryReply('HONU_ERR_INVALID_INPUT',
    `request of ${frame.length} bytes exceeds the ${ring.frameBytesMax}-byte frame limit`);
}

function retryReply(code: ErrorData['code'], detail?: string): WorkerReply {
  return { error: errorData(code, detail), payload: emptyPayload };
}

export class Supervisor {
  readonly leaderTable: LeaderTable;
  private readonly opts: SupervisorOptions;
  private readonly leaderSab: SharedArrayBuffer;
  private readonly mainDoorbellSab = createDoorbell();
  private readonly mainDoorbell = new Doorbell(this.mainDoorbellSab);
  private readonly writerDoorbell = createDoorbell();
  private readonly writerBell = new Doorbell(this.writerDoorbell);
  private readonly reader = new FrameReader();
  private readonly slots: Slot[] = [];
  /** Slots (partition hosts): opts.workers, or one inline host when opts.workers is 0. */
  private readonly slotCount: number;
  private writer: Worker | null = null;
  private writerUp = false;
  private stopping = false;
  private publishScheduled = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  /** Raft batches the workers address to peer nodes (the peer transport sends them). */
  onRaftOut: ((to: number, batch: Uint8Array) => void) | null = null;
  /** Membership changes the workers applied (the cluster's member registry listens). */
  onMembers: ((event: Extract<PartitionEvent, { type: 'members' }>) => void) | null = null;
  /** Raft batches from peers that could not be handed to a worker (down, ring full). */
  raftDropped = 0;

  constructor(opts: SupervisorOptions) {
    assert(opts.workers >= 0 && opts.workers <= opts.partitions, 'workers in 0..partitions');
    this.opts = opts;
    this.slotCount = Math.max(1, opts.workers);
    this.leaderSab = LeaderTable.create(opts.partitions);
    this.leaderTable = new LeaderTable(this.leaderSab);
    for (let i = 0; i < this.slotCount; i++) {
      this.slots.push({
        index: i, partitions: partitionsOfWorker(i, this.slotCount, opts.partitions),
        state: 'down', worker: null, toWorker: null, fromWorker: null, bell: null, link: null,
        pending: new Map(), nextId: 1, consecutiveDeaths: 0, startedAtMs: 0, restartTimer: null,
      });
    }
    opts.metrics.setRingDepthSource(() => this.ringDepths());
    opts.metrics.setWakeupSource(() => this.wakeups());
  }

  /** Starts the writer, then every partition worker; resolves when all restored from disk. */
  async start(): Promise<void> {
    await this.startWriter();
    this.pumping = this.pumpReplies();
    this.sweepTimer = setInterval(() => this.sweepExpired(), workerRequestSweepMs);
    this.sweepTimer.unref();
    await Promise.all(this.slots.map((slot) => this.startWorker(slot)));
  }

  /** Partition ids hosted on this node. */
  hostedPartitions(): number[] {
    return this.slots.flatMap((slot) => slot.partitions);
  }

  /** True when the writer runs and every hosted partition has a leader. */
  ready(): boolean {
    return this.writerUp && !this.stopping &&
      this.leaderTable.allHaveLeader(this.hostedPartitions());
  }

  /** Sends one request to the worker owning `partition`. Never rejects: failures come back as
   *  `error` (MustRetry-class codes when the worker is down, busy or slow). With `wantValue`,
   *  an inline host's answer to a Kahuna op may come as the response object (`value`), so
   *  it is neither encoded nor decoded on its way. */
  request(partition: number, op: number, payload: Uint8Array,
    wantValue = false): Promise<WorkerReply> {
    assert(partition >= 1 && partition <= this.opts.partitions, 'partition out of range');
    const slot = this.slots[workerOfPartition(partition, this.slotCount)];
    assert(slot !== undefined, 'every partition has a slot');
    if (this.stopping) return Promise.resolve(retryReply('HONU_ERR_SHUTTING_DOWN'));
    if (slot.state !== 'up' || slot.toWorker === null) {
      return Promise.resolve(retryReply('HONU_ERR_WORKER_DOWN'));
    }
    if (this.leaderTable.leaderOf(partition) === 0) {
      return Promise.resolve(retryReply('HONU_ERR_MUST_RETRY', 'partition has no leader'));
    }
    if (slot.pending.size >= workerRequestsInflightMax) {
      return Promise.resolve(retryReply('HONU_ERR_QUEUE_FULL'));
    }
    return this.send(slot, slot.toWorker, partition, op, payload, wantValue);
  }

  private send(slot: Slot, ring: RingProducer, partition: number, op: number,
    payload: Uint8Array, wantValue: boolean): Promise<WorkerReply> {
    const id = slot.nextId;
    slot.nextId = slot.nextId === 0xffff_ffff ? 1 : slot.nextId + 1;
    const host = slot.worker;
    if (host instanceof InlineWorker) {
      // Handed over as it is; the size bound is a worker thread's (the frame it would take).
      if (payload.length + inlineFrameSlackBytes > ring.frameBytesMax) {
        const tooLarge = this.frameTooLarge(ring, id, partition, op, payload);
        if (tooLarge !== null) return Promise.resolve(tooLarge);
      }
      if (host.queuedBytes() + payload.length > inlineQueuedBytesMax) {
        return Promise.resolve(retryReply('HONU_ERR_QUEUE_FULL'));
      }
      host.request(id, partition, op, payload);
    } else {
      const frame = encodeClientRequest({ id, partition, op, payload });
      if (frame.length > ring.frameBytesMax) return Promise.resolve(tooLargeReply(frame, ring));
      if (!ring.tryWrite(frame)) return Promise.resolve(retryReply('HONU_ERR_QUEUE_FULL'));
    }
    this.schedulePublish();
    return new Promise<WorkerReply>((resolve) => {
      slot.pending.set(id, {
        resolve, deadlineMs: Date.now() + workerRequestTimeoutMs, op, wantValue,
      });
    });
  }

  private frameTooLarge(ring: RingProducer, id: number, partition: number, op: number,
    payload: Uint8Array): WorkerReply | null {
    const frame = encodeClientRequest({ id, partition, op, payload });
    return frame.length > ring.frameBytesMax ? tooLargeReply(frame, ring) : null;
  }

  /** An inline host's answer (outbox.reply): as a reply frame's, without the frame. */
  private onDirectReply(slot: Slot, id: number, error: ErrorData | null,
    payload: Uint8Array): void {
    const pending = slot.pending.get(id);
    if (pending === undefined) return; // answered MustRetry already (timeout)
    slot.pending.delete(id);
    pending.resolve({ error, payload });
  }

  /** An inline host's answer as the response object (outbox.replyValue). */
  private onDirectValue(slot: Slot, id: number, op: KahunaOpValue, value: unknown): void {
    const pending = slot.pending.get(id);
    if (pending === undefined) return;
    slot.pending.delete(id);
    assert(pending.op === op, 'an answer for another op');
    if (freezeReplies) deepFreeze(value);
    if (pending.wantValue) pending.resolve({ error: null, payload: emptyPayload, value });
    else pending.resolve({ error: null, payload: encode(opCodecs[op].response, value) });
  }

  /** Requests made in one turn share one publish per ring. */
  private schedulePublish(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    setImmediate(() => {
      this.publishScheduled = false;
      for (const slot of this.slots) {
        slot.toWorker?.publish();
        if (slot.worker instanceof InlineWorker) slot.worker.poke();
      }
    });
  }

  /** A peer's encoded PeerBatch: each worker gets the part for its partitions (and every
   *  worker at least the header, so all of them hear that the peer is alive). Dropped where a
   *  worker is down or its ring is full: Raft retransmits. */
  deliverRaft(from: number, batch: Uint8Array): void {
    if (this.stopping) return;
    const only = this.slots.length === 1 ? this.slots[0]! : null;
    if (only !== null && only.worker instanceof InlineWorker) {
      // One host owns every group here: no split (it decodes and checks the batch itself).
      if (only.state === 'down' ||
        only.worker.queuedBytes() + batch.length > inlineQueuedBytesMax) {
        this.raftDropped += 1;
        return;
      }
      only.worker.raft(from, batch);
      this.schedulePublish();
      return;
    }
    let parts: Map<number, Uint8Array>;
    try {
      parts = splitPeerBatch(batch, (group) => workerOfPartition(group, this.slotCount),
        this.slots.map((slot) => slot.index));
    } catch (e) {
      this.raftDropped += 1;
      this.opts.log.warn({ err: e, from }, 'malformed raft batch from a peer; dropped');
      return;
    }
    for (const [index, part] of parts) {
      this.toWorkerRaft(index, encodeRaftMessage({ peer: from, data: part, unreachable: false }));
    }
  }

  /** The transport lost its connection to `peer`: every worker's groups learn it. */
  reportUnreachable(peer: number): void {
    if (this.stopping) return;
    const frame = encodeRaftMessage({ peer, data: new Uint8Array(0), unreachable: true });
    for (const slot of this.slots) {
      if (slot.worker instanceof InlineWorker) {
        if (slot.state !== 'down') slot.worker.raft(peer, null);
        this.schedulePublish();
      } else {
        this.toWorkerRaft(slot.index, frame);
      }
    }
  }

  private toWorkerRaft(index: number, frame: Uint8Array): void {
    const slot = this.slots[index];
    const ring = slot?.toWorker ?? null;
    if (slot === undefined || ring === null || slot.state === 'down' ||
      frame.length > ring.frameBytesMax || !ring.tryWrite(frame)) {
      this.raftDropped += 1;
      return;
    }
    this.schedulePublish();
  }

  private hasReplies(): boolean {
    for (const slot of this.slots) if (slot.fromWorker?.hasData() === true) return true;
    return false;
  }

  /** The main thread's reply loop: waits on its doorbell (never blocking the event loop). */
  private async pumpReplies(): Promise<void> {
    while (!this.stopping || this.slots.some((s) => s.pending.size > 0 && s.state !== 'down')) {
      await this.mainDoorbell.wait(() => this.hasReplies(), threadIdleWaitMs);
      for (const slot of this.slots) this.drainSlot(slot);
      if (this.stopping && this.slots.every((s) => s.state === 'down')) break;
    }
  }

  private drainSlot(slot: Slot): void {
    slot.fromWorker?.drain((frame) => this.onReplyFrame(slot, frame));
  }

  private onReplyFrame(slot: Slot, frame: Uint8Array): void {
    const decoded = this.reader.read(frame);
    if (decoded.kind === Body.RaftMessage) {
      const data = decoded.body.dataArray();
      if (data !== null) this.onRaftOut?.(decoded.body.peer(), data.slice());
      return;
    }
    assert(decoded.kind === Body.ClientReply, 'worker rings carry ClientReply frames');
    const body = decoded.body;
    const pending = slot.pending.get(body.id());
    if (pending === undefined) return; // answered MustRetry already (timeout)
    slot.pending.delete(body.id());
    const code = body.code();
    const payload = body.payloadArray();
    pending.resolve({
      error: code === 0 ? null : errorData(errorCodeOf(code), body.detail() ?? undefined),
      payload: payload === null ? emptyPayload : payload.slice(),
    });
  }

  private sweepExpired(): void {
    const now = Date.now();
    for (const slot of this.slots) {
      for (const [id, pending] of slot.pending) {
        if (pending.deadlineMs > now) continue;
        slot.pending.delete(id);
        pending.resolve(retryReply('HONU_ERR_MUST_RETRY', 'the partition worker did not answer'));
      }
    }
  }

  private ringDepths(): RingDepth[] {
    const depths: RingDepth[] = [];
    for (const slot of this.slots) {
      // Inline, what main handed the host and it has not handled stands for the ring's depth.
      const inlineHost = slot.worker instanceof InlineWorker ? slot.worker : null;
      if (inlineHost !== null) {
        depths.push({ ring: `main->worker${slot.index}`, bytes: inlineHost.queuedBytes() });
      } else if (slot.toWorker !== null) {
        depths.push({ ring: `main->worker${slot.index}`, bytes: slot.toWorker.depthBytes() });
      }
      if (slot.fromWorker !== null) {
        depths.push({ ring: `worker${slot.index}->main`, bytes: slot.fromWorker.depthBytes() });
      }
    }
    return depths;
  }

  private wakeups(): ThreadWakeups[] {
    const out: ThreadWakeups[] = [
      { thread: 'main', count: this.mainDoorbell.notifyCount() },
      { thread: 'writer', count: this.writerBell.notifyCount() },
    ];
    for (const slot of this.slots) {
      if (slot.bell === null) continue;
      out.push({ thread: `worker${slot.index}`, count: slot.bell.notifyCount() });
    }
    return out;
  }

  // ------------------------------------------------------------------ writer worker

  private async startWriter(): Promise<void> {
    const data: WriterWorkerData = {
      dataDir: this.opts.dataDir, doorbell: this.writerDoorbell,
      links: this.slots.flatMap((slot) => (slot.link === null ? [] : [slot.link])),
    };
    const writer = new Worker(workerPath('writer-worker'), { workerData: data });
    this.writer = writer;
    writer.on('message', (msg: WriterEvent) => this.onWriterEvent(msg));
    writer.on('error', (e) => this.opts.log.error({ err: e }, 'writer worker error'));
    const ready = waitForEvent(writer, 'ready', workerStartTimeoutMs, 'writer');
    writer.on('exit', (code) => this.onWriterExit(writer, code));
    await ready;
    this.writerUp = true;
    this.opts.log.info({ dataDir: this.opts.dataDir }, 'writer ready');
  }

  private onWriterEvent(msg: WriterEvent): void {
    if (msg.type === 'stats') {
      this.opts.metrics.observeWriterStats({
        flushCount: msg.flushCount, stride: msg.samples.stride,
        flushEntries: msg.samples.entryCount, flushBytes: msg.samples.bytes,
        fsyncMs: msg.samples.fsyncMs,
      });
    } else if (msg.type === 'fatal') {
      this.opts.log.fatal({ code: msg.code, detail: msg.detail }, 'writer failed');
    }
  }

  /** The writer died: every partition worker's persists are lost with it, so restart them
   *  all from disk once a new writer is up (a correctness bug becomes a liveness bug). */
  private onWriterExit(writer: Worker, code: number): void {
    if (this.writer !== writer) return;
    this.writerUp = false;
    this.writer = null;
    if (this.stopping) return;
    this.opts.log.error({ code }, 'writer worker died; restarting the node\'s workers from disk');
    this.opts.metrics.countWorkerRestart('writer');
    for (const slot of this.slots) {
      if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      this.markDown(slot, 'the writer worker died');
      slot.link = null;
      void slot.worker?.terminate();
      slot.worker = null;
    }
    setTimeout(() => {
      if (this.stopping) return;
      this.startWriter()
        .then(() => Promise.all(this.slots.map((slot) => this.startWorker(slot))))
        .catch((e: unknown) => this.opts.log.fatal({ err: e }, 'writer restart failed'));
    }, workerRestartDelayMs).unref();
  }

  // ------------------------------------------------------------------ partition workers

  private async startWorker(slot: Slot): Promise<void> {
    const writer = this.writer;
    if (writer === null || this.stopping) return;
    const ownDoorbell = createDoorbell();
    const inline = this.opts.workers === 0;
    // Inline, main and the host call each other (poke, drainSlot): their producers ring
    // doorbells nobody waits on. The writer still rings the host's own doorbell.
    const quietBell = inline ? createDoorbell() : null;
    const fromMain = createRingBuffer(mainRingBytes);
    const toMain = createRingBuffer(mainRingBytes);
    const link = createWriterLink(slot.index, ownDoorbell);
    writer.postMessage({ type: 'link', link });
    const data: PartitionWorkerData = {
      workerIndex: slot.index, nodeId: this.opts.nodeId, partitions: slot.partitions,
      voters: this.opts.voters ?? [this.opts.nodeId],
      checkpointEntries: this.opts.checkpointEntries ?? partitionCheckpointEntries,
      reads: this.opts.reads ?? defaultReadMode,
      ownDoorbell, fromMain, toMain, mainDoorbell: quietBell ?? this.mainDoorbellSab,
      toWriter: link.inbound, fromWriter: link.outbound, writerDoorbell: this.writerDoorbell,
      leaderTable: this.leaderSab,
    };
    const worker: PartitionThread = inline
      ? new InlineWorker(data, () => { if (slot.worker === worker) this.drainSlot(slot); }, {
        reply: (id, error, payload) => {
          if (slot.worker === worker) this.onDirectReply(slot, id, error, payload);
        },
        replyValue: (id, op, value) => {
          if (slot.worker === worker) this.onDirectValue(slot, id, op, value);
        },
        raft: (to, batch) => {
          if (slot.worker === worker) this.onRaftOut?.(to, batch);
        },
      })
      : new Worker(workerPath('partition-worker'), { workerData: data });
    Object.assign(slot, {
      state: 'starting', worker, link,
      toWorker: new RingProducer(fromMain, quietBell ?? ownDoorbell),
      bell: new Doorbell(ownDoorbell),
      fromWorker: new RingConsumer(toMain), startedAtMs: Date.now(), restartTimer: null,
    });
    worker.on('error', (e) => this.opts.log.error({ err: e, worker: slot.index }, 'worker error'));
    worker.on('message', (msg: PartitionEvent) => {
      if (msg.type === 'fatal') this.opts.log.error({ worker: slot.index, ...msg }, 'worker fatal');
      if (msg.type === 'members') this.onMembers?.(msg);
      if (msg.type === 'snapshot') {
        this.opts.log.info({ worker: slot.index, partition: msg.partition, index: msg.index },
          'partition caught up from a leader snapshot');
      }
    });
    const ready = waitForEvent(worker, 'ready', workerStartTimeoutMs, `worker ${slot.index}`);
    worker.on('exit', (code) => this.onWorkerExit(slot, worker, code));
    try {
      await ready;
    } catch (e) {
      this.opts.log.error({ err: e, worker: slot.index }, 'worker failed to start');
      void worker.terminate(); // onWorkerExit schedules the next attempt
      return;
    }
    if (slot.worker === worker && slot.state === 'starting') slot.state = 'up';
    this.opts.log.info({ worker: slot.index, partitions: slot.partitions.length }, 'worker ready');
  }

  private onWorkerExit(slot: Slot, worker: PartitionThread, code: number): void {
    if (slot.worker !== worker) return; // an older incarnation
    slot.worker = null;
    this.markDown(slot, 'the partition worker died');
    if (this.stopping) return;
    this.opts.log.error({ worker: slot.index, code }, 'partition worker died; restarting it');
    this.opts.metrics.countWorkerRestart(`worker${slot.index}`);
    if (Date.now() - slot.startedAtMs >= workerStableMs) slot.consecutiveDeaths = 0;
    const delayMs = Math.min(workerRestartDelayMaxMs,
      workerRestartDelayMs * 2 ** slot.consecutiveDeaths);
    slot.consecutiveDeaths += 1;
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      void this.startWorker(slot);
    }, delayMs);
    slot.restartTimer.unref();
  }

  /** The worker is gone: its partitions lose their leader here and in-flight requests get a
   *  retryable answer at once (the client repeats them; nothing waits on a dead thread). */
  private markDown(slot: Slot, detail: string): void {
    slot.state = 'down';
    slot.toWorker = null;
    slot.fromWorker = null;
    for (const p of slot.partitions) this.leaderTable.clear(p);
    const pending = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of pending) p.resolve(retryReply('HONU_ERR_WORKER_DOWN', detail));
  }

  /** Test and operator hook: terminate one partition worker as if it had crashed. */
  async killWorker(index: number): Promise<void> {
    const slot = this.slots[index];
    assert(slot !== undefined && slot.worker !== null, `worker ${index} is not running`);
    const worker = slot.worker;
    const code = await worker.terminate();
    // The 'exit' event may come later; handle the death now (a second call is ignored).
    this.onWorkerExit(slot, worker, code);
  }

  /** Test hook: terminate the writer worker as if it had crashed. */
  async killWriter(): Promise<void> {
    assert(this.writer !== null, 'the writer is not running');
    const writer = this.writer;
    const code = await writer.terminate();
    this.onWriterExit(writer, code);
  }

  workerStates(): SlotState[] {
    return this.slots.map((slot) => slot.state);
  }

  // ------------------------------------------------------------------ shutdown

  /** Stops taking requests, lets workers finish in-flight work, flushes and closes the writer
   *  (RocksDB), all within shutdownDeadlineMs; then terminates whatever is left. */
  async close(deadlineMs = shutdownDeadlineMs): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const until = Date.now() + deadlineMs;
    for (const slot of this.slots) {
      if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
    }
    await Promise.all(this.slots.map(async (slot) => {
      const worker = slot.worker;
      if (worker === null) return;
      slot.state = 'stopping';
      worker.postMessage({ type: 'shutdown' });
      await exitWithin(worker, until - Date.now());
    }));
    for (const slot of this.slots) this.markDown(slot, 'the node is shutting down');
    const writer = this.writer;
    if (writer !== null) {
      writer.postMessage({ type: 'shutdown' });
      await exitWithin(writer, until - Date.now());
    }
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.mainDoorbell.ring();
    await this.pumping;
  }
}

/** Resolves on the worker's first `{type}` message; rejects on exit, 'fatal' or timeout. */
function waitForEvent(worker: PartitionThread, type: string, timeoutMs: number,
  name: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${name}: no '${type}' within ${timeoutMs} ms`)),
      timeoutMs);
    const onMessage = (msg: { type?: string; detail?: string }): void => {
      if (msg.type === type) finish(null);
      else if (msg.type === 'fatal') finish(new Error(`${name}: ${msg.detail ?? 'fatal'}`));
    };
    const onExit = (code: number): void => finish(new Error(`${name} exited with code ${code}`));
    function finish(error: Error | null): void {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      if (error === null) resolve();
      else reject(error);
    }
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

/** Waits for a worker to exit by itself, terminating it when the time is up. */
async function exitWithin(worker: PartitionThread, timeoutMs: number): Promise<void> {
  if (worker.threadId === -1) return; // already exited
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), Math.max(0, timeoutMs));
  });
  const outcome = await Promise.race([exited, expired]);
  clearTimeout(timer);
  if (outcome === 'expired') await worker.terminate();
}
