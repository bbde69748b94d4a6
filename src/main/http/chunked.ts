// An incremental decoder of the chunked transfer coding (RFC 9112 section 7.1). Pure: fed
// buffers, it hands out the chunk data as subarrays (no copies) and says where the body ended.
// Chunk extensions are skipped; trailer fields are read and dropped.

const sizeLineBytesMax = 1024; // chunk-size plus extensions
const trailerBytesMax = 16 * 1024;

const enum State { Size, Data, DataEnd, Trailer, Done }

export type ChunkedResult =
  | { readonly kind: 'more' } // every byte was used; feed the next buffer
  | { readonly kind: 'done'; readonly end: number } // the body ended at `end` of this buffer
  | { readonly kind: 'error'; readonly reason: string };

const more: ChunkedResult = { kind: 'more' };

export class ChunkedDecoder {
  #state = State.Size;
  #line = ''; // a size or trailer line so far
  #remaining = 0; // data bytes left in this chunk
  #trailerBytes = 0;

  /** Decodes `buf` from `start`; `onData` gets each piece of chunk data, in order. */
  feed(buf: Buffer, start: number, onData: (piece: Buffer) => void): ChunkedResult {
    let at = start;
    while (at < buf.length) {
      switch (this.#state) {
        case State.Size:
        case State.Trailer: {
          const lf = buf.indexOf(10, at);
          const end = lf === -1 ? buf.length : lf + 1;
          this.#line += buf.toString('latin1', at, end);
          at = end;
          if (this.#state === State.Size ? this.#line.length > sizeLineBytesMax
            : this.#line.length + this.#trailerBytes > trailerBytesMax) {
            return { kind: 'error', reason: this.#state === State.Size
              ? 'chunk size line too long' : 'chunked trailer too long' };
          }
          if (lf === -1) return more;
          const line = this.#line;
          this.#line = '';
          if (!line.endsWith('\r\n')) return { kind: 'error', reason: 'bare LF in chunked body' };
          const result = this.#state === State.Size ? this.#sizeLine(line) : this.#trailerLine(line);
          if (result !== null) return result;
          if ((this.#state as State) === State.Done) return { kind: 'done', end: at };
          break;
        }
        case State.Data: {
          const take = Math.min(this.#remaining, buf.length - at);
          onData(buf.subarray(at, at + take));
          at += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = State.DataEnd;
          break;
        }
        case State.DataEnd: {
          // The CRLF after the data: one byte at a time, since it may be split.
          const byte = buf[at];
          const want = this.#line.length === 0 ? 13 : 10;
          if (byte !== want) return { kind: 'error', reason: 'missing CRLF after chunk data' };
          at += 1;
          if (want === 13) {
            this.#line = '\r';
          } else {
            this.#line = '';
            this.#state = State.Size;
          }
          break;
        }
        case State.Done:
          return { kind: 'done', end: at };
      }
    }
    return this.#state === State.Done ? { kind: 'done', end: at } : more;
  }

  #sizeLine(line: string): ChunkedResult | null {
    const semicolon = line.indexOf(';');
    const sizeText = (semicolon === -1 ? line.slice(0, -2) : line.slice(0, semicolon)).trimEnd();
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) {
      return { kind: 'error', reason: 'malformed chunk size' };
    }
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) {
      this.#state = State.Trailer;
    } else {
      this.#remaining = size;
      this.#state = State.Data;
    }
    return null;
  }

  #trailerLine(line: string): ChunkedResult | null {
    if (line === '\r\n') {
      this.#state = State.Done;
      return null;
    }
    if (line.indexOf(':') <= 0) return { kind: 'error', reason: 'malformed trailer field' };
    this.#trailerBytes += line.length;
    if (this.#trailerBytes > trailerBytesMax) {
      return { kind: 'error', reason: 'chunked trailer too long' };
    }
    return null;
  }
}
