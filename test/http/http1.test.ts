// Honu's HTTP/1.1 server: the head parser and the chunked decoder as pure code, then the server
// itself on real sockets with raw bytes, so framing, pipelining, keep-alive, limits and timeouts
// are checked byte for byte.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ChunkedDecoder } from '../../src/main/http/chunked.js';
import { isHeadProblem, parseRequestHead } from '../../src/main/http/http1-head.js';
import type { RequestHead } from '../../src/main/http/http1-head.js';
import { Http1Server } from '../../src/main/http/http1-server.js';
import type { HttpHandler, HttpRequest, Respond } from '../../src/main/http/http1-server.js';

function head(text: string): RequestHead {
  const parsed = parseRequestHead(text);
  if (isHeadProblem(parsed)) throw new Error(`unexpected problem: ${parsed.reason}`);
  return parsed;
}

function problemStatus(text: string): number | null {
  const parsed = parseRequestHead(text);
  return isHeadProblem(parsed) ? parsed.status : null;
}

describe('request head', () => {
  test('request line, lower-cased fields, repeated fields joined', () => {
    const h = head('POST /v1/kv/try-set?x=1 HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a:  2 \r\n' +
      'Content-Length: 12');
    expect(h).toMatchObject({ method: 'POST', url: '/v1/kv/try-set?x=1', minor: 1,
      contentLength: 12, chunked: false, keepAlive: true, expectContinue: false });
    expect(h.headers).toEqual({ host: 'a', 'x-a': '1, 2', 'content-length': '12' });
  });

  test('keep-alive: HTTP/1.1 unless close, HTTP/1.0 only on request', () => {
    expect(head('GET / HTTP/1.1\r\nConnection: Close').keepAlive).toBe(false);
    expect(head('GET / HTTP/1.1\r\nConnection: upgrade, close').keepAlive).toBe(false);
    expect(head('GET / HTTP/1.0').keepAlive).toBe(false);
    expect(head('GET / HTTP/1.0\r\nConnection: Keep-Alive').keepAlive).toBe(true);
  });

  test('leading empty lines are skipped; absolute-form becomes origin-form', () => {
    expect(head('\r\n\r\nGET /x HTTP/1.1').url).toBe('/x');
    expect(head('GET http://h:1/a/b?c HTTP/1.1').url).toBe('/a/b?c');
    expect(head('GET http://h HTTP/1.1').url).toBe('/');
    expect(head('OPTIONS * HTTP/1.1').url).toBe('*');
  });

  test('chunked, Expect: 100-continue', () => {
    const h = head('POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nExpect: 100-Continue');
    expect([h.chunked, h.contentLength, h.expectContinue]).toEqual([true, -1, true]);
  });

  test('refusals: framing that could smuggle a request, bad syntax, versions', () => {
    expect(problemStatus('GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2')).toBe(400);
    expect(problemStatus('GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1')).toBeNull();
    expect(problemStatus('GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked'))
      .toBe(400);
    expect(problemStatus('GET / HTTP/1.1\r\nContent-Length: -1')).toBe(400);
    expect(problemStatus('GET / HTTP/1.1\r\nContent-Length: 1x')).toBe(400);
    expect(problemStatus('GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked')).toBe(501);
    expect(problemStatus('GET / HTTP/1.0\r\nTransfer-Encoding: chunked')).toBe(400);
    expect(problemStatus('GET / HTTP/1.1\r\nExpect: something')).toBe(417);
    expect(problemStatus('GET / HTTP/2.0')).toBe(505);
    expect(problemStatus('GET / HTTP/1.1\r\n folded: x')).toBe(400);
    expect(problemStatus('GET / HTTP/1.1\r\nno-colon')).toBe(400);
    expect(problemStatus('GET / HTTP/1.1\r\nbad name: x')).toBe(400);
    expect(problemStatus('GET / HTTP/1.1\r\nx: a\rb')).toBe(400);
    expect(problemStatus('GET / HTTP/1.1\r\nx: a\nb')).toBe(400);
    expect(problemStatus('GET /  HTTP/1.1')).toBe(400);
    expect(problemStatus('GET relative HTTP/1.1')).toBe(400);
    expect(problemStatus('hello')).toBe(400);
    expect(problemStatus('')).toBe(400);
  });
});

function decodeAll(pieces: Buffer[]): { body: string; end: number; kind: string } {
  const decoder = new ChunkedDecoder();
  let body = '';
  for (const piece of pieces) {
    const result = decoder.feed(piece, 0, (data) => (body += data.toString('latin1')));
    if (result.kind === 'error') return { body, end: -1, kind: `error: ${result.reason}` };
    if (result.kind === 'done') return { body, end: result.end, kind: 'done' };
  }
  return { body, end: -1, kind: 'more' };
}

describe('chunked decoder', () => {
  const wire = '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nx-t: 1\r\n\r\nNEXT';

  test('whole, and split at every byte', () => {
    expect(decodeAll([Buffer.from(wire, 'latin1')]))
      .toEqual({ body: 'hello 0123456789', end: wire.length - 4, kind: 'done' });
    for (let cut = 1; cut < wire.length - 4; cut++) {
      const result = decodeAll([Buffer.from(wire.slice(0, cut), 'latin1'),
        Buffer.from(wire.slice(cut), 'latin1')]);
      expect([cut, result.body, result.kind]).toEqual([cut, 'hello 0123456789', 'done']);
      expect(result.end).toBe(wire.length - 4 - cut);
    }
  });

  test('byte by byte', () => {
    const pieces = [...Buffer.from(wire, 'latin1')].map((byte) => Buffer.from([byte]));
    expect(decodeAll(pieces)).toMatchObject({ body: 'hello 0123456789', kind: 'done' });
  });

  test('malformed input is an error, never a hang', () => {
    expect(decodeAll([Buffer.from('zz\r\n')]).kind).toMatch(/^error/);
    expect(decodeAll([Buffer.from('5\r\nhelloXX')]).kind).toMatch(/^error/);
    expect(decodeAll([Buffer.from('5\nhello')]).kind).toMatch(/^error/);
    expect(decodeAll([Buffer.from(`1${'0'.repeat(2000)}`)]).kind).toMatch(/^error/);
    expect(decodeAll([Buffer.from(`0\r\n${'x: y\r\n'.repeat(4000)}`)]).kind).toMatch(/^error/);
    expect(decodeAll([Buffer.from('0\r\nno colon\r\n\r\n')]).kind).toMatch(/^error/);
  });
});

// A handler that echoes what it got as JSON; `/slow/N` answers after N ms.
class EchoHandler implements HttpHandler {
  readonly bodyBytesMax = 1000;
  handle(req: HttpRequest, respond: Respond): void {
    const answer = (): void => {
      if (req.bodyTooLarge) {
        respond(413, 'application/json', '{"error":"too large"}');
        return;
      }
      respond(200, 'application/json', JSON.stringify({ method: req.method, url: req.url,
        body: req.body?.toString('utf8') ?? null }), { 'x-test': 'yes' });
    };
    const slow = /^\/slow\/(\d+)/.exec(req.url);
    if (slow === null) answer();
    else setTimeout(answer, Number(slow[1]));
  }
}

/** A raw client: send bytes, collect what comes back until `until` holds or the peer closes. */
class Raw {
  readonly socket: net.Socket;
  text = '';
  closed = false;
  readonly #waiters: Array<() => void> = [];
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('latin1');
      this.#wake();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async until(check: (text: string) => boolean, timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.text)) {
      if (this.closed || Date.now() > deadline) {
        throw new Error(`gave up (closed ${String(this.closed)}): ${JSON.stringify(this.text)}`);
      }
      await Promise.race([new Promise<void>((resolve) => this.#waiters.push(resolve)),
        sleep(50)]);
    }
    return this.text;
  }

  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await sleep(10);
    return this.closed;
  }
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('server on a real socket', () => {
  let server: Http1Server;
  let port = 0;
  beforeAll(async () => {
    server = new Http1Server(new EchoHandler(), { headersTimeoutMs: 300, requestTimeoutMs: 600,
      keepAliveTimeoutMs: 400, sweepMs: 20 });
    port = await server.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await server.close();
  });

  test('a reply: status line, type, length, date, extra headers, body', async () => {
    const raw = new Raw(port);
    raw.socket.write('POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc');
    const text = await raw.until((t) => t.endsWith('}'));
    const [fields, body] = text.split('\r\n\r\n');
    const lines = (fields ?? '').split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 200 OK');
    expect(lines).toContain('content-type: application/json');
    expect(lines).toContain(`content-length: ${String(body?.length)}`);
    expect(lines).toContain('x-test: yes');
    expect(lines.some((line) => /^date: \w{3}, \d\d \w{3} \d{4} /.test(line))).toBe(true);
    expect(JSON.parse(body ?? '')).toEqual({ method: 'POST', url: '/a', body: 'abc' });
    raw.socket.destroy();
  });

  test('pipelined requests are answered in order even when handlers finish out of order',
    async () => {
      const raw = new Raw(port);
      raw.socket.write('GET /slow/80 HTTP/1.1\r\n\r\nGET /slow/10 HTTP/1.1\r\n\r\n' +
        'GET /now HTTP/1.1\r\n\r\n');
      const text = await raw.until((t) => count(t, 'HTTP/1.1 200') === 3);
      const urls = [...text.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
      expect(urls).toEqual(['/slow/80', '/slow/10', '/now']);
      raw.socket.destroy();
    });

  test('many pipelined requests in one write all get answers, in order', async () => {
    const raw = new Raw(port);
    let burst = '';
    for (let i = 0; i < 300; i++) burst += `GET /n/${String(i)} HTTP/1.1\r\n\r\n`;
    raw.socket.write(burst);
    const text = await raw.until((t) => count(t, 'HTTP/1.1 200') === 300);
    const urls = [...text.matchAll(/"url":"\/n\/(\d+)"/g)].map((m) => Number(m[1]));
    expect(urls).toEqual([...Array(300).keys()]);
    raw.socket.destroy();
  });

  test('a chunked body, split across writes', async () => {
    const raw = new Raw(port);
    raw.socket.write('POST /c HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nab');
    await sleep(20);
    raw.socket.write('c\r\n2;x=y\r\nde\r\n0\r\n\r\nGET /after HTTP/1.1\r\n\r\n');
    const text = await raw.until((t) => count(t, 'HTTP/1.1 200') === 2);
    expect(text).toContain('"body":"abcde"');
    expect(text).toContain('"url":"/after"');
    raw.socket.destroy();
  });

  test('HEAD gets the fields without the body', async () => {
    const raw = new Raw(port);
    raw.socket.write('HEAD /h HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n');
    const text = await raw.until((t) => t.includes('"url":"/g"'));
    const first = text.slice(0, text.indexOf('HTTP/1.1', 5));
    expect(first).toMatch(/content-length: \d+\r\n/);
    expect(first.endsWith('\r\n\r\n')).toBe(true);
    raw.socket.destroy();
  });

  test('Connection: close and HTTP/1.0 close after the reply; 1.0 keep-alive stays', async () => {
    const closing = new Raw(port);
    closing.socket.write('GET /x HTTP/1.1\r\nconnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n');
    expect(await closing.closedWithin(1000)).toBe(true);
    expect(closing.text).toContain('connection: close\r\n');
    expect(closing.text).not.toContain('/ignored');
    const old = new Raw(port);
    old.socket.write('GET /x HTTP/1.0\r\n\r\n');
    expect(await old.closedWithin(1000)).toBe(true);
    expect(old.text.startsWith('HTTP/1.1 200 OK')).toBe(true);
    const kept = new Raw(port);
    kept.socket.write('GET /1 HTTP/1.0\r\nconnection: keep-alive\r\n\r\n');
    await kept.until((t) => t.includes('"url":"/1"'));
    expect(kept.text).toContain('connection: keep-alive\r\n');
    kept.socket.write('GET /2 HTTP/1.0\r\nconnection: keep-alive\r\n\r\n');
    await kept.until((t) => t.includes('"url":"/2"'));
    kept.socket.destroy();
  });

  test('a body over the limit: 413 at once, the rest dropped, the connection still usable',
    async () => {
      const raw = new Raw(port);
      raw.socket.write('POST /big HTTP/1.1\r\ncontent-length: 5000\r\n\r\n');
      await raw.until((t) => t.includes('HTTP/1.1 413'));
      raw.socket.write('x'.repeat(5000) + 'POST /ok HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi');
      await raw.until((t) => t.includes('"body":"hi"'));
      const chunked = new Raw(port);
      chunked.socket.write('POST /big HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n' +
        `${(2000).toString(16)}\r\n${'y'.repeat(2000)}\r\n`);
      await chunked.until((t) => t.includes('HTTP/1.1 413'));
      chunked.socket.write('0\r\n\r\nGET /next HTTP/1.1\r\n\r\n');
      await chunked.until((t) => t.includes('"url":"/next"'));
      raw.socket.destroy();
      chunked.socket.destroy();
    });

  test('Expect: 100-continue gets an interim 100 before the body is sent', async () => {
    const raw = new Raw(port);
    raw.socket.write('POST /e HTTP/1.1\r\ncontent-length: 2\r\nexpect: 100-continue\r\n\r\n');
    await raw.until((t) => t === 'HTTP/1.1 100 Continue\r\n\r\n');
    raw.socket.write('ok');
    await raw.until((t) => t.includes('"body":"ok"'));
    raw.socket.destroy();
  });

  test('malformed requests get a JSON error and a closed connection', async () => {
    for (const [bytes, status] of [
      ['GARBAGE\r\n\r\n', 400],
      ['GET / HTTP/3.0\r\n\r\n', 505],
      ['GET / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n', 400],
      ['POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nnope\r\n', 400],
      [`GET / HTTP/1.1\r\nx: ${'a'.repeat(17 * 1024)}`, 431],
    ] as const) {
      const raw = new Raw(port);
      raw.socket.write(bytes);
      expect(await raw.closedWithin(1000)).toBe(true);
      expect(raw.text.startsWith(`HTTP/1.1 ${String(status)} `)).toBe(true);
      expect(JSON.parse(raw.text.slice(raw.text.indexOf('\r\n\r\n') + 4)))
        .toMatchObject({ error: 'HONU_ERR_BAD_HTTP' });
    }
  });

  test('timeouts: a slow head gets 408; an idle keep-alive connection is closed', async () => {
    const slow = new Raw(port);
    slow.socket.write('GET / HTTP/1.1\r\nhost:');
    expect(await slow.closedWithin(2000)).toBe(true);
    expect(slow.text.startsWith('HTTP/1.1 408 ')).toBe(true);
    const slowBody = new Raw(port);
    slowBody.socket.write('POST / HTTP/1.1\r\ncontent-length: 10\r\n\r\nabc');
    expect(await slowBody.closedWithin(2000)).toBe(true);
    expect(slowBody.text.startsWith('HTTP/1.1 408 ')).toBe(true);
    const idle = new Raw(port);
    idle.socket.write('GET /once HTTP/1.1\r\n\r\n');
    await idle.until((t) => t.includes('/once'));
    const started = Date.now();
    expect(await idle.closedWithin(2000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  test('a request kept busy by its handler is not timed out', async () => {
    const raw = new Raw(port);
    raw.socket.write('GET /slow/700 HTTP/1.1\r\n\r\n');
    await raw.until((t) => t.includes('/slow/700'), 3000);
    raw.socket.destroy();
  });

  test('a FIN after a request still gets the reply, then the connection closes', async () => {
    const raw = new Raw(port);
    raw.socket.end('GET /slow/50 HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\n');
    expect(await raw.closedWithin(2000)).toBe(true);
    expect(raw.text).toContain('/slow/50');
    expect(raw.text).toContain('/second');
    expect(raw.text).toContain('connection: close');
  });

  test('beginClose: idle connections close; a busy one gets its reply with close', async () => {
    const other = new Http1Server(new EchoHandler());
    const otherPort = await other.listen(0, '127.0.0.1');
    const idle = new Raw(otherPort);
    idle.socket.write('GET /i HTTP/1.1\r\n\r\n');
    await idle.until((t) => t.includes('/i'));
    const busy = new Raw(otherPort);
    busy.socket.write('GET /slow/100 HTTP/1.1\r\n\r\n');
    await sleep(20);
    other.beginClose();
    expect(await idle.closedWithin(500)).toBe(true);
    expect(await busy.closedWithin(1000)).toBe(true);
    expect(busy.text).toContain('/slow/100');
    expect(busy.text).toContain('connection: close');
    await other.close();
  });
});
