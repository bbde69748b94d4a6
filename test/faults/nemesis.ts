// The nemesis of the fault-injection runs (issue 7): a seeded schedule of faults over a Cluster
// started with `proxies: true` (test/helpers/cluster.ts). One fault at a time, each held for a
// few seconds, then healed, then a gap:
//   kill       SIGKILL up to a minority of the nodes (a partition leader first, more often than
//              not), restart them after 2-6 s;
//   pause      SIGSTOP up to a minority, SIGCONT after 2.5-5 s (longer than the ~2 s election
//              timeout, so the others elect and the paused node comes back as a stale leader);
//   partition  one of: isolate the leader of some partition (leaders from
//              GET /v1/cluster/routing, leaders[].endpoint); a random minority/majority split;
//              a bridge (two sides that only one node talks to); a one-way cut (a node's
//              outgoing or incoming links only); links refused or blackholed at random;
//   slow       every link, or one node's links, delayed by tens to hundreds of ms;
//   lossy      some directed links lose chunks (each lost chunk breaks the TCP connection, the
//              sender redials: what a lossy network looks like above TCP).
// At most a minority is down, paused or cut off at any time, so the cluster can make progress.
// At the end everything is healed (resumed, restarted, links healed, delays removed). The runner
// then keeps a quiet period. `crashAll()` is the durability workload's full-cluster crash: every
// node SIGKILLed at once, then all restarted.
//
// The real processes make a run nondeterministic; the seed fixes the schedule and choices.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SeededPrng } from '../../src/core/raft/prng.js';
import type { Cluster, ClusterProxies, CutMode } from '../helpers/cluster.js';

export const faultNames = ['kill', 'pause', 'partition', 'slow', 'lossy'] as const;
export type FaultName = (typeof faultNames)[number];

/** One nemesis action; `atMs` on the run's clock. */
export interface NemesisEvent {
  readonly atMs: number;
  /** 'start' and 'end' of a fault, or 'note' (a problem the nemesis ran into). */
  readonly phase: 'start' | 'end' | 'note';
  readonly fault: FaultName | 'crash-all' | 'heal';
  readonly detail: string;
}

export interface NemesisOptions {
  readonly cluster: Cluster;
  readonly faults: readonly FaultName[];
  readonly prng: SeededPrng;
  /** ms since the run started. */
  readonly clock: () => number;
  readonly log?: (line: string) => void;
  /** Gap between faults, ms (default [1000, 3000]). */
  readonly gapMs?: readonly [number, number];
  /** Wait for a restarted node's readiness this long before going on (default 30 s). */
  readonly readyTimeoutMs?: number;
}

const between = (prng: SeededPrng, [lo, hi]: readonly [number, number]): number =>
  lo + prng.nextInt(Math.max(1, hi - lo + 1));

function shuffled<T>(prng: SeededPrng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.nextInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** How long each fault is held, ms: [min, max]. A pause outlasts the ~2 s election timeout. */
const holdMs: Readonly<Record<FaultName, readonly [number, number]>> = {
  kill: [2_000, 6_000],
  pause: [2_500, 5_000],
  partition: [3_000, 7_000],
  slow: [3_000, 6_000],
  lossy: [3_000, 6_000],
};

export class Nemesis {
  readonly events: NemesisEvent[] = [];
  readonly #cluster: Cluster;
  readonly #proxies: ClusterProxies;
  readonly #faults: readonly FaultName[];
  readonly #prng: SeededPrng;
  readonly #clock: () => number;
  readonly #log: (line: string) => void;
  readonly #gapMs: readonly [number, number];
  readonly #readyTimeoutMs: number;
  readonly #ids: readonly number[];
  readonly #minority: number;

  constructor(options: NemesisOptions) {
    if (options.cluster.proxies === null) {
      throw new Error('Nemesis: the cluster needs proxies (startCluster({ proxies: true }))');
    }
    this.#cluster = options.cluster;
    this.#proxies = options.cluster.proxies;
    this.#faults = [...new Set(options.faults)];
    this.#prng = options.prng;
    this.#clock = options.clock;
    this.#log = options.log ?? (() => {});
    this.#gapMs = options.gapMs ?? [1_000, 3_000];
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    this.#ids = options.cluster.nodes.map((n) => n.id);
    this.#minority = Math.floor((this.#ids.length - 1) / 2);
  }

  #event(phase: NemesisEvent['phase'], fault: NemesisEvent['fault'], detail: string): void {
    const event = { atMs: Math.round(this.#clock()), phase, fault, detail };
    this.events.push(event);
    this.#log(`nemesis ${(event.atMs / 1000).toFixed(1)}s ${phase} ${fault}: ${detail}`);
  }

  /** Faults one after another until `untilMs` (run clock), then heals everything. */
  async run(untilMs: number): Promise<void> {
    try {
      if (this.#faults.length === 0 || this.#minority === 0) {
        if (this.#faults.length > 0) this.#event('note', 'heal', 'one node: no faults possible');
        await sleep(Math.max(0, untilMs - this.#clock()));
        return;
      }
      await sleep(Math.min(between(this.#prng, this.#gapMs), Math.max(0, untilMs - this.#clock())));
      for (;;) {
        const remaining = Math.round(untilMs - this.#clock());
        const fitting = this.#faults.filter((f) => holdMs[f][0] <= remaining);
        if (fitting.length === 0) break;
        const fault = fitting[this.#prng.nextInt(fitting.length)]!;
        const [lo, hi] = holdMs[fault];
        await this.#one(fault, between(this.#prng, [lo, Math.min(hi, remaining)]));
        const gap = between(this.#prng, this.#gapMs);
        await sleep(Math.min(gap, Math.max(0, untilMs - this.#clock())));
      }
    } finally {
      await this.healAll();
    }
  }

  async #one(fault: FaultName, holdMs: number): Promise<void> {
    switch (fault) {
      case 'kill': return this.#kill(holdMs);
      case 'pause': return this.#pause(holdMs);
      case 'partition': return this.#partition(holdMs);
      case 'slow': return this.#slow(holdMs);
      case 'lossy': return this.#lossy(holdMs);
    }
  }

  /**
   * Up to a minority of the running, unpaused nodes (a node that died on its own counts against
   * the minority), the first one a partition leader 70% of the time.
   */
  async #victims(): Promise<number[]> {
    const live = this.#cluster.nodes.filter((n) => n.running && !n.paused).map((n) => n.id);
    const spare = this.#minority - (this.#ids.length - live.length);
    if (spare <= 0) return [];
    const count = 1 + this.#prng.nextInt(spare);
    const order = shuffled(this.#prng, live);
    if (this.#prng.chance(0.7)) {
      const leader = await this.#someLeader();
      if (leader !== null && order.includes(leader)) {
        order.unshift(...order.splice(order.indexOf(leader), 1));
      }
    }
    return order.slice(0, count);
  }

  /** The node leading some partition (random), as a running node reports it; null if none. */
  async #someLeader(): Promise<number | null> {
    const asked = shuffled(this.#prng, this.#cluster.nodes.filter((n) => n.running && !n.paused));
    for (const node of asked) {
      try {
        const reply = await this.#cluster.get(node.id, '/v1/cluster/routing', { timeoutMs: 1_000 });
        const leaders = (reply.json?.leaders ?? []) as { partitionId: number; endpoint: string }[];
        const ids = leaders.map((l) => this.#cluster.nodes.find((n) => n.url === l.endpoint)?.id)
          .filter((id): id is number => id !== undefined);
        if (ids.length > 0) return ids[this.#prng.nextInt(ids.length)]!;
      } catch {
        // ask the next node
      }
    }
    return null;
  }

  async #kill(holdMs: number): Promise<void> {
    const victims = await this.#victims();
    if (victims.length === 0) return this.#event('note', 'kill', 'no node to spare');
    this.#event('start', 'kill', `SIGKILL node ${victims.join(', ')} for ${holdMs} ms`);
    await Promise.all(victims.map((id) => this.#cluster.kill(id, 'SIGKILL')));
    await sleep(holdMs);
    await this.#restart(victims);
    this.#event('end', 'kill', `node ${victims.join(', ')} restarted`);
  }

  async #restart(ids: readonly number[]): Promise<void> {
    await Promise.all(ids.map(async (id) => {
      if (this.#cluster.node(id).running) return;
      try {
        await this.#cluster.restart(id, { waitReady: false });
        await this.#cluster.waitReady(id, this.#readyTimeoutMs);
      } catch (error) {
        this.#event('note', 'kill', `node ${id} not ready after restart: ` +
          `${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
    }));
  }

  async #pause(holdMs: number): Promise<void> {
    const victims = await this.#victims();
    if (victims.length === 0) return this.#event('note', 'pause', 'no node to spare');
    this.#event('start', 'pause', `SIGSTOP node ${victims.join(', ')} for ${holdMs} ms`);
    await Promise.all(victims.map((id) => this.#cluster.pause(id)));
    await sleep(holdMs);
    await Promise.all(victims.filter((id) => this.#cluster.node(id).running)
      .map((id) => this.#cluster.resume(id)));
    this.#event('end', 'pause', `SIGCONT node ${victims.join(', ')}`);
  }

  async #partition(holdMs: number): Promise<void> {
    const mode: CutMode = this.#prng.chance(0.5) ? 'refuse' : 'blackhole';
    const kinds = ['isolate-leader', 'split', 'bridge', 'one-way'] as const;
    const kind = kinds[this.#prng.nextInt(kinds.length)]!;
    let detail: string;
    switch (kind) {
      case 'isolate-leader': {
        const leader = await this.#someLeader() ??
          this.#ids[this.#prng.nextInt(this.#ids.length)]!;
        this.#proxies.isolate(leader, mode);
        detail = `isolate leader node ${leader}`;
        break;
      }
      case 'split': {
        const order = shuffled(this.#prng, this.#ids);
        const minority = order.slice(0, 1 + this.#prng.nextInt(this.#minority));
        const majority = order.slice(minority.length);
        this.#proxies.partition([minority, majority], mode);
        detail = `split [${minority.join(',')}] | [${majority.join(',')}]`;
        break;
      }
      case 'bridge': {
        // Two sides that do not see each other; the bridge node sees both (each side plus the
        // bridge is a majority when the sides differ by at most one).
        const order = shuffled(this.#prng, this.#ids);
        const bridge = order[0]!;
        const rest = order.slice(1);
        const left = rest.slice(0, Math.floor(rest.length / 2));
        const right = rest.slice(left.length);
        for (const a of left) {
          for (const b of right) {
            this.#proxies.cut(a, b, mode);
            this.#proxies.cut(b, a, mode);
          }
        }
        detail = `bridge node ${bridge} between [${left.join(',')}] and [${right.join(',')}]`;
        break;
      }
      case 'one-way': {
        const useLeader = this.#prng.chance(0.5);
        const node = (useLeader ? await this.#someLeader() : null) ??
          this.#ids[this.#prng.nextInt(this.#ids.length)]!;
        const outgoing = this.#prng.chance(0.5);
        for (const other of this.#ids) {
          if (other === node) continue;
          if (outgoing) this.#proxies.cut(node, other, mode);
          else this.#proxies.cut(other, node, mode);
        }
        detail = `one-way: node ${node}${useLeader ? ' (a leader)' : ''} ` +
          `${outgoing ? 'sends to nobody' : 'hears nobody'}`;
        break;
      }
    }
    this.#event('start', 'partition', `${detail} (${mode}) for ${holdMs} ms`);
    await sleep(holdMs);
    this.#proxies.healAll();
    this.#event('end', 'partition', 'links healed');
  }

  async #slow(holdMs: number): Promise<void> {
    const links: [number, number][] = [];
    let detail: string;
    let delayMs: number;
    if (this.#prng.chance(0.5)) {
      delayMs = 20 + this.#prng.nextInt(180);
      for (const a of this.#ids) for (const b of this.#ids) if (a !== b) links.push([a, b]);
      detail = `every link +${delayMs} ms`;
    } else {
      delayMs = 100 + this.#prng.nextInt(600);
      const node = this.#ids[this.#prng.nextInt(this.#ids.length)]!;
      for (const other of this.#ids) {
        if (other !== node) links.push([node, other], [other, node]);
      }
      detail = `node ${node}'s links +${delayMs} ms`;
    }
    for (const [a, b] of links) this.#proxies.delay(a, b, delayMs);
    this.#event('start', 'slow', `${detail} for ${holdMs} ms`);
    await sleep(holdMs);
    this.#clearDelays();
    this.#event('end', 'slow', 'delays removed');
  }

  /** Half of the directed links (at least one) lose 2-20% of their chunks. */
  async #lossy(holdMs: number): Promise<void> {
    const links: [number, number][] = [];
    for (const a of this.#ids) for (const b of this.#ids) if (a !== b) links.push([a, b]);
    const chosen = links.filter(() => this.#prng.chance(0.5));
    if (chosen.length === 0) chosen.push(links[this.#prng.nextInt(links.length)]!);
    const probability = (2 + this.#prng.nextInt(19)) / 100;
    // Its own stream: network events draw from it, so the schedule's stream stays replayable.
    const loss = this.#prng.fork(`lossy-${this.events.length}`);
    const random = (): number => loss.nextInt(1_000_000) / 1_000_000;
    for (const [a, b] of chosen) this.#proxies.lossy(a, b, probability, random);
    this.#event('start', 'lossy', `${chosen.map(([a, b]) => `${a}->${b}`).join(' ')} lose ` +
      `${Math.round(probability * 100)}% for ${holdMs} ms`);
    await sleep(holdMs);
    this.#clearLoss();
    this.#event('end', 'lossy', 'links no longer lossy');
  }

  #clearLoss(): void {
    for (const a of this.#ids) for (const b of this.#ids) if (a !== b) this.#proxies.lossy(a, b, 0);
  }

  #clearDelays(): void {
    for (const a of this.#ids) for (const b of this.#ids) if (a !== b) this.#proxies.delay(a, b, 0);
  }

  /** Resumes paused nodes, restarts stopped ones, heals every link, removes every delay. */
  async healAll(): Promise<void> {
    this.#proxies.healAll();
    this.#clearDelays();
    this.#clearLoss();
    const paused = this.#cluster.nodes.filter((n) => n.running && n.paused).map((n) => n.id);
    await Promise.all(paused.map((id) => this.#cluster.resume(id)));
    const down = this.#cluster.nodes.filter((n) => !n.running).map((n) => n.id);
    await this.#restart(down);
    this.#event('end', 'heal', `all healed${paused.length > 0 ? `, resumed ${paused}` : ''}` +
      `${down.length > 0 ? `, restarted ${down}` : ''}`);
  }

  /** The full-cluster crash: every node SIGKILLed at once, then every node restarted. */
  async crashAll(downMs = 1_000): Promise<void> {
    this.#event('start', 'crash-all', `SIGKILL every node (${this.#ids.join(', ')})`);
    await Promise.all(this.#cluster.nodes.filter((n) => n.running)
      .map((n) => this.#cluster.kill(n.id, 'SIGKILL')));
    await sleep(downMs);
    await this.#restart(this.#ids);
    this.#event('end', 'crash-all', 'every node restarted');
  }
}
