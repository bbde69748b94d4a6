// The lock checker (issue 7): a negative control for each rule, and histories it must accept.
import { describe, expect, it } from 'vitest';
import type { LockOp } from '../history.js';
import { lock } from './gen.js';
import { checkLock } from './lock.js';

const { acquire, extend, release, fenced } = lock;
const slack = { clockSlackMs: 100 };

function rejects(history: LockOp[], pattern: RegExp): ReturnType<typeof checkLock> {
  const v = checkLock(history, slack);
  expect(v.checker).toBe('lock');
  expect(v.valid, 'a bad history passed').toBe(false);
  expect(v.problems[0]).toMatch(pattern);
  expect(v.window.length).toBeGreaterThan(0);
  return v;
}

function accepts(history: LockOp[]): void {
  expect(checkLock(history, slack)).toEqual({ valid: true, checker: 'lock', problems: [], window: [] });
}

describe('checkLock: mutual exclusion', () => {
  it('rejects a second owner acquiring while the first lease is certainly valid', () => {
    // a holds from 10 until 0 + 1000 - 100 = 900; b from 510.
    const a = acquire(1, [0, 10], 'a', 1);
    const b = acquire(2, [500, 510], 'b', 2);
    const v = rejects([a, b], /resource "r": mutual exclusion: "a" \(process 1, token 1\) and "b" \(process 2, token 2\).*510 ms–900 ms/);
    expect(v.window).toEqual([a, b]);
  });

  it('counts an ok extend from its invocation', () => {
    const history = [acquire(1, [0, 10], 'a', 1), extend(1, [800, 810], 'a', 1), acquire(2, [1200, 1210], 'b', 2)];
    const v = rejects(history, /mutual exclusion.*1210 ms–1700 ms/);
    expect(v.window).toEqual(history);
    // Control: without the extend, a's lease had certainly ended at 900.
    accepts([history[0]!, history[2]!]);
  });

  it('counts an ok extend that came after the lease may have lapsed', () => {
    rejects([
      acquire(1, [0, 10], 'a', 1),
      extend(1, [950, 960], 'a', 1), // the server said a still held it: until 950 + 900
      acquire(2, [1500, 1510], 'b', 2),
    ], /mutual exclusion.*1510 ms–1850 ms/);
  });

  it('rejects an acquire that completed before the holder even asked to release', () => {
    rejects([acquire(1, [0, 10], 'a', 1), acquire(2, [300, 310], 'b', 2), release(1, [400, 410], 'a')],
      /mutual exclusion.*310 ms–400 ms/);
  });

  it('keeps resources apart', () => {
    accepts([acquire(1, [0, 10], 'a', 1, 'ok', 1000, 'r1'), acquire(2, [20, 30], 'b', 1, 'ok', 1000, 'r2')]);
  });
});

describe('checkLock: fencing tokens', () => {
  it('rejects two ok acquires with the same token', () => {
    rejects([acquire(1, [0, 10], 'a', 5), release(1, [100, 110], 'a'), acquire(2, [200, 210], 'b', 5)],
      /fencing token 5 handed out twice: to "a" \(process 1\) and "b" \(process 2\)/);
  });

  it('rejects a token lower than one handed out before the acquire was invoked', () => {
    const a = acquire(1, [0, 10], 'a', 7);
    const b = acquire(2, [200, 210], 'b', 3);
    const v = rejects([a, release(1, [100, 110], 'a'), b], /fencing token went down: "b" \(process 2\) got token 3/);
    expect(v.window).toEqual([a, b]);
  });

  it('accepts concurrent acquires whose tokens are in either order', () => {
    // Leases of 200 ms minus 100 ms of slack are never certainly valid past the completions.
    accepts([
      acquire(1, [0, 100], 'a', 2, 'ok', 200), acquire(2, [50, 150], 'b', 1, 'ok', 200),
      acquire(3, [400, 410], 'c', 3, 'ok', 200),
    ]);
  });
});

describe('checkLock: the fenced resource', () => {
  it('rejects accepting a token lower than one it had already accepted', () => {
    const w5 = fenced(1, [0, 10], 'a', 5, true);
    const w3 = fenced(2, [20, 30], 'b', 3, true);
    const v = rejects([w5, w3], /fenced resource accepted token 3 from "b" \(process 2\) at 30 ms after it had accepted token 5/);
    expect(v.window).toEqual([w5, w3]);
  });

  it('accepts refusals, equal tokens, concurrent writes and unknown outcomes', () => {
    accepts([
      fenced(1, [0, 10], 'a', 5, true),
      fenced(2, [20, 30], 'b', 3, false), // refused: right
      fenced(1, [40, 50], 'a', 5, true), // the same token again is fine
      fenced(3, [60, 100], 'c', 7, true),
      fenced(2, [70, 80], 'b', 6, true), // invoked before 7 was accepted: concurrent
      fenced(2, [200, 210], 'b', 4, null, 'info'), // may or may not have been accepted
      fenced(2, [220, 230], 'b', 4, true, 'fail'),
    ]);
  });
});

describe('checkLock: valid histories', () => {
  it('accepts an acquire after the previous lease certainly expired, without a release', () => {
    accepts([acquire(1, [0, 10], 'a', 1), acquire(2, [950, 960], 'b', 2)]);
  });

  it('ignores what may not have happened: info acquires, failed acquires, info extends', () => {
    accepts([acquire(1, [0, null], 'a', null, 'info'), acquire(2, [100, 110], 'b', 2)]);
    accepts([acquire(1, [0, 10], 'a', 1), acquire(2, [100, 110], 'b', null, 'fail')]);
    // An info extend does not lengthen the lease; an info release may have ended it.
    accepts([acquire(1, [0, 10], 'a', 1), extend(1, [800, null], 'a', null, 'info'), acquire(2, [950, 960], 'b', 2)]);
    accepts([acquire(1, [0, 10], 'a', 1), release(1, [100, null], 'a', 'info'), acquire(2, [200, 210], 'b', 2)]);
    // A failed release (not the owner any more, or refused) changes nothing either way.
    accepts([acquire(1, [0, 10], 'a', 1), release(1, [100, 110], 'a', 'fail'), acquire(2, [950, 960], 'b', 2)]);
  });

  it('accepts a realistic run: owners in turn, extends, late writes refused', () => {
    accepts([
      acquire(1, [0, 10], 'a', 1),
      fenced(1, [20, 40], 'a', 1, true),
      extend(1, [50, 60], 'a', 1),
      fenced(1, [70, 90], 'a', 1, true),
      release(1, [100, 110], 'a'),
      acquire(2, [105, 130], 'b', 2, 'fail'), // busy: a had not released yet
      acquire(2, [300, 310], 'b', 3),
      // b stalls past its lease; c takes over with a higher token and writes.
      acquire(3, [1300, 1310], 'c', 4),
      fenced(3, [1320, 1340], 'c', 4, true),
      fenced(2, [1400, 1420], 'b', 3, false), // b's late write refused
      release(2, [1430, 1440], 'b', 'fail'),
      release(3, [1500, 1510], 'c'),
    ]);
  });
});
