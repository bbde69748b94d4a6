// The writer worker's contract with the main thread (workerData and parentPort messages) and
// with the partition workers (the rings in each WriterLink).
//
// Data path, all FlatBuffers frames of proto/ring.fbs over SAB rings (src/ipc/ring.ts):
//   partition worker --inbound-->  writer: PersistBatch{partition, sequence, ops}, ReadRequest
//   writer --outbound--> partition worker: PersistAck{partition, sequence, code}, ReadReply
// Acks come back in the order the worker sent its batches, after the fsync that made them
// durable; a read sees exactly the writes the same worker sent before it (committed), none
// sent after it.
//
// Control path (postMessage, structured clone, low rate): the messages below. Costs: one
// structured clone per message, so nothing per request or per batch travels here.
import { assert } from '../assert.js';
import type { ErrorCode } from '../errors.js';
import type { WriterStatsReport } from '../core/writer/writer-core.js';
import { decodeFrameData, encodePersistAck } from './frames.js';

/** One per partition worker. */
export interface WriterLink {
  /** Partition worker index 0..W-1. */
  readonly worker: number;
  /** Ring: partition worker -> writer. Its producer rings the writer's doorbell. */
  readonly inbound: SharedArrayBuffer;
  /** Ring: writer -> partition worker (acks, read replies). */
  readonly outbound: SharedArrayBuffer;
  /** The partition worker's doorbell, rung when the writer publishes into `outbound`. */
  readonly outboundDoorbell: SharedArrayBuffer;
}

export interface WriterWorkerData {
  /** The RocksDB directory (created if missing). */
  readonly dataDir: string;
  /** The writer's own doorbell: every inbound ring's producer rings it. */
  readonly doorbell: SharedArrayBuffer;
  readonly links: readonly WriterLink[];
}

/** main -> writer. */
export type WriterControl =
  /** Adds the link of a worker, or REPLACES it (a crashed partition worker was restarted):
   *  frames not yet taken from the old inbound ring and acks not yet delivered are dropped. */
  | { readonly type: 'link'; readonly link: WriterLink }
  /** Stop taking frames, commit and ack what was taken, close RocksDB, post 'closed', exit. */
  | { readonly type: 'shutdown' };

/** writer -> main, about once a second when something was flushed. */
export type WriterStatsMessage = { readonly type: 'stats' } & WriterStatsReport;

/** writer -> main. */
export type WriterEvent =
  /** RocksDB is open and the writer drains its links. */
  | { readonly type: 'ready' }
  | WriterStatsMessage
  /** RocksDB could not be opened or a write failed (the data dir is suspect); the writer
   *  exits right after posting this. */
  | { readonly type: 'fatal'; readonly code: ErrorCode; readonly detail: string }
  /** Answer to 'shutdown': everything taken was committed and acked; RocksDB is closed. */
  | { readonly type: 'closed' };

const eventTypes = new Set(['ready', 'stats', 'fatal', 'closed']);

function hasType(value: unknown): value is { type: unknown } {
  return typeof value === 'object' && value !== null && 'type' in value;
}

/** Checks the tag only: the writer is trusted code, this guards against stray messages. */
export function isWriterEvent(value: unknown): value is WriterEvent {
  return hasType(value) && typeof value.type === 'string' && eventTypes.has(value.type);
}

export function isWriterLink(value: unknown): value is WriterLink {
  if (typeof value !== 'object' || value === null) return false;
  const link = value as Partial<Record<keyof WriterLink, unknown>>;
  return typeof link.worker === 'number' && Number.isInteger(link.worker) && link.worker >= 0 &&
    link.inbound instanceof SharedArrayBuffer && link.outbound instanceof SharedArrayBuffer &&
    link.outboundDoorbell instanceof SharedArrayBuffer;
}

export function isWriterControl(value: unknown): value is WriterControl {
  if (!hasType(value)) return false;
  if (value.type === 'shutdown') return true;
  return value.type === 'link' && 'link' in value && isWriterLink(value.link);
}

// Sentinels whose little-endian bytes occur once in an encoded PersistAck: where they land is
// where the fields live in the template.
const partitionSentinel = 0xa1b2c3d4;
const sequenceSentinel = 0x1f2e3d4c5b6a7988n;

function findBytes(haystack: Uint8Array, needle: Uint8Array): number {
  let found = -1;
  for (let i = 0; i + needle.length <= haystack.length; i += 1) {
    let j = 0;
    while (j < needle.length && haystack[i + j] === needle[j]) j += 1;
    if (j === needle.length) {
      assert(found === -1, 'sentinel occurs twice in the ack template');
      found = i;
    }
  }
  assert(found >= 0, 'sentinel not found in the ack template');
  return found;
}

/**
 * Encodes successful PersistAcks (code 0, no detail) by patching partition and sequence into
 * one FlatBuffers template: the writer sends one ack per batch, and building each with a
 * flatbuffers.Builder costs more than the rest of the ack path. Failed acks carry a detail
 * string: encode those with frames.encodePersistAck. The result is a scratch view, valid until
 * the next encode(); RingProducer.tryWrite copies it.
 */
export class PersistAckEncoder {
  private readonly frame: Uint8Array;
  private readonly view: DataView;
  private readonly partitionAt: number;
  private readonly sequenceAt: number;

  constructor() {
    const template = encodePersistAck({
      partition: partitionSentinel, sequence: sequenceSentinel, code: 0, detail: '',
    }).slice();
    const view = new DataView(template.buffer);
    const partitionBytes = new Uint8Array(4);
    new DataView(partitionBytes.buffer).setUint32(0, partitionSentinel, true);
    const sequenceBytes = new Uint8Array(8);
    new DataView(sequenceBytes.buffer).setBigUint64(0, sequenceSentinel, true);
    this.frame = template;
    this.view = view;
    this.partitionAt = findBytes(template, partitionBytes);
    this.sequenceAt = findBytes(template, sequenceBytes);
    const check = decodeFrameData(this.encode(7, 9n));
    assert(check.kind === decodeFrameData(template).kind, 'ack template kind');
    assert('sequence' in check && check.sequence === 9n && check.partition === 7, 'ack patch');
  }

  encode(partition: number, sequence: bigint): Uint8Array {
    this.view.setUint32(this.partitionAt, partition, true);
    this.view.setBigUint64(this.sequenceAt, sequence, true);
    return this.frame;
  }
}
