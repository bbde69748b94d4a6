// A small schema-driven binary codec for the plain API objects (src/core/api/types.ts) that
// cross the rings and live in Raft entries. A schema lists fields in order; the encoding is
// their values back to back (no names, no tags), so it is compact and cheap, and a schema
// change is a format change (bump the entry version in messages/kahuna.ts).
//   num   float64 (int64 wire values are safe JS integers)   str   u32 length + UTF-8
//   bytes u32 length + bytes                                 bool  u8
//   hlc   i32 node, f64 physical, u32 counter                '?'   suffix: u8 presence first
//   a nested schema (object), [schema] for a list (u32 count + items), {opt: schema} for a
//   nested object that may be null
import { assert } from '../../assert.js';

export type Scalar = 'num' | 'str' | 'bytes' | 'bool' | 'hlc' | 'num?' | 'str?' | 'bytes?';
export type Kind = Scalar | Schema | readonly [Schema] | OptionalSchema;
/** A nested object that may be null: a presence byte, then the object. */
export interface OptionalSchema {
  readonly opt: Schema;
}
export type Schema = readonly (readonly [string, Kind])[];

const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder('utf-8');

const slabBytes = 64 * 1024;
let slab = new Uint8Array(slabBytes);
let slabUsed = 0;
const writerKeepBytes = 1024 * 1024;
let pooledWriter: BinWriter | null = null;

/**
 * An empty writer for one synchronous encode, ended by finish() or finishShared(): the same
 * writer each time while it is not in use (a nested encode gets a new one), so the hot encodes
 * allocate no scratch buffer.
 */
export function takeWriter(): BinWriter {
  const w = pooledWriter ?? new BinWriter();
  pooledWriter = null;
  w.length = 0;
  w.pooled = true;
  return w;
}

export class BinWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  str(s: string): void {
    // Worst case 3 bytes per UTF-16 unit; encodeInto writes in place.
    this.reserve(4 + s.length * 3);
    const at = this.length + 4;
    const { written } = utf8.encodeInto(s, this.buf.subarray(at));
    this.view.setUint32(this.length, written, true);
    this.length = at + written;
  }

  finish(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.#release();
    return out;
  }

  /**
   * The bytes as a view into a shared slab (no allocation of its own): for short-lived data
   * (Raft entries until they are persisted and compacted), never for what a state keeps, since
   * a view pins its whole slab.
   */
  finishShared(): Uint8Array {
    const n = this.length;
    let out: Uint8Array;
    if (n > slabBytes / 8) {
      out = this.buf.slice(0, n);
    } else {
      if (slabUsed + n > slabBytes) {
        slab = new Uint8Array(slabBytes);
        slabUsed = 0;
      }
      out = slab.subarray(slabUsed, slabUsed + n);
      out.set(this.buf.subarray(0, n));
      slabUsed = (slabUsed + n + 7) & ~7;
    }
    this.#release();
    return out;
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** From takeWriter(): back to the pool (a huge buffer is let go). */
  pooled = false;
  #release(): void {
    if (!this.pooled) return;
    this.pooled = false;
    if (pooledWriter === null && this.buf.length <= writerKeepBytes) pooledWriter = this;
  }
}

export class BinReader {
  private readonly view: DataView;
  at = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new CodecError('truncated message');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.at, true);
    this.at += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const b = this.buf.slice(this.at, this.at + n);
    this.at += n;
    return b;
  }

  /** Like bytes(), but a view into the input: only for bytes decoded again at once. */
  bytesView(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }

  str(): string {
    const n = this.u32();
    this.need(n);
    const s = utf8Decode.decode(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }

  done(): boolean {
    return this.at === this.buf.length;
  }
}

/** A malformed message: a bug or corruption, reported as data by the caller. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}

type Obj = Record<string, unknown>;
type Write = (w: BinWriter, v: unknown) => void;
type Read = (r: BinReader) => unknown;

interface Compiled {
  readonly write: (w: BinWriter, obj: Obj) => void;
  readonly read: (r: BinReader) => Obj;
}

/**
 * Schemas are compiled once into per-field closures (no kind dispatch per value), joined by a
 * generated function per schema: the reader builds its object as one literal, so every object
 * of a schema has the same shape from birth (no map transitions, monomorphic property access
 * downstream), and the writer reads each field by a constant name. Field names are quoted with
 * JSON.stringify, so no name can inject code.
 */
const compiledSchemas = new WeakMap<Schema, Compiled>();

function compile(schema: Schema): Compiled {
  let c = compiledSchemas.get(schema);
  if (c === undefined) {
    const writes = schema.map(([, k]) => writerOf(k));
    const reads = schema.map(([, k]) => readerOf(k));
    const names = schema.map(([name]) => JSON.stringify(name));
    const write = new Function('writes', `return function write(w, o) {${
      names.map((name, i) => `writes[${i}](w, o[${name}]);`).join('')}};`)(writes) as
      Compiled['write'];
    const read = new Function('reads', `return function read(r) { return {${
      names.map((name, i) => `${name}: reads[${i}](r)`).join(', ')}}; };`)(reads) as
      Compiled['read'];
    c = { write, read };
    compiledSchemas.set(schema, c);
  }
  return c;
}

function scalarWriter(kind: string): Write {
  switch (kind) {
    case 'num': return (w, v) => w.f64(v as number);
    case 'str': return (w, v) => w.str(v as string);
    case 'bytes': return (w, v) => w.bytes(v as Uint8Array);
    case 'bool': return (w, v) => w.u8(v === true ? 1 : 0);
    case 'hlc': return (w, v) => {
      const h = v as { n: number; l: number; c: number };
      w.i32(h.n);
      w.f64(h.l);
      w.u32(h.c);
    };
  }
  throw new CodecError(`unknown kind ${kind}`);
}

function scalarReader(kind: string): Read {
  switch (kind) {
    case 'num': return (r) => r.f64();
    case 'str': return (r) => r.str();
    case 'bytes': return (r) => r.bytes();
    case 'bool': return (r) => r.u8() !== 0;
    case 'hlc': return (r) => ({ n: r.i32(), l: r.f64(), c: r.u32() });
  }
  throw new CodecError(`unknown kind ${kind}`);
}

function writerOf(kind: Kind): Write {
  if (typeof kind === 'string') {
    if (!kind.endsWith('?')) return scalarWriter(kind);
    const inner = scalarWriter(kind.slice(0, -1));
    return (w, v) => {
      if (v === null || v === undefined) return w.u8(0);
      w.u8(1);
      inner(w, v);
    };
  }
  if (isOptional(kind)) {
    const schema = kind.opt;
    return (w, v) => {
      if (v === null || v === undefined) return w.u8(0);
      w.u8(1);
      writeObject(w, schema, v as Obj);
    };
  }
  if (isList(kind)) {
    const schema = kind[0];
    return (w, v) => {
      const items = v as readonly unknown[];
      w.u32(items.length);
      for (const item of items) writeObject(w, schema, item as Obj);
    };
  }
  const schema = kind as Schema;
  return (w, v) => writeObject(w, schema, v as Obj);
}

function readerOf(kind: Kind): Read {
  if (typeof kind === 'string') {
    if (!kind.endsWith('?')) return scalarReader(kind);
    const inner = scalarReader(kind.slice(0, -1));
    return (r) => (r.u8() === 0 ? null : inner(r));
  }
  if (isOptional(kind)) {
    const schema = kind.opt;
    return (r) => (r.u8() === 0 ? null : readObject(r, schema));
  }
  if (isList(kind)) {
    const schema = kind[0];
    return (r) => {
      const n = r.u32();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(readObject(r, schema));
      return out;
    };
  }
  const schema = kind as Schema;
  return (r) => readObject(r, schema);
}

export function writeValue(w: BinWriter, kind: Kind, v: unknown): void {
  writerOf(kind)(w, v);
}

export function readValue(r: BinReader, kind: Kind): unknown {
  return readerOf(kind)(r);
}

function isOptional(kind: Kind): kind is OptionalSchema {
  return !Array.isArray(kind) && typeof kind === 'object';
}

function isList(kind: Kind): kind is readonly [Schema] {
  return Array.isArray(kind) && kind.length === 1 && Array.isArray(kind[0]) &&
    Array.isArray((kind[0] as Schema)[0]);
}

export function writeObject(w: BinWriter, schema: Schema, obj: Obj): void {
  compile(schema).write(w, obj);
}

export function readObject(r: BinReader, schema: Schema): Obj {
  return compile(schema).read(r);
}

/** The encoding of `obj`, in a new array of exactly its length. */
export function encode(schema: Schema, obj: unknown): Uint8Array {
  const w = takeWriter();
  writeObject(w, schema, obj as Obj);
  return w.finish();
}

/** encode() into the shared slab (finishShared): for bytes that live only until they are
 *  copied or decoded (a request on its way to its partition), never for what is kept. */
export function encodeShared(schema: Schema, obj: unknown): Uint8Array {
  const w = takeWriter();
  writeObject(w, schema, obj as Obj);
  return w.finishShared();
}

export function decode<T>(schema: Schema, bytes: Uint8Array): T {
  const r = new BinReader(bytes);
  const obj = readObject(r, schema);
  if (!r.done()) throw new CodecError('trailing bytes after message');
  assert(typeof obj === 'object', 'decoded object');
  return obj as T;
}
