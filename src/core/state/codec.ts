// Compact binary records for takeDirty()/load(), the GetByRange cursor and the state digest.
// Integers are LEB128 varints over safe integers (a separate sign byte where negatives occur),
// strings UTF-8 with a varint length. Pure: Uint8Array only, no Buffer.
import { assert, AssertionError } from '../../assert.js';
import type { Hlc } from '../api/types.js';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
/** ceil(53 / 7): a safe integer never needs more varint bytes. */
const varintBytesMax = 8;
const writerBytesInitial = 64;

/** Ordinal order: UTF-16 code units, which is JS string `<` (wire.md 4.7). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Equal contents; null equals only null (a value that is absent). */
export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}

export class ByteWriter {
  private buf = new Uint8Array(writerBytesInitial);
  private length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, 'u8 out of range');
    this.room(1);
    this.buf[this.length++] = value;
    return this;
  }

  /** A non-negative safe integer. */
  uint(value: number): this {
    assert(Number.isSafeInteger(value) && value >= 0, 'uint must be a non-negative safe integer');
    this.room(varintBytesMax);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
    return this;
  }

  /** Any safe integer: a sign byte, then the magnitude. */
  int(value: number): this {
    assert(Number.isSafeInteger(value), 'int must be a safe integer');
    return this.u8(value < 0 ? 1 : 0).uint(Math.abs(value));
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  bytes(value: Uint8Array): this {
    this.uint(value.length);
    this.room(value.length);
    this.buf.set(value, this.length);
    this.length += value.length;
    return this;
  }

  optBytes(value: Uint8Array | null): this {
    if (value === null) return this.u8(0);
    return this.u8(1).bytes(value);
  }

  optInt(value: number | null): this {
    if (value === null) return this.u8(0);
    return this.u8(1).int(value);
  }

  /** A number that may not be a safe integer (little-endian float64), or null. */
  optF64(value: number | null): this {
    if (value === null) return this.u8(0);
    this.u8(1);
    this.room(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.length, value, true);
    this.length += 8;
    return this;
  }

  str(value: string): this {
    return this.bytes(utf8(value));
  }

  hlc(value: Hlc): this {
    return this.int(value.n).uint(value.l).uint(value.c);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Reads what ByteWriter wrote; every malformed input fails an assertion. */
export class ByteReader {
  private at = 0;

  constructor(private readonly buf: Uint8Array) {}

  u8(): number {
    const value = this.buf[this.at];
    assert(value !== undefined, 'record truncated');
    this.at += 1;
    return value;
  }

  uint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < varintBytesMax; i += 1) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        assert(Number.isSafeInteger(value), 'varint beyond 2^53');
        return value;
      }
      scale *= 0x80;
    }
    assert(false, 'varint too long');
  }

  int(): number {
    const negative = this.bool();
    const magnitude = this.uint();
    return negative ? -magnitude : magnitude;
  }

  bool(): boolean {
    const value = this.u8();
    assert(value === 0 || value === 1, 'bool must be 0 or 1');
    return value === 1;
  }

  bytes(): Uint8Array {
    const length = this.uint();
    assert(this.at + length <= this.buf.length, 'bytes truncated');
    const value = this.buf.slice(this.at, this.at + length);
    this.at += length;
    return value;
  }

  optBytes(): Uint8Array | null {
    return this.bool() ? this.bytes() : null;
  }

  optInt(): number | null {
    return this.bool() ? this.int() : null;
  }

  optF64(): number | null {
    if (!this.bool()) return null;
    assert(this.at + 8 <= this.buf.length, 'record truncated');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset).getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  str(): string {
    return fromUtf8(this.bytes());
  }

  hlc(): Hlc {
    const n = this.int();
    const l = this.uint();
    const c = this.uint();
    return { n, l, c };
  }

  /** Asserts that nothing is left over. */
  end(): void {
    assert(this.at === this.buf.length, 'trailing bytes in record');
  }
}

/** Runs a decoder over untrusted input: null instead of an assertion failure. */
export function tryDecode<T>(decode: () => T): T | null {
  try {
    return decode();
  } catch (err) {
    if (err instanceof AssertionError || err instanceof TypeError) return null;
    throw err;
  }
}

// ------------------------------------------------------------------ base64url (RFC 4648 5)

const b64Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64Values = new Map<string, number>([...b64Alphabet].map((ch, i) => [ch, i]));

/** Unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] ?? 0;
    const b1 = bytes[i + 1] ?? 0;
    const b2 = bytes[i + 2] ?? 0;
    const n = (b0 << 16) | (b1 << 8) | b2;
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let k = 0; k < chars; k += 1) out += b64Alphabet[(n >>> (18 - 6 * k)) & 0x3f];
  }
  return out;
}

/** Null when `text` is not unpadded base64url (or has non-zero padding bits). */
export function fromBase64Url(text: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (const ch of text) {
    const v = b64Values.get(ch);
    if (v === undefined) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

// ------------------------------------------------------------------ FNV-1a (32 bit)

export const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;

export function fnv1a(hash: number, bytes: Uint8Array): number {
  let h = hash;
  for (const b of bytes) h = Math.imul(h ^ b, fnvPrime) >>> 0;
  return h;
}

/** Hashes a length then the bytes, so adjacent fields cannot run into each other. */
export function fnvField(hash: number, bytes: Uint8Array): number {
  return fnv1a(fnv1a(hash, new ByteWriter().uint(bytes.length).finish()), bytes);
}
