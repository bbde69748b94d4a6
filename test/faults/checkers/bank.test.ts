// The bank checker (issue 8): a negative control for each rule, and histories it must accept.
import { describe, expect, it } from 'vitest';
import type { BankOp } from '../history.js';
import { checkBank } from './bank.js';
import { bank } from './gen.js';

const { init, transfer, read, final } = bank;
const opening = { a: 10, b: 10, c: 10 };

function rejects(history: BankOp[], pattern: RegExp): ReturnType<typeof checkBank> {
  const v = checkBank(history);
  expect(v.checker).toBe('bank');
  expect(v.valid, 'a bad history passed').toBe(false);
  expect(v.problems[0]).toMatch(pattern);
  return v;
}

function accepts(history: BankOp[]): void {
  expect(checkBank(history)).toEqual({ valid: true, checker: 'bank', problems: [], window: [] });
}

/** A valid ending: the final read of the balances given. */
const ending = (balances: Record<string, number>): BankOp => final(9, [1000, 1010], balances);

describe('checkBank: negative controls', () => {
  it('rejects a read whose total changed (money created or destroyed)', () => {
    const r = read(1, [20, 30], { a: 10, b: 15, c: 10 });
    const v = rejects([init(opening), r, ending(opening)],
      /the read by process 1 at 20 ms found a total of 35, not 30: money created: a=10 b=15 c=10/);
    expect(v.problems).toHaveLength(1);
    expect(v.window).toEqual([r]);
    rejects([init(opening), ending({ a: 10, b: 5, c: 10 })],
      /the final by process 9 at 1000 ms found a total of 25, not 30: money destroyed/);
  });

  it('rejects a negative balance, an absent account, a missing or an unknown one', () => {
    rejects([init(opening), read(1, [20, 30], { a: -5, b: 25, c: 10 }), ending(opening)],
      /found a=-5: a balance absent or negative/);
    rejects([init(opening), read(1, [20, 30], { a: null, b: 20, c: 10 }), ending(opening)],
      /found a=absent: a balance absent or negative/);
    rejects([init(opening), read(1, [20, 30], { a: 10, b: 20 }), ending(opening)],
      /shows the wrong accounts \(missing c, unknown none\)/);
    rejects([init(opening), read(1, [20, 30], { ...opening, d: 0 }), ending(opening)],
      /shows the wrong accounts \(missing none, unknown d\)/);
  });

  it('rejects a lost acknowledged transfer: a later read does not show it', () => {
    const t = transfer(2, [0, 10], 'a', 'b', 4, true);
    const f = ending(opening); // the total is kept, the transfer is not there
    const v = rejects([init(opening), t, f],
      /account a: the final by process 9 at 1000 ms found 10, but the transfers allow only \[6,/);
    expect(v.problems[0]).toContain('only [6, 6] (opening 10, 1 acknowledged before it, ' +
      '0 concurrent; the last acknowledged: process 2 transfer(');
    expect(v.window).toEqual([t, f]);
  });

  it('rejects an aborted transfer, or one refused for insufficient funds, that moved money', () => {
    const moved = { a: 6, b: 14, c: 10 };
    rejects([init(opening), transfer(2, [0, 10], 'a', 'b', 4, null, 'fail'), ending(moved)],
      /account a: the final by process 9 at 1000 ms found 6, but .* only \[10, 10\]/);
    rejects([init(opening), transfer(2, [0, 10], 'a', 'b', 4, false), ending(moved)],
      /account a: .* found 6, but the transfers allow only \[10, 10\]/);
  });

  it('rejects a read that shows a transfer invoked only after it completed', () => {
    rejects([init(opening), read(1, [0, 10], { a: 6, b: 14, c: 10 }),
      transfer(2, [20, 30], 'a', 'b', 4, true), ending({ a: 6, b: 14, c: 10 })],
    /account a: the read by process 1 at 0 ms found 6, but the transfers allow only \[10, 10\]/);
  });

  it('rejects a history without an ok final read, or without its opening balances', () => {
    rejects([init(opening), read(1, [20, 30], opening), final(9, [1000, null], null, 'fail')],
      /no ok final read \(1 tried\): the balances after the faults healed are unchecked/);
    rejects([read(1, [20, 30], opening), ending(opening)],
      /no init op: the opening balances are unknown/);
    rejects([init(opening), init(opening, 5), ending(opening)], /2 init ops/);
  });
});

describe('checkBank: valid histories', () => {
  it('accepts acknowledged transfers seen by later reads, refused and failed ones not', () => {
    accepts([
      init(opening),
      transfer(1, [0, 10], 'a', 'b', 4, true),
      transfer(2, [5, 12], 'c', 'a', 30, false), // insufficient funds
      transfer(3, [6, 14], 'b', 'c', 2, null, 'fail'), // aborted
      read(4, [20, 30], { a: 6, b: 14, c: 10 }),
      read(4, [40, 50], null, 'fail'),
      ending({ a: 6, b: 14, c: 10 }),
    ]);
  });

  it('accepts an unknown transfer applied or not, even long after its call', () => {
    for (const end of [{ a: 10, b: 10, c: 10 }, { a: 7, b: 10, c: 13 }]) {
      accepts([init(opening), transfer(1, [0, null], 'a', 'c', 3, null, 'info'),
        read(2, [20, 30], opening), ending(end)]);
    }
  });

  it('accepts a transfer concurrent with a read, seen or not', () => {
    for (const seen of [opening, { a: 6, b: 14, c: 10 }]) {
      accepts([init(opening), transfer(1, [0, 50], 'a', 'b', 4, true),
        read(2, [10, 40], seen), ending({ a: 6, b: 14, c: 10 })]);
    }
  });
});
