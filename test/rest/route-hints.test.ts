// Route hints on REST replies (wire.md 2.5, 3.2): `route` on point lock, key/value and
// sequence replies, `routes` + 1-based `routeIndex` on batch replies; none when the backend
// has no hint (every other REST test pins the hint-free shapes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestHarness, type RestHarness } from './harness.js';

const hint = { partitionId: 3, endpoint: 'http://127.0.0.1:2070', provenance: 1,
  generation: 0 };
let h: RestHarness;

beforeAll(async () => {
  h = await startRestHarness();
  h.backend.hint = hint;
});
afterAll(async () => h.close());

describe('REST route hints', () => {
  it('appends route to point replies of every domain', async () => {
    const set = await h.post('/v1/kv/try-set', { key: 'b/k', value: null, durability: 1 });
    expect(set.json).toMatchObject({ type: 0, route: hint });
    const lock = await h.post('/v1/locks/try-lock', { resource: 'r', owner: 'AQ==',
      expiresMs: 10, durability: 1 });
    expect(lock.json).toMatchObject({ route: hint });
    const seq = await h.post('/v1/sequences/get', { name: 's', durability: 1 });
    expect(seq.json).toMatchObject({ route: hint });
  });

  it('a shared InvalidInput reply carries each request\'s own route, and stays unchanged',
    async () => {
      const original = h.backend.routeHint.bind(h.backend);
      h.backend.routeHint = (_domain, key) => ({ ...hint, partitionId: key === 'x/1' ? 1 : 2 });
      try {
        const bad = { durability: 1, expiresMs: 'nope' };
        const [one, two] = await Promise.all([
          h.post('/v1/kv/try-set', { ...bad, key: 'x/1' }),
          h.post('/v1/kv/try-set', { ...bad, key: 'x/2' }),
        ]);
        expect(one.json).toMatchObject({ type: 100, route: { partitionId: 1 } });
        expect(two.json).toMatchObject({ type: 100, route: { partitionId: 2 } });
      } finally {
        h.backend.routeHint = original;
      }
      const plain = await h.post('/v1/kv/try-set', { key: 'x/3', durability: 1, flags: 'x' });
      expect(plain.json).toMatchObject({ type: 100, route: hint });
    });

  it('puts one routes entry per distinct hint and routeIndex on every batch item', async () => {
    h.backend.answer('kvSetMany', (req) => ({ type: 0, items: req.items.map((i) => ({
      type: 0, key: i.key, durability: i.durability, revision: 0,
      lastModified: { n: 0, l: 0, c: 0 } })) }));
    const reply = await h.post('/v1/kv/try-set-many', { items: [
      { key: 'a/1', value: null, durability: 1 }, { key: 'a/2', value: null, durability: 0 }] });
    const json = reply.json as { routes: unknown[]; items: { routeIndex: number }[] };
    expect(json.routes).toEqual([hint]);
    expect(json.items.map((i) => i.routeIndex)).toEqual([1, 1]);
  });
});
