// Raft core micro-benchmark: committed entries/s through a 3-node, 8-group cluster on ONE thread.
//   npm run bench:raft   (= npm run build && node dist/bench/micro/raft.js)
//   node dist/bench/micro/raft.js --runs 3 --duration-ms 2000 --batch-sizes 1,16,64,256
// The pure CPU cost of the algorithm: three MultiRaftNodes, each hosting the same 8 RaftGroups
// over MemoryStorage, no I/O, no serialization, no timers. Leaders are spread over the nodes
// (group g is led by node 1 + (g - 1) % 3). One turn:
//   1. every leader proposes `batch` entries to each group it leads (RaftGroup.proposeMany);
//   2. every node collects readyGroups(), "persists" each Ready at once (MemoryStorage.append +
//      setHardState), calls onPersisted, applies committedEntries and calls onApplied;
//   3. every node's takeBatches() PeerBatches are handed straight to the receiving node's step().
// Every `tickEveryTurns` turns each node ticks once. Every `compactEveryTurns` turns each
// storage takes a snapshot at the slowest replica's applied index and compacts to
// `compactKeepEntries` below it, so memory stays bounded.
// An entry is counted once, when the leader applies it; after the timed window proposals stop,
// the cluster drains, and every follower must have applied the same entries (count and
// checksum). Payloads are 16-64 bytes, from a seeded pool. Prints a table and one JSON line.
// Figures go to bench/RESULTS.md; speed is never asserted.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { MemoryStorage } from '../../src/core/raft/memory-storage.js';
import { MultiRaftNode } from '../../src/core/raft/multi/multi-raft-node.js';
import type { PeerBatch } from '../../src/core/raft/multi/peer-batch.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { RaftGroup } from '../../src/core/raft/raft-group.js';
import {
  type ConfState, EntryKind, type NodeId, type RaftConfig, Role,
} from '../../src/core/raft/types.js';

const nodeIds: readonly NodeId[] = [1, 2, 3];
const groupCount = 8;
const payloadPoolSize = 4096;
const payloadBytesMin = 16;
const payloadBytesMax = 64;
const tickEveryTurns = 4;
const compactEveryTurns = 64;
const compactKeepEntries = 1024;
const electTurnsMax = 10_000;
const drainTurnsMax = 10_000;

const conf: ConfState = {
  voters: [...nodeIds], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false,
};

function raftConfig(id: NodeId, group: number): RaftConfig {
  return {
    id, group, electionTicks: 10, heartbeatTicks: 2, preVote: true, checkQuorum: true,
    inflightMsgsMax: 256, inflightBytesMax: 0, msgBytesMax: 1 << 20, uncommittedBytesMax: 0,
    committedBytesPerReadyMax: 1 << 20, readOnly: 'safe', leaseDriftTicks: 0, applied: 0,
  };
}

interface Replica {
  readonly group: number;
  readonly raft: RaftGroup;
  readonly storage: MemoryStorage;
  appliedIndex: number;
  /** Normal entries with data applied, and the sum of their first bytes (the checksum). */
  appliedCount: number;
  appliedSum: number;
}

interface BenchNode {
  readonly id: NodeId;
  readonly node: MultiRaftNode;
  readonly replicas: Map<number, Replica>;
}

function leaderOf(group: number): NodeId {
  return nodeIds[(group - 1) % nodeIds.length]!;
}

function makePayloads(): Uint8Array[] {
  const prng = new SeededPrng(0x5eed);
  const pool: Uint8Array[] = [];
  for (let i = 0; i < payloadPoolSize; i++) {
    const bytes = payloadBytesMin + prng.nextInt(payloadBytesMax - payloadBytesMin + 1);
    const data = new Uint8Array(bytes);
    for (let k = 0; k < bytes; k++) data[k] = prng.nextInt(256);
    pool.push(data);
  }
  return pool;
}

class Cluster {
  readonly nodes: BenchNode[] = [];
  turns = 0;
  private readonly byId = new Map<NodeId, BenchNode>();

  constructor() {
    for (const id of nodeIds) {
      const node = new MultiRaftNode({
        id, epoch: 1, peers: nodeIds.filter((p) => p !== id),
        // Under constant load no group ever quiesces; off, so proposeMany can bypass the node.
        quiesce: false, quiesceAfterIdleTicks: 4, peerDownAfterTicks: 10,
        peerBeaconIntervalTicks: 2,
      });
      const replicas = new Map<number, Replica>();
      for (let group = 1; group <= groupCount; group++) {
        const storage = new MemoryStorage(conf);
        const raft = new RaftGroup(raftConfig(id, group), storage,
          new SeededPrng(id * 7919 + group));
        node.addGroup(group, raft, false);
        replicas.set(group, { group, raft, storage, appliedIndex: 0, appliedCount: 0,
          appliedSum: 0 });
      }
      const bn: BenchNode = { id, node, replicas };
      this.nodes.push(bn);
      this.byId.set(id, bn);
    }
  }

  replica(id: NodeId, group: number): Replica {
    return this.byId.get(id)!.replicas.get(group)!;
  }

  /** Campaigns every group on its designated leader and turns until all have won. */
  elect(): void {
    for (let group = 1; group <= groupCount; group++) {
      this.byId.get(leaderOf(group))!.node.campaign(group);
    }
    for (let t = 0; t < electTurnsMax; t++) {
      this.turn();
      let all = true;
      for (let group = 1; group <= groupCount; group++) {
        const r = this.replica(leaderOf(group), group).raft.raft;
        if (r.role !== Role.Leader || r.log.applied < r.log.lastIndex()) all = false;
      }
      if (all) return;
    }
    throw new Error('leaders not elected');
  }

  /** One turn without proposals: ready -> persist -> apply on every node, then exchange. */
  turn(): void {
    for (const bn of this.nodes) this.handleReadies(bn);
    const batches: PeerBatch[] = [];
    for (const bn of this.nodes) for (const b of bn.node.takeBatches()) batches.push(b);
    for (const b of batches) this.byId.get(b.to)!.node.step(b);
    this.turns++;
    if (this.turns % tickEveryTurns === 0) for (const bn of this.nodes) bn.node.tick();
    if (this.turns % compactEveryTurns === 0) this.compact();
  }

  private handleReadies(bn: BenchNode): void {
    for (const { group, ready } of bn.node.readyGroups()) {
      const rep = bn.replicas.get(group)!;
      if (ready.snapshot !== null) {
        rep.storage.applySnapshot(ready.snapshot);
        rep.appliedIndex = ready.snapshot.meta.index;
        throw new Error('unexpected snapshot: compaction kept too few entries');
      }
      rep.storage.append(ready.entries);
      if (ready.hardState !== null) rep.storage.setHardState(ready.hardState);
      bn.node.onPersisted(group, ready.number);
      const committed = ready.committedEntries;
      if (committed.length === 0) continue;
      let count = 0;
      let sum = 0;
      for (const e of committed) {
        if (e.kind === EntryKind.Normal && e.data.length > 0) {
          count++;
          sum += e.data[0]!;
        }
      }
      rep.appliedCount += count;
      rep.appliedSum += sum;
      rep.appliedIndex = committed[committed.length - 1]!.index;
      bn.node.onApplied(group, rep.appliedIndex);
    }
  }

  /** Snapshot at the slowest replica's applied index; keep compactKeepEntries below it. */
  private compact(): void {
    for (let group = 1; group <= groupCount; group++) {
      let minApplied = Infinity;
      for (const bn of this.nodes) {
        minApplied = Math.min(minApplied, bn.replicas.get(group)!.appliedIndex);
      }
      for (const bn of this.nodes) {
        const rep = bn.replicas.get(group)!;
        const s = rep.storage;
        if (minApplied - s.firstIndex() < 2 * compactKeepEntries) continue;
        if (minApplied > s.snapshot().meta.index && minApplied <= s.lastIndex()) {
          s.createSnapshot(minApplied, conf, new Uint8Array(0));
        }
        s.compact(Math.min(minApplied, s.snapshot().meta.index) - compactKeepEntries);
      }
    }
  }

  storedEntries(): number {
    let n = 0;
    for (const bn of this.nodes) {
      for (const rep of bn.replicas.values()) {
        n += rep.storage.lastIndex() - rep.storage.firstIndex() + 1;
      }
    }
    return n;
  }
}

interface RunResult {
  readonly entriesPerSec: number;
  readonly turnsPerSec: number;
  readonly entries: number;
  readonly storedEntriesMax: number;
}

function runOnce(batch: number, durationMs: number, warmupMs: number,
  payloads: readonly Uint8Array[]): RunResult {
  const c = new Cluster();
  c.elect();
  const leaders: Replica[] = [];
  for (let group = 1; group <= groupCount; group++) leaders.push(c.replica(leaderOf(group), group));
  const datas: Uint8Array[][] = [];
  let cursor = 0;
  for (let i = 0; i < 64; i++) {
    const d: Uint8Array[] = [];
    for (let k = 0; k < batch; k++) d.push(payloads[cursor++ % payloads.length]!);
    datas.push(d);
  }
  let proposed = 0;
  let proposedSum = 0;
  const sums = datas.map((d) => d.reduce((s, x) => s + x[0]!, 0));
  let storedEntriesMax = 0;
  const proposeTurn = (t: number): void => {
    for (const rep of leaders) {
      const k = (t + rep.group) & 63;
      const err = rep.raft.proposeMany(datas[k]!);
      if (err !== null) throw new Error(`group ${rep.group}: proposal refused: ${err}`);
      proposed += batch;
      proposedSum += sums[k]!;
    }
    c.turn();
  };
  const leaderApplied = (): number => leaders.reduce((s, r) => s + r.appliedCount, 0);
  // Warm-up (not timed), then the timed window; the clock is read every 16 turns.
  let t = 0;
  for (const start = performance.now(); performance.now() - start < warmupMs;) {
    for (let i = 0; i < 16; i++) proposeTurn(t++);
  }
  const applied0 = leaderApplied();
  const turns0 = c.turns;
  const started = performance.now();
  let seconds = 0;
  for (;;) {
    for (let i = 0; i < 16; i++) proposeTurn(t++);
    seconds = (performance.now() - started) / 1000;
    if ((t & 1023) === 0) storedEntriesMax = Math.max(storedEntriesMax, c.storedEntries());
    if (seconds * 1000 >= durationMs) break;
  }
  const entries = leaderApplied() - applied0;
  const turns = c.turns - turns0;
  // Drain: no more proposals; every replica must apply everything proposed.
  const done = (): boolean => c.nodes.every((bn) => [...bn.replicas.values()].every((rep) =>
    rep.appliedIndex === rep.raft.raft.log.lastIndex() &&
    rep.appliedIndex === c.replica(leaderOf(rep.group), rep.group).raft.raft.log.lastIndex()));
  for (let i = 0; !done(); i++) {
    if (i >= drainTurnsMax) throw new Error('cluster did not drain');
    c.turn();
  }
  let leaderCount = 0;
  let leaderSum = 0;
  for (const rep of leaders) {
    leaderCount += rep.appliedCount;
    leaderSum += rep.appliedSum;
    for (const id of nodeIds) {
      const f = c.replica(id, rep.group);
      if (f.appliedCount !== rep.appliedCount || f.appliedSum !== rep.appliedSum) {
        throw new Error(`group ${rep.group}: node ${id} applied ${f.appliedCount} entries ` +
          `(sum ${f.appliedSum}), leader ${rep.appliedCount} (sum ${rep.appliedSum})`);
      }
    }
  }
  if (leaderCount !== proposed || leaderSum !== proposedSum) {
    throw new Error(`applied ${leaderCount} entries (sum ${leaderSum}), proposed ${proposed} ` +
      `(sum ${proposedSum})`);
  }
  return { entriesPerSec: entries / seconds, turnsPerSec: turns / seconds, entries,
    storedEntriesMax };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? (perSecond / 1e6).toFixed(2) + 'M' : (perSecond / 1e3).toFixed(0) + 'k';
}

function main(): void {
  const { values } = parseArgs({
    options: {
      'runs': { type: 'string', default: '3' },
      'duration-ms': { type: 'string', default: '2000' },
      'warmup-ms': { type: 'string', default: '300' },
      'batch-sizes': { type: 'string', default: '1,16,64,256' },
    },
  });
  const runs = Number(values['runs']);
  const durationMs = Number(values['duration-ms']);
  const warmupMs = Number(values['warmup-ms']);
  const batchSizes = values['batch-sizes'].split(',').map(Number);
  const payloads = makePayloads();
  const rows = [];
  for (const batch of batchSizes) {
    const results: RunResult[] = [];
    for (let r = 0; r < runs; r++) results.push(runOnce(batch, durationMs, warmupMs, payloads));
    const rates = results.map((x) => x.entriesPerSec);
    rows.push({
      batch, entriesPerSecMedian: median(rates), entriesPerSecRuns: rates,
      turnsPerSecMedian: median(results.map((x) => x.turnsPerSec)),
      storedEntriesMax: Math.max(...results.map((x) => x.storedEntriesMax)),
    });
  }
  console.log(`raft bench: ${nodeIds.length} nodes x ${groupCount} groups on one thread, ` +
    `${payloadBytesMin}-${payloadBytesMax} byte payloads, tick every ${tickEveryTurns} turns, ` +
    `${runs} runs of ${durationMs} ms, node ${process.version}, ${availableParallelism()} cores`);
  console.log('entries/group/turn'.padEnd(20) + 'median/s'.padStart(10) +
    'turns/s'.padStart(10) + 'us/entry'.padStart(10) + 'stored max'.padStart(12) + '  runs/s');
  for (const row of rows) {
    console.log(String(row.batch).padEnd(20) + formatRate(row.entriesPerSecMedian).padStart(10) +
      formatRate(row.turnsPerSecMedian).padStart(10) +
      (1e6 / row.entriesPerSecMedian).toFixed(2).padStart(10) +
      String(row.storedEntriesMax).padStart(12) + '  ' +
      row.entriesPerSecRuns.map(formatRate).join(' '));
  }
  console.log(JSON.stringify({
    bench: 'raft', nodes: nodeIds.length, groups: groupCount, payloadBytesMin, payloadBytesMax,
    tickEveryTurns, runs, durationMs, node: process.version, cores: availableParallelism(),
    results: rows.map((row) => ({
      batch: row.batch, entriesPerSecMedian: Math.round(row.entriesPerSecMedian),
      entriesPerSecRuns: row.entriesPerSecRuns.map(Math.round),
      turnsPerSecMedian: Math.round(row.turnsPerSecMedian),
      storedEntriesMax: row.storedEntriesMax,
    })),
  }));
}

main();
