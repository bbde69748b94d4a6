// The simulator over a fixed list of seeds plus a few fresh ones (style.md, testing level 3).
// Every seed is a whole faulty run (partitions, loss, duplication, reordering, crashes losing
// unsynced writes, slow disks) followed by the liveness phase. A failure names its seed; replay
// it with `npm run sim -- --seed N`.
import { describe, expect, it } from 'vitest';
import { runSeed } from './simulator.js';

const fixedSeeds = Array.from({ length: 200 }, (_, i) => i + 1);
const freshSeeds = Array.from({ length: 8 }, () => Math.floor(Math.random() * 2 ** 31));
const steps = 500;

describe('simulator, fixed seeds', () => {
  for (let at = 0; at < fixedSeeds.length; at += 20) {
    const chunk = fixedSeeds.slice(at, at + 20);
    it(`seeds ${chunk[0]}..${chunk[chunk.length - 1]} run clean and heal`, () => {
      for (const seed of chunk) {
        const r = runSeed({ seed, steps });
        expect(r.checker.applies).toBeGreaterThan(0);
        expect(r.checker.leaders).toBeGreaterThan(0);
        expect(r.livenessTicks).toBeLessThanOrEqual(400);
      }
    });
  }
});

describe('simulator, fresh seeds', () => {
  it.each(freshSeeds)('SEED=%i runs clean and heals', (seed) => {
    console.log(`SEED=${seed}`);
    const r = runSeed({ seed, steps });
    expect(r.checker.commits).toBeGreaterThan(0);
  });
});

describe('simulator replay', () => {
  it('a seed replays exactly: same events, commits and state', () => {
    const a = runSeed({ seed: 4242, steps: 300 });
    const b = runSeed({ seed: 4242, steps: 300 });
    expect(b).toEqual(a);
    expect(a.events).toBeGreaterThan(1000);
  });

  it('covers both cluster sizes, faults and snapshots across the fixed seeds', () => {
    const sample = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((seed) => runSeed({ seed, steps: 300 }));
    expect(new Set(sample.map((r) => r.scenario.nodes))).toEqual(new Set([3, 5]));
    expect(sample.some((r) => r.crashes > 0 && r.lostWrites > 0)).toBe(true);
    expect(sample.some((r) => r.partitions > 0)).toBe(true);
    expect(sample.some((r) => r.readsAnswered > 0)).toBe(true);
    expect(sample.reduce((n, r) => n + r.snapshotsSent, 0)).toBeGreaterThan(0);
  });
});
