// The durability checker (issue 7): negative controls it must reject, histories it must accept.
import { describe, expect, it } from 'vitest';
import type { DurabilityOp } from '../history.js';
import { checkDurability } from './durability.js';
import { dur } from './gen.js';

const { write, final } = dur;

function rejects(history: DurabilityOp[], pattern: RegExp): ReturnType<typeof checkDurability> {
  const v = checkDurability(history);
  expect(v.checker).toBe('durability');
  expect(v.valid, 'a bad history passed').toBe(false);
  expect(v.problems[0]).toMatch(pattern);
  expect(v.window.length).toBeGreaterThan(0);
  return v;
}

function accepts(history: DurabilityOp[]): void {
  expect(checkDurability(history)).toEqual({ valid: true, checker: 'durability', problems: [], window: [] });
}

describe('checkDurability: negative controls', () => {
  it('rejects a lost acknowledged write: the key is absent after the crash', () => {
    const w = write(1, [0, 10], 'k1', 'a');
    const f = final(9, [1000, 1010], 'k1', null);
    const v = rejects([w, write(2, [0, 10], 'k2', 'b'), f, final(9, [1000, 1010], 'k2', 'b')],
      /key "k1": acknowledged write lost: the final read by process 9 at 1000 ms found nothing, after process 1 write\("a"\)/);
    expect(v.problems).toHaveLength(1);
    expect(v.window).toEqual([w, f]);
  });

  it('rejects a lost later write: the key shows data an acknowledged write had overwritten', () => {
    rejects([write(1, [0, 10], 'k', 'a'), write(1, [20, 30], 'k', 'b'), final(9, [1000, 1010], 'k', 'a')],
      /key "k": acknowledged write lost: the final read by process 9 found "a", which process 1 write\("b"\)/);
  });

  it('rejects data from nowhere, or from a failed write', () => {
    rejects([write(1, [0, 10], 'k', 'a'), final(9, [1000, 1010], 'k', 'zz')], /found "zz", which no write wrote/);
    rejects([write(1, [0, 10], 'k', 'a', 'fail'), final(9, [1000, 1010], 'k', 'a')], /which only a failed write wrote/);
  });

  it('rejects acknowledged writes whose key was never read back', () => {
    rejects([write(1, [0, 10], 'k', 'a'), final(9, [1000, null], 'k', null, 'info')],
      /key "k": 1 acknowledged writes but no ok final read/);
  });
});

describe('checkDurability: valid histories', () => {
  it('accepts the last acknowledged write, or either of two concurrent last ones', () => {
    accepts([write(1, [0, 10], 'k', 'a'), write(1, [20, 30], 'k', 'b'), final(9, [1000, 1010], 'k', 'b')]);
    for (const data of ['b', 'c']) {
      accepts([write(1, [0, 10], 'k', 'a'), write(1, [20, 40], 'k', 'b'), write(2, [25, 35], 'k', 'c'),
        final(9, [1000, 1010], 'k', data)]);
    }
  });

  it('accepts an info write showing up, or not', () => {
    for (const data of ['a', 'b']) {
      accepts([write(1, [0, 10], 'k', 'a'), write(1, [20, null], 'k', 'b', 'info'), final(9, [1000, 1010], 'k', data)]);
    }
    accepts([write(1, [0, null], 'k', 'a', 'info'), final(9, [1000, 1010], 'k', null)]);
    accepts([write(1, [0, 10], 'k', 'a', 'fail'), final(9, [1000, 1010], 'k', null)]);
  });
});
