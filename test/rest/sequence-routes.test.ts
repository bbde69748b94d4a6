// /v1/sequences/*: members reach the backend as the plain requests, every reply is
// {servedFrom,type,sequence,allocation,revision} with a zeroed allocation when there is none,
// and an absent durability or a wrong-typed member is InvalidInput (3) (wire.md 3.5).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SequenceEntry } from '../../src/core/api/types.js';
import { startRestHarness, type RestHarness } from './harness.js';

let h: RestHarness;
beforeAll(async () => { h = await startRestHarness(); });
afterAll(async () => { await h.close(); });

const noAllocation = '{"name":null,"start":0,"end":0,"count":0,"revision":0}';
const invalidText = `{"servedFrom":"","type":3,"sequence":null,"allocation":${noAllocation},` +
  '"revision":0}';

describe('create, get, update, delete', () => {
  test('create maps members (null maxValue/blockSize) and replies in the one shape',
    async () => {
      h.backend.answer('seqCreate', () => ({ type: 0, sequence: null, revision: 0 }));
      const reply = await h.post('/v1/sequences/create', { name: 's', initialValue: '10',
        increment: 5, maxValue: null, durability: 1 });
      expect(h.backend.lastCall('seqCreate')).toEqual({ name: 's', initialValue: 10,
        increment: 5, maxValue: null, durability: 1, blockSize: null });
      expect(reply.text).toBe('{"servedFrom":"","type":0,"sequence":null,' +
        `"allocation":${noAllocation},"revision":0}`);
      await h.post('/v1/sequences/create', { name: 's', maxValue: 100, blockSize: 4,
        durability: 1 });
      expect(h.backend.lastCall('seqCreate')).toEqual({ name: 's', initialValue: 0,
        increment: 0, maxValue: 100, durability: 1, blockSize: 4 });
    });

  test('get returns the entry with every member', async () => {
    const entry: SequenceEntry = { name: 's', currentValue: 5000, initialValue: 0,
      increment: 10, maxValue: null, revision: 3, durability: 1,
      createdAt: { n: 1, l: 100, c: 0 }, updatedAt: { n: 1, l: 200, c: 1 }, blockSize: null,
      incarnation: 1 };
    h.backend.answer('seqGet', () => ({ type: 0, sequence: entry, revision: 3 }));
    const reply = await h.post('/v1/sequences/get', { name: 's', durability: 1 });
    expect(h.backend.lastCall('seqGet')).toEqual({ name: 's', durability: 1 });
    expect(reply.text).toBe('{"servedFrom":"","type":0,"sequence":{"name":"s",' +
      '"currentValue":5000,"initialValue":0,"increment":10,"maxValue":null,"revision":3,' +
      '"durability":1,"createdAt":{"n":1,"l":100,"c":0},"updatedAt":{"n":1,"l":200,"c":1},' +
      `"blockSize":null,"incarnation":1},"allocation":${noAllocation},"revision":3}`);
    h.backend.answer('seqGet', () => ({ type: 1, sequence: null, revision: -1 }));
    expect((await h.post('/v1/sequences/get', { name: 'x', durability: 1 })).json)
      .toMatchObject({ type: 1, sequence: null, revision: -1 });
  });

  test('update: absent members are null (unchanged), Remove* flags default false', async () => {
    await h.post('/v1/sequences/update', { name: 's', currentValue: 5000, increment: '10',
      durability: 1 });
    expect(h.backend.lastCall('seqUpdate')).toEqual({ name: 's', currentValue: 5000,
      increment: 10, initialValue: null, maxValue: null, removeMaxValue: false,
      blockSize: null, removeBlockSize: false, durability: 1 });
    await h.post('/v1/sequences/update', { name: 's', removeMaxValue: true,
      removeBlockSize: true, durability: 1 });
    expect(h.backend.lastCall('seqUpdate')).toMatchObject({ removeMaxValue: true,
      removeBlockSize: true });
  });

  test('delete', async () => {
    h.backend.answer('seqDelete', () => ({ type: 1, sequence: null, revision: 0 }));
    const reply = await h.post('/v1/sequences/delete', { name: 's', durability: 1 });
    expect(h.backend.lastCall('seqDelete')).toEqual({ name: 's', durability: 1 });
    expect(reply.json).toMatchObject({ servedFrom: '', type: 1, sequence: null });
  });
});

describe('next and reserve', () => {
  const allocation = { name: 's', start: 11, end: 15, count: 5, revision: 8 };

  test('next is a reservation of one; the reply carries the allocation', async () => {
    h.backend.answer('seqReserve', () => ({ type: 0, allocation: { ...allocation, start: 11,
      end: 11, count: 1 } }));
    const reply = await h.post('/v1/sequences/next', { name: 's', durability: 1 });
    expect(h.backend.lastCall('seqReserve')).toEqual({ name: 's', count: 1,
      idempotencyKey: null, durability: 1 });
    expect(reply.text).toBe('{"servedFrom":"","type":0,"sequence":null,"allocation":' +
      '{"name":"s","start":11,"end":11,"count":1,"revision":8},"revision":8}');
  });

  test('reserve maps count and idempotencyKey; no allocation is the zeroed one', async () => {
    h.backend.answer('seqReserve', () => ({ type: 0, allocation }));
    await h.post('/v1/sequences/reserve', { name: 's', count: '5', idempotencyKey: 'ik',
      durability: 1 });
    expect(h.backend.lastCall('seqReserve')).toEqual({ name: 's', count: 5,
      idempotencyKey: 'ik', durability: 1 });
    h.backend.answer('seqReserve', () => ({ type: 4, allocation: null }));
    const reply = await h.post('/v1/sequences/reserve', { name: 's', count: 5, durability: 1 });
    expect(reply.text).toBe(`{"servedFrom":"","type":4,"sequence":null,` +
      `"allocation":${noAllocation},"revision":0}`);
  });
});

describe('invalid input is 3', () => {
  test('absent or null durability, without a backend call', async () => {
    const before = h.backend.calls.length;
    for (const path of ['create', 'get', 'next', 'reserve', 'delete', 'update']) {
      for (const body of [{ name: 's', count: 1 }, { name: 's', count: 1, durability: null }]) {
        const reply = await h.post(`/v1/sequences/${path}`, body);
        expect([reply.status, reply.text]).toEqual([200, invalidText]);
      }
    }
    expect(h.backend.calls.length).toBe(before);
  });

  test('a durability other than 1 reaches the backend, which decides', async () => {
    await h.post('/v1/sequences/get', { name: 's', durability: 0 });
    expect(h.backend.lastCall('seqGet')).toEqual({ name: 's', durability: 0 });
  });

  test('wrong-typed members', async () => {
    const before = h.backend.calls.length;
    for (const [path, body] of [['create', { name: 5, durability: 1 }],
      ['create', { name: 's', maxValue: 'big', durability: 1 }],
      ['get', { name: 's', durability: 'persistent' }],
      ['next', { name: 's', idempotencyKey: 7, durability: 1 }],
      ['reserve', { name: 's', count: 2.5, durability: 1 }],
      ['update', { name: 's', removeMaxValue: 'yes', durability: 1 }],
      ['delete', { name: {}, durability: 1 }]] as const) {
      expect((await h.post(`/v1/sequences/${path}`, body)).text).toBe(invalidText);
    }
    expect(h.backend.calls.length).toBe(before);
  });
});
