// The deterministic cluster simulator (issue 3, deliverable 4; the VOPR idea). One thread,
// discrete events, one seed: N nodes (3 or 5), each a MultiRaftNode hosting G groups (8 to 64)
// of RaftGroups over a simulated disk (disk.ts) and network (network.ts). A nemesis loses,
// delays, duplicates and reorders batches, cuts links (symmetric and asymmetric partitions),
// isolates leaders, crashes nodes (losing unsynced writes) and restarts them, and slows the
// disk. Clients propose entries, ask for linearizable reads and leader transfers.
// The checker (checker.ts) sees every Ready, apply, crash and restart, so every invariant is
// checked after every event. At the end the liveness phase heals everything and requires every
// group to elect a leader and commit an entry of its term within a bound.
import { assert } from '../../src/assert.js';
import { MultiRaftNode } from '../../src/core/raft/multi/multi-raft-node.js';
import type { PeerBatch } from '../../src/core/raft/multi/peer-batch.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { RaftGroup } from '../../src/core/raft/raft-group.js';
import {
  type ConfChange, ConfChangeKind, type ConfChangeKindValue, type ConfState, EntryKind, type GroupId, type NodeId, type RaftConfig, type Ready, Role,
} from '../../src/core/raft/types.js';
import { Checker, SimViolation } from './checker.js';
import { fastDisk, SimDisk, slowDisk } from './disk.js';
import { EventQueue } from './event-queue.js';
import { type NetworkConditions, perfectNetwork, SimNetwork } from './network.js';
import { CounterMachine } from './state-machine.js';

/** Simulation time units per node tick. */
const tickTime = 10;

export interface SimOptions {
  readonly seed: number;
  /** Ticks of the faulty phase (each node ticks this many times). */
  readonly steps: number;
  readonly nodes?: number;
  readonly groups?: number;
  /** Ticks the healed cluster gets to elect and commit in every group. */
  readonly livenessTicks?: number;
}

export interface SimScenario {
  readonly nodes: number;
  readonly groups: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly quiesce: boolean;
  readonly compactEvery: number;
  /** Clients also change groups' membership: learners join and are promoted, voters leave,
   *  one at a time or two at once through a joint configuration. */
  readonly membership: boolean;
  /** Append size cap: small caps split catch-up into many partial acks. */
  readonly msgBytesMax: number;
  /** Followers learn ordinary commits only with the next append or heartbeat (partitions). */
  readonly lazyCommit: boolean;
}

export interface SimResult {
  readonly seed: number;
  scenario: SimScenario;
  readonly events: number;
  readonly proposals: number;
  readonly committedMax: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly lostWrites: number;
  readonly snapshotsSent: number;
  readonly readsAnswered: number;
  readonly transfers: number;
  /** Membership changes applied (counted at the leader). */
  readonly confChanges: number;
  /** Groups that stopped ticking (MultiRaftNode quiescence), summed over nodes and restarts. */
  readonly quiesces: number;
  readonly livenessTicks: number;
  readonly checker: Checker['stats'];
}

type SimEvent =
  | { readonly kind: 'tick'; readonly node: NodeId; readonly epoch: number }
  | { readonly kind: 'deliver'; readonly batch: PeerBatch }
  | { readonly kind: 'disk'; readonly node: NodeId; readonly epoch: number }
  | { readonly kind: 'nemesis' }
  | { readonly kind: 'client' }
  | { readonly kind: 'restart'; readonly node: NodeId }
  | { readonly kind: 'snapStatus'; readonly node: NodeId; readonly epoch: number;
      readonly group: GroupId; readonly peer: NodeId; readonly ok: boolean };

interface SimGroup {
  raft: RaftGroup;
  readonly machine: CounterMachine;
  conf: ConfState;
  /** Reads answered once the machine applied their index: key -> read index. */
  readonly reads: Map<string, number>;
}

interface SimNode {
  readonly id: NodeId;
  epoch: number;
  up: boolean;
  multi: MultiRaftNode;
  readonly disk: SimDisk;
  readonly groups: Map<GroupId, SimGroup>;
  diskBusy: boolean;
}

export class Simulation {
  readonly prng: SeededPrng;
  readonly scenario: SimScenario;
  private readonly nemesisPrng: SeededPrng;
  private readonly clientPrng: SeededPrng;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly net: SimNetwork;
  readonly checker = new Checker();
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly ids: NodeId[];
  /** Each group's initial configuration, the same on every node (members or not, as
   *  `--initial-cluster` is): a node that joins later replays the log on top of it. */
  private readonly bootstraps = new Map<GroupId, ConfState>();
  private faulty = true;
  private events = 0;
  private proposals = 0;
  private crashes = 0;
  private partitions = 0;
  private lostWrites = 0;
  private snapshotsSent = 0;
  private readsAnswered = 0;
  private transfers = 0;
  private confChanges = 0;
  private readSeq = 0;
  private quiescesBeforeRestarts = 0;

  constructor(readonly options: SimOptions) {
    this.prng = new SeededPrng(options.seed);
    this.nemesisPrng = this.prng.fork('nemesis');
    this.clientPrng = this.prng.fork('client');
    const p = this.prng.fork('scenario');
    this.scenario = {
      nodes: options.nodes ?? (p.chance(0.5) ? 3 : 5),
      groups: options.groups ?? 8 + p.nextInt(57),
      preVote: p.chance(0.7),
      checkQuorum: p.chance(0.7),
      quiesce: p.chance(0.5),
      compactEvery: [8, 32, 128][p.nextInt(3)]!,
      // A removed voter that missed its removal campaigns with stale configs; without
      // pre-vote or check-quorum's leader stickiness it disrupts forever (thesis 4.2.3).
      membership: p.chance(0.5),
      msgBytesMax: [16, 256, 4096][p.nextInt(3)]!,
      lazyCommit: p.chance(0.5),
    };
    if (!this.scenario.preVote && !this.scenario.checkQuorum) {
      this.scenario = { ...this.scenario, membership: false };
    }
    this.net = new SimNetwork(this.prng.fork('network'));
    this.ids = Array.from({ length: this.scenario.nodes }, (_, i) => i + 1);
    for (let g = 1; g <= this.scenario.groups; g++) {
      let voters = this.ids;
      // With churn, five-node clusters start groups on three nodes, so others can join.
      if (this.scenario.membership && this.ids.length === 5) voters = pickThree(p, this.ids);
      this.bootstraps.set(g, { voters, learners: [], votersOutgoing: [], learnersNext: [],
        autoLeave: false });
    }
    for (const id of this.ids) this.createNode(id);
  }

  private raftConfig(id: NodeId, group: GroupId, applied: number): RaftConfig {
    const s = this.scenario;
    return {
      id, group, electionTicks: 10, heartbeatTicks: 1, preVote: s.preVote,
      checkQuorum: s.checkQuorum, inflightMsgsMax: 16, inflightBytesMax: 0,
      msgBytesMax: s.msgBytesMax,
      uncommittedBytesMax: 0, committedBytesPerReadyMax: 512, readOnly: 'safe',
      leaseDriftTicks: 0, applied, lazyCommitBroadcast: s.lazyCommit,
    };
  }

  private createNode(id: NodeId): void {
    const disk = new SimDisk(this.prng.fork(`disk-${id}`));
    const node: SimNode = { id, epoch: 0, up: true, multi: this.newMulti(id, 0), disk,
      groups: new Map(), diskBusy: false };
    for (let g = 1; g <= this.scenario.groups; g++) disk.addGroup(g, this.bootstraps.get(g)!);
    this.nodes.set(id, node);
    this.boot(node);
  }

  private newMulti(id: NodeId, epoch: number): MultiRaftNode {
    return new MultiRaftNode({
      id, epoch, peers: this.ids.filter((p) => p !== id), quiesce: this.scenario.quiesce,
      quiesceAfterIdleTicks: 4, peerDownAfterTicks: 10, peerBeaconIntervalTicks: 2,
    });
  }

  /** (Re)starts a node from its durable disk. */
  private boot(node: SimNode): void {
    node.multi = this.newMulti(node.id, node.epoch);
    node.groups.clear();
    for (let g = 1; g <= this.scenario.groups; g++) {
      const storage = node.disk.storage(g);
      const snap = storage.snapshot();
      const machine = new CounterMachine();
      machine.restore(snap.meta.index, snap.data);
      this.checker.onRestart(node.id, g, storage);
      this.checker.onRestore(node.id, g, snap.meta.index, machine.hash);
      const prng = this.prng.fork(`raft-${node.id}-${g}-${node.epoch}`);
      const raft = new RaftGroup(this.raftConfig(node.id, g, snap.meta.index), storage, prng);
      node.groups.set(g, { raft, machine, conf: snap.meta.conf, reads: new Map() });
      node.multi.addGroup(g, raft);
    }
    // Nodes tick out of phase, so their timers are not in lockstep.
    this.queue.after(1 + this.prng.nextInt(tickTime), { kind: 'tick', node: node.id,
      epoch: node.epoch });
  }

  run(): SimResult {
    const endFaulty = this.options.steps * tickTime;
    this.queue.after(tickTime * 5, { kind: 'nemesis' });
    this.queue.after(1, { kind: 'client' });
    while (this.queue.peekTime() <= endFaulty) this.handle(this.queue.pop()!);
    const livenessTicks = this.liveness(endFaulty);
    return {
      seed: this.options.seed, scenario: this.scenario, events: this.events,
      proposals: this.proposals, committedMax: this.committedMax(), crashes: this.crashes,
      partitions: this.partitions, lostWrites: this.lostWrites,
      snapshotsSent: this.snapshotsSent, readsAnswered: this.readsAnswered,
      transfers: this.transfers, confChanges: this.confChanges, livenessTicks, checker: this.checker.stats,
      quiesces: this.quiescesBeforeRestarts +
        [...this.nodes.values()].reduce((n, x) => n + x.multi.stats.quiesces, 0),
    };
  }

  private committedMax(): number {
    let max = 0;
    for (let g = 1; g <= this.scenario.groups; g++) max = Math.max(max, this.checker.committedMax(g));
    return max;
  }

  private handle(e: SimEvent): void {
    this.events += 1;
    switch (e.kind) {
      case 'tick': return this.onTick(e.node, e.epoch);
      case 'deliver': return this.onDeliver(e.batch);
      case 'disk': return this.onDisk(e.node, e.epoch);
      case 'nemesis': return this.onNemesis();
      case 'client': return this.onClient();
      case 'restart': return this.onRestart(e.node);
      case 'snapStatus': return this.onSnapStatus(e);
    }
  }

  private onTick(id: NodeId, epoch: number): void {
    const node = this.nodes.get(id)!;
    if (!node.up || node.epoch !== epoch) return;
    node.multi.tick();
    this.process(node);
    this.queue.after(tickTime, { kind: 'tick', node: id, epoch });
  }

  private onDeliver(batch: PeerBatch): void {
    const node = this.nodes.get(batch.to)!;
    if (!node.up) return;
    node.multi.step(batch);
    this.process(node);
  }

  private onDisk(id: NodeId, epoch: number): void {
    const node = this.nodes.get(id)!;
    if (!node.up || node.epoch !== epoch) return;
    node.diskBusy = false;
    for (const op of node.disk.finishSync()) node.multi.onPersisted(op.group, op.readyNumber);
    this.process(node);
  }

  private onSnapStatus(e: Extract<SimEvent, { kind: 'snapStatus' }>): void {
    const node = this.nodes.get(e.node)!;
    if (!node.up || node.epoch !== e.epoch) return;
    node.multi.reportSnapshot(e.group, e.peer, e.ok);
    this.process(node);
  }

  private startDisk(node: SimNode): void {
    if (node.diskBusy) return;
    const latency = node.disk.startSync();
    if (latency < 0) return;
    node.diskBusy = true;
    this.queue.after(latency, { kind: 'disk', node: node.id, epoch: node.epoch });
  }

  /** One turn of a node: handle every Ready, apply, answer reads, compact, send batches. */
  private process(node: SimNode): void {
    for (let rounds = 0; ; rounds++) {
      assert(rounds < 1000, 'a node never stopped producing Readys');
      const readies = node.multi.readyGroups();
      if (readies.length === 0) break;
      for (const { group, ready } of readies) this.handleReady(node, group, ready);
    }
    for (const b of node.multi.takeBatches()) this.send(node, b);
    this.startDisk(node);
  }

  private handleReady(node: SimNode, group: GroupId, rd: Ready): void {
    const g = node.groups.get(group)!;
    const c = this.checker;
    if (rd.snapshot !== null) {
      const meta = rd.snapshot.meta;
      c.onSnapshot(node.id, group, meta.index, meta.term);
      g.machine.restore(meta.index, rd.snapshot.data);
      c.onRestore(node.id, group, meta.index, g.machine.hash);
      g.conf = meta.conf;
    }
    c.onEntries(node.id, group, rd.entries);
    if (rd.hardState !== null) {
      c.onCommit(node.id, group, rd.hardState.commit, rd.hardState.term);
      // The leader commits by its own configuration: check durability against exactly that.
      const raft = g.raft.raft;
      if (raft.role === Role.Leader) {
        const [incoming, outgoing] = raft.trk.config.voters;
        c.checkDurable(group, rd.hardState.commit, [[...incoming], [...outgoing]],
          (n) => this.nodes.get(n)?.disk.durable.get(group));
      }
    }
    if (rd.softState !== null && rd.softState.role === Role.Leader) {
      c.onLeader(node.id, group, g.raft.raft.term);
    }
    node.disk.submit({ group, readyNumber: rd.number, entries: rd.entries,
      hardState: rd.hardState, snapshot: rd.snapshot, mustSync: rd.mustSync });
    for (const e of rd.committedEntries) {
      if (e.index <= g.machine.applied) continue; // below a snapshot restored meanwhile
      g.machine.apply(e);
      c.onApply(node.id, group, e, g.machine.hash);
      if (e.kind === EntryKind.ConfChange) {
        g.conf = g.raft.applyConfChange(e);
        if (g.raft.raft.role === Role.Leader) this.confChanges += 1;
      }
    }
    if (rd.committedEntries.length > 0) node.multi.onApplied(group, g.machine.applied);
    for (const rs of rd.readStates) g.reads.set(readKey(rs.context), rs.index);
    this.answerReads(node, group, g);
    this.maybeCompact(node, group, g);
  }

  private answerReads(node: SimNode, group: GroupId, g: SimGroup): void {
    for (const [key, index] of g.reads) {
      if (g.machine.applied < index) continue;
      this.checker.readAnswered(node.id, group, key, index);
      g.reads.delete(key);
      this.readsAnswered += 1;
    }
  }

  /** Snapshots the state machine at its applied index and drops the log before it, keeping a
   *  few entries so that slightly lagging followers still get appends. */
  private maybeCompact(node: SimNode, group: GroupId, g: SimGroup): void {
    const storage = node.disk.storage(group);
    const applied = g.machine.applied;
    const every = this.scenario.compactEvery;
    const snap = storage.snapshot().meta;
    // A configuration applied after the last snapshot gets a fresh snapshot at once: a node
    // it adds can only be sent a snapshot that includes it (raft.ts maybeSendSnapshot).
    const confChanged = applied > snap.index && !sameConf(snap.conf, g.conf);
    if (!confChanged && applied - snap.index < every * 2) return;
    // Only when the disk holds exactly the log Raft sees: with a write pending (a leader's
    // snapshot being installed, a tail being replaced) the durable entry at `applied` may be
    // another one than the state machine applied.
    if (node.disk.hasPendingLog(group) || applied > storage.lastIndex()) return;
    if (storage.term(applied) !== g.raft.raft.log.term(applied)) return;
    storage.createSnapshot(applied, g.conf, g.machine.encode());
    if (applied - snap.index >= every * 2) {
      storage.compact(applied - Math.min(every, applied - storage.firstIndex() + 1) + 1);
    }
  }

  private send(node: SimNode, b: PeerBatch): void {
    const fate = this.net.fate(b.from, b.to);
    // The transport reports every snapshot it sent: delivered, or failed (etcd ReportSnapshot).
    for (const m of b.messages) {
      if (m.snapshot === null) continue;
      this.snapshotsSent += 1;
      const ok = fate.delays.length > 0;
      this.queue.after(ok ? fate.delays[0]! : tickTime, { kind: 'snapStatus', node: node.id,
        epoch: node.epoch, group: m.group, peer: b.to, ok });
    }
    if (fate.cut) {
      // A real transport notices a dead connection; tell the sender some of the time.
      if (this.prng.chance(0.2)) node.multi.reportUnreachable(b.to);
      return;
    }
    for (const d of fate.delays) this.queue.after(d, { kind: 'deliver', batch: b });
  }

  // ------------------------------------------------------------------ clients

  private onClient(): void {
    const p = this.clientPrng;
    const group = 1 + p.nextInt(this.scenario.groups);
    const r = p.nextInt(100);
    if (r < 80) this.propose(group, 1 + p.nextInt(4));
    else if (r < 93) this.read(group);
    else if (r < 97 || !this.scenario.membership) this.transfer(group);
    else this.reconfigure(group);
    if (this.faulty) this.queue.after(1 + p.nextInt(6), { kind: 'client' });
  }

  private leaderNode(group: GroupId): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const n of this.nodes.values()) {
      if (!n.up) continue;
      const raft = n.groups.get(group)!.raft.raft;
      if (raft.role === Role.Leader && raft.term > bestTerm) {
        best = n;
        bestTerm = raft.term;
      }
    }
    return best;
  }

  /** Any node that believes it leads the group: clients with stale leader information reach
   *  deposed leaders too, which grows the divergent uncommitted tails of paper Figure 8. */
  private someLeader(group: GroupId): SimNode | undefined {
    const leaders = [...this.nodes.values()].filter((n) => n.up &&
      n.groups.get(group)!.raft.raft.role === Role.Leader);
    if (leaders.length === 0) return undefined;
    return leaders[this.clientPrng.nextInt(leaders.length)];
  }

  private propose(group: GroupId, count: number): boolean {
    const node = this.faulty ? this.someLeader(group) : this.leaderNode(group);
    if (node === undefined) return false;
    const datas: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const data = new Uint8Array(8);
      new DataView(data.buffer).setFloat64(0, ++this.proposals);
      datas.push(data);
    }
    const ok = (count === 1 ? node.multi.propose(group, datas[0]!)
      : node.multi.proposeMany(group, datas)) === null;
    this.process(node);
    return ok;
  }

  private read(group: GroupId): void {
    const up = this.ids.filter((id) => this.nodes.get(id)!.up);
    if (up.length === 0) return;
    const node = this.nodes.get(up[this.clientPrng.nextInt(up.length)]!)!;
    const context = new Uint8Array(8);
    new DataView(context.buffer).setFloat64(0, ++this.readSeq);
    this.checker.readIssued(group, readKey(context));
    node.multi.readIndex(group, context);
    this.process(node);
  }

  private transfer(group: GroupId): void {
    const node = this.leaderNode(group);
    if (node === undefined) return;
    const to = this.ids[this.clientPrng.nextInt(this.ids.length)]!;
    if (to === node.id) return;
    this.transfers += 1;
    node.multi.transferLeader(group, to);
    this.process(node);
  }

  /** One membership step chosen from the leader's configuration: add a learner, promote
   *  one, remove a voter (at least two stay), or swap a learner for a voter in one joint
   *  change. The leader refuses it while another change is pending. */
  private reconfigure(group: GroupId): void {
    const node = this.leaderNode(group);
    if (node === undefined) return;
    const cfg = node.groups.get(group)!.raft.raft.trk.config;
    if (cfg.voters[1].size > 0) return; // joint: the leader leaves it on its own
    const p = this.clientPrng;
    const voters = [...cfg.voters[0]].sort((a, b) => a - b);
    const learners = [...cfg.learners].sort((a, b) => a - b);
    const outside = this.ids.filter((id) => !cfg.voters[0].has(id) && !cfg.learners.has(id));
    const pick = <T>(xs: readonly T[]): T => xs[p.nextInt(xs.length)]!;
    const options: ConfChange[] = [];
    if (outside.length > 0) {
      options.push(single(ConfChangeKind.AddLearner, pick(outside)));
    }
    if (learners.length > 0) options.push(single(ConfChangeKind.AddVoter, pick(learners)));
    if (voters.length > 2) options.push(single(ConfChangeKind.Remove, pick(voters)));
    if (learners.length > 0 && voters.length > 2) {
      options.push({ changes: [{ kind: ConfChangeKind.AddVoter, node: pick(learners) },
        { kind: ConfChangeKind.Remove, node: pick(voters) }], leaveJoint: false });
    }
    if (options.length === 0) return;
    node.multi.proposeConfChange(group, pick(options));
    this.process(node);
  }

  // ------------------------------------------------------------------ nemesis

  private onNemesis(): void {
    if (!this.faulty) return;
    const p = this.nemesisPrng;
    const r = p.nextInt(100);
    if (r < 15) this.net.heal();
    else if (r < 27) this.partitionRandom();
    else if (r < 35) this.isolateLeader();
    else if (r < 42) this.cutOneWay();
    else if (r < 55) this.crashRandom();
    else if (r < 70) this.net.conditions = randomConditions(p);
    else if (r < 78) this.slowDiskRandom();
    else if (r < 85) this.net.conditions = perfectNetwork;
    // else: a quiet period
    this.queue.after(tickTime * (3 + p.nextInt(30)), { kind: 'nemesis' });
  }

  private partitionRandom(): void {
    const p = this.nemesisPrng;
    const side = this.ids.filter(() => p.chance(0.4));
    if (side.length === 0 || side.length === this.ids.length) return;
    this.net.heal();
    this.net.partition(side, this.ids);
    this.partitions += 1;
  }

  private isolateLeader(): void {
    const group = 1 + this.nemesisPrng.nextInt(this.scenario.groups);
    const node = this.leaderNode(group);
    if (node === undefined) return;
    this.net.heal();
    this.net.isolate(node.id, this.ids);
    this.partitions += 1;
  }

  private cutOneWay(): void {
    const p = this.nemesisPrng;
    const a = this.ids[p.nextInt(this.ids.length)]!;
    const b = this.ids[p.nextInt(this.ids.length)]!;
    if (a !== b) this.net.cut(a, b);
  }

  private crashRandom(): void {
    const p = this.nemesisPrng;
    const up = this.ids.filter((id) => this.nodes.get(id)!.up);
    // Keep a majority up most of the time, so the run makes progress between faults.
    if (up.length <= (this.ids.length >> 1) + 1 && p.chance(0.8)) return;
    const node = this.nodes.get(up[p.nextInt(up.length)]!)!;
    this.crash(node);
    this.queue.after(tickTime * (2 + p.nextInt(40)), { kind: 'restart', node: node.id });
  }

  private crash(node: SimNode): void {
    node.up = false;
    node.diskBusy = false;
    this.quiescesBeforeRestarts += node.multi.stats.quiesces;
    this.lostWrites += node.disk.crash();
    this.crashes += 1;
  }

  private onRestart(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (node.up) return;
    node.up = true;
    node.epoch += 1;
    this.boot(node);
  }

  private slowDiskRandom(): void {
    const p = this.nemesisPrng;
    const node = this.nodes.get(this.ids[p.nextInt(this.ids.length)]!)!;
    node.disk.latency = node.disk.latency === slowDisk ? fastDisk : slowDisk;
  }

  // ------------------------------------------------------------------ liveness

  /** Heals everything and runs until every group has a leader that committed an entry of its
   *  own term and every live replica applied it; returns the ticks it took. */
  private liveness(start: number): number {
    this.faulty = false;
    this.net.heal();
    this.net.conditions = perfectNetwork;
    for (const n of this.nodes.values()) {
      n.disk.latency = fastDisk;
      if (!n.up) this.onRestart(n.id);
    }
    const bound = this.options.livenessTicks ?? 400;
    for (let t = 0; t <= bound; t++) {
      const until = this.queue.now + tickTime;
      while (this.queue.peekTime() <= until) this.handle(this.queue.pop()!);
      if (this.converged()) return t;
      if (t % 10 === 9) {
        for (let g = 1; g <= this.scenario.groups; g++) {
          if (!this.groupConverged(g)) this.propose(g, 1);
        }
      }
    }
    const stuck = [];
    for (let g = 1; g <= this.scenario.groups; g++) if (!this.groupConverged(g)) stuck.push(g);
    throw new SimViolation('liveness', `groups ${stuck.join(',')} did not converge within ` +
      `${bound} ticks of healing (time ${start})\n${this.describe(stuck.slice(0, 3))}`);
  }

  /** One line per replica of each group: what a liveness failure needs to be read. */
  describe(groups: readonly GroupId[]): string {
    const lines: string[] = [];
    for (const group of groups) {
      for (const n of this.nodes.values()) {
        const g = n.groups.get(group)!;
        const r = g.raft.raft;
        lines.push(`g${group} n${n.id} up=${n.up} role=${r.role} term=${r.term} ` +
          `lead=${r.lead} vote=${r.vote} commit=${r.log.committed} applied=${g.machine.applied} ` +
          `last=${r.log.lastIndex()}/t${r.log.lastTerm()} first=${r.log.firstIndex()} ` +
          `quiesced=${n.multi.isQuiesced(group)} elapsed=${r.electionElapsed}/` +
          `${r.randomizedElectionTimeout} promotable=${r.promotable()} ` +
          `unstableSnap=${r.log.unstable.snapshot !== null}`);
      }
    }
    return lines.join('\n');
  }

  private converged(): boolean {
    for (let g = 1; g <= this.scenario.groups; g++) if (!this.groupConverged(g)) return false;
    return true;
  }

  private groupConverged(group: GroupId): boolean {
    const leader = this.leaderNode(group);
    if (leader === undefined) return false;
    const lr = leader.groups.get(group)!;
    const raft = lr.raft.raft;
    if (raft.log.term(raft.log.committed) !== raft.term) return false;
    const applied = lr.machine.applied;
    if (applied !== raft.log.committed) return false;
    if (raft.trk.config.voters[1].size > 0) return false; // still joint
    const cfg = raft.trk.config;
    for (const n of this.nodes.values()) {
      if (!cfg.voters[0].has(n.id) && !cfg.learners.has(n.id)) continue; // not a member now
      const g = n.groups.get(group)!;
      if (g.machine.applied !== applied) return false;
      if (n !== leader && g.raft.raft.role === Role.Leader) return false;
    }
    return true;
  }
}

function sameConf(a: ConfState, b: ConfState): boolean {
  const eq = (x: readonly number[], y: readonly number[]): boolean =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.voters, b.voters) && eq(a.learners, b.learners) &&
    eq(a.votersOutgoing, b.votersOutgoing) && eq(a.learnersNext, b.learnersNext);
}

function single(kind: ConfChangeKindValue, node: NodeId): ConfChange {
  return { changes: [{ kind, node }], leaveJoint: false };
}

function pickThree(p: SeededPrng, ids: readonly NodeId[]): NodeId[] {
  const pool = [...ids];
  const out: NodeId[] = [];
  while (out.length < 3) out.push(pool.splice(p.nextInt(pool.length), 1)[0]!);
  return out.sort((a, b) => a - b);
}

function readKey(context: Uint8Array): string {
  return new DataView(context.buffer, context.byteOffset, context.byteLength)
    .getFloat64(0).toString();
}

function randomConditions(p: SeededPrng): NetworkConditions {
  const delayMin = 1 + p.nextInt(5);
  return {
    lossRate: [0, 0.01, 0.05, 0.2][p.nextInt(4)]!,
    dupRate: [0, 0.02, 0.1][p.nextInt(3)]!,
    delayMin,
    delayMax: delayMin + p.nextInt(40),
    straggleRate: [0, 0.01, 0.05][p.nextInt(3)]!,
    straggleMax: 200,
  };
}

/** Runs one seed; a violation is thrown as a SimViolation naming the seed. */
export function runSeed(options: SimOptions): SimResult {
  const sim = new Simulation(options);
  try {
    return sim.run();
  } catch (error) {
    if (error instanceof Error) error.message = `SEED=${options.seed} ${error.message}`;
    throw error;
  }
}
