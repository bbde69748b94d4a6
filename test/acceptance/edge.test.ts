// The edges of a real `honu server`: oversized and malformed REST bodies get JSON errors (413,
// 400) and the node keeps answering; unknown gRPC methods get UNIMPLEMENTED; wire.md 1.4 REST
// conventions (HTTP 200 with a numeric type, lenient member names, ignored Authorization).
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  Kv, Lock, createClient, grpcChannelOptions, owner, text, transports, unique,
} from './clients.js';
import { useHonu } from './harness.js';

const honu = useHonu('edge');

async function rawPost(path: string, body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' }):
  Promise<{ status: number; contentType: string; text: string }> {
  const res = await fetch(`${honu.url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '',
    text: await res.text() };
}

function expectJsonError(reply: { contentType: string; text: string }): void {
  expect(reply.contentType).toMatch(/^application\/json/);
  const body = JSON.parse(reply.text) as Record<string, unknown>;
  expect(body).toBeTypeOf('object');
  expect(body).not.toBeNull();
}

async function stillAnswers(): Promise<void> {
  for (const transport of transports) {
    const c = createClient(transport, honu.url);
    try {
      const k = unique(`alive-${transport}`);
      expect((await c.set({ key: k, value: text('ok'), durability: 1 })).type).toBe(Kv.Set);
      expect(await c.get(k, 1)).toMatchObject({ type: Kv.Get, value: text('ok') });
    } finally {
      c.close();
    }
  }
}

describe('REST edges', () => {
  it('malformed JSON -> 400 with a JSON error body, on every route family', async () => {
    for (const path of ['/v1/kv/try-set', '/v1/kv/try-set-many', '/v1/locks/try-lock',
      '/v1/sequences/create', '/v1/kv/get-by-range']) {
      for (const body of ['{bad', '{"key": "a",', '[1, 2', 'not json at all']) {
        const reply = await rawPost(path, body);
        expect(reply.status, `${path} ${body}`).toBe(400);
        expectJsonError(reply);
      }
    }
    await stillAnswers();
  });

  it('a 40 MiB REST body -> 413 with a JSON error body; the node still answers', async () => {
    const value = Buffer.alloc(30 * 1024 * 1024, 0x61).toString('base64'); // 40 MiB of base64
    const body = JSON.stringify({ key: unique('huge'), value, flags: 1, durability: 1 });
    expect(body.length).toBeGreaterThan(40 * 1024 * 1024);
    const reply = await rawPost('/v1/kv/try-set', body);
    expect(reply.status).toBe(413);
    expectJsonError(reply);
    await stillAnswers();
  });

  it('lock and KV routes answer HTTP 200 with the outcome in type; Authorization ignored',
    async () => {
      const r = unique('rest-auth');
      const reply = await rawPost('/v1/locks/try-lock', JSON.stringify({
        resource: r, owner: owner().toString('base64'), expiresMs: 1_000, durability: 0 }),
      { 'content-type': 'application/json', 'authorization': 'Bearer not-a-real-token',
        'accept': 'application/json' });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toMatchObject({ type: Lock.Locked, fencingToken: 0 });
      const miss = await rawPost('/v1/kv/try-get', JSON.stringify({ key: unique('none'),
        revision: -1, durability: 1 }));
      expect(miss.status).toBe(200);
      expect(miss.text).toContain(`"type":${Kv.DoesNotExist}`); // compact JSON
    });

  it('JSON member names are case-insensitive and unknown members are ignored', async () => {
    const k = unique('rest-lenient');
    const set = await rawPost('/v1/kv/try-set', JSON.stringify({ Key: k,
      Value: text('v').toString('base64'), Flags: 1, Durability: 1, conflictPolicy: 0,
      somethingNew: { nested: true } }));
    expect(set.status).toBe(200);
    expect(JSON.parse(set.text)).toMatchObject({ type: Kv.Set, revision: 0 });
    const c = honu.client('rest');
    expect(await c.get(k, 1)).toMatchObject({ type: Kv.Get, value: text('v') });
  });

  it('a lock request without owner -> InvalidInput', async () => {
    const reply = await rawPost('/v1/locks/try-lock', JSON.stringify({
      resource: unique('no-owner'), expiresMs: 1_000, durability: 0 }));
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ type: Lock.InvalidInput });
  });
});

describe('gRPC edges', () => {
  function callRaw(path: string): Promise<grpc.ServiceError | null> {
    const client = new grpc.Client(honu.url.replace(/^http:\/\//, ''),
      grpc.credentials.createInsecure(), grpcChannelOptions);
    return new Promise((resolve) => {
      client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0),
        { deadline: Date.now() + 10_000 }, (error) => {
          client.close();
          resolve(error ?? null);
        });
    });
  }

  it('unknown methods and services -> UNIMPLEMENTED', async () => {
    for (const path of ['/Locker/NoSuchMethod', '/KeyValuer/TryFrobnicate', '/NoSuchService/Call',
      '/locker/TryLock']) {
      const error = await callRaw(path);
      expect(error, path).not.toBeNull();
      expect(error!.code, path).toBe(grpc.status.UNIMPLEMENTED);
    }
    await stillAnswers();
  });

  it('a 1 MiB value over gRPC and a 1 MiB value over REST read back across transports',
    async () => {
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 13 + 5) & 0xff;
      const kg = unique('big-grpc');
      const kr = unique('big-rest');
      expect((await honu.client('grpc').set({ key: kg, value: big, durability: 1 })).type)
        .toBe(Kv.Set);
      expect((await honu.client('rest').set({ key: kr, value: big, durability: 1 })).type)
        .toBe(Kv.Set);
      expect((await honu.client('rest').get(kg, 1)).value!.equals(big)).toBe(true);
      expect((await honu.client('grpc').get(kr, 1)).value!.equals(big)).toBe(true);
    });
});
