// The outbound queue of one peer link: three FIFOs (raft batches, forwarded requests, replies)
// bounded together by peerQueueBytesMax, and take(), which cuts the next stream message.
//
// take() fills one envelope up to peerMessageBytesMax, kind by kind (the first kind rotates
// per envelope so no kind starves the others), each kind in its FIFO order. An item whose
// payload is at most peerChunkBytesMax goes whole; a larger one goes as fragments of
// peerChunkBytesMax, at most one per kind per envelope, and that fragment is the last item of
// its kind in the envelope, with <Kind>More set while the item continues (the receiver's
// PeerReassembler joins them). Items behind a fragmented item wait for it: order per kind
// holds. Pure bookkeeping: no I/O, no timers.
import { assert } from '../../assert.js';
import type {
  HonuPeerEnvelope, HonuPeerReply, HonuPeerRequest,
} from '../grpc/generated/peer.js';
import {
  peerChunkBytesMax, peerItemOverheadBytes, peerMessageBytesMax, peerQueueBytesMax,
  peerReplyDetailCharsMax,
} from './peer-limits.js';
import type { ForwardedReply, ForwardedRequest } from './peer-transport.js';
import { asBuffer, emptyEnvelope, wireId } from './peer-wire.js';

/** What a kind's FIFO needs to know about its items. */
interface KindCodec<T, W> {
  payload(item: T): Uint8Array;
  /** Bytes besides the payload and peerItemOverheadBytes (a reply's detail). */
  extraBytes(item: T): number;
  /** The wire item carrying `bytes` (the whole payload or a fragment of it). */
  wire(item: T, bytes: Buffer, first: boolean): W;
}

const raftCodec: KindCodec<Uint8Array, Buffer> = {
  payload: (item) => item,
  extraBytes: () => 0,
  wire: (_item, bytes) => bytes,
};

const requestCodec: KindCodec<ForwardedRequest, HonuPeerRequest> = {
  payload: (item) => item.payload,
  extraBytes: () => 0,
  wire: (item, bytes) => ({
    Id: wireId(item.id), Partition: item.partition, Op: item.op, Payload: bytes,
  }),
};

const replyCodec: KindCodec<ForwardedReply, HonuPeerReply> = {
  payload: (item) => item.payload,
  extraBytes: (item) => Buffer.byteLength(item.detail),
  wire: (item, bytes, first) => ({
    Id: wireId(item.id), Code: item.code, Detail: first ? item.detail : '', Payload: bytes,
  }),
};

/** The room left in the envelope being cut. */
interface Budget {
  bytesLeft: number;
  empty: boolean;
}

/** One kind's FIFO with the progress of its head item when that is sent in fragments. */
class KindFifo<T, W> {
  private items: T[] = [];
  private head = 0;
  /** Payload bytes of the head item already sent as fragments. */
  private headSentBytes = 0;

  constructor(private readonly codec: KindCodec<T, W>) {}

  get length(): number {
    return this.items.length - this.head;
  }

  cost(item: T): number {
    return this.codec.payload(item).byteLength + this.codec.extraBytes(item) +
      peerItemOverheadBytes;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /**
   * Moves items into `out` while `budget` allows; returns the bytes of the items that left the
   * queue and whether the last one in `out` is a fragment that continues.
   */
  fill(out: W[], budget: Budget): { takenBytes: number; more: boolean } {
    let takenBytes = 0;
    while (this.length > 0) {
      const item = this.items[this.head] as T;
      const payload = this.codec.payload(item);
      const offset = this.headSentBytes;
      const first = offset === 0;
      const bytes = Math.min(peerChunkBytesMax, payload.byteLength - offset);
      const cost = bytes + peerItemOverheadBytes + (first ? this.codec.extraBytes(item) : 0);
      if (!budget.empty && cost > budget.bytesLeft) break;
      out.push(this.codec.wire(item, asBuffer(payload.subarray(offset, offset + bytes)), first));
      budget.bytesLeft -= cost;
      budget.empty = false;
      if (offset + bytes < payload.byteLength) {
        this.headSentBytes = offset + bytes;
        return { takenBytes, more: true };
      }
      takenBytes += this.cost(item);
      this.shift();
    }
    return { takenBytes, more: false };
  }

  /** Removes every item (the partially sent head too) and returns them. */
  clear(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.headSentBytes = 0;
    return rest;
  }

  private shift(): void {
    this.head++;
    this.headSentBytes = 0;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** What clear() took out of a queue that will never be sent. */
export interface ClearedQueue {
  readonly raftCount: number;
  readonly replyCount: number;
  readonly requestIds: number[];
}

export class PeerQueue {
  private readonly raft = new KindFifo(raftCodec);
  private readonly requests = new KindFifo(requestCodec);
  private readonly replies = new KindFifo(replyCodec);
  private queuedBytes = 0;
  private envelopeCount = 0;

  get bytes(): number {
    return this.queuedBytes;
  }

  get isEmpty(): boolean {
    return this.raft.length + this.requests.length + this.replies.length === 0;
  }

  /** Queues a raft batch; false when the queue has no room (the caller drops it). */
  pushRaft(batch: Uint8Array): boolean {
    return this.admit(this.raft, batch);
  }

  /** Queues a request; false when the queue has no room (the caller fails it). */
  pushRequest(req: ForwardedRequest): boolean {
    return this.admit(this.requests, req);
  }

  /** Queues a reply, its detail cut to peerReplyDetailCharsMax; false when there is no room. */
  pushReply(reply: ForwardedReply): boolean {
    const fitted = reply.detail.length <= peerReplyDetailCharsMax ? reply
      : { ...reply, detail: reply.detail.slice(0, peerReplyDetailCharsMax) };
    return this.admit(this.replies, fitted);
  }

  /** The next stream message, or null when nothing is queued. */
  take(): HonuPeerEnvelope | null {
    if (this.isEmpty) return null;
    const env = emptyEnvelope();
    const budget: Budget = { bytesLeft: peerMessageBytesMax, empty: true };
    const fills = [
      (): void => this.fillRaft(env, budget),
      (): void => this.fillRequests(env, budget),
      (): void => this.fillReplies(env, budget),
    ];
    const start = this.envelopeCount++ % fills.length;
    for (let i = 0; i < fills.length; i++) (fills[(start + i) % fills.length] as () => void)();
    assert(!budget.empty, 'a non-empty queue cut an empty envelope');
    assert(this.queuedBytes >= 0, 'peer queue bytes went negative');
    return env;
  }

  /** Empties the queue: what it held is dropped (raft, replies) or failed (requests). */
  clear(): ClearedQueue {
    const cleared = {
      raftCount: this.raft.clear().length,
      replyCount: this.replies.clear().length,
      requestIds: this.requests.clear().map((r) => r.id),
    };
    this.queuedBytes = 0;
    return cleared;
  }

  private admit<T, W>(fifo: KindFifo<T, W>, item: T): boolean {
    const cost = fifo.cost(item);
    if (this.queuedBytes + cost > peerQueueBytesMax) return false;
    fifo.push(item);
    this.queuedBytes += cost;
    return true;
  }

  private fillRaft(env: HonuPeerEnvelope, budget: Budget): void {
    const { takenBytes, more } = this.raft.fill(env.Raft, budget);
    this.queuedBytes -= takenBytes;
    env.RaftMore = more;
  }

  private fillRequests(env: HonuPeerEnvelope, budget: Budget): void {
    const { takenBytes, more } = this.requests.fill(env.Requests, budget);
    this.queuedBytes -= takenBytes;
    env.RequestsMore = more;
  }

  private fillReplies(env: HonuPeerEnvelope, budget: Budget): void {
    const { takenBytes, more } = this.replies.fill(env.Replies, budget);
    this.queuedBytes -= takenBytes;
    env.RepliesMore = more;
  }
}
