// Sequences against a real `honu server`, over REST and gRPC: every row of wire.md 4.6
// (situation -> Type), allocation semantics, idempotency keys, MaxValueExceeded, UpdateSequence,
// and the sequence cases of kahuna-reference 9.2.
import { describe, expect, it } from 'vitest';
import { Kv, Seq, text, transports, unique, type KahunaClient } from './clients.js';
import { useHonu } from './harness.js';

const honu = useHonu('sequences');

describe.each(transports)('sequences over %s', (transport) => {
  const c = (): KahunaClient => honu.client(transport);

  it('create Success rev 0; duplicate AlreadyExists; get Success with the entry', async () => {
    const name = unique('seq-create');
    expect(await c().createSequence({ name, initialValue: 0, increment: 1 }))
      .toMatchObject({ type: Seq.Success, revision: 0 });
    expect((await c().createSequence({ name, initialValue: 0, increment: 1 })).type)
      .toBe(Seq.AlreadyExists);
    const got = await c().getSequence(name);
    expect(got.type).toBe(Seq.Success);
    expect(got.sequence).toMatchObject({ name, initialValue: 0, increment: 1, maxValue: null,
      durability: 1, blockSize: null, incarnation: 0 });
    expect(got.revision).toBeGreaterThanOrEqual(0);
  });

  it('next -> 1; reserve 3 -> 2..4; next -> 5; CurrentValue is the high-water mark', async () => {
    const name = unique('seq-alloc');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    const first = await c().nextSequence(name);
    expect(first.type).toBe(Seq.Success);
    expect(first.allocation).toMatchObject({ name, start: 1, end: 1, count: 1 });
    const reserved = await c().reserveSequence(name, 3);
    expect(reserved.type).toBe(Seq.Success);
    expect(reserved.allocation).toMatchObject({ name, start: 2, end: 4, count: 3 });
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 5, end: 5 });
    const entry = (await c().getSequence(name)).sequence!;
    expect(entry.currentValue).toBeGreaterThanOrEqual(5);
  });

  it('reserve 1 behaves like next (kahuna-ts nextSequenceValue)', async () => {
    const name = unique('seq-reserve1');
    await c().createSequence({ name, initialValue: 100, increment: 1 });
    expect((await c().reserveSequence(name, 1)).allocation)
      .toMatchObject({ start: 101, end: 101, count: 1 });
    expect((await c().reserveSequence(name, 1)).allocation)
      .toMatchObject({ start: 102, end: 102, count: 1 });
  });

  it('increment 5 -> 5, 10, ..., 50; a reservation of n spans inc * n', async () => {
    const name = unique('seq-inc5');
    await c().createSequence({ name, initialValue: 0, increment: 5 });
    const values: number[] = [];
    for (let i = 0; i < 10; i++) values.push((await c().nextSequence(name)).allocation!.start);
    expect(values).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    expect((await c().reserveSequence(name, 3)).allocation)
      .toMatchObject({ start: 55, end: 65, count: 3 });
  });

  it('maxValue 3 -> 1, 2, 3, then MaxValueExceeded with nothing allocated; CurrentValue 3',
    async () => {
      const name = unique('seq-max');
      await c().createSequence({ name, initialValue: 0, increment: 1, maxValue: 3 });
      expect((await c().getSequence(name)).sequence!.maxValue).toBe(3);
      const values: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await c().nextSequence(name);
        expect(r.type).toBe(Seq.Success);
        values.push(r.allocation!.start);
      }
      expect(values).toEqual([1, 2, 3]);
      expect((await c().nextSequence(name)).type).toBe(Seq.MaxValueExceeded);
      expect((await c().reserveSequence(name, 1)).type).toBe(Seq.MaxValueExceeded);
      expect((await c().getSequence(name)).sequence!.currentValue).toBe(3);
    });

  it('a reservation that would pass MaxValue allocates nothing', async () => {
    const name = unique('seq-max-partial');
    await c().createSequence({ name, initialValue: 0, increment: 1, maxValue: 3 });
    expect((await c().reserveSequence(name, 5)).type).toBe(Seq.MaxValueExceeded);
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 1, end: 1 });
    expect((await c().reserveSequence(name, 2)).allocation).toMatchObject({ start: 2, end: 3 });
  });

  it('maxValue equal to initialValue is valid and has no values to hand out', async () => {
    const name = unique('seq-max-eq');
    expect((await c().createSequence({ name, initialValue: 5, increment: 1, maxValue: 5 })).type)
      .toBe(Seq.Success);
    expect((await c().nextSequence(name)).type).toBe(Seq.MaxValueExceeded);
  });

  it('update{initialValue} is descriptive: Success, Incarnation 1, allocation continues',
    async () => {
      const name = unique('seq-update-initial');
      await c().createSequence({ name, initialValue: 0, increment: 1 });
      await c().reserveSequence(name, 3);
      expect((await c().updateSequence({ name, initialValue: 2 })).type).toBe(Seq.Success);
      expect((await c().getSequence(name)).sequence)
        .toMatchObject({ initialValue: 2, incarnation: 1 });
      expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 4 });
    });

  it('update{maxValue} below InitialValue -> InvalidInput', async () => {
    const name = unique('seq-update-max-initial');
    await c().createSequence({ name, initialValue: 100, increment: 1 });
    expect((await c().updateSequence({ name, maxValue: 50 })).type).toBe(Seq.InvalidInput);
    expect((await c().getSequence(name)).sequence).toMatchObject({ maxValue: null,
      incarnation: 0 });
  });

  // int64 on the wire (wire.md 1.5). 4e18 and 8e18 are exact in a double and in decimal JSON;
  // 3 * 4e18 is past 2^63 - 1.
  // Honu keeps sequence values exact JS numbers (wire.md 1.5; docs/ARCHITECTURE.md): values
  // past 2^53 - 1 are never handed out, so that is where "wrap past int64" happens, and an
  // increment or initial value beyond it is InvalidInput.
  it('an allocation that would pass the largest exact value -> MaxValueExceeded, nothing ' +
    'allocated', async () => {
    const name = unique('seq-wrap');
    const top = Number.MAX_SAFE_INTEGER;
    expect((await c().createSequence({ name, initialValue: top - 5, increment: 2 })).type)
      .toBe(Seq.Success);
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: top - 3 });
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: top - 1 });
    expect((await c().nextSequence(name)).type).toBe(Seq.MaxValueExceeded);
    expect((await c().reserveSequence(name, 1)).type).toBe(Seq.MaxValueExceeded);
    expect((await c().createSequence({ name: unique('seq-huge-inc'), initialValue: 0,
      increment: 4e18 })).type).toBe(Seq.InvalidInput);
  });

  it('a maxValue above 2^53 is accepted', async () => {
    const name = unique('seq-big-max');
    expect((await c().createSequence({ name, initialValue: 0, increment: 1, maxValue: 9e18 }))
      .type).toBe(Seq.Success);
    expect((await c().getSequence(name)).sequence).toMatchObject({ maxValue: 9e18 });
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 1 });
  });

  it('reserve of 2^31 - 1 values on an unbounded sequence', async () => {
    const name = unique('seq-huge-count');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    expect((await c().reserveSequence(name, 2_147_483_647)).allocation)
      .toMatchObject({ start: 1, end: 2_147_483_647, count: 2_147_483_647 });
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 2_147_483_648 });
  });

  it('missing sequence: get NotFound rev -1 and no entry; next, reserve, delete, update ' +
    'NotFound', async () => {
    const name = unique('seq-missing');
    const got = await c().getSequence(name);
    expect(got).toMatchObject({ type: Seq.NotFound, revision: -1, sequence: null });
    expect((await c().nextSequence(name)).type).toBe(Seq.NotFound);
    expect((await c().reserveSequence(name, 2)).type).toBe(Seq.NotFound);
    expect((await c().deleteSequence(name)).type).toBe(Seq.NotFound);
    expect((await c().updateSequence({ name, increment: 2 })).type).toBe(Seq.NotFound);
  });

  it('delete existing -> Success; then get NotFound and create Success again', async () => {
    const name = unique('seq-delete');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    await c().nextSequence(name);
    expect((await c().deleteSequence(name)).type).toBe(Seq.Success);
    expect((await c().getSequence(name)).type).toBe(Seq.NotFound);
    expect((await c().nextSequence(name)).type).toBe(Seq.NotFound);
    expect((await c().deleteSequence(name)).type).toBe(Seq.NotFound);
    expect((await c().createSequence({ name, initialValue: 0, increment: 1 })).type)
      .toBe(Seq.Success);
  });

  it('InvalidInput: empty, whitespace, > 1024 chars and __kahuna:sequences: names, on every ' +
    'call', async () => {
    for (const name of ['', '   ', 'x'.repeat(1025), `__kahuna:sequences:${unique('n')}`]) {
      expect((await c().createSequence({ name, initialValue: 0, increment: 1 })).type,
        `create ${name.slice(0, 30)}`).toBe(Seq.InvalidInput);
      expect((await c().getSequence(name)).type).toBe(Seq.InvalidInput);
      expect((await c().nextSequence(name)).type).toBe(Seq.InvalidInput);
      expect((await c().reserveSequence(name, 1)).type).toBe(Seq.InvalidInput);
      expect((await c().deleteSequence(name)).type).toBe(Seq.InvalidInput);
      expect((await c().updateSequence({ name, increment: 2 })).type).toBe(Seq.InvalidInput);
    }
  });

  it('a 1024-char name is accepted', async () => {
    const name = (unique('seq-long') + 'y'.repeat(1024)).slice(0, 1024);
    expect((await c().createSequence({ name, initialValue: 0, increment: 1 })).type)
      .toBe(Seq.Success);
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 1 });
  });

  it('InvalidInput: durability != 1 on every call (and nothing is created)', async () => {
    const name = unique('seq-durability');
    for (const d of [0, 2]) {
      expect((await c().createSequence({ name, initialValue: 0, increment: 1, durability: d }))
        .type).toBe(Seq.InvalidInput);
    }
    expect((await c().getSequence(name)).type).toBe(Seq.NotFound);
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    for (const d of [0, 2]) {
      expect((await c().getSequence(name, d)).type).toBe(Seq.InvalidInput);
      expect((await c().nextSequence(name, undefined, d)).type).toBe(Seq.InvalidInput);
      expect((await c().reserveSequence(name, 1, undefined, d)).type).toBe(Seq.InvalidInput);
      expect((await c().updateSequence({ name, increment: 2, durability: d })).type)
        .toBe(Seq.InvalidInput);
      expect((await c().deleteSequence(name, d)).type).toBe(Seq.InvalidInput);
    }
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 1 });
  });

  it('InvalidInput on create: increment 0 or -1; initial 10 > max 5', async () => {
    for (const increment of [0, -1]) {
      const name = unique('seq-bad-inc');
      expect((await c().createSequence({ name, initialValue: 0, increment })).type)
        .toBe(Seq.InvalidInput);
      expect((await c().getSequence(name)).type).toBe(Seq.NotFound);
    }
    const name = unique('seq-bad-max');
    expect((await c().createSequence({ name, initialValue: 10, increment: 1, maxValue: 5 })).type)
      .toBe(Seq.InvalidInput);
    expect((await c().getSequence(name)).type).toBe(Seq.NotFound);
  });

  it('InvalidInput on reserve: count 0 or -1; idempotency key over 1024 UTF-8 bytes', async () => {
    const name = unique('seq-bad-count');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    for (const count of [0, -1]) {
      expect((await c().reserveSequence(name, count)).type).toBe(Seq.InvalidInput);
    }
    const tooLong = 'é'.repeat(513); // 513 characters, 1026 UTF-8 bytes
    expect((await c().reserveSequence(name, 1, tooLong)).type).toBe(Seq.InvalidInput);
    expect((await c().nextSequence(name, tooLong)).type).toBe(Seq.InvalidInput);
    const longest = 'k'.repeat(1024);
    expect((await c().nextSequence(name, longest)).allocation).toMatchObject({ start: 1 });
  });

  it('idempotency: same key and count replays the identical allocation; a different count ' +
    'is InvalidInput', async () => {
    const name = unique('seq-idem');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    const key = unique('idem');
    const first = await c().reserveSequence(name, 3, key);
    expect(first.allocation).toMatchObject({ start: 1, end: 3, count: 3 });
    const replay = await c().reserveSequence(name, 3, key);
    expect(replay.type).toBe(Seq.Success);
    expect(replay.allocation).toEqual(first.allocation);
    expect((await c().reserveSequence(name, 4, key)).type).toBe(Seq.InvalidInput);
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 4 });
    const nextKey = unique('idem-next');
    const n1 = await c().nextSequence(name, nextKey);
    expect(n1.allocation).toMatchObject({ start: 5, end: 5 });
    expect((await c().nextSequence(name, nextKey)).allocation).toEqual(n1.allocation);
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 6 });
  });

  it('idempotency keys are trimmed', async () => {
    const name = unique('seq-idem-trim');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    const key = unique('trim');
    const first = await c().reserveSequence(name, 2, key);
    expect((await c().reserveSequence(name, 2, `  ${key}  `)).allocation)
      .toEqual(first.allocation);
  });

  it('sequence names are trimmed', async () => {
    const name = unique('seq-trim');
    expect((await c().createSequence({ name: `  ${name}  `, initialValue: 0, increment: 1 }))
      .type).toBe(Seq.Success);
    expect((await c().getSequence(name)).sequence).toMatchObject({ name });
    expect((await c().createSequence({ name, initialValue: 0, increment: 1 })).type)
      .toBe(Seq.AlreadyExists);
  });

  it('update{currentValue 5000, increment 10}: CurrentValue 5000, Incarnation 1, next 5010',
    async () => {
      const name = unique('seq-update');
      await c().createSequence({ name, initialValue: 0, increment: 1 });
      await c().nextSequence(name);
      expect((await c().updateSequence({ name, currentValue: 5000, increment: 10 })).type)
        .toBe(Seq.Success);
      const entry = (await c().getSequence(name)).sequence!;
      expect(entry).toMatchObject({ currentValue: 5000, increment: 10, incarnation: 1 });
      expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 5010 });
    });

  it('update{maxValue 1000, blockSize 4} then update{removeMaxValue, removeBlockSize}: ' +
    'null, null, Incarnation 2', async () => {
    const name = unique('seq-update-remove');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    expect((await c().updateSequence({ name, maxValue: 1000, blockSize: 4 })).type)
      .toBe(Seq.Success);
    expect((await c().getSequence(name)).sequence)
      .toMatchObject({ maxValue: 1000, blockSize: 4, incarnation: 1 });
    expect((await c().updateSequence({ name, removeMaxValue: true, removeBlockSize: true })).type)
      .toBe(Seq.Success);
    expect((await c().getSequence(name)).sequence)
      .toMatchObject({ maxValue: null, blockSize: null, incarnation: 2 });
  });

  it('update InvalidInput: increment <= 0, BlockSize < 1, MaxValue below the current value, ' +
    'a value with its Remove flag, no change at all', async () => {
    const name = unique('seq-update-bad');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    await c().reserveSequence(name, 10);
    const bad = [
      { increment: 0 }, { increment: -1 }, { blockSize: 0 }, { maxValue: 5 },
      { maxValue: 100, removeMaxValue: true }, { blockSize: 4, removeBlockSize: true }, {},
    ];
    for (const change of bad) {
      expect((await c().updateSequence({ name, ...change })).type, JSON.stringify(change))
        .toBe(Seq.InvalidInput);
    }
    expect((await c().getSequence(name)).sequence!.incarnation).toBe(0);
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 11 });
  });

  it('create with a block size: the entry shows it', async () => {
    const name = unique('seq-block');
    expect((await c().createSequence({ name, initialValue: 0, increment: 1, blockSize: 7 })).type)
      .toBe(Seq.Success);
    expect((await c().getSequence(name)).sequence).toMatchObject({ blockSize: 7 });
    expect((await c().reserveSequence(name, 10)).allocation).toMatchObject({ start: 1, end: 10 });
  });

  it('concurrent allocations are unique', async () => {
    const name = unique('seq-concurrent');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? c().nextSequence(name) : c().reserveSequence(name, 2))));
    const values: number[] = [];
    for (const r of replies) {
      expect(r.type).toBe(Seq.Success);
      for (let v = r.allocation!.start; v <= r.allocation!.end; v++) values.push(v);
    }
    expect(values).toHaveLength(30);
    expect(new Set(values).size).toBe(30);
  });

  it('the KV API refuses the backing key __kahuna:sequences:<name>', async () => {
    const name = unique('seq-backing');
    await c().createSequence({ name, initialValue: 0, increment: 1 });
    const key = `__kahuna:sequences:${name}`;
    expect((await c().get(key, 1)).type).toBe(Kv.InvalidInput);
    expect((await c().set({ key, value: text('x'), durability: 1 })).type).toBe(Kv.InvalidInput);
    expect((await c().delete(key, 1)).type).toBe(Kv.InvalidInput);
    expect((await c().nextSequence(name)).allocation).toMatchObject({ start: 1 });
  });
});
