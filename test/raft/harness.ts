// A synchronous in-memory cluster for Raft unit tests: every node persists each Ready at once
// into its MemoryStorage, applies committed entries to a log of applied data, and queues its
// messages in one global FIFO that `deliver()` drains. Tests cut links, drop messages and step
// by hand where a scenario needs it. Deterministic: each node's Prng is seeded from its id.
import { MemoryStorage } from '../../src/core/raft/memory-storage.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { RaftGroup } from '../../src/core/raft/raft-group.js';
import {
  type ConfState, type Entry, EntryKind, type Message, MsgKind, type NodeId, type RaftConfig,
  type ReadState, type Ready, Role,
} from '../../src/core/raft/types.js';

export function confOf(voters: NodeId[], learners: NodeId[] = []): ConfState {
  return { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function raftConfig(id: NodeId, over: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id, group: 1, electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false,
    inflightMsgsMax: 256, inflightBytesMax: 0, msgBytesMax: 1 << 20, uncommittedBytesMax: 0,
    committedBytesPerReadyMax: 1 << 30, readOnly: 'safe', leaseDriftTicks: 0, applied: 0,
    ...over,
  };
}

export interface TestNode {
  readonly id: NodeId;
  group: RaftGroup;
  storage: MemoryStorage;
  /** Data of applied normal entries (non-empty), in order. */
  applied: string[];
  appliedIndex: number;
  readStates: ReadState[];
  conf: ConfState;
  /** Readys handed out but not yet persisted (async mode, `persistNow`); lost on restart. */
  unpersisted: Ready[];
}

const text = new TextDecoder();
const bytes = new TextEncoder();

export function data(s: string): Uint8Array {
  return bytes.encode(s);
}

/** A MemoryStorage holding entries with the given terms at indexes 1.. (data "t<term>i<index>"),
 *  and a hard state: a hand-built log (paper Figure 8, divergent tails). */
export function storageWithLog(conf: ConfState, terms: readonly number[],
  hard: { term: number; vote?: NodeId; commit?: number }): MemoryStorage {
  const storage = new MemoryStorage(conf);
  storage.append(terms.map((term, i) => ({
    term, index: i + 1, kind: EntryKind.Normal, data: bytes.encode(`t${term}i${i + 1}`),
  })));
  storage.setHardState({ term: hard.term, vote: hard.vote ?? 0, commit: hard.commit ?? 0 });
  return storage;
}

/** Terms of a node's persisted log, indexes firstIndex..lastIndex. */
export function logTerms(storage: MemoryStorage): number[] {
  const out: number[] = [];
  for (let i = storage.firstIndex(); i <= storage.lastIndex(); i++) out.push(storage.term(i));
  return out;
}

export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  queue: Message[] = [];
  /** Directed links that drop everything: "from-to". */
  readonly cut = new Set<string>();
  /** Called for every message before delivery; false drops it. */
  filter: ((m: Message) => boolean) | null = null;
  delivered = 0;
  /** Which queued message to deliver next (default 0: FIFO); tests reorder with it. */
  pick: ((queueLength: number) => number) | null = null;
  /** Every message handed to a node, in delivery order (tests count round trips with it). */
  trace: Message[] = [];
  /** Called after every delivered message and every tick round (invariant checks). */
  onStep: (() => void) | null = null;

  constructor(ids: NodeId[], over: Partial<RaftConfig> = {}, conf: ConfState = confOf(ids)) {
    for (const id of ids) this.add(id, over, conf);
  }

  /** `storage` may be prebuilt (a hand-made log and hard state, e.g. paper Figure 8). */
  add(id: NodeId, over: Partial<RaftConfig> = {}, conf: ConfState = confOf([]),
    storage: MemoryStorage = new MemoryStorage(conf)): TestNode {
    const group = new RaftGroup(raftConfig(id, over), storage, new SeededPrng(id * 7919));
    const node: TestNode = { id, group, storage, applied: [], appliedIndex: 0, readStates: [],
      conf, unpersisted: [] };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Restarts `id` from what its storage holds (everything was persisted synchronously). */
  restart(id: NodeId, over: Partial<RaftConfig> = {}): TestNode {
    const old = this.node(id);
    const snap = old.storage.snapshot();
    const snapIndex = snap.meta.index;
    const group = new RaftGroup(raftConfig(id, { ...over, applied: snapIndex }), old.storage,
      new SeededPrng(id * 7919 + 1));
    // The state machine restarts from the snapshot image and re-applies the log after it.
    const applied = snap.data.length > 0 ? JSON.parse(text.decode(snap.data)) as string[] : [];
    const node: TestNode = { ...old, group, applied, appliedIndex: snapIndex, readStates: [],
      conf: snap.meta.conf, unpersisted: [] };
    this.nodes.set(id, node);
    return node;
  }

  /** Collects and handles every node's Ready until none is left; queues the messages. */
  settle(): void {
    for (let progress = true; progress;) {
      progress = false;
      for (const n of this.nodes.values()) {
        while (n.group.hasReady()) {
          this.handleReady(n);
          progress = true;
        }
        while (n.unpersisted.length > 0 && (this.persistNow === null || this.persistNow(n))) {
          this.persisted(n, n.unpersisted.shift()!);
          progress = true;
        }
      }
    }
  }

  /** Async storage writes: whether a node's oldest pending Ready is written now (null: every
   *  Ready is written as soon as it is handed out). A restart loses what was not written. */
  persistNow: ((n: TestNode) => boolean) | null = null;

  /** Writes every pending Ready (the disks catch up). */
  flushAll(): void {
    const policy = this.persistNow;
    this.persistNow = null;
    this.settle();
    this.persistNow = policy;
  }

  private handleReady(n: TestNode): void {
    const rd = n.group.ready();
    // Messages go out at once, in parallel with the write (thesis 10.2.1).
    this.queue.push(...rd.messages);
    if (this.persistNow === null) this.persisted(n, rd);
    else n.unpersisted.push(rd);
  }

  /** The Ready's write finished: acknowledge it, release what waited for it, apply. */
  private persisted(n: TestNode, rd: Ready): void {
    if (rd.snapshot !== null) {
      n.storage.applySnapshot(rd.snapshot);
      n.appliedIndex = rd.snapshot.meta.index;
      n.conf = rd.snapshot.meta.conf;
      // The state machine image is the applied list as JSON (see compact()).
      if (rd.snapshot.data.length > 0) {
        n.applied = JSON.parse(text.decode(rd.snapshot.data)) as string[];
      }
    }
    n.storage.append(rd.entries);
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
    n.group.onPersisted(rd.number);
    this.queue.push(...rd.messagesAfterPersist);
    for (const e of rd.committedEntries) this.apply(n, e);
    if (rd.committedEntries.length > 0) n.group.onApplied(n.appliedIndex);
    n.readStates.push(...rd.readStates);
  }

  private apply(n: TestNode, e: Entry): void {
    if (e.index <= n.appliedIndex) return;
    n.appliedIndex = e.index;
    if (e.kind === EntryKind.ConfChange) n.conf = n.group.applyConfChange(e);
    else if (e.data.length > 0) n.applied.push(text.decode(e.data));
  }

  /** Delivers queued messages (and what they cause) until the network is quiet. */
  deliver(max = 100_000): void {
    this.settle();
    for (let i = 0; this.queue.length > 0 || this.anyUnpersisted(); i++) {
      if (i >= max) throw new Error('deliver: messages never stopped');
      if (this.queue.length === 0) {
        this.flushAll(); // nothing in the network: the disks finish their writes
        continue;
      }
      const at = this.pick === null ? 0 : this.pick(this.queue.length);
      const m = at === 0 ? this.queue.shift()! : this.queue.splice(at, 1)[0]!;
      const to = this.nodes.get(m.to);
      const dropped = to === undefined || this.cut.has(`${m.from}-${m.to}`) ||
        (this.filter !== null && !this.filter(m));
      // The transport reports a snapshot's fate to the leader (etcd ReportSnapshot): without
      // it a lost MsgSnap or ack would leave the follower in the snapshot state for good.
      if (m.kind === MsgKind.Snap) this.nodes.get(m.from)?.group.reportSnapshot(m.to, !dropped);
      if (dropped) continue;
      to.group.step(m);
      this.delivered++;
      this.trace.push(m);
      this.settle();
      this.onStep?.();
    }
  }

  private anyUnpersisted(): boolean {
    for (const n of this.nodes.values()) if (n.unpersisted.length > 0) return true;
    return false;
  }

  tick(id: NodeId, count = 1): void {
    for (let i = 0; i < count; i++) this.node(id).group.tick();
  }

  /** Ticks every node `count` times, delivering after each round. */
  tickAll(count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const n of this.nodes.values()) n.group.tick();
      this.deliver();
      this.onStep?.();
    }
  }

  /** Ticks every node until exactly one leader exists; returns it. */
  tickUntilLeader(maxRounds = 200): NodeId {
    for (let i = 0; i < maxRounds; i++) {
      const leaders = this.leaders();
      if (leaders.length === 1) return leaders[0]!;
      this.tickAll();
    }
    throw new Error('tickUntilLeader: no single leader');
  }

  /** Snapshots `id`'s state machine at its applied index (the applied list as JSON) and
   *  compacts its log up to there (paper 7). Returns the snapshot index. */
  compact(id: NodeId): number {
    const n = this.node(id);
    const index = n.appliedIndex;
    n.storage.createSnapshot(index, n.conf, bytes.encode(JSON.stringify(n.applied)));
    n.storage.compact(index);
    return index;
  }

  /** Messages of `kind` in the trace, optionally only from/to a node. */
  traced(kind: number, from?: NodeId, to?: NodeId): Message[] {
    return this.trace.filter((m) => m.kind === kind && (from === undefined || m.from === from) &&
      (to === undefined || m.to === to));
  }

  /** Campaigns until `id` wins (a first try may only teach it a newer term). */
  electEventually(id: NodeId, tries = 3): void {
    for (let i = 0; i < tries; i++) {
      this.node(id).group.campaign();
      this.deliver();
      if (this.node(id).group.raft.role === Role.Leader) return;
    }
    throw new Error(`n${id} did not win in ${tries} tries`);
  }

  elect(id: NodeId): void {
    this.node(id).group.campaign();
    this.deliver();
    if (this.node(id).group.raft.role !== Role.Leader) throw new Error(`n${id} did not win`);
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}-${other}`);
      this.cut.add(`${other}-${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((n) => n.group.raft.role === Role.Leader)
      .map((n) => n.id);
  }
}
