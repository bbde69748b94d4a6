// Safety checkers of the simulator (paper 5.2-5.4, Figure 3), fed by the simulator from every
// Ready it handles, every apply, every restart and every crash, so they run after every event:
//   election safety      at most one leader per term per group;
//   log matching         entries with the same index and term have identical prefixes
//                        (checked with a hash chain over each replica's log);
//   leader completeness  a new leader of term T holds every entry committed in a term < T;
//   state-machine safety the same applied index gives the same state hash, and only committed
//                        entries, in log order, are applied;
//   durability           every committed entry is on the durable disk of a quorum (so a crash
//                        that loses unsynced writes cannot lose it: persist before ack);
//   reads                a ReadIndex answer is at least the commit index when it was asked.
import type { MemoryStorage } from '../../src/core/raft/memory-storage.js';
import type { Entry, GroupId, NodeId } from '../../src/core/raft/types.js';
import { entryHash, mix } from './state-machine.js';

export class SimViolation extends Error {
  readonly kind: string;
  constructor(kind: string, message: string) {
    super(`${kind}: ${message}`);
    this.name = 'SimViolation';
    this.kind = kind;
  }
}

function fail(kind: string, message: string): never {
  throw new SimViolation(kind, message);
}

const chainRoot = 0x5eed_0001;

/** One replica's log as the checker sees it: chain hashes from its snapshot index on. */
interface ReplicaLog {
  snapIndex: number;
  chains: number[]; // chains[i] is the chain hash at snapIndex + i
}

interface GroupTruth {
  readonly leaders: Map<number, NodeId>; // term -> leader
  readonly chainAt: Map<number, Map<number, number>>; // index -> term -> chain hash
  readonly committed: Map<number, { chain: number; term: number }>;
  committedMax: number;
  readonly commitByTerm: Map<number, number>; // term -> largest commit observed at it
  readonly appliedHash: Map<number, number>; // index -> state hash after applying it
  readonly readFloor: Map<string, number>;
  readonly logs: Map<NodeId, ReplicaLog>;
}

export interface CheckerStats {
  entries: number;
  commits: number;
  applies: number;
  leaders: number;
  reads: number;
  durableChecks: number;
}

export class Checker {
  private readonly groups = new Map<GroupId, GroupTruth>();
  readonly stats: CheckerStats = {
    entries: 0, commits: 0, applies: 0, leaders: 0, reads: 0, durableChecks: 0,
  };

  private truth(group: GroupId): GroupTruth {
    let g = this.groups.get(group);
    if (g === undefined) {
      g = {
        leaders: new Map(), chainAt: new Map(), committed: new Map(), committedMax: 0,
        commitByTerm: new Map(), appliedHash: new Map(), readFloor: new Map(), logs: new Map(),
      };
      this.groups.set(group, g);
    }
    return g;
  }

  private log(g: GroupTruth, node: NodeId): ReplicaLog {
    let l = g.logs.get(node);
    if (l === undefined) {
      l = { snapIndex: 0, chains: [chainRoot] };
      g.logs.set(node, l);
    }
    return l;
  }

  committedMax(group: GroupId): number {
    return this.truth(group).committedMax;
  }

  committedTerm(group: GroupId, index: number): number | undefined {
    return this.truth(group).committed.get(index)?.term;
  }

  lastIndexOf(node: NodeId, group: GroupId): number {
    const l = this.log(this.truth(group), node);
    return l.snapIndex + l.chains.length - 1;
  }

  /** Entries a replica is about to persist (Ready.entries): they are its log from now on. */
  onEntries(node: NodeId, group: GroupId, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const g = this.truth(group);
    const l = this.log(g, node);
    const last = l.snapIndex + l.chains.length - 1;
    const first = entries[0]!.index;
    if (first > last + 1) fail('log', `n${node} g${group}: entries from ${first} after ${last}`);
    for (const e of entries) {
      if (e.index <= l.snapIndex) continue;
      const prev = l.chains[e.index - 1 - l.snapIndex];
      if (prev === undefined) fail('log', `n${node} g${group}: no entry before ${e.index}`);
      l.chains.length = e.index - l.snapIndex;
      const chain = mix(prev, entryHash(e));
      l.chains.push(chain);
      this.recordChain(g, node, group, e.index, e.term, chain);
      this.stats.entries += 1;
    }
  }

  private recordChain(
    g: GroupTruth, node: NodeId, group: GroupId, index: number, term: number, chain: number,
  ): void {
    let byTerm = g.chainAt.get(index);
    if (byTerm === undefined) {
      byTerm = new Map();
      g.chainAt.set(index, byTerm);
    }
    const seen = byTerm.get(term);
    if (seen === undefined) byTerm.set(term, chain);
    else if (seen !== chain) {
      fail('log-matching', `n${node} g${group}: entry ${index}/t${term} has another prefix`);
    }
  }

  /** A replica installed (or restarted from) a snapshot at index/term. */
  onSnapshot(node: NodeId, group: GroupId, index: number, term: number): void {
    const g = this.truth(group);
    const chain = index === 0 ? chainRoot : g.chainAt.get(index)?.get(term);
    if (chain === undefined) fail('snapshot', `n${node} g${group}: unknown entry ${index}/t${term}`);
    const c = g.committed.get(index);
    if (index > 0 && (c === undefined || c.chain !== chain)) {
      fail('snapshot', `n${node} g${group}: snapshot at ${index} is not of a committed entry`);
    }
    g.logs.set(node, { snapIndex: index, chains: [chain] });
  }

  /** A restarted replica's log is what its disk kept. */
  onRestart(node: NodeId, group: GroupId, durable: MemoryStorage): void {
    const snap = durable.snapshot().meta;
    this.onSnapshot(node, group, snap.index, snap.term);
    const first = durable.firstIndex();
    this.onEntries(node, group, durable.entries(first, durable.lastIndex() + 1, Infinity));
  }

  private chainOf(l: ReplicaLog, index: number): number | undefined {
    return index < l.snapIndex ? undefined : l.chains[index - l.snapIndex];
  }

  /** A replica's hard state says `commit` at `term`. */
  onCommit(node: NodeId, group: GroupId, commit: number, term: number): void {
    const g = this.truth(group);
    const l = this.log(g, node);
    if (commit <= l.snapIndex) return;
    const chain = this.chainOf(l, commit);
    if (chain === undefined) fail('commit', `n${node} g${group}: commit ${commit} beyond its log`);
    this.stats.commits += 1;
    // Walk down until an index already known committed: each index is recorded once.
    for (let i = commit; i > l.snapIndex; i--) {
      const c = this.chainOf(l, i) as number;
      const known = g.committed.get(i);
      if (known !== undefined) {
        if (known.chain !== c) {
          fail('committed-lost', `n${node} g${group}: committed entry ${i} differs (t${term})`);
        }
        break;
      }
      g.committed.set(i, { chain: c, term: this.termAt(g, i, c) });
    }
    if (commit > g.committedMax) g.committedMax = commit;
    const before = g.commitByTerm.get(term) ?? 0;
    if (commit > before) g.commitByTerm.set(term, commit);
  }

  private termAt(g: GroupTruth, index: number, chain: number): number {
    for (const [term, c] of g.chainAt.get(index) ?? []) if (c === chain) return term;
    return fail('commit', `entry ${index} committed but never seen in a log`);
  }

  /** `node` became leader of `group` in `term`. */
  onLeader(node: NodeId, group: GroupId, term: number): void {
    const g = this.truth(group);
    const other = g.leaders.get(term);
    if (other !== undefined && other !== node) {
      fail('election-safety', `g${group} t${term}: leaders n${other} and n${node}`);
    }
    g.leaders.set(term, node);
    this.stats.leaders += 1;
    let c = 0;
    for (const [t, commit] of g.commitByTerm) if (t < term && commit > c) c = commit;
    if (c === 0) return;
    const l = this.log(g, node);
    const at = Math.max(c, l.snapIndex);
    const mine = this.chainOf(l, at);
    const want = g.committed.get(at)?.chain;
    if (mine === undefined || (want !== undefined && mine !== want)) {
      fail('leader-completeness', `g${group} t${term}: n${node} lacks committed entry ${at}`);
    }
  }

  /** `node` applied `e` to its state machine, whose hash is now `hash`. */
  onApply(node: NodeId, group: GroupId, e: Entry, hash: number): void {
    const g = this.truth(group);
    const l = this.log(g, node);
    const prev = this.chainOf(l, e.index - 1);
    const mine = this.chainOf(l, e.index);
    if (prev === undefined || mine !== mix(prev, entryHash(e))) {
      fail('apply', `n${node} g${group}: applied entry ${e.index} is not the one in its log`);
    }
    const c = g.committed.get(e.index);
    if (c === undefined || c.chain !== mine) {
      fail('apply', `n${node} g${group}: applied entry ${e.index} that is not committed`);
    }
    const seen = g.appliedHash.get(e.index);
    if (seen === undefined) g.appliedHash.set(e.index, hash);
    else if (seen !== hash) {
      fail('state-machine-safety', `n${node} g${group}: state hash differs at ${e.index}`);
    }
    this.stats.applies += 1;
  }

  /** A replica restored its state machine from a snapshot at `index` with `hash`. */
  onRestore(node: NodeId, group: GroupId, index: number, hash: number): void {
    if (index === 0) return;
    const g = this.truth(group);
    const seen = g.appliedHash.get(index);
    if (seen !== undefined && seen !== hash) {
      fail('state-machine-safety', `n${node} g${group}: snapshot hash differs at ${index}`);
    }
    if (seen === undefined) g.appliedHash.set(index, hash);
  }

  /** Every committed entry up to `index` is durable on a quorum of each voter set. */
  checkDurable(
    group: GroupId, index: number, voterSets: readonly (readonly NodeId[])[],
    disk: (node: NodeId) => MemoryStorage | undefined,
  ): void {
    if (index === 0) return;
    const g = this.truth(group);
    const c = g.committed.get(index);
    if (c === undefined) fail('durability', `g${group}: ${index} checked but not committed`);
    this.stats.durableChecks += 1;
    for (const voters of voterSets) {
      if (voters.length === 0) continue;
      let have = 0;
      for (const n of voters) if (holds(disk(n), index, c.term)) have += 1;
      if (have <= voters.length / 2) {
        fail('durability', `g${group}: committed ${index} durable on ${have}/${voters.length}`);
      }
    }
  }

  readIssued(group: GroupId, key: string): void {
    const g = this.truth(group);
    g.readFloor.set(key, g.committedMax);
  }

  readAnswered(node: NodeId, group: GroupId, key: string, index: number): void {
    const g = this.truth(group);
    const floor = g.readFloor.get(key);
    if (floor === undefined) return; // a duplicate answer
    if (index < floor) {
      fail('linearizable-read', `n${node} g${group}: read ${key} at ${index} < commit ${floor}`);
    }
    g.readFloor.delete(key);
    this.stats.reads += 1;
  }

  groupsSeen(): GroupId[] {
    return [...this.groups.keys()];
  }
}

function holds(d: MemoryStorage | undefined, index: number, term: number): boolean {
  if (d === undefined) return false;
  if (d.snapshot().meta.index >= index) return true;
  if (index > d.lastIndex()) return false;
  return d.term(index) === term;
}
