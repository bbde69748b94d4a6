// MultiRaftNode (issue 3 deliverable 3) over real RaftGroups: one batch per peer per turn,
// heartbeats coalesced per node pair, idle groups quiesce and wake on demand or when their
// leader's node goes silent.
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/core/raft/memory-storage.js';
import { MultiRaftNode } from '../../src/core/raft/multi/multi-raft-node.js';
import type { PeerBatch } from '../../src/core/raft/multi/peer-batch.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { RaftGroup } from '../../src/core/raft/raft-group.js';
import { type NodeId, Role } from '../../src/core/raft/types.js';

const ids: NodeId[] = [1, 2, 3];
const conf = { voters: ids, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

interface Host {
  readonly multi: MultiRaftNode;
  readonly groups: Map<number, { raft: RaftGroup; storage: MemoryStorage; applied: number }>;
}

class MultiCluster {
  readonly hosts = new Map<NodeId, Host>();
  readonly down = new Set<NodeId>();
  batchesPerTurn: PeerBatch[][] = [];

  constructor(groupCount: number, quiesce: boolean) {
    for (const id of ids) {
      const multi = new MultiRaftNode({ id, epoch: 0, peers: ids.filter((p) => p !== id),
        quiesce, quiesceAfterIdleTicks: 3, peerDownAfterTicks: 10, peerBeaconIntervalTicks: 2 });
      const groups: Host['groups'] = new Map();
      for (let g = 1; g <= groupCount; g++) {
        const storage = new MemoryStorage(conf);
        const raft = new RaftGroup({ id, group: g, electionTicks: 10, heartbeatTicks: 1,
          preVote: true, checkQuorum: true, inflightMsgsMax: 64, inflightBytesMax: 0,
          msgBytesMax: 1 << 20, uncommittedBytesMax: 0, committedBytesPerReadyMax: 1 << 20,
          readOnly: 'safe', leaseDriftTicks: 0, applied: 0 }, storage,
        new SeededPrng(id * 1000 + g));
        groups.set(g, { raft, storage, applied: 0 });
        multi.addGroup(g, raft);
      }
      this.hosts.set(id, { multi, groups });
    }
  }

  /** Each node handles its Readys and sends; repeats until no batch is left in flight. */
  turn(): void {
    let inFlight: PeerBatch[] = [];
    for (let round = 0; round < 50; round++) {
      const sent: PeerBatch[] = [];
      for (const [id, h] of this.hosts) {
        if (this.down.has(id)) continue;
        this.persistAndApply(h);
        const batches = h.multi.takeBatches();
        expect(new Set(batches.map((b) => b.to)).size).toBe(batches.length);
        sent.push(...batches);
      }
      this.batchesPerTurn.push(sent);
      inFlight = sent.filter((b) => !this.down.has(b.to));
      if (inFlight.length === 0) return;
      for (const b of inFlight) this.hosts.get(b.to)!.multi.step(b);
    }
    throw new Error('turn did not settle');
  }

  private persistAndApply(h: Host): void {
    for (let more = true; more;) {
      more = false;
      for (const { group, ready } of h.multi.readyGroups()) {
        more = true;
        const g = h.groups.get(group)!;
        g.storage.append(ready.entries);
        if (ready.hardState !== null) g.storage.setHardState(ready.hardState);
        h.multi.onPersisted(group, ready.number);
        const last = ready.committedEntries.at(-1);
        if (last !== undefined) {
          g.applied = last.index;
          h.multi.onApplied(group, last.index);
        }
      }
    }
  }

  tick(count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const [id, h] of this.hosts) if (!this.down.has(id)) h.multi.tick();
      this.turn();
    }
  }

  leaderOf(group: number): NodeId | undefined {
    for (const [id, h] of this.hosts) {
      if (this.down.has(id)) continue;
      if (h.groups.get(group)!.raft.raft.role === Role.Leader) return id;
    }
    return undefined;
  }
}

describe('MultiRaftNode', () => {
  it('sends one batch per peer per round and coalesces every group heartbeat into it', () => {
    const c = new MultiCluster(16, false);
    c.tick(40);
    for (let g = 1; g <= 16; g++) expect(c.leaderOf(g)).toBeDefined();
    c.batchesPerTurn = [];
    c.tick(1);
    const first = c.batchesPerTurn[0]!;
    // Three nodes, two peers each: at most six batches in a round, whatever the group count.
    expect(first.length).toBeLessThanOrEqual(6);
    const heartbeats = first.reduce((n, b) => n + b.heartbeats.length, 0);
    // heartbeatTicks 1: every leader heartbeats both followers on every tick, coalesced.
    expect(heartbeats).toBe(16 * 2);
    expect(first.every((b) => b.messages.every((m) => m.kind !== 10))).toBe(true);
  });

  it('quiesces idle groups, stops ticking them, and wakes a group for a proposal', () => {
    const c = new MultiCluster(8, true);
    c.tick(60);
    for (let g = 1; g <= 8; g++) expect(c.leaderOf(g)).toBeDefined();
    for (const h of c.hosts.values()) {
      for (let g = 1; g <= 8; g++) expect(h.multi.isQuiesced(g)).toBe(true);
    }
    const skippedBefore = c.hosts.get(1)!.multi.stats.groupTicksSkipped;
    c.batchesPerTurn = [];
    c.tick(5);
    expect(c.hosts.get(1)!.multi.stats.groupTicksSkipped - skippedBefore).toBe(8 * 5);
    const heartbeats = c.batchesPerTurn.flat().reduce((n, b) => n + b.heartbeats.length, 0);
    expect(heartbeats).toBe(0);
    const leader = c.leaderOf(3)!;
    const lh = c.hosts.get(leader)!;
    expect(lh.multi.propose(3, new Uint8Array([7]))).toBe(null);
    expect(lh.multi.isQuiesced(3)).toBe(false);
    c.turn();
    c.tick(2);
    const last = lh.groups.get(3)!.raft.status().lastIndex;
    for (const h of c.hosts.values()) expect(h.groups.get(3)!.applied).toBe(last);
  });

  it('wakes the followers of a silent leader node, which then elect a new leader', () => {
    const c = new MultiCluster(8, true);
    c.tick(60);
    const led = [...Array(8).keys()].map((i) => i + 1).filter((g) => c.leaderOf(g) === 1);
    const group = led[0] ?? 1;
    if (c.leaderOf(group) !== 1) {
      c.hosts.get(c.leaderOf(group)!)!.multi.transferLeader(group, 1);
      c.tick(5);
    }
    expect(c.leaderOf(group)).toBe(1);
    c.tick(10);
    expect(c.hosts.get(2)!.multi.isQuiesced(group)).toBe(true);
    c.down.add(1);
    c.tick(60);
    const next = c.leaderOf(group);
    expect(next === 2 || next === 3).toBe(true);
    expect(c.hosts.get(2)!.multi.isPeerDown(1)).toBe(true);
  });
});
