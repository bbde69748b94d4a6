import { describe, expect, it } from 'vitest';
import { Cluster, data } from './harness.js';

describe('smoke', () => {
  it('elects, replicates and applies on 3 nodes', () => {
    const c = new Cluster([1, 2, 3]);
    c.elect(1);
    expect(c.node(1).group.propose(data('a'))).toBe(null);
    c.deliver();
    for (const id of [1, 2, 3]) expect(c.node(id).applied).toEqual(['a']);
  });
  it('elects by ticking with pre-vote and check-quorum', () => {
    const c = new Cluster([1, 2, 3], { preVote: true, checkQuorum: true });
    c.tickAll(30);
    expect(c.leaders().length).toBe(1);
  });
});
