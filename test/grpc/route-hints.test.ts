// Route hints on gRPC responses (wire.md 2.5): Route on point responses, Routes + RouteIndex on
// batch responses, read back by a proto-loader client like kahuna-ts's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBackend } from '../helpers/fake-backend.js';
import { startHarness, type Harness } from './harness.js';

const hint = { partitionId: 5, endpoint: 'http://127.0.0.1:2070', provenance: 1,
  generation: 0 };
// Generation 0 is proto3's default: absent on the wire, read as 0 by kahuna-ts.
const wire = { PartitionId: 5, Endpoint: 'http://127.0.0.1:2070', Provenance: 1 };
let h: Harness;

beforeAll(async () => {
  const fake = new FakeBackend();
  fake.hint = hint;
  h = await startHarness(fake);
});
afterAll(async () => h.close());

describe('gRPC route hints', () => {
  it('sets Route on lock, key/value and sequence responses', async () => {
    expect((await h.call('Locker', 'TryLock', { Resource: 'r', Owner: Buffer.from('o'),
      ExpiresMs: 10, Durability: 1 })).Route).toEqual(wire);
    expect((await h.call('KeyValuer', 'TryGetKeyValue', { Key: 'b/k', Revision: -1,
      Durability: 1 })).Route).toEqual(wire);
    expect((await h.call('Sequencer', 'GetSequence', { Name: 's', Durability: 1 })).Route)
      .toEqual(wire);
  });

  it('sets Routes and a 1-based RouteIndex on batch items', async () => {
    h.fake.answer('kvSetMany', (req) => ({ type: 0, items: req.items.map((i) => ({
      type: 0, key: i.key, durability: i.durability, revision: 0,
      lastModified: { n: 0, l: 0, c: 0 } })) }));
    const res = await h.call('KeyValuer', 'TrySetManyKeyValue', { Items: [
      { Key: 'a/1', Durability: 1 }, { Key: 'a/2', Durability: 1 }] });
    expect(res.Routes).toEqual([wire]);
    expect(res.Items.map((i: { RouteIndex: number }) => i.RouteIndex)).toEqual([1, 1]);
  });
});
