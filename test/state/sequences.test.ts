// Sequences: every row of wire.md 4.6 (situation -> Type for create, get, next/reserve, delete
// and update), the allocation, update and create-default rules, and kahuna-reference 9.2's
// sequence cases. Honu uses block size 1, so CurrentValue is the last value handed out (where
// Kahuna's block of 1000 would show 1000).
import { describe, expect, it } from 'vitest';
import { SeqType } from '../../src/core/api/codes.js';
import {
  seqIdempotencyKeysRetainedMax, seqValueMax,
} from '../../src/core/state/state-limits.js';
import {
  at, createReq, newState, reserveReq, seqName, t0, updateReq,
} from './helpers.js';

const now = at(t0);

function withSeq(name = 'orders', more: Parameters<typeof createReq>[1] = {}) {
  const s = newState();
  expect(s.seqCreate(createReq(name, more), now)).toEqual({ type: SeqType.Success,
    sequence: null, revision: 0 });
  return s;
}

const next = (s: ReturnType<typeof newState>, name = 'orders', key: string | null = null) =>
  s.seqReserve(reserveReq(name, 1, key), now);

describe('[4.6] invalid names and durability', () => {
  const bad = ['', '   ', 'x'.repeat(1025), '__kahuna:sequences:x', '  __kahuna:sequences:y'];
  for (const name of bad) {
    it(`[4.6] name ${JSON.stringify(name.slice(0, 24))}: InvalidInput on all five`, () => {
      const s = withSeq();
      expect(s.seqCreate(createReq(name), now).type).toBe(SeqType.InvalidInput);
      expect(s.seqGet(seqName(name), now).type).toBe(SeqType.InvalidInput);
      expect(s.seqReserve(reserveReq(name), now).type).toBe(SeqType.InvalidInput);
      expect(s.seqDelete(seqName(name), now).type).toBe(SeqType.InvalidInput);
      expect(s.seqUpdate(updateReq(name, { increment: 2 }), now).type)
        .toBe(SeqType.InvalidInput);
    });
  }

  it('[4.6] names are trimmed; 1024 characters is the longest', () => {
    const s = withSeq('  orders ');
    expect(s.seqGet(seqName('orders'), now).sequence?.name).toBe('orders');
    expect(s.seqCreate(createReq('y'.repeat(1024)), now).type).toBe(SeqType.Success);
  });

  it('[4.6] durability != 1: InvalidInput on all five', () => {
    const s = withSeq();
    for (const durability of [0, 2]) {
      expect(s.seqCreate(createReq('n', { durability }), now).type).toBe(SeqType.InvalidInput);
      expect(s.seqGet({ name: 'orders', durability }, now).type).toBe(SeqType.InvalidInput);
      expect(s.seqReserve(reserveReq('orders', 1, null, { durability }), now).type)
        .toBe(SeqType.InvalidInput);
      expect(s.seqDelete({ name: 'orders', durability }, now).type).toBe(SeqType.InvalidInput);
      expect(s.seqUpdate(updateReq('orders', { increment: 2, durability }), now).type)
        .toBe(SeqType.InvalidInput);
    }
  });
});

describe('[4.6] create and update validation', () => {
  it('[4.6] create: Increment <= 0 or MaxValue < InitialValue is InvalidInput', () => {
    const s = newState();
    expect(s.seqCreate(createReq('a', { increment: 0 }), now).type).toBe(SeqType.InvalidInput);
    expect(s.seqCreate(createReq('a', { increment: -1 }), now).type).toBe(SeqType.InvalidInput);
    expect(s.seqCreate(createReq('a', { initialValue: 10, maxValue: 5 }), now).type)
      .toBe(SeqType.InvalidInput);
    expect(s.seqCreate(createReq('a', { blockSize: 0 }), now).type).toBe(SeqType.InvalidInput);
    expect(s.seqCreate(createReq('a', { initialValue: 2 ** 53 }), now).type)
      .toBe(SeqType.InvalidInput);
    expect(s.seqCreate(createReq('a', { initialValue: 5, maxValue: 5 }), now).type)
      .toBe(SeqType.Success);
  });

  it('[4.6] update: Increment <= 0 or MaxValue < InitialValue is InvalidInput', () => {
    const s = withSeq('a', { initialValue: 10 });
    expect(s.seqUpdate(updateReq('a', { increment: 0 }), now).type).toBe(SeqType.InvalidInput);
    expect(s.seqUpdate(updateReq('a', { initialValue: 20, maxValue: 15, currentValue: 12 }),
      now).type).toBe(SeqType.InvalidInput);
  });

  it('[4.6] update: BlockSize < 1 is InvalidInput', () => {
    expect(withSeq('a').seqUpdate(updateReq('a', { blockSize: 0 }), now).type)
      .toBe(SeqType.InvalidInput);
  });

  it('[4.6] update: MaxValue below the current value is InvalidInput', () => {
    const s = withSeq('a');
    s.seqReserve(reserveReq('a', 10), now);
    expect(s.seqUpdate(updateReq('a', { maxValue: 9 }), now).type).toBe(SeqType.InvalidInput);
    expect(s.seqUpdate(updateReq('a', { maxValue: 10 }), now).type).toBe(SeqType.Success);
  });

  it('[4.6] update: a value together with its own Remove flag is InvalidInput', () => {
    const s = withSeq('a');
    expect(s.seqUpdate(updateReq('a', { maxValue: 9, removeMaxValue: true }), now).type)
      .toBe(SeqType.InvalidInput);
    expect(s.seqUpdate(updateReq('a', { blockSize: 4, removeBlockSize: true }), now).type)
      .toBe(SeqType.InvalidInput);
  });

  it('[4.6] update: no change at all is InvalidInput', () => {
    expect(withSeq('a').seqUpdate(updateReq('a'), now).type).toBe(SeqType.InvalidInput);
  });
});

describe('[4.6] reserve validation', () => {
  it('[4.6] Count <= 0 is InvalidInput', () => {
    const s = withSeq();
    expect(s.seqReserve(reserveReq('orders', 0), now).type).toBe(SeqType.InvalidInput);
    expect(s.seqReserve(reserveReq('orders', -1), now).type).toBe(SeqType.InvalidInput);
  });

  it('[4.6] an idempotency key over 1024 UTF-8 bytes is InvalidInput', () => {
    const s = withSeq();
    expect(s.seqReserve(reserveReq('orders', 1, '\u00e9'.repeat(513)), now).type)
      .toBe(SeqType.InvalidInput);
    expect(s.seqReserve(reserveReq('orders', 1, '\u00e9'.repeat(512)), now).type)
      .toBe(SeqType.Success);
  });
});

describe('[4.6] sequence exists', () => {
  it('[4.6] exists: create AlreadyExists', () => {
    expect(withSeq().seqCreate(createReq('orders'), now).type).toBe(SeqType.AlreadyExists);
  });

  it('[4.6] exists: get Success with the entry (create defaults: BlockSize absent, Incarnation 0)',
    () => {
      const s = withSeq('orders', { initialValue: 7, increment: 3, maxValue: 100 });
      expect(s.seqGet(seqName('orders'), at(t0 + 5))).toEqual({
        type: SeqType.Success, revision: 0,
        sequence: {
          name: 'orders', currentValue: 7, initialValue: 7, increment: 3, maxValue: 100,
          revision: 0, durability: 1, createdAt: now, updatedAt: now, blockSize: null,
          incarnation: 0,
        },
      });
    });

  it('[4.6] exists: next / reserve Success with an allocation', () => {
    expect(next(withSeq())).toEqual({ type: SeqType.Success,
      allocation: { name: 'orders', start: 1, end: 1, count: 1, revision: 1 } });
  });

  it('[4.6] exists: delete Success', () => {
    const s = withSeq();
    expect(s.seqDelete(seqName('orders'), now)).toEqual({ type: SeqType.Success,
      sequence: null, revision: 0 });
    expect(s.seqGet(seqName('orders'), now).type).toBe(SeqType.NotFound);
  });

  it('[4.6] exists: update Success, Incarnation + 1', () => {
    const s = withSeq();
    expect(s.seqUpdate(updateReq('orders', { increment: 2 }), now).type).toBe(SeqType.Success);
    expect(s.seqGet(seqName('orders'), now).sequence?.incarnation).toBe(1);
  });
});

describe('[4.6] sequence missing', () => {
  it('[4.6] missing: create Success, Revision 0', () => {
    expect(newState().seqCreate(createReq('n'), now)).toEqual({ type: SeqType.Success,
      sequence: null, revision: 0 });
  });

  it('[4.6] missing: get NotFound, Revision -1', () => {
    expect(newState().seqGet(seqName('n'), now)).toEqual({ type: SeqType.NotFound,
      sequence: null, revision: -1 });
  });

  it('[4.6] missing: next / reserve, delete and update NotFound', () => {
    const s = newState();
    expect(s.seqReserve(reserveReq('n', 3), now)).toEqual({ type: SeqType.NotFound,
      allocation: null });
    expect(s.seqDelete(seqName('n'), now).type).toBe(SeqType.NotFound);
    expect(s.seqUpdate(updateReq('n', { increment: 2 }), now).type).toBe(SeqType.NotFound);
  });

  it('[4.6] a deleted sequence can be created again from scratch', () => {
    const s = withSeq();
    next(s);
    s.seqDelete(seqName('orders'), now);
    expect(s.seqCreate(createReq('orders'), now).revision).toBe(0);
    expect(next(s).allocation?.start).toBe(1);
  });
});

describe('[4.6] allocation', () => {
  it('[4.6] Start = C + inc, End = C + inc * n; create(0, 1) then next gives 1', () => {
    const s = withSeq();
    expect(next(s).allocation).toMatchObject({ start: 1, end: 1, count: 1 });
    expect(s.seqReserve(reserveReq('orders', 3), now).allocation).toMatchObject({ start: 2,
      end: 4, count: 3 });
    expect(s.seqGet(seqName('orders'), now).sequence?.currentValue).toBe(4);
  });

  it('[4.6] with inc 5 the values step by 5; ranges never overlap', () => {
    const s = withSeq('five', { increment: 5 });
    expect(s.seqReserve(reserveReq('five', 2), now).allocation).toMatchObject({ start: 5,
      end: 10 });
    expect(next(s, 'five').allocation?.start).toBe(15);
  });

  it('[4.6] allocation would pass MaxValue: MaxValueExceeded and nothing is allocated', () => {
    const s = withSeq('m', { maxValue: 3 });
    expect(s.seqReserve(reserveReq('m', 2), now).allocation).toMatchObject({ start: 1, end: 2 });
    expect(s.seqReserve(reserveReq('m', 2), now)).toEqual({ type: SeqType.MaxValueExceeded,
      allocation: null });
    expect(s.seqReserve(reserveReq('m', 1), now).allocation).toMatchObject({ start: 3, end: 3 });
    expect(s.seqGet(seqName('m'), now).sequence?.currentValue).toBe(3);
  });

  it('[4.6] allocation would wrap past int64 (2^53 - 1 here): MaxValueExceeded', () => {
    const s = withSeq('big', { initialValue: seqValueMax - 3 });
    expect(s.seqReserve(reserveReq('big', 4), now).type).toBe(SeqType.MaxValueExceeded);
    expect(s.seqReserve(reserveReq('big', 3), now).allocation?.end).toBe(seqValueMax);
    expect(next(s, 'big').type).toBe(SeqType.MaxValueExceeded);
    const huge = withSeq('h', { increment: seqValueMax });
    expect(huge.seqReserve(reserveReq('h', 2 ** 31 - 1), now).type)
      .toBe(SeqType.MaxValueExceeded);
  });

  it('[4.6] same idempotency key, same count: the identical allocation, no new values', () => {
    const s = withSeq();
    const first = s.seqReserve(reserveReq('orders', 3, 'k1'), now);
    expect(s.seqReserve(reserveReq('orders', 3, ' k1 '), at(t0 + 5))).toEqual(first);
    expect(next(s).allocation?.start).toBe(4);
  });

  it('[4.6] same idempotency key, different count: InvalidInput', () => {
    const s = withSeq();
    s.seqReserve(reserveReq('orders', 3, 'k1'), now);
    expect(s.seqReserve(reserveReq('orders', 2, 'k1'), now).type).toBe(SeqType.InvalidInput);
  });

  it(`[4.6] idempotency memory keeps the last ${seqIdempotencyKeysRetainedMax} keys per sequence`,
    () => {
      const s = withSeq();
      for (let i = 0; i <= seqIdempotencyKeysRetainedMax; i += 1) next(s, 'orders', `k${i}`);
      expect(next(s, 'orders', 'k1').allocation?.start).toBe(2); // still remembered
      expect(next(s, 'orders', 'k0').allocation?.start).toBe(seqIdempotencyKeysRetainedMax + 2);
    });

  it('[4.6] idempotency keys are per sequence', () => {
    const s = withSeq();
    s.seqCreate(createReq('other', { initialValue: 100 }), now);
    next(s, 'orders', 'k');
    expect(next(s, 'other', 'k').allocation?.start).toBe(101);
  });

  it('[4.6] the record revision counts reservations and updates', () => {
    const s = withSeq();
    next(s);
    s.seqReserve(reserveReq('orders', 2), now);
    expect(s.seqUpdate(updateReq('orders', { increment: 3 }), now).revision).toBe(3);
    expect(next(s).allocation?.revision).toBe(4);
    expect(s.seqGet(seqName('orders'), now).revision).toBe(4);
  });
});

describe('[4.6] update semantics', () => {
  it('[4.6] update{currentValue 5000, increment 10}: CurrentValue 5000, Incarnation 1, next 5010',
    () => {
      const s = withSeq();
      next(s);
      expect(s.seqUpdate(updateReq('orders', { currentValue: 5000, increment: 10 }),
        at(t0 + 9)).type).toBe(SeqType.Success);
      const seq = s.seqGet(seqName('orders'), now).sequence;
      expect(seq).toMatchObject({ currentValue: 5000, increment: 10, incarnation: 1,
        updatedAt: at(t0 + 9), createdAt: now });
      expect(next(s).allocation?.start).toBe(5010);
    });

  it('[4.6] update{maxValue 1000, blockSize 4} then {removeMaxValue, removeBlockSize}', () => {
    const s = withSeq();
    s.seqUpdate(updateReq('orders', { maxValue: 1000, blockSize: 4 }), now);
    expect(s.seqGet(seqName('orders'), now).sequence).toMatchObject({ maxValue: 1000,
      blockSize: 4, incarnation: 1 });
    s.seqUpdate(updateReq('orders', { removeMaxValue: true, removeBlockSize: true }), now);
    expect(s.seqGet(seqName('orders'), now).sequence).toMatchObject({ maxValue: null,
      blockSize: null, incarnation: 2 });
  });

  it('[4.6] absent update fields are unchanged', () => {
    const s = withSeq('u', { initialValue: 3, increment: 2, maxValue: 99, blockSize: 7 });
    s.seqUpdate(updateReq('u', { initialValue: 1 }), now);
    expect(s.seqGet(seqName('u'), now).sequence).toMatchObject({ currentValue: 3,
      initialValue: 1, increment: 2, maxValue: 99, blockSize: 7 });
  });
});

describe('[9.2] kahuna-reference sequence cases', () => {
  it('[9.2] create rev 0; next 1..1; reserve 3 gives 2..4', () => {
    const s = withSeq();
    expect(next(s).allocation).toMatchObject({ start: 1, end: 1 });
    expect(s.seqReserve(reserveReq('orders', 3), now).allocation).toMatchObject({ start: 2,
      end: 4, count: 3 });
  });

  it('[9.2] duplicate create AlreadyExists; next, get, delete of a missing one NotFound', () => {
    const s = withSeq();
    expect(s.seqCreate(createReq('orders'), now).type).toBe(SeqType.AlreadyExists);
    expect(next(s, 'gone').type).toBe(SeqType.NotFound);
    expect(s.seqGet(seqName('gone'), now).type).toBe(SeqType.NotFound);
    expect(s.seqDelete(seqName('gone'), now).type).toBe(SeqType.NotFound);
  });

  it('[9.2] increment 5 gives 5, 10, ..., 50', () => {
    const s = withSeq('i5', { increment: 5 });
    const values = Array.from({ length: 10 }, () => next(s, 'i5').allocation?.start);
    expect(values).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
  });

  it('[9.2] maxValue 3: 1, 2, 3, then MaxValueExceeded, CurrentValue 3', () => {
    const s = withSeq('m3', { maxValue: 3 });
    expect([1, 2, 3].map(() => next(s, 'm3').allocation?.start)).toEqual([1, 2, 3]);
    expect(next(s, 'm3').type).toBe(SeqType.MaxValueExceeded);
    expect(s.seqGet(seqName('m3'), now).sequence?.currentValue).toBe(3);
  });

  it('[9.2] invalid: count 0 / -1, reserved name, increment 0, initial 10 > max 5, oversized',
    () => {
      const s = withSeq();
      expect(s.seqReserve(reserveReq('orders', 0), now).type).toBe(SeqType.InvalidInput);
      expect(s.seqReserve(reserveReq('orders', -1), now).type).toBe(SeqType.InvalidInput);
      expect(s.seqCreate(createReq('__kahuna:sequences:a'), now).type).toBe(SeqType.InvalidInput);
      expect(s.seqCreate(createReq('z', { increment: 0 }), now).type).toBe(SeqType.InvalidInput);
      expect(s.seqCreate(createReq('z', { initialValue: 10, maxValue: 5 }), now).type)
        .toBe(SeqType.InvalidInput);
      expect(s.seqCreate(createReq('z'.repeat(1025)), now).type).toBe(SeqType.InvalidInput);
    });

  it('[9.2] idempotent replay returns the identical allocation; another count is InvalidInput',
    () => {
      const s = withSeq();
      const a = next(s, 'orders', 'once');
      expect(next(s, 'orders', 'once')).toEqual(a);
      expect(s.seqReserve(reserveReq('orders', 2, 'once'), now).type).toBe(SeqType.InvalidInput);
    });

  it('[9.2] many allocations are unique and increasing', () => {
    const s = withSeq();
    const seen = new Set<number>();
    let last = 0;
    for (let i = 1; i <= 50; i += 1) {
      const a = s.seqReserve(reserveReq('orders', (i % 4) + 1), now).allocation;
      expect(a).not.toBeNull();
      if (a === null) return;
      expect(a.start).toBe(last + 1);
      for (let v = a.start; v <= a.end; v += 1) seen.add(v);
      last = a.end;
    }
    expect(seen.size).toBe(last);
  });
});
