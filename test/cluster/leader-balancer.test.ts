// planTransfer (src/main/cluster/leader-balancer.ts): each node gives away only what it leads,
// one partition per round, until the live nodes' counts are within one of each other.
import { describe, expect, it } from 'vitest';
import { planTransfer } from '../../src/main/cluster/leader-balancer.js';

/** Runs rounds of every live node in turn, applying each planned transfer, until none. */
function settle(leaders: number[], live: number[]): { leaders: number[]; moves: number } {
  const table = [...leaders];
  let moves = 0;
  for (let round = 0; round < 100; round++) {
    let moved = false;
    for (const node of live) {
      const plan = planTransfer(node, table.length, (p) => table[p - 1]!, live);
      if (plan === null) continue;
      expect(table[plan.partition - 1]).toBe(node); // only its own leaderships
      expect(live).toContain(plan.to);
      table[plan.partition - 1] = plan.to;
      moves += 1;
      moved = true;
    }
    if (!moved) return { leaders: table, moves };
  }
  throw new Error('never settled');
}

function counts(leaders: number[], live: number[]): number[] {
  return live.map((n) => leaders.filter((l) => l === n).length);
}

describe('planTransfer', () => {
  it('spreads 8 partitions led by one node over three as 3, 3, 2', () => {
    const { leaders, moves } = settle([1, 1, 1, 1, 1, 1, 1, 1], [1, 2, 3]);
    expect(counts(leaders, [1, 2, 3]).sort()).toEqual([2, 3, 3]);
    expect(moves).toBe(5);
  });

  it('gives a node that came back its share, and leaves a balanced table alone', () => {
    const before = [1, 2, 1, 2, 1, 2, 1, 2]; // node 3 was down
    const { leaders } = settle(before, [1, 2, 3]);
    expect(Math.max(...counts(leaders, [1, 2, 3])) - Math.min(...counts(leaders, [1, 2, 3])))
      .toBeLessThanOrEqual(1);
    expect(settle(leaders, [1, 2, 3]).moves).toBe(0);
  });

  it('never moves while a partition has no leader, and ignores nodes that are not live', () => {
    expect(planTransfer(1, 4, (p) => (p === 2 ? 0 : 1), [1, 2])).toBeNull();
    // node 3 leads two partitions but is down: node 1 still balances with node 2 only
    const plan = planTransfer(1, 6, (p) => [1, 1, 1, 1, 3, 3][p - 1]!, [1, 2]);
    expect(plan).toEqual({ partition: 4, to: 2 });
    expect(planTransfer(1, 3, () => 1, [1])).toBeNull();
  });
});
