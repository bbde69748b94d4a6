// One port, both protocols: a real grpc-js client and real HTTP/1.1 requests against the same
// listener, plaintext and TLS (ALPN), with size limits, errors and a draining close().
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HonuError } from '../../src/errors.js';
import {
  grpcMessageBytesMax, listenerSettingsWaitMs, restBodyBytesMax,
} from '../../src/limits.js';
import { createGrpcServer } from '../../src/main/grpc/grpc-server.js';
import { FakeBackend } from '../helpers/fake-backend.js';
import { classifyFirstBytes, http2Preface, startListener } from '../../src/main/listener.js';
import type { Listener } from '../../src/main/listener.js';
import { createMetrics } from '../../src/main/metrics.js';
import { peerSettingId, peerSettingValue } from '../../src/main/peer/peer-h2.js';
import type { Http1Server } from '../../src/main/http/http1-server.js';
import { RestRouter, createHttpServer } from '../../src/main/rest/router.js';
import { registerSystemRoutes } from '../../src/main/rest/system-routes.js';

const tlsDir = join(import.meta.dirname, '..', 'fixtures', 'tls');
const cert = readFileSync(join(tlsDir, 'cert.pem'));
const key = readFileSync(join(tlsDir, 'key.pem'));
const slowMs = 300;

const identity = (bytes: Buffer): Buffer => bytes;
function method(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path, requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity,
    responseSerialize: identity, responseDeserialize: identity,
  };
}
// A tiny service with Buffer messages: no .proto needed.
const testService = { Echo: method('/Test/Echo'), Slow: method('/Test/Slow') };

function createNode(): { http: Http1Server; grpc: grpc.Server } {
  const metrics = createMetrics();
  const router = new RestRouter({ metrics });
  registerSystemRoutes(router, {
    health: () => ({ ready: true, initialized: true, localRole: 'Voter', hostedPartitions: 8 }),
    metrics,
  });
  router.add('POST', '/v1/echo', ({ body }) => ({ json: { type: 0, body } }));
  router.add('GET', '/v1/slow', async () => {
    await sleep(slowMs);
    return { json: { type: 0, slow: true } };
  });
  router.add('GET', '/v1/honu-error', () => {
    throw new HonuError('HONU_ERR_MUST_RETRY', 'try later');
  });
  router.add('GET', '/v1/crash', () => {
    throw new Error('handler bug');
  });
  const grpcServer = createGrpcServer(new FakeBackend());
  grpcServer.addService(testService, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      done(null, call.request);
    },
    Slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      setTimeout(() => done(null, call.request), slowMs);
    },
  });
  return { http: createHttpServer(router), grpc: grpcServer };
}

function grpcCall(client: grpc.Client, path: string, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, identity, identity, request, (error, reply) => {
      if (error !== null) reject(error);
      else if (reply === undefined) reject(new Error('no reply'));
      else resolve(reply);
    });
  });
}

async function grpcStatus(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return grpc.status.OK;
  } catch (error) {
    return (error as grpc.ServiceError).code;
  }
}

interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface RequestOptions {
  method?: string;
  path: string;
  body?: Buffer | string;
  chunked?: boolean; // send the body without content-length
  tls?: boolean;
}

function request(port: number, options: RequestOptions): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {};
    if (options.body !== undefined && options.chunked !== true) {
      headers['content-length'] = Buffer.byteLength(options.body);
    }
    const common = { host: '127.0.0.1', port, method: options.method ?? 'GET', headers,
      path: options.path, agent: false };
    const onReply = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8') }));
    };
    const req = options.tls === true
      ? https.request({ ...common, ca: cert, servername: 'localhost' }, onReply)
      : http.request(common, onReply);
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('plaintext listener', () => {
  let listener: Listener;
  let client: grpc.Client;

  beforeAll(async () => {
    const node = createNode();
    listener = await startListener({ host: '127.0.0.1', port: 0, ...node });
    client = new grpc.Client(`127.0.0.1:${listener.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await listener.close(1000);
  });

  test('serves a gRPC unary call and REST requests on the same port', async () => {
    expect(listener.port).toBeGreaterThan(0);
    const reply = await grpcCall(client, '/Test/Echo', Buffer.from('hello grpc'));
    expect(reply.toString()).toBe('hello grpc');
    const live = await request(listener.port, { path: '/' });
    expect(live.status).toBe(200);
    expect(live.body).toBe('Kahuna.Server');
    expect(live.headers['content-type']).toMatch(/^text\/plain/);
    const echo = await request(listener.port, { method: 'POST', path: '/v1/echo',
      body: JSON.stringify({ key: 'k', value: [1, 2] }) });
    expect(echo.status).toBe(200);
    expect(echo.headers['content-type']).toMatch(/^application\/json/);
    expect(echo.body).toBe('{"type":0,"body":{"key":"k","value":[1,2]}}');
    const again = await grpcCall(client, '/Test/Echo', Buffer.alloc(0));
    expect(again.length).toBe(0);
  });

  test('a REST body over the limit gets 413 JSON; the server keeps serving', async () => {
    const tooBig = Buffer.alloc(restBodyBytesMax + 1, 0x20);
    const declared = await request(listener.port, { method: 'POST', path: '/v1/echo',
      body: tooBig });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ error: 'HONU_ERR_BODY_TOO_LARGE' });
    const chunked = await request(listener.port, { method: 'POST', path: '/v1/echo',
      body: tooBig, chunked: true });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: 'HONU_ERR_BODY_TOO_LARGE' });
    const next = await request(listener.port, { method: 'POST', path: '/v1/echo', body: '[1]' });
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body)).toEqual({ type: 0, body: [1] });
  });

  test('a body just under the limit is accepted', async () => {
    const text = '"' + 'x'.repeat(restBodyBytesMax - 2) + '"';
    const reply = await request(listener.port, { method: 'POST', path: '/v1/echo', body: text });
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBe(restBodyBytesMax + '{"type":0,"body":}'.length);
  });

  test('malformed JSON gets 400 with HONU_ERR_BAD_JSON', async () => {
    const reply = await request(listener.port, { method: 'POST', path: '/v1/echo',
      body: '{"key": ' });
    expect(reply.status).toBe(400);
    const body = JSON.parse(reply.body) as { error: string; message: string };
    expect(body.error).toBe('HONU_ERR_BAD_JSON');
    expect(body.message).toMatch(/malformed JSON/);
  });

  test('unknown path 404, wrong method 405, handler errors map to JSON', async () => {
    const missing = await request(listener.port, { path: '/v1/nope' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ error: 'HONU_ERR_ROUTE_NOT_FOUND' });
    const wrong = await request(listener.port, { method: 'DELETE', path: '/v1/echo' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect(JSON.parse(wrong.body)).toMatchObject({ error: 'HONU_ERR_METHOD_NOT_ALLOWED' });
    const retry = await request(listener.port, { path: '/v1/honu-error' });
    expect(retry.status).toBe(503);
    expect(JSON.parse(retry.body)).toEqual({ error: 'HONU_ERR_MUST_RETRY', message: 'try later' });
    const crash = await request(listener.port, { path: '/v1/crash' });
    expect(crash.status).toBe(500);
    expect(JSON.parse(crash.body)).toMatchObject({ error: 'HONU_ERR_INTERNAL' });
    expect((await request(listener.port, { path: '/' })).status).toBe(200);
  });

  test('a gRPC message over 64 MiB gets RESOURCE_EXHAUSTED; the server keeps working', async () => {
    const tooBig = Buffer.alloc(grpcMessageBytesMax + 1, 1);
    const code = await grpcStatus(grpcCall(client, '/Test/Echo', tooBig));
    expect(code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const reply = await grpcCall(client, '/Test/Echo', Buffer.from('still here'));
    expect(reply.toString()).toBe('still here');
  });

  test('an unregistered gRPC method gets UNIMPLEMENTED', async () => {
    const code = await grpcStatus(grpcCall(client, '/Test/Missing', Buffer.from('x')));
    expect(code).toBe(grpc.status.UNIMPLEMENTED);
  });

  test('/metrics counts requests by route and type', async () => {
    await request(listener.port, { method: 'POST', path: '/v1/echo', body: '{}' });
    const metrics = await request(listener.port, { path: '/metrics' });
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(/honu_requests_total\{route="\/v1\/echo",type="0"\} \d+/);
    expect(metrics.body).toContain('honu_requests_total{route="<unmatched>",type="error"}');
  });
});

describe('TLS listener (ALPN)', () => {
  let listener: Listener;
  let client: grpc.Client;

  beforeAll(async () => {
    listener = await startListener({ host: '127.0.0.1', port: 0, tls: { cert, key },
      ...createNode() });
    client = new grpc.Client(`127.0.0.1:${listener.port}`, grpc.credentials.createSsl(cert),
      { 'grpc.ssl_target_name_override': 'localhost' });
  });
  afterAll(async () => {
    client.close();
    await listener.close(1000);
  });

  test('h2 goes to gRPC and http/1.1 to REST on the same TLS port', async () => {
    const reply = await grpcCall(client, '/Test/Echo', Buffer.from('over tls'));
    expect(reply.toString()).toBe('over tls');
    const live = await request(listener.port, { path: '/', tls: true });
    expect(live.status).toBe(200);
    expect(live.body).toBe('Kahuna.Server');
    const echo = await request(listener.port, { method: 'POST', path: '/v1/echo', tls: true,
      body: '{"a":1}' });
    expect(JSON.parse(echo.body)).toEqual({ type: 0, body: { a: 1 } });
  });

  test('a plaintext request on the TLS port fails without harming the listener', async () => {
    await expect(request(listener.port, { path: '/' })).rejects.toThrow();
    expect((await request(listener.port, { path: '/', tls: true })).status).toBe(200);
  });
});

/** Writes `parts` to a raw socket with pauses between them; returns what was read until. */
async function rawExchange(port: number, parts: string[], until: (text: string) => boolean):
  Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let received = '';
  const done = new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (until(received)) resolve(received);
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(received));
  });
  for (const part of parts) {
    socket.write(part);
    await sleep(20);
  }
  const text = await done;
  socket.destroy();
  return text;
}

describe('bytes split across packets', () => {
  test('first byte alone, body in pieces, two pipelined requests', async () => {
    const listener = await startListener({ host: '127.0.0.1', port: 0, ...createNode() });
    const body = '{"n":12345}';
    const post = `POST /v1/echo HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`;
    const reply = await rawExchange(listener.port,
      ['P', post.slice(1, 10), post.slice(10), body.slice(0, 4), body.slice(4) + post + body],
      (text) => text.split('{"type":0,"body":{"n":12345}}').length === 3);
    expect(reply.startsWith('HTTP/1.1 200 OK')).toBe(true);
    expect(reply.split('{"type":0,"body":{"n":12345}}').length - 1).toBe(2);
    await listener.close(500);
  });
});

describe('large first reads', () => {
  test('a 1 MB request written at once arrives whole and in order', async () => {
    const listener = await startListener({ host: '127.0.0.1', port: 0, ...createNode() });
    const value = 'v'.repeat(1024 * 1024);
    const body = JSON.stringify({ value });
    const head = `POST /v1/echo HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`;
    for (let i = 0; i < 5; i++) {
      const reply = await rawExchange(listener.port, [head + body],
        (text) => text.endsWith('"}}'));
      expect(reply.startsWith('HTTP/1.1 200 OK')).toBe(true);
      expect(reply.endsWith(`{"type":0,"body":{"value":"${value}"}}`)).toBe(true);
    }
    await listener.close(500);
  });
});

describe('connection life', () => {
  test('a connection that never sends a byte is closed after the first-bytes timeout', async () => {
    const listener = await startListener({ host: '127.0.0.1', port: 0, firstBytesTimeoutMs: 150,
      ...createNode() });
    const socket = net.connect(listener.port, '127.0.0.1');
    const started = Date.now();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await listener.close(500);
  });

  test('a client that sends only the preface goes to grpc-js after the settings wait', async () => {
    const listener = await startListener({ host: '127.0.0.1', port: 0, ...createNode() });
    const socket = net.connect(listener.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const started = Date.now();
    socket.write(http2Preface); // and then waits for the server's SETTINGS, unlike real clients
    const first = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
    const waitedMs = Date.now() - started;
    expect(first[3]).toBe(0x4); // grpc-js (node:http2) answers with its SETTINGS frame
    expect(waitedMs).toBeGreaterThanOrEqual(listenerSettingsWaitMs - 20);
    expect(waitedMs).toBeLessThan(listenerSettingsWaitMs + 2000);
    socket.destroy();
    await listener.close(500);
  });

  test('close() lets in-flight REST and gRPC requests finish, then resolves', async () => {
    const listener = await startListener({ host: '127.0.0.1', port: 0, ...createNode() });
    const client = new grpc.Client(`127.0.0.1:${listener.port}`,
      grpc.credentials.createInsecure());
    await grpcCall(client, '/Test/Echo', Buffer.from('warm up'));
    const slowRest = request(listener.port, { path: '/v1/slow' });
    const slowGrpc = grpcCall(client, '/Test/Slow', Buffer.from('slow'));
    await sleep(slowMs / 3);
    const started = Date.now();
    await listener.close(5000);
    const closedAfterMs = Date.now() - started;
    const rest = await slowRest;
    expect(rest.status).toBe(200);
    expect(JSON.parse(rest.body)).toEqual({ type: 0, slow: true });
    expect((await slowGrpc).toString()).toBe('slow');
    expect(closedAfterMs).toBeLessThan(5000);
    await expect(request(listener.port, { path: '/' })).rejects.toThrow(/ECONNREFUSED/);
    client.close();
  });

  test('a connection that closes before sending a byte is released at once', async () => {
    const listener = await startListener({ host: '127.0.0.1', port: 0, ...createNode() });
    const socket = net.connect(listener.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.end();
    await closed;
    const started = Date.now();
    await listener.close(2000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('a port in use rejects startListener', async () => {
    const first = await startListener({ host: '127.0.0.1', port: 0, ...createNode() });
    await expect(startListener({ host: '127.0.0.1', port: first.port, ...createNode() }))
      .rejects.toThrow(/EADDRINUSE/);
    expect((await request(first.port, { path: '/' })).body).toBe('Kahuna.Server');
    await first.close(500);
  });

  test('close() destroys what does not finish within drainMs', async () => {
    const listener = await startListener({ host: '127.0.0.1', port: 0, ...createNode() });
    const stuck = net.connect(listener.port, '127.0.0.1');
    await new Promise<void>((resolve) => stuck.once('connect', () => resolve()));
    stuck.write('POST /v1/echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{');
    await sleep(50);
    const started = Date.now();
    await listener.close(200);
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise<void>((resolve) => {
      if (stuck.destroyed) resolve();
      else stuck.once('close', () => resolve());
    });
  });
});

test('classifyFirstBytes decides as soon as the bytes cannot be the HTTP/2 preface', () => {
  expect(classifyFirstBytes(Buffer.from('G'))).toBe('http');
  expect(classifyFirstBytes(Buffer.from('P'))).toBe('more');
  expect(classifyFirstBytes(Buffer.from('POST / HTTP/1.1'))).toBe('http');
  expect(classifyFirstBytes(Buffer.from('PRI * HTTP/1.1'))).toBe('http');
  for (let n = 1; n < http2Preface.length; n++) {
    expect(classifyFirstBytes(http2Preface.subarray(0, n))).toBe('more');
  }
  // After the preface, the first frame decides: SETTINGS with the peer marker or not.
  expect(classifyFirstBytes(http2Preface)).toBe('more');
  expect(classifyFirstBytes(Buffer.concat([http2Preface, Buffer.from('xyz')]))).toBe('more');
  const frame = (type: number, payload: Buffer): Buffer => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    return Buffer.concat([head, payload]);
  };
  const setting = (id: number, value: number): Buffer => {
    const b = Buffer.alloc(6);
    b.writeUInt16BE(id, 0);
    b.writeUInt32BE(value, 2);
    return b;
  };
  const marker = setting(peerSettingId, peerSettingValue);
  const window = setting(0x4, 65_535);
  const settings = (...items: Buffer[]): Buffer =>
    Buffer.concat([http2Preface, frame(0x4, Buffer.concat(items))]);
  expect(classifyFirstBytes(settings())).toBe('grpc');
  expect(classifyFirstBytes(settings(window))).toBe('grpc');
  expect(classifyFirstBytes(settings(window, marker))).toBe('peer');
  expect(classifyFirstBytes(settings(marker, window))).toBe('peer');
  expect(classifyFirstBytes(settings(setting(peerSettingId, 1)))).toBe('grpc');
  const whole = settings(window, marker);
  for (let n = http2Preface.length; n < whole.length; n++) {
    expect(classifyFirstBytes(whole.subarray(0, n))).toBe('more');
  }
  // Not a SETTINGS frame, or one longer than any Honu dialer sends: grpc-js decides.
  expect(classifyFirstBytes(Buffer.concat([http2Preface, frame(0x8, Buffer.alloc(4))])))
    .toBe('grpc');
  expect(classifyFirstBytes(settings(...Array.from({ length: 65 }, () => window))))
    .toBe('grpc');
});

test('real clients: node:http2 with the peer setting is a peer, grpc-js is not', async () => {
  const firstBytes = async (connect: (port: number) => () => void): Promise<Buffer> => {
    let seen = Buffer.alloc(0);
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk) => {
        seen = Buffer.concat([seen, chunk]);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const stop = connect(port);
    const deadline = Date.now() + 2000;
    while (classifyFirstBytes(seen) === 'more' && Date.now() < deadline) await sleep(5);
    stop();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return seen;
  };
  const peer = await firstBytes((port) => {
    const session = http2.connect(`http://127.0.0.1:${port}`, {
      settings: { customSettings: { [peerSettingId]: peerSettingValue } } });
    session.on('error', () => undefined);
    return () => session.destroy();
  });
  expect(classifyFirstBytes(peer)).toBe('peer');
  const Client = grpc.makeGenericClientConstructor(testService, 'Test');
  const plain = await firstBytes((port) => {
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    client.makeUnaryRequest(testService.Echo.path, identity, identity, Buffer.from('x'),
      () => undefined);
    return () => client.close();
  });
  expect(classifyFirstBytes(plain)).toBe('grpc');
});
