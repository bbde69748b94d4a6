// Honu's HTTP/1.1 server (RFC 9112) for the REST API, on sockets the listener hands over.
//
// Why not node:http: profiles of a REST get (bench/RESULTS.md, "REST path") put a third of the
// main thread in node:http's response path, which corks the socket and ends every reply with a
// writev of header and body (about 10 us per reply here, against 2.4 us for one write of the
// same bytes), plus IncomingMessage and ServerResponse streams per request. This server parses
// a request in place, hands the handler a plain object, and writes each reply (or every reply
// ready at once, when a client pipelines) with one socket.write.
//
// What it keeps of node:http's behaviour: keep-alive by default on HTTP/1.1 and on request on
// HTTP/1.0; pipelined requests answered in order; Content-Length or chunked bodies;
// `Expect: 100-continue`; a 16 KiB head limit (431); headers, request and keep-alive timeouts
// (408 or a silent close); backpressure (reading pauses while the socket's buffer is full or
// too many requests wait); and a 413 for a body over the handler's limit that reads and drops
// the rest of the body for a while, so the client sees the answer instead of a reset.
import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { assert } from '../../assert.js';
import {
  httpHeadBytesMax, httpHeadersTimeoutMs, httpKeepAliveTimeoutMs, httpPipelineMax,
  httpRequestTimeoutMs, restLingerBytesMax, restLingerMs,
} from '../../limits.js';
import type { Logger } from '../log.js';
import { ChunkedDecoder } from './chunked.js';
import { isHeadProblem, parseRequestHead } from './http1-head.js';
import type { RequestHead } from './http1-head.js';

export interface HttpRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** Lower-cased field names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The whole body; null when the request has none or when it was over the limit. */
  readonly body: Buffer | null;
  /** The body was over the handler's bodyBytesMax: answer 413; the rest is being dropped. */
  readonly bodyTooLarge: boolean;
}

/** Answers one request; only the first call counts. */
export type Respond = (status: number, contentType: string, payload: string,
  headers?: Readonly<Record<string, string>>) => void;

export interface HttpHandler {
  readonly bodyBytesMax: number;
  /** Must answer every request through `respond`, exactly once, and never throw. */
  handle(req: HttpRequest, respond: Respond): void;
}

export interface Http1Options {
  readonly log?: Logger | undefined;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  /** How often idle and slow connections are checked (default: a quarter of the shortest). */
  readonly sweepMs?: number;
}

const crlfcrlf = Buffer.from('\r\n\r\n', 'latin1');
const continueLine = 'HTTP/1.1 100 Continue\r\n\r\n';
const jsonType = 'application/json; charset=utf-8';

let dateSecond = -1;
let dateLine = '';
/** `date: ...\r\n`, rebuilt at most once a second. */
function currentDateLine(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (statusLines.size < 100) statusLines.set(status, line);
  }
  return line;
}

/** The JSON error body the HTTP layer itself answers with (docs/errors.md). */
function protocolErrorPayload(message: string): string {
  return JSON.stringify({ error: 'HONU_ERR_BAD_HTTP', message });
}

const enum Read {
  Head, // waiting for (the rest of) a request head
  Body, // a Content-Length body
  Chunked, // a chunked body (maybe being dropped after a 413)
  Discard, // dropping the rest of a Content-Length body after a 413
  Done, // no more requests on this connection
}

/** One reply waiting its turn (pipelined requests are answered in order). */
interface Slot {
  fields: string | null; // status line and fields, without the final CRLF; null until answered
  payload: string;
  omitBody: boolean; // HEAD
  close: boolean; // the request asked for the connection to close
}

const pauseWrite = 1;
const pauseQueue = 2;

class Connection {
  #read = Read.Head;
  #pending: Buffer | null = null; // head bytes seen so far
  #head: RequestHead | null = null; // the request whose body is being read
  #chunks: Buffer[] = [];
  #size = 0; // body bytes so far
  #left = 0; // Content-Length bytes still to come
  #decoder: ChunkedDecoder | null = null;
  #tooLarge = false;
  #tooLargeAnswered = false;
  #discarded = 0;
  #lingerTimer: NodeJS.Timeout | null = null;
  readonly #queue: Slot[] = [];
  #pauses = 0;
  #endWhenAnswered = false; // the peer sent FIN, or a protocol error waits for owed replies
  #closed = false;
  /** When the current phase started (request head's first byte, or idle since). */
  since = Date.now();

  constructor(readonly socket: Duplex, readonly server: Http1Server) {
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.#unpause(pauseWrite));
    socket.once('close', () => this.#onClose());
  }

  /** Idle: no partial request and no reply owed. */
  get idle(): boolean {
    return this.#read === Read.Head && this.#pending === null && this.#queue.length === 0;
  }

  /** Which timeout applies now, if any. */
  timeoutMs(options: Required<Omit<Http1Options, 'log' | 'sweepMs'>>): number {
    if (this.#closed || this.#read === Read.Done) return Infinity;
    if (this.#read === Read.Head) {
      if (this.#pending !== null) return options.headersTimeoutMs;
      return this.#queue.length === 0 ? options.keepAliveTimeoutMs : Infinity;
    }
    return this.#read === Read.Discard || this.#tooLarge ? Infinity : options.requestTimeoutMs;
  }

  /** A timeout passed: a 408 if nothing else is owed and a request was under way, then close. */
  expire(): void {
    const partial = this.#read !== Read.Head || this.#pending !== null;
    if (partial && this.#queue.length === 0) this.#fatal(408, 'the request did not arrive in time');
    else this.socket.destroy();
  }

  /** The server is closing: an idle connection closes now; a busy one after its last reply. */
  closeIfIdle(): void {
    if (this.idle) this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.#closed) {
      switch (this.#read) {
        case Read.Head:
          at = this.#readHead(chunk, at);
          break;
        case Read.Body:
          at = this.#readBody(chunk, at);
          break;
        case Read.Chunked:
          at = this.#readChunked(chunk, at);
          break;
        case Read.Discard:
          at = this.#discard(chunk, at);
          break;
        case Read.Done:
          return; // bytes after a request that closes the connection are ignored
      }
    }
  }

  /** Returns where reading stopped in `chunk` (chunk.length when it needs more). */
  #readHead(chunk: Buffer, at: number): number {
    let buf = chunk;
    let from = at;
    let searchFrom = at;
    if (this.#pending === null) {
      this.since = Date.now();
    } else {
      const before = this.#pending.length;
      buf = Buffer.concat([this.#pending, chunk.subarray(at)]);
      from = 0;
      searchFrom = Math.max(0, before - 3);
    }
    const end = buf.indexOf(crlfcrlf, searchFrom);
    if (end === -1 || end - from > httpHeadBytesMax) {
      if (buf.length - from > httpHeadBytesMax) {
        this.#fatal(431, 'the request head is over 16 KiB');
        return chunk.length;
      }
      this.#pending = from === 0 && buf !== chunk ? buf : buf.subarray(from);
      return chunk.length;
    }
    this.#pending = null;
    const parsed = parseRequestHead(buf.toString('latin1', from, end));
    if (isHeadProblem(parsed)) {
      this.#fatal(parsed.status, parsed.reason);
      return chunk.length;
    }
    // Where the body starts in `chunk`: the head may have begun in an earlier chunk.
    const next = buf === chunk ? end + 4 : chunk.length - (buf.length - (end + 4));
    this.#startBody(parsed);
    return next;
  }

  #startBody(head: RequestHead): void {
    const max = this.server.handler.bodyBytesMax;
    if (head.chunked) {
      this.#head = head;
      this.#decoder = new ChunkedDecoder();
      this.#chunks = [];
      this.#size = 0;
      this.#discarded = 0;
      this.#tooLarge = false;
      this.#tooLargeAnswered = false;
      this.#read = Read.Chunked;
      this.#maybeContinue(head);
      return;
    }
    if (head.contentLength === 0) {
      this.#dispatch(head, null, false);
      return;
    }
    if (head.contentLength > max) {
      this.#dispatch(head, null, true);
      if (this.#read !== Read.Done) this.#beginDiscard(head.contentLength);
      return;
    }
    this.#head = head;
    this.#left = head.contentLength;
    this.#chunks = [];
    this.#read = Read.Body;
    this.#maybeContinue(head);
  }

  #maybeContinue(head: RequestHead): void {
    // An interim answer must not overtake replies still owed to earlier requests.
    if (head.expectContinue && this.#queue.length === 0) this.socket.write(continueLine);
  }

  #readBody(chunk: Buffer, at: number): number {
    const take = Math.min(this.#left, chunk.length - at);
    this.#chunks.push(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take));
    this.#left -= take;
    if (this.#left === 0) {
      const head = this.#head;
      assert(head !== null, 'body without a head');
      const chunks = this.#chunks;
      const body = chunks.length === 1 ? chunks[0] ?? null : Buffer.concat(chunks);
      this.#head = null;
      this.#chunks = [];
      this.#read = Read.Head;
      this.#dispatch(head, body, false);
    }
    return at + take;
  }

  #readChunked(chunk: Buffer, at: number): number {
    const decoder = this.#decoder;
    const head = this.#head;
    assert(decoder !== null && head !== null, 'chunked body without a decoder');
    const max = this.server.handler.bodyBytesMax;
    const result = decoder.feed(chunk, at, (piece) => {
      if (this.#tooLarge) {
        this.#discarded += piece.length;
        return;
      }
      this.#size += piece.length;
      if (this.#size <= max) {
        this.#chunks.push(piece);
        return;
      }
      this.#chunks = [];
      this.#tooLarge = true;
    });
    if (this.#tooLarge && !this.#tooLargeAnswered) {
      this.#tooLargeAnswered = true;
      this.#dispatch(head, null, true); // answers 413 now; the rest of the body is dropped
      if (this.#read === Read.Done) return chunk.length;
      this.#startLinger();
    }
    if (this.#discarded > restLingerBytesMax) {
      this.socket.destroy();
      return chunk.length;
    }
    if (result.kind === 'error') {
      this.#fatal(400, result.reason);
      return chunk.length;
    }
    if (result.kind === 'more') return chunk.length;
    const chunks = this.#chunks;
    const tooLarge = this.#tooLarge;
    this.#decoder = null;
    this.#head = null;
    this.#chunks = [];
    this.#read = Read.Head;
    this.#stopLinger();
    if (!tooLarge) {
      this.#dispatch(head, chunks.length === 0 ? null : chunks.length === 1
        ? chunks[0] ?? null : Buffer.concat(chunks), false);
    }
    return result.end;
  }

  #beginDiscard(bytes: number): void {
    this.#left = bytes;
    this.#discarded = 0;
    this.#read = Read.Discard;
    this.#startLinger();
  }

  #discard(chunk: Buffer, at: number): number {
    const take = Math.min(this.#left, chunk.length - at);
    this.#left -= take;
    this.#discarded += take;
    if (this.#discarded > restLingerBytesMax) {
      this.socket.destroy();
      return chunk.length;
    }
    if (this.#left === 0) {
      this.#read = Read.Head;
      this.#stopLinger();
    }
    return at + take;
  }

  #startLinger(): void {
    this.#lingerTimer = setTimeout(() => this.socket.destroy(), restLingerMs);
    this.#lingerTimer.unref();
  }

  #stopLinger(): void {
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
    this.#lingerTimer = null;
  }

  #dispatch(head: RequestHead, body: Buffer | null, bodyTooLarge: boolean): void {
    const slot: Slot = { fields: null, payload: '', omitBody: head.method === 'HEAD',
      close: !head.keepAlive };
    this.#queue.push(slot);
    if (!head.keepAlive) this.#read = Read.Done;
    else if (this.#queue.length >= httpPipelineMax) this.#pause(pauseQueue);
    const request: HttpRequest = { method: head.method, url: head.url, headers: head.headers,
      body, bodyTooLarge };
    const respond: Respond = (status, contentType, payload, headers) => {
      if (slot.fields !== null) return;
      let fields = `${statusLine(status)}content-type: ${contentType}\r\ncontent-length: ${
        Buffer.byteLength(payload)}\r\n${currentDateLine()}`;
      if (headers !== undefined) for (const name in headers) fields += `${name}: ${headers[name]}\r\n`;
      if (head.minor === 0 && head.keepAlive) fields += 'connection: keep-alive\r\n';
      slot.fields = fields;
      slot.payload = payload;
      this.#flush();
    };
    try {
      this.server.handler.handle(request, respond);
    } catch (error) {
      this.server.log?.error({ err: error }, 'HTTP handler threw');
      respond(500, jsonType, JSON.stringify({ error: 'HONU_ERR_INTERNAL',
        message: 'internal error' }));
    }
  }

  /** Writes every reply that is ready and next in line, in one write. */
  #flush(): void {
    if (this.#closed) return;
    let out = '';
    let close = false;
    while (this.#queue.length > 0) {
      const slot = this.#queue[0];
      if (slot === undefined || slot.fields === null) break;
      this.#queue.shift();
      const last = this.#queue.length === 0;
      close = slot.close || (last && (this.#endWhenAnswered ||
        (this.server.closing && this.#read === Read.Head && this.#pending === null)));
      out += close ? `${slot.fields}connection: close\r\n\r\n` : `${slot.fields}\r\n`;
      if (!slot.omitBody) out += slot.payload;
      if (close) break;
    }
    if (out.length === 0) return;
    if (close) {
      this.#read = Read.Done;
      this.#queue.length = 0;
      this.socket.end(out);
      return;
    }
    if (!this.socket.write(out)) this.#pause(pauseWrite);
    if (this.#queue.length < httpPipelineMax) this.#unpause(pauseQueue);
    if (this.idle) this.since = Date.now();
  }

  #pause(reason: number): void {
    if (this.#pauses === 0) this.socket.pause();
    this.#pauses |= reason;
  }

  #unpause(reason: number): void {
    if ((this.#pauses & reason) === 0) return;
    this.#pauses &= ~reason;
    if (this.#pauses === 0 && !this.#closed) this.socket.resume();
  }

  /** Answers a protocol error (after what is owed, if it can) and closes. */
  #fatal(status: number, message: string): void {
    this.#read = Read.Done;
    this.#pending = null;
    this.#stopLinger();
    const payload = protocolErrorPayload(message);
    const text = `${statusLine(status)}content-type: ${jsonType}\r\ncontent-length: ${
      Buffer.byteLength(payload)}\r\n${currentDateLine()}connection: close\r\n\r\n${payload}`;
    if (this.#queue.length === 0) {
      this.socket.end(text);
    } else {
      this.#endWhenAnswered = true; // replies are still owed: send them, then close
    }
  }

  #onEnd(): void {
    this.#endWhenAnswered = true;
    this.#read = Read.Done; // a partial request is dropped
    this.#pending = null;
    this.#stopLinger();
    if (this.#queue.length === 0) this.socket.end();
  }

  #onClose(): void {
    this.#closed = true;
    this.#read = Read.Done;
    this.#stopLinger();
    this.#queue.length = 0;
    this.server.forget(this);
  }
}

/** Serves HTTP/1.1 on the sockets given to accept(). */
export class Http1Server {
  readonly log: Logger | undefined;
  closing = false;
  readonly #connections = new Set<Connection>();
  readonly #timeouts: Required<Omit<Http1Options, 'log' | 'sweepMs'>>;
  readonly #sweepMs: number;
  #sweep: NodeJS.Timeout | null = null;
  #own: net.Server | null = null;

  constructor(readonly handler: HttpHandler, options: Http1Options = {}) {
    this.log = options.log;
    this.#timeouts = {
      headersTimeoutMs: options.headersTimeoutMs ?? httpHeadersTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs ?? httpRequestTimeoutMs,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? httpKeepAliveTimeoutMs,
    };
    const shortest = Math.min(this.#timeouts.headersTimeoutMs, this.#timeouts.requestTimeoutMs,
      this.#timeouts.keepAliveTimeoutMs);
    this.#sweepMs = options.sweepMs ?? Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Takes over a connected socket (plaintext or TLS) whose bytes are HTTP/1.1. */
  accept(socket: Duplex): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.#connections.add(new Connection(socket, this));
    this.#sweep ??= setInterval(() => this.#check(), this.#sweepMs).unref();
  }

  forget(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0 && this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  /** Stops serving new requests: idle connections close now, busy ones after their replies. */
  beginClose(): void {
    this.closing = true;
    for (const connection of this.#connections) connection.closeIfIdle();
  }

  /** Closes every connection at once. */
  destroyAll(): void {
    for (const connection of this.#connections) connection.socket.destroy();
  }

  #check(): void {
    const now = Date.now();
    for (const connection of this.#connections) {
      if (now - connection.since > connection.timeoutMs(this.#timeouts)) connection.expire();
    }
  }

  /** Listens on its own port (tests and tools; the node uses the shared listener). */
  async listen(port: number, host: string): Promise<number> {
    assert(this.#own === null, 'listen() called twice');
    const own = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.setNoDelay(true);
      socket.on('error', () => socket.destroy());
      this.accept(socket);
    });
    this.#own = own;
    await new Promise<void>((resolve, reject) => {
      own.once('error', reject);
      own.listen(port, host, () => resolve());
    });
    const address = own.address();
    assert(address !== null && typeof address === 'object', 'no address');
    return address.port;
  }

  /** Stops listen()'s server and closes every connection. */
  async close(): Promise<void> {
    this.beginClose();
    this.destroyAll();
    const own = this.#own;
    if (own !== null) await new Promise<void>((resolve) => own.close(() => resolve()));
  }
}
