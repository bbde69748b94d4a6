// Encode and decode the FlatBuffers `Frame` of proto/ring.fbs (one ring frame = one Frame).
//
// Encoding uses one flatbuffers.Builder per thread (module state is per thread): every
// encodeX() returns a view of that builder's scratch bytes, valid until the next encode on this
// thread. Hand it to RingProducer.tryWrite/write at once (they copy), or .slice() it.
// Decoding reads in place: decodeFrame() wraps the frame bytes (which alias the ring while
// RingConsumer.drain's callback runs); FrameReader does the same with no allocation at all.
// decodeFrameData() copies everything out into plain objects (tests and slow paths).
import * as flatbuffers from 'flatbuffers';
import { assert } from '../assert.js';
import {
  Body,
  ClientReply,
  ClientRequest,
  Frame,
  KeyValue,
  PersistAck,
  PersistBatch,
  RaftMessage,
  ReadKind,
  ReadReply,
  ReadRequest,
  WriteKind,
  WriteOp,
} from './generated/ring.js';

export {
  Body,
  ClientReply,
  ClientRequest,
  KeyValue,
  PersistAck,
  PersistBatch,
  RaftMessage,
  ReadKind,
  ReadReply,
  ReadRequest,
  WriteKind,
  WriteOp,
};

// Smallest valid Frame: root offset (4) + vtable (>= 4) + table (>= 4).
const frameBytesMin = 12;
const builderInitialBytes = 4096;

const empty = new Uint8Array(0);

export interface ClientRequestData {
  readonly id: number;
  readonly partition: number;
  readonly op: number;
  readonly payload: Uint8Array;
}

export interface ClientReplyData {
  readonly id: number;
  readonly code: number; // 0 = success, else an error id from src/errors.ts
  readonly detail: string;
  readonly payload: Uint8Array;
}

export interface WriteOpData {
  readonly kind: WriteKind;
  readonly key: Uint8Array;
  readonly value: Uint8Array; // empty for Delete; the exclusive end for DeleteRange
}

export interface PersistBatchData {
  readonly partition: number;
  readonly sequence: bigint;
  readonly ops: readonly WriteOpData[];
  /** Part of a chain: the link's next batch belongs to the same atomic write. */
  readonly more?: boolean;
}

export interface PersistAckData {
  readonly partition: number;
  readonly sequence: bigint;
  readonly code: number;
  readonly detail: string;
}

export interface ReadRequestData {
  readonly id: number;
  readonly readKind: ReadKind; // not `kind`: FrameData uses that for the Body tag
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly limit: number;
}

export interface KeyValueData {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface ReadReplyData {
  readonly id: number;
  readonly code: number;
  readonly detail: string;
  readonly entries: readonly KeyValueData[];
  readonly more: boolean;
}

/** A whole frame as plain data, tagged with its Body kind. */
export interface RaftMessageData {
  readonly peer: number;
  readonly data: Uint8Array;
  readonly unreachable: boolean;
}

export type FrameData =
  | ({ readonly kind: Body.ClientRequest } & ClientRequestData)
  | ({ readonly kind: Body.ClientReply } & ClientReplyData)
  | ({ readonly kind: Body.PersistBatch } & PersistBatchData)
  | ({ readonly kind: Body.PersistAck } & PersistAckData)
  | ({ readonly kind: Body.ReadRequest } & ReadRequestData)
  | ({ readonly kind: Body.ReadReply } & ReadReplyData)
  | ({ readonly kind: Body.RaftMessage } & RaftMessageData);

/** A frame read in place: `body` is the generated accessor over the frame's bytes. */
export type DecodedFrame =
  | { readonly kind: Body.ClientRequest; readonly body: ClientRequest }
  | { readonly kind: Body.ClientReply; readonly body: ClientReply }
  | { readonly kind: Body.PersistBatch; readonly body: PersistBatch }
  | { readonly kind: Body.PersistAck; readonly body: PersistAck }
  | { readonly kind: Body.ReadRequest; readonly body: ReadRequest }
  | { readonly kind: Body.ReadReply; readonly body: ReadReply }
  | { readonly kind: Body.RaftMessage; readonly body: RaftMessage };

// ---------------------------------------------------------------- encoding

const builder = new flatbuffers.Builder(builderInitialBytes);
const offsetsScratch: number[] = [];

function bytesOrNone(bytes: Uint8Array): flatbuffers.Offset {
  return bytes.length === 0 ? 0 : builder.createByteVector(bytes);
}

function stringOrNone(text: string): flatbuffers.Offset {
  return text.length === 0 ? 0 : builder.createString(text);
}

function finish(kind: Body, body: flatbuffers.Offset): Uint8Array {
  Frame.startFrame(builder);
  Frame.addBodyType(builder, kind);
  Frame.addBody(builder, body);
  builder.finish(Frame.endFrame(builder));
  return builder.asUint8Array();
}

export function encodeClientRequest(data: ClientRequestData): Uint8Array {
  builder.clear();
  const payload = bytesOrNone(data.payload);
  const body = ClientRequest.createClientRequest(
    builder, data.id, data.partition, data.op, payload);
  return finish(Body.ClientRequest, body);
}

export function encodeClientReply(data: ClientReplyData): Uint8Array {
  builder.clear();
  const detail = stringOrNone(data.detail);
  const payload = bytesOrNone(data.payload);
  const body = ClientReply.createClientReply(builder, data.id, data.code, detail, payload);
  return finish(Body.ClientReply, body);
}

export function encodeRaftMessage(data: RaftMessageData): Uint8Array {
  builder.clear();
  const bytes = bytesOrNone(data.data);
  const body = RaftMessage.createRaftMessage(builder, data.peer, bytes, data.unreachable);
  return finish(Body.RaftMessage, body);
}

export function encodePersistBatch(data: PersistBatchData): Uint8Array {
  builder.clear();
  offsetsScratch.length = 0;
  for (const op of data.ops) {
    const key = bytesOrNone(op.key);
    const value = bytesOrNone(op.value);
    offsetsScratch.push(WriteOp.createWriteOp(builder, op.kind, key, value));
  }
  const ops = PersistBatch.createOpsVector(builder, offsetsScratch);
  offsetsScratch.length = 0;
  const body = PersistBatch.createPersistBatch(builder, data.partition, data.sequence, ops,
    data.more === true);
  return finish(Body.PersistBatch, body);
}

export function encodePersistAck(data: PersistAckData): Uint8Array {
  builder.clear();
  const detail = stringOrNone(data.detail);
  const body = PersistAck.createPersistAck(
    builder, data.partition, data.sequence, data.code, detail);
  return finish(Body.PersistAck, body);
}

export function encodeReadRequest(data: ReadRequestData): Uint8Array {
  builder.clear();
  const start = bytesOrNone(data.start);
  const end = bytesOrNone(data.end);
  const body = ReadRequest.createReadRequest(
    builder, data.id, data.readKind, start, end, data.limit);
  return finish(Body.ReadRequest, body);
}

export function encodeReadReply(data: ReadReplyData): Uint8Array {
  builder.clear();
  const detail = stringOrNone(data.detail);
  offsetsScratch.length = 0;
  for (const entry of data.entries) {
    const key = bytesOrNone(entry.key);
    const value = bytesOrNone(entry.value);
    offsetsScratch.push(KeyValue.createKeyValue(builder, key, value));
  }
  const entries = ReadReply.createEntriesVector(builder, offsetsScratch);
  offsetsScratch.length = 0;
  const body = ReadReply.createReadReply(
    builder, data.id, data.code, detail, entries, data.more);
  return finish(Body.ReadReply, body);
}

/** Encode any FrameData (dispatch on kind). Same scratch-view rule as the encodeX functions. */
export function encodeFrame(data: FrameData): Uint8Array {
  switch (data.kind) {
    case Body.ClientRequest: return encodeClientRequest(data);
    case Body.ClientReply: return encodeClientReply(data);
    case Body.PersistBatch: return encodePersistBatch(data);
    case Body.PersistAck: return encodePersistAck(data);
    case Body.ReadRequest: return encodeReadRequest(data);
    case Body.ReadReply: return encodeReadReply(data);
    case Body.RaftMessage: return encodeRaftMessage(data);
  }
}

// ---------------------------------------------------------------- decoding in place

/**
 * Reads frames with no allocation: one ByteBuffer per underlying buffer (e.g. the ring's
 * SharedArrayBuffer) and one accessor object per body kind, all reused. The result of read()
 * is valid until the next read() on this reader (and only while the bytes are).
 */
export class FrameReader {
  private bb: flatbuffers.ByteBuffer | null = null;
  private readonly frame = new Frame();
  private readonly results = {
    clientRequest: { kind: Body.ClientRequest, body: new ClientRequest() },
    clientReply: { kind: Body.ClientReply, body: new ClientReply() },
    persistBatch: { kind: Body.PersistBatch, body: new PersistBatch() },
    persistAck: { kind: Body.PersistAck, body: new PersistAck() },
    readRequest: { kind: Body.ReadRequest, body: new ReadRequest() },
    readReply: { kind: Body.ReadReply, body: new ReadReply() },
    raftMessage: { kind: Body.RaftMessage, body: new RaftMessage() },
  } as const;

  read(view: Uint8Array): DecodedFrame {
    return this.readAt(view, 0, view.length);
  }

  /** Read the frame at bytes[offset, offset + length), e.g. from RingConsumer.drainInPlace. */
  readAt(bytes: Uint8Array, offset: number, length: number): DecodedFrame {
    assert(length >= frameBytesMin, 'frame shorter than a FlatBuffers Frame');
    assert(offset >= 0 && offset + length <= bytes.length, 'frame outside its bytes');
    let bb = this.bb;
    if (bb === null || bb.bytes().buffer !== bytes.buffer) {
      bb = new flatbuffers.ByteBuffer(new Uint8Array(bytes.buffer));
      this.bb = bb;
    }
    bb.setPosition(bytes.byteOffset + offset);
    const frame = Frame.getRootAsFrame(bb, this.frame);
    const r = this.results;
    const kind: Body = frame.bodyType();
    switch (kind) {
      case Body.ClientRequest: frame.body(r.clientRequest.body); return r.clientRequest;
      case Body.ClientReply: frame.body(r.clientReply.body); return r.clientReply;
      case Body.PersistBatch: frame.body(r.persistBatch.body); return r.persistBatch;
      case Body.PersistAck: frame.body(r.persistAck.body); return r.persistAck;
      case Body.ReadRequest: frame.body(r.readRequest.body); return r.readRequest;
      case Body.ReadReply: frame.body(r.readReply.body); return r.readReply;
      case Body.RaftMessage: frame.body(r.raftMessage.body); return r.raftMessage;
      case Body.NONE: break;
    }
    assert(false, `frame has no known body (bodyType ${String(kind)})`);
  }
}

/** Read one frame in place with fresh accessor objects (results of two calls do not alias). */
export function decodeFrame(view: Uint8Array): DecodedFrame {
  return new FrameReader().read(view);
}

// ---------------------------------------------------------------- copying out

function copyBytes(bytes: Uint8Array | null): Uint8Array {
  return bytes === null ? empty : bytes.slice();
}

function writeOpData(op: WriteOp): WriteOpData {
  return { kind: op.kind(), key: copyBytes(op.keyArray()), value: copyBytes(op.valueArray()) };
}

function keyValueData(kv: KeyValue): KeyValueData {
  return { key: copyBytes(kv.keyArray()), value: copyBytes(kv.valueArray()) };
}

function persistBatchData(b: PersistBatch): FrameData {
  const ops: WriteOpData[] = [];
  const op = new WriteOp();
  for (let i = 0; i < b.opsLength(); i++) {
    const at = b.ops(i, op);
    assert(at !== null, 'PersistBatch op missing');
    ops.push(writeOpData(at));
  }
  return { kind: Body.PersistBatch, partition: b.partition(), sequence: b.sequence(), ops };
}

function readReplyData(r: ReadReply): FrameData {
  const entries: KeyValueData[] = [];
  const kv = new KeyValue();
  for (let i = 0; i < r.entriesLength(); i++) {
    const at = r.entries(i, kv);
    assert(at !== null, 'ReadReply entry missing');
    entries.push(keyValueData(at));
  }
  return {
    kind: Body.ReadReply, id: r.id(), code: r.code(), detail: r.detail() ?? '', entries,
    more: r.more(),
  };
}

/** Decode and copy a whole frame into plain data that outlives the ring slot. */
export function decodeFrameData(view: Uint8Array): FrameData {
  const f = decodeFrame(view);
  switch (f.kind) {
    case Body.ClientRequest: {
      const b = f.body;
      return {
        kind: f.kind, id: b.id(), partition: b.partition(), op: b.op(),
        payload: copyBytes(b.payloadArray()),
      };
    }
    case Body.ClientReply: {
      const b = f.body;
      return {
        kind: f.kind, id: b.id(), code: b.code(), detail: b.detail() ?? '',
        payload: copyBytes(b.payloadArray()),
      };
    }
    case Body.PersistBatch: return persistBatchData(f.body);
    case Body.PersistAck: {
      const b = f.body;
      return {
        kind: f.kind, partition: b.partition(), sequence: b.sequence(), code: b.code(),
        detail: b.detail() ?? '',
      };
    }
    case Body.ReadRequest: {
      const b = f.body;
      return {
        kind: f.kind, id: b.id(), readKind: b.kind(), start: copyBytes(b.startArray()),
        end: copyBytes(b.endArray()), limit: b.limit(),
      };
    }
    case Body.ReadReply: return readReplyData(f.body);
    case Body.RaftMessage: {
      const b = f.body;
      return { kind: f.kind, peer: b.peer(), data: copyBytes(b.dataArray()),
        unreachable: b.unreachable() };
    }
  }
}
