// The edges of a real `honu server`: oversized and malformed REST bodies get JSON errors (413,
// 400) and the node keeps answering; unknown gRPC methods get UNIMPLEMENTED; wire.md 1.4 REST
// conventions (HTTP 200 with a numeric type, lenient member names, ignored Authorization).
import * as grpc from '@grpc/grpc-js';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  Kv, Lock, createClient, grpcChannelOptions, owner, sleep, text, transports, unique,
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

  it('numbers may arrive as strings (ASP.NET web defaults)', async () => {
    const k = unique('rest-numeric-strings');
    const set = await rawPost('/v1/kv/try-set', JSON.stringify({ key: k,
      value: text('n').toString('base64'), flags: '1', expiresMs: '60000', durability: '1' }));
    expect(JSON.parse(set.text)).toMatchObject({ type: Kv.Set, revision: 0 });
    const got = await honu.client('rest').get(k, 1);
    expect(got).toMatchObject({ type: Kv.Get, value: text('n') });
    expect(got.expires.l).toBeGreaterThan(Date.now());
  });

  it('reply shapes: HLCs are always {n,l,c} objects; a miss has value null', async () => {
    const miss = JSON.parse((await rawPost('/v1/kv/try-get', JSON.stringify({
      key: unique('shape-miss'), revision: -1, durability: 1 }))).text) as Record<string, unknown>;
    expect(miss).toMatchObject({ type: Kv.DoesNotExist, value: null, revision: 0,
      expires: { n: 0, l: 0, c: 0 }, lastModified: { n: 0, l: 0, c: 0 } });
    const lock = JSON.parse((await rawPost('/v1/locks/get-info', JSON.stringify({
      resource: unique('shape-lock'), durability: 0 }))).text) as Record<string, unknown>;
    expect(lock).toMatchObject({ type: Lock.LockDoesNotExist, owner: null,
      expires: { n: 0, l: 0, c: 0 } });
  });

  it('reply shapes: sequences/get of a missing sequence has sequence null, revision -1, ' +
    'and a zeroed allocation', async () => {
    const reply = JSON.parse((await rawPost('/v1/sequences/get', JSON.stringify({
      name: unique('shape-seq'), durability: 1 }))).text) as Record<string, unknown>;
    expect(reply).toMatchObject({ type: 1, sequence: null, revision: -1 });
    expect(reply['allocation']).toMatchObject({ start: 0, end: 0, count: 0, revision: 0 });
  });

  it('an absent durability is 0: KV and locks are ephemeral, sequences are InvalidInput',
    async () => {
      const k = unique('rest-no-durability');
      const set = await rawPost('/v1/kv/try-set', JSON.stringify({ key: k,
        value: text('e').toString('base64'), flags: 1 }));
      expect(JSON.parse(set.text)).toMatchObject({ type: Kv.Set, revision: 0 });
      const c = honu.client('rest');
      expect(await c.get(k, 0)).toMatchObject({ type: Kv.Get, value: text('e') });
      expect((await c.get(k, 1)).type).toBe(Kv.DoesNotExist);
      const r = unique('rest-no-durability-lock');
      const o = owner();
      await rawPost('/v1/locks/try-lock', JSON.stringify({ resource: r,
        owner: o.toString('base64'), expiresMs: 10_000 }));
      expect((await c.getLock(r, 0)).owner).toEqual(o);
      expect((await c.getLock(r, 1)).type).toBe(Lock.LockDoesNotExist);
      const seq = await rawPost('/v1/sequences/create', JSON.stringify({
        name: unique('rest-no-durability-seq'), initialValue: 0, increment: 1 }));
      expect(JSON.parse(seq.text)).toMatchObject({ type: 3 });
    });

  it('servedFrom is "" or null (never a URL the client cannot reach)', async () => {
    const k = unique('served-from');
    for (const [path, body] of [
      ['/v1/kv/try-set', { key: k, value: text('x').toString('base64'), durability: 1 }],
      ['/v1/kv/try-get', { key: k, revision: -1, durability: 1 }],
      ['/v1/locks/try-lock', { resource: k, owner: owner().toString('base64'), expiresMs: 1_000,
        durability: 1 }],
      ['/v1/sequences/get', { name: k, durability: 1 }],
    ] as const) {
      const reply = JSON.parse((await rawPost(path, JSON.stringify(body))).text) as
        Record<string, unknown>;
      expect(['', null, undefined], path).toContain(reply['servedFrom']);
    }
  });

  it('batch routes without items -> envelope InvalidInput', async () => {
    for (const path of ['/v1/kv/try-set-many', '/v1/kv/try-delete-many', '/v1/kv/try-get-many',
      '/v1/kv/try-exists-many']) {
      const reply = await rawPost(path, '{}');
      expect(reply.status, path).toBe(200);
      expect(JSON.parse(reply.text), path).toMatchObject({ type: Kv.InvalidInput });
    }
  });

  it('try-unlock ignores an expiresMs member', async () => {
    const r = unique('rest-unlock-expires');
    const o = owner().toString('base64');
    await rawPost('/v1/locks/try-lock', JSON.stringify({ resource: r, owner: o,
      expiresMs: 10_000, durability: 1 }));
    const reply = await rawPost('/v1/locks/try-unlock', JSON.stringify({ resource: r, owner: o,
      expiresMs: -1, durability: 1 }));
    expect(JSON.parse(reply.text)).toMatchObject({ type: Lock.Unlocked });
  });

  it('GET / answers Kahuna.Server as text; GET /v1/cluster/health is 200 and ready', async () => {
    const root = await fetch(`${honu.url}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await root.text()).toBe('Kahuna.Server');
    const health = await fetch(`${honu.url}/v1/cluster/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ready: true, initialized: true });
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

  it('locks taken over REST and gRPC are the same locks', async () => {
    const r = unique('lock-cross');
    const owners = Array.from({ length: 10 }, () => owner());
    const replies = await Promise.all(owners.map((o, i) =>
      honu.client(transports[i % 2]!).tryLock(r, o, 10_000, 1)));
    expect(replies.filter((x) => x.type === Lock.Locked)).toHaveLength(1);
    const winner = owners[replies.findIndex((x) => x.type === Lock.Locked)]!;
    for (const t of transports) {
      expect((await honu.client(t).getLock(r, 1)).owner).toEqual(winner);
    }
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

// wire.md 1.1: allow at least 4 MiB gRPC messages and 32 MB REST bodies (Kahuna: 4 MB gRPC
// receive, about 30 MB REST). A 3 MiB value fits both, so it must be stored like any other, and
// the node must keep answering. Its own node, so a failure here cannot disturb the cases above.
describe('values of a few MiB', () => {
  const big = useHonu('edge-big');
  const value = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < value.length; i++) value[i] = (i * 7 + 3) & 0xff;

  // Each case starts on a node that answers (a previous case may have upset it).
  beforeEach(async () => {
    const c = big.client('rest');
    for (const until = Date.now() + 10_000; Date.now() < until; await sleep(100)) {
      if ((await c.set({ key: unique('ready'), value: text('x'), durability: 1 })).type === Kv.Set) {
        return;
      }
    }
    throw new Error('the node did not answer Set within 10 s');
  });

  it('small persistent writes acknowledged while a 3 MiB persistent write is in flight are ' +
    'all readable afterwards', async () => {
    const rest = big.client('rest');
    const grpcClient = big.client('grpc');
    const keys = Array.from({ length: 20 }, (_, i) => unique(`beside-big-${i}`));
    const bigWrite = grpcClient.set({ key: unique('big-beside'), value, durability: 1 });
    const small = await Promise.all(keys.map((key, i) =>
      (i % 2 === 0 ? rest : grpcClient).set({ key, value: text(key), durability: 1 })));
    await bigWrite;
    await sleep(1_000); // let a restarted worker come back before reading
    const acked = keys.filter((_, i) => small[i]!.type === Kv.Set);
    const lost: string[] = [];
    for (const key of acked) {
      const got = await rest.get(key, 1);
      if (got.type !== Kv.Get || got.value?.toString('utf8') !== key) lost.push(key);
    }
    expect(lost, `${lost.length} of ${acked.length} acknowledged writes`).toEqual([]);
  });

  describe.each(transports)('over %s', (transport) => {
    it.each([0, 1])('durability %i: a 3 MiB value is stored and read back; the node still ' +
      'answers', async (d) => {
      const c = big.client(transport);
      const k = unique('big-3mib');
      const set = await c.set({ key: k, value, durability: d });
      const after = await c.set({ key: unique('after-big'), value: text('x'), durability: 1 });
      expect(set).toMatchObject({ type: Kv.Set, revision: 0 });
      const got = await c.get(k, d);
      expect(got.type).toBe(Kv.Get);
      expect(got.value?.equals(value)).toBe(true);
      expect(after.type).toBe(Kv.Set);
    });
  });
});
