// A tiny RESP2 client over node:net for bench/compare/compare.ts: one command outstanding per
// connection (no pipelining), commands pre-encoded by the caller so the load loop does no
// per-call encoding, replies parsed into strings, integers, bulk buffers, errors and arrays.
import { connect, type Socket } from 'node:net';

export class RespError {
  constructor(readonly message: string) {}
}
export type RespValue = string | number | Buffer | null | RespError | RespValue[];

/** The RESP encoding of one command. */
export function respCommand(...args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Parses one reply at `at`: [value, next offset], or null if `buf` does not hold all of it. */
function parse(buf: Buffer, at: number): [RespValue, number] | null {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const line = buf.toString('latin1', at + 1, eol);
  switch (buf[at]) {
    case 0x2b: return [line, eol + 2]; // +
    case 0x2d: return [new RespError(line), eol + 2]; // -
    case 0x3a: return [Number(line), eol + 2]; // :
    case 0x24: { // $
      const n = Number(line);
      if (n < 0) return [null, eol + 2];
      if (buf.length < eol + 2 + n + 2) return null;
      return [buf.subarray(eol + 2, eol + 2 + n), eol + 2 + n + 2];
    }
    case 0x2a: { // *
      const n = Number(line);
      if (n < 0) return [null, eol + 2];
      const items: RespValue[] = [];
      let next = eol + 2;
      for (let i = 0; i < n; i += 1) {
        const item = parse(buf, next);
        if (item === null) return null;
        items.push(item[0]);
        next = item[1];
      }
      return [items, next];
    }
    default: throw new Error(`RESP: unexpected byte ${String(buf[at])}`);
  }
}

export class RespClient {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (v: RespValue) => void; reject: (e: Error) => void } | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      const reply = parse(this.buf, 0);
      if (reply === null) return;
      this.buf = this.buf.subarray(reply[1]);
      const w = this.waiting;
      this.waiting = null;
      w?.resolve(reply[0]);
    });
    const fail = (e: Error): void => {
      const w = this.waiting;
      this.waiting = null;
      w?.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('RESP connection closed')));
  }

  static open(port: number, host = '127.0.0.1'): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => {
        socket.off('error', reject);
        resolve(new RespClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends one pre-encoded command and waits for its reply. */
  call(command: Buffer): Promise<RespValue> {
    if (this.waiting !== null) return Promise.reject(new Error('RESP: one command at a time'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(command);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
