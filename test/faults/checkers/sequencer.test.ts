// The sequencer checker (issue 7): a negative control for each rule, and histories it must accept.
import { describe, expect, it } from 'vitest';
import type { SequencerOp } from '../history.js';
import { seq } from './gen.js';
import { checkSequencer } from './sequencer.js';

const { reserve } = seq;

function rejects(history: SequencerOp[], pattern: RegExp): ReturnType<typeof checkSequencer> {
  const v = checkSequencer(history);
  expect(v.checker).toBe('sequencer');
  expect(v.valid, 'a bad history passed').toBe(false);
  expect(v.problems[0]).toMatch(pattern);
  expect(v.window.length).toBeGreaterThan(0);
  return v;
}

function accepts(history: SequencerOp[]): void {
  expect(checkSequencer(history)).toEqual({ valid: true, checker: 'sequencer', problems: [], window: [] });
}

describe('checkSequencer: negative controls', () => {
  it('rejects a value handed out twice (overlapping ranges)', () => {
    const a = reserve(1, [0, 10], 5, [0, 5]);
    const b = reserve(2, [5, 15], 5, [3, 8]); // concurrent, so only the overlap is wrong
    const v = rejects([a, b], /sequence "s": values \[3, 5\) handed out twice: \[0, 5\) to process 1 and \[3, 8\) to process 2/);
    expect(v.problems).toHaveLength(1);
    expect(v.window).toEqual([a, b]);
    // Two different idempotency keys with the very same range are two allocations.
    rejects([reserve(1, [0, 10], 2, [0, 2], 'x'), reserve(2, [5, 15], 2, [0, 2], 'y')], /handed out twice/);
  });

  it('rejects a range whose length is not the count', () => {
    const v = rejects([reserve(1, [0, 10], 5, [0, 4])], /process 1 asked for 5 values and got 4, \[0, 4\)/);
    expect(v.problems).toHaveLength(1);
  });

  it('rejects a replay that returned a different range', () => {
    const first = reserve(1, [0, 10], 3, [0, 3], 'key-1');
    const replay = reserve(1, [20, 30], 3, [3, 6], 'key-1');
    const v = rejects([first, replay], /replays of idempotency key "key-1" returned \[0, 3\) and \[3, 6\)/);
    expect(v.window).toEqual([first, replay]);
  });

  it('rejects a later reserve that got a lower start', () => {
    const a = reserve(1, [0, 10], 2, [10, 12]);
    const b = reserve(2, [20, 30], 2, [4, 6]);
    const v = rejects([a, b], /process 2 got \[4, 6\), lower than \[10, 12\) that process 1 had already got/);
    expect(v.window).toEqual([a, b]);
  });
});

describe('checkSequencer: valid histories', () => {
  it('accepts increasing ranges with gaps from info reserves', () => {
    accepts([
      reserve(1, [0, 10], 2, [0, 2]),
      reserve(2, [20, null], 3, null, null, 'info'), // perhaps took 2..4
      reserve(3, [30, 40], 1, [5, 6]),
      reserve(1, [50, 60], 4, null, null, 'fail'),
      reserve(2, [70, 80], 4, [6, 10]),
    ]);
  });

  it('accepts concurrent reserves in either order', () => {
    accepts([reserve(1, [0, 50], 2, [2, 4]), reserve(2, [10, 40], 2, [0, 2]), reserve(3, [60, 70], 1, [4, 5])]);
  });

  it('accepts a replay returning the same range later, even below newer ranges', () => {
    accepts([
      reserve(1, [0, null], 3, null, 'k1', 'info'), // timed out: the allocation happened here
      reserve(2, [20, 30], 2, [3, 5]),
      reserve(1, [40, 50], 3, [0, 3], 'k1'), // the replay returns it
      reserve(1, [60, 70], 3, [0, 3], 'k1'),
      reserve(3, [80, 90], 1, [5, 6], 'k2'),
    ]);
  });

  it('keeps sequences apart', () => {
    accepts([reserve(1, [0, 10], 2, [0, 2], null, 'ok', 's1'), reserve(2, [20, 30], 2, [0, 2], null, 'ok', 's2')]);
  });
});
