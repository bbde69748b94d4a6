// The register checker (issue 7): negative controls it must reject, histories it must accept,
// agreement with brute force and with a plain search, and speed on realistic histories.
import { describe, expect, it } from 'vitest';
import type { RegisterOp } from '../history.js';
import {
  bruteForceLinearizable, linearizableHistory, referenceLinearizable, reg, rng, tinyHistory,
} from './gen.js';
import { checkRegister } from './linearizable.js';

const { read, write, cas } = reg;

function rejects(history: RegisterOp[]): ReturnType<typeof checkRegister> {
  const v = checkRegister(history);
  expect(v.checker).toBe('register');
  expect(v.valid, 'a bad history passed').toBe(false);
  expect(v.problems.length).toBeGreaterThan(0);
  expect(v.window.length).toBeGreaterThan(0);
  // The window alone is already bad.
  expect(checkRegister(v.window as RegisterOp[]).valid).toBe(false);
  return v;
}

function accepts(history: RegisterOp[]): void {
  const v = checkRegister(history);
  expect(v.problems).toEqual([]);
  expect(v).toEqual({ valid: true, checker: 'register', problems: [], window: [] });
}

/** The history as seen at time t: later invocations dropped, ops still running made 'info'. */
function truncate(history: readonly RegisterOp[], t: number): RegisterOp[] {
  return history.filter((o) => o.invokeMs <= t).map((o) =>
    o.outcome === 'ok' && (o.completeMs === null || o.completeMs > t)
      ? { ...o, outcome: 'info' as const, completeMs: null, result: null } : o);
}

describe('checkRegister: negative controls', () => {
  it('rejects a stale read after a completed write', () => {
    const w = write(1, [0, 10], 'a');
    const r = read(2, [20, 30], null);
    const v = rejects([w, r]);
    expect(v.window).toEqual([w, r]);
    expect(v.problems[0]).toContain('key "k"');
    expect(v.problems[0]).toContain('process 2 read');
    expect(v.problems[0]).toContain('30 ms');
  });

  it('rejects a lost write: a read returns an older value after a later write completed', () => {
    rejects([
      write(1, [0, 10], 'a'),
      write(2, [20, 30], 'b'),
      read(3, [35, 40], 'b'),
      read(1, [45, 50], 'a'),
    ]);
  });

  it('rejects a read of a value never written', () => {
    const v = rejects([write(1, [0, 10], 'a'), read(2, [5, 15], 'zz'), read(3, [20, 25], 'a')]);
    expect(v.problems[0]).toContain('"zz"');
    expect(v.window).toHaveLength(2); // the later read is not needed to show it
  });

  it('rejects two cas both succeeding from the same expected value', () => {
    rejects([
      write(1, [0, 10], 'a'),
      cas(2, [20, 40], 'a', 'b', true),
      cas(3, [25, 35], 'a', 'c', true),
    ]);
  });

  it('rejects a cas that answered against the value', () => {
    rejects([write(1, [0, 10], 'a'), cas(2, [20, 30], 'a', 'b', false)]);
    rejects([write(1, [0, 10], 'a'), cas(2, [20, 30], 'x', 'b', true)]);
    rejects([cas(1, [0, 10], 'a', 'b', true)]); // nothing to match on an absent key
  });

  it('rejects an order only real time forbids (write 1, then write 2, then a read of 1)', () => {
    const bad = [write(1, [0, 10], '1'), write(2, [20, 30], '2'), read(3, [40, 50], '1')];
    const v = rejects(bad);
    expect(v.window).toEqual(bad);
    // Control: the same ops overlapping in time are fine (write 2, write 1, read 1).
    accepts([write(1, [0, 30], '1'), write(2, [5, 25], '2'), read(3, [20, 50], '1')]);
  });

  it('does not let an info write explain a read from before its invocation', () => {
    rejects([read(1, [0, 10], 'a'), write(2, [20, null], 'a', 'k', 'info')]);
  });

  it('does not let a failed write explain anything', () => {
    rejects([write(1, [0, 10], 'a', 'k', 'fail'), read(2, [20, 30], 'a')]);
  });

  it('names the failing key and keeps the other keys out of the window', () => {
    const good = [write(1, [0, 10], 'a', 'x'), read(2, [20, 30], 'a', 'x')];
    const bad = [write(3, [0, 10], 'a', 'y'), read(4, [20, 30], 'b', 'y')];
    const v = rejects([...good, ...bad]);
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]).toContain('key "y"');
    expect(v.window).toEqual(bad);
  });

  it('reports a key whose search exceeds the budget instead of hanging', () => {
    const h = linearizableHistory(1, { ops: 400, keys: 1, processes: 5, infoRate: 0.1, failRate: 0, values: 5 });
    const v = checkRegister(h, { maxStatesPerKey: 50 });
    expect(v.valid).toBe(false);
    expect(v.problems[0]).toMatch(/^search budget exceeded on key "k0"/);
  });
});

describe('checkRegister: valid histories', () => {
  it('accepts the empty history and a fresh key read as absent', () => {
    accepts([]);
    accepts([read(1, [0, 1], null), cas(2, [2, 3], 'a', 'b', false)]);
  });

  it('accepts concurrent ops with several valid orders', () => {
    // w(a) and w(b) overlap, and so do both reads: either read may see either value.
    for (const [x, y] of [['a', 'b'], ['b', 'a'], ['a', 'a'], ['b', 'b']] as const) {
      accepts([
        write(1, [0, 100], 'a'), write(2, [10, 90], 'b'),
        read(3, [20, 80], x), read(4, [30, 70], y),
        read(5, [110, 120], x === y ? x : y),
      ]);
    }
    // Overlapping cas ops: exactly one of two from the same expected value may win.
    accepts([
      write(1, [0, 10], 'a'),
      cas(2, [20, 40], 'a', 'b', true), cas(3, [25, 35], 'a', 'c', false), read(4, [50, 60], 'b'),
    ]);
  });

  it('accepts info writes that take effect later, or never', () => {
    accepts([
      write(1, [0, 5], '1'),
      write(2, [10, 20], '2', 'k', 'info'), // timed out, applied long after
      read(3, [30, 40], '1'),
      read(3, [50, 60], '2'),
      write(4, [70, null], '3', 'k', 'info'), // never applied
      read(1, [80, 90], '2'),
      write(2, [95, 96], '4', 'k', 'info'),
      read(1, [100, 110], '2'), // 4 applied at the end, or never
    ]);
    // An ok op without a completion time is as unknown as an info one.
    accepts([write(1, [0, null], 'a'), read(2, [10, 20], null), read(2, [30, 40], 'a')]);
    // An info cas may have set.
    accepts([write(1, [0, 5], 'a'), cas(2, [10, null], 'a', 'b', null, 'k', 'info'), read(3, [20, 30], 'b')]);
  });

  it('ignores failed ops', () => {
    accepts([
      write(1, [0, 10], 'a'),
      write(2, [20, 30], 'b', 'k', 'fail'),
      read(3, [40, 50], 'a'),
      cas(4, [60, 70], 'a', 'c', true, 'k', 'fail'),
      read(2, [80, 90], 'junk', 'k', 'fail'),
      read(1, [95, 99], 'a'),
    ]);
  });

  it('checks realistic generated histories well under a second each', () => {
    for (const values of ['unique', 5] as const) {
      for (let seed = 1; seed <= 3; seed++) {
        const h = linearizableHistory(seed, { ops: 3000, keys: 3, processes: 5, infoRate: 0.1, failRate: 0.02, values });
        expect(h.filter((o) => o.outcome === 'info').length).toBeGreaterThan(200);
        const started = performance.now();
        const v = checkRegister(h);
        const took = performance.now() - started;
        expect(v.problems).toEqual([]);
        expect(took).toBeLessThan(1000);
      }
    }
  });

  it('finds one bad read among 3000 ops and cuts the window just after it', () => {
    const h = linearizableHistory(4, { ops: 3000, keys: 3, processes: 5, infoRate: 0.1, failRate: 0.02, values: 'unique' });
    const reads = h.filter((o) => o.f === 'read' && o.outcome === 'ok');
    const bad = reads[Math.floor(reads.length * 0.6)]!;
    (bad as { result: unknown }).result = 'never written';
    const started = performance.now();
    const v = checkRegister(h);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(v.valid).toBe(false);
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]).toContain(`key "${bad.key}"`);
    expect(v.problems[0]).toContain(`process ${bad.process} read`);
    expect(v.window).toContain(bad);
    expect(v.window.every((o) => o.key === bad.key && o.invokeMs <= bad.completeMs!)).toBe(true);
  });
});

describe('checkRegister: against other searches', () => {
  it('agrees with brute force on random tiny histories, and its window is bad', () => {
    const rand = rng(2024);
    let invalid = 0;
    for (let t = 0; t < 2500; t++) {
      const h = tinyHistory(rand, 2 + Math.floor(rand() * 6), 2 + (t % 5), 0.15 + (t % 4) * 0.1);
      const expected = bruteForceLinearizable(h);
      const v = checkRegister(h);
      expect(v.valid, JSON.stringify(h)).toBe(expected);
      if (!expected) {
        invalid++;
        expect(bruteForceLinearizable(v.window as RegisterOp[]), JSON.stringify(h)).toBe(false);
      }
    }
    expect(invalid).toBeGreaterThan(500);
    expect(invalid).toBeLessThan(2000);
  });

  it('agrees with a plain search on perturbed generated histories; the window is the shortest', () => {
    const rand = rng(99);
    let invalid = 0;
    for (let t = 0; t < 300; t++) {
      const h = linearizableHistory(t, {
        ops: 10 + Math.floor(rand() * 30), keys: 1, processes: 2 + (t % 4),
        infoRate: 0.1 + rand() * 0.3, failRate: 0.05, values: t % 2 === 0 ? 'unique' : 2 + (t % 4),
      });
      for (let m = Math.floor(rand() * 3); m > 0; m--) {
        const o = h[Math.floor(rand() * h.length)]! as { f: string; outcome: string; result: unknown };
        if (o.outcome !== 'ok') continue;
        if (o.f === 'read') o.result = rand() < 0.3 ? null : (h.find((x) => x.f === 'write')?.value ?? 'zz');
        if (o.f === 'cas') o.result = o.result !== true;
      }
      const expected = referenceLinearizable(h);
      const v = checkRegister(h);
      expect(v.valid, JSON.stringify(h)).toBe(expected);
      if (expected) continue;
      invalid++;
      // The window is the history up to the first completion T after which it fails.
      const t0 = Math.min(...h.filter((o) => o.outcome === 'ok' && o.completeMs !== null)
        .map((o) => o.completeMs!).filter((c) => !referenceLinearizable(truncate(h, c))));
      expect(v.window).toEqual(h.filter((o) => o.outcome !== 'fail' && o.invokeMs <= t0)
        .sort((a, b) => a.invokeMs - b.invokeMs));
      expect(v.problems[0]).toContain(`admit no linearization once`);
    }
    expect(invalid).toBeGreaterThan(50);
  });
});
