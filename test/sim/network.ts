// The simulated network: per directed link up/down (symmetric and asymmetric partitions), and
// global loss, duplication and delay (random delays reorder). It only decides the fate of each
// batch; the simulator schedules the deliveries.
import { assert } from '../../src/assert.js';
import type { SeededPrng } from '../../src/core/raft/prng.js';
import type { NodeId } from '../../src/core/raft/types.js';

export interface NetworkConditions {
  /** Probability a batch is lost. */
  readonly lossRate: number;
  /** Probability a delivered batch is delivered twice (the copy with its own delay). */
  readonly dupRate: number;
  /** Delay range in simulation time units, inclusive. */
  readonly delayMin: number;
  readonly delayMax: number;
  /** Probability of an extra long delay (reordering across many ticks). */
  readonly straggleRate: number;
  readonly straggleMax: number;
}

export const perfectNetwork: NetworkConditions = {
  lossRate: 0, dupRate: 0, delayMin: 1, delayMax: 4, straggleRate: 0, straggleMax: 0,
};

/** What happens to one batch: the delays of its copies (none: dropped), and why if dropped. */
export interface Fate {
  readonly delays: readonly number[];
  readonly cut: boolean;
}

export class SimNetwork {
  private readonly cutLinks = new Set<number>();
  private readonly prng: SeededPrng;
  conditions: NetworkConditions = perfectNetwork;

  constructor(prng: SeededPrng) {
    this.prng = prng;
  }

  private static key(from: NodeId, to: NodeId): number {
    assert(from > 0 && from < 1024 && to > 0 && to < 1024, 'node ids fit the link key');
    return from * 1024 + to;
  }

  /** Cuts from -> to only (an asymmetric partition). */
  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(SimNetwork.key(from, to));
  }

  cutBoth(a: NodeId, b: NodeId): void {
    this.cut(a, b);
    this.cut(b, a);
  }

  /** Splits `nodes` into `side` and the rest, both ways. */
  partition(side: readonly NodeId[], nodes: readonly NodeId[]): void {
    for (const a of side) {
      for (const b of nodes) if (!side.includes(b)) this.cutBoth(a, b);
    }
  }

  isolate(node: NodeId, nodes: readonly NodeId[]): void {
    this.partition([node], nodes);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  linkUp(from: NodeId, to: NodeId): boolean {
    return !this.cutLinks.has(SimNetwork.key(from, to));
  }

  cutCount(): number {
    return this.cutLinks.size;
  }

  fate(from: NodeId, to: NodeId): Fate {
    if (!this.linkUp(from, to)) return { delays: [], cut: true };
    const c = this.conditions;
    if (this.prng.chance(c.lossRate)) return { delays: [], cut: false };
    const delays = [this.delay()];
    if (this.prng.chance(c.dupRate)) delays.push(this.delay());
    return { delays, cut: false };
  }

  private delay(): number {
    const c = this.conditions;
    assert(c.delayMin >= 0 && c.delayMax >= c.delayMin, 'delay range');
    let d = c.delayMin + this.prng.nextInt(c.delayMax - c.delayMin + 1);
    if (c.straggleMax > 0 && this.prng.chance(c.straggleRate)) {
      d += this.prng.nextInt(c.straggleMax) + 1;
    }
    return d;
  }
}
