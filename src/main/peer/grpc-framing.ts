// gRPC's message framing over HTTP/2 DATA frames (the gRPC over HTTP/2 protocol spec,
// "Length-Prefixed-Message"): one byte compressed-flag, four bytes big-endian length, then the
// message. The peer stream (peer-h2.ts) speaks it on node:http2 directly; Kahuna's services
// stay on grpc-js. No compression is negotiated, so a set compressed-flag is a protocol error.
import { status } from '@grpc/grpc-js';
import { assert } from '../../assert.js';

export const grpcPrefixBytes = 5;

/** `message` with its 5-byte prefix, in one Buffer (one stream write). */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(grpcPrefixBytes + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, grpcPrefixBytes);
  return out;
}

/** Why a received byte stream is not gRPC messages the receiver accepts. */
export class GrpcFramingError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
    this.name = 'GrpcFramingError';
  }
}

/** Splits received DATA chunks into whole messages. A message inside one chunk is a view of
 *  it (no copy); one spread over chunks is joined. */
export class GrpcMessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly messageBytesMax: number) {
    assert(messageBytesMax > 0, 'messageBytesMax must be positive');
  }

  /** Feeds one chunk; calls `onMessage` for every message it completes, in order. Throws
   *  GrpcFramingError for a compressed or oversized message. */
  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    if (chunk.length === 0) return;
    let data = chunk;
    if (this.buffered > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (!this.wholeMessageBuffered()) return;
      data = Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
    }
    let offset = 0;
    while (data.length - offset >= grpcPrefixBytes) {
      const length = this.checkedLength(data, offset);
      const end = offset + grpcPrefixBytes + length;
      if (end > data.length) break;
      onMessage(data.subarray(offset + grpcPrefixBytes, end));
      offset = end;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.chunks = [rest];
      this.buffered = rest.length;
      if (rest.length >= grpcPrefixBytes) this.checkedLength(rest, 0);
    }
  }

  /** Bytes of an unfinished message held (a stream that ends with some is truncated). */
  get pendingBytes(): number {
    return this.buffered;
  }

  private wholeMessageBuffered(): boolean {
    if (this.buffered < grpcPrefixBytes) return false;
    const head = this.chunks[0] as Buffer;
    const prefix = head.length >= grpcPrefixBytes ? head
      : Buffer.concat(this.chunks, this.buffered);
    return this.buffered >= grpcPrefixBytes + this.checkedLength(prefix, 0);
  }

  private checkedLength(data: Buffer, offset: number): number {
    if (data[offset] !== 0) {
      throw new GrpcFramingError('compressed gRPC message without negotiated compression',
        status.INTERNAL);
    }
    const length = data.readUInt32BE(offset + 1);
    if (length > this.messageBytesMax) {
      throw new GrpcFramingError(`gRPC message of ${length} bytes is over the limit of ` +
        `${this.messageBytesMax}`, status.RESOURCE_EXHAUSTED);
    }
    return length;
  }
}

/** grpc-message's percent-encoding (spec: "Percent-Encoded"): printable ASCII but '%' as is,
 *  everything else as %XX of its UTF-8 bytes. */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The inverse of encodeGrpcMessage; a malformed escape is kept as it is. */
export function decodeGrpcMessage(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const hex = c === 0x25 ? text.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i] as string, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
