// PartitionCore replicated (issue 6): three cores, one per node, wired through their sinks
// (sendRaft -> the peer's onRaft, encoded with the real batch codec) and each over an
// in-memory writer (test/helpers/fake-disk.ts). Checks election, replication to every replica,
// failover after the leader is cut off, a stale leader stepping down, restart from disk, and a
// follower far behind (its log compacted away on the leader) catching up by snapshot.
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/ipc/messages/codec.js';
import { KahunaOp, type KahunaOpValue, opCodecs } from '../../src/ipc/messages/kahuna.js';
import type { ErrorData } from '../../src/errors.js';
import { PartitionCore } from '../../src/core/partition/partition-core.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { KahunaState } from '../../src/core/state/kahuna-state-impl.js';
import { decodePeerBatch } from '../../src/core/raft/multi/batch-codec.js';
import { MsgKind } from '../../src/core/raft/types.js';
import { FakeDisk } from '../helpers/fake-disk.js';
import { checkpointKey, decodeKey } from '../../src/core/writer/keys.js';
import { decodeCheckpoint, decodeEntry } from '../../src/core/partition/raft-records.js';
import { logTrimChunkEntries } from '../../src/limits.js';
import type { ReadMode } from '../../src/core/partition/raft-config.js';
import type { Hlc } from '../../src/core/api/types.js';
import { compareHlc } from '../../src/core/state/hlc.js';

const zero = { n: 0, l: 0, c: 0 };
const tx = { txId: zero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0 };
const partitions = [1, 2];
const ids = [1, 2, 3];

interface Node {
  readonly id: number;
  readonly disk: FakeDisk;
  core: PartitionCore;
  readonly leaders: Map<number, number>;
  up: boolean;
}

class Cluster {
  readonly nodes = new Map<number, Node>();
  readonly replies = new Map<number, Uint8Array>();
  readonly errors = new Map<number, ErrorData>();
  readonly ops = new Map<number, KahunaOpValue>();
  /** Directed links that drop everything: `${from}>${to}`. */
  readonly cut = new Set<string>();
  private inbox: { from: number; to: number; batch: Uint8Array }[] = [];
  /** Snapshot messages delivered, by receiving node. */
  readonly snapshotsTo = new Map<number, number>();
  private nextId = 1;
  now = 1_800_000_000_000;
  /** Per-node wall clock offset in ms (clock skew between machines). */
  readonly skew = new Map<number, number>();

  /** Raft messages (plain and coalesced heartbeats) each node has sent. */
  readonly sent = new Map<number, number>();
  /** Per-node ticks its clock has passed that it has not run (the host's ticksDue). */
  readonly due = new Map<number, number>();

  constructor(readonly checkpointEntries = 1000, seed = 1, readonly reads?: ReadMode) {
    for (const id of ids) {
      const node: Node = { id, disk: new FakeDisk(), core: null as unknown as PartitionCore,
        leaders: new Map(), up: true };
      this.nodes.set(id, node);
      node.core = this.make(node, seed);
    }
  }

  make(node: Node, seed: number): PartitionCore {
    const prng = new SeededPrng(seed * 100 + node.id);
    return new PartitionCore({
      nodeId: node.id, voters: ids, checkpointEntries: this.checkpointEntries, epoch: this.now,
      ...(this.reads === undefined ? {} : { reads: this.reads }),
      ticksDue: () => this.due.get(node.id) ?? 0,
      newStore: (partition, persistent) => new KahunaState({ partition, nodeId: node.id,
        persistent }),
      prng: (p) => prng.fork(`p${p}`),
    }, partitions.map((p) => node.disk.restore(p)), {
      reply: (id, payload) => this.replies.set(id, payload),
      replyError: (id, error) => this.errors.set(id, error),
      persist: (partition, ops, token) => node.disk.pending.push({ partition, ops, token }),
      leaderChanged: (partition, leader) => node.leaders.set(partition, leader),
      sendRaft: (to, batch) => {
        const b = decodePeerBatch(batch);
        this.sent.set(node.id, (this.sent.get(node.id) ?? 0) + b.messages.length +
          b.heartbeats.length);
        this.inbox.push({ from: node.id, to, batch: batch.slice() });
      },
    });
  }

  /** One round: every up node processes, acks its disk, and messages are delivered. */
  step(): void {
    for (const node of this.nodes.values()) {
      if (!node.up) continue;
      node.core.process(this.clockOf(node));
      const batch = node.disk.pending;
      node.disk.pending = [];
      for (const b of batch) {
        node.disk.write(b.ops);
        if (b.token > 0) node.core.onPersisted(b.partition, b.token);
      }
      node.core.process(this.clockOf(node));
    }
    const inbox = this.inbox;
    this.inbox = [];
    for (const m of inbox) {
      const to = this.nodes.get(m.to)!;
      if (!to.up || this.cut.has(`${m.from}>${m.to}`)) continue;
      const snaps = decodePeerBatch(m.batch).messages.filter((x) => x.kind === MsgKind.Snap);
      if (snaps.length > 0) {
        this.snapshotsTo.set(m.to, (this.snapshotsTo.get(m.to) ?? 0) + snaps.length);
      }
      to.core.onRaft(m.batch);
    }
  }

  clockOf(node: Node): number {
    return this.now + (this.skew.get(node.id) ?? 0);
  }

  tick(): void {
    this.now += 100;
    for (const node of this.nodes.values()) if (node.up) node.core.tick();
  }

  /** Ticks and steps until `done` (or fails after `maxTicks`). */
  until(done: () => boolean, maxTicks = 200): void {
    for (let t = 0; t < maxTicks; t++) {
      for (let i = 0; i < 5; i++) this.step();
      if (done()) return;
      this.tick();
    }
    throw new Error('condition not reached');
  }

  leaderOf(partition: number): Node | undefined {
    return [...this.nodes.values()].find((n) => n.up && n.core.isLeader(partition));
  }

  electAll(): void {
    this.until(() => partitions.every((p) => this.leaderOf(p) !== undefined &&
      [...this.nodes.values()].filter((n) => n.up)
        .every((n) => n.core.leaderOf(p) === this.leaderOf(p)!.id)));
  }

  send(node: Node, partition: number, op: KahunaOpValue, req: unknown): number {
    const id = this.nextId++;
    this.ops.set(id, op);
    node.core.onRequest(id, partition, op, encode(opCodecs[op].request, req),
      this.clockOf(node));
    return id;
  }

  answer<T>(id: number): T | undefined {
    const bytes = this.replies.get(id);
    return bytes === undefined ? undefined : decode<T>(opCodecs[this.ops.get(id)!].response, bytes);
  }

  /** A persistent set through the current leader of the key's partition, answered. */
  set(partition: number, key: string, value: string): { type: number; revision: number } {
    const leader = this.leaderOf(partition)!;
    const id = this.send(leader, partition, KahunaOp.KvSet, setReq(key, value));
    this.until(() => this.replies.has(id) || this.errors.has(id), 50);
    const res = this.answer<{ type: number; revision: number }>(id);
    if (res === undefined) throw new Error(`set failed: ${JSON.stringify(this.errors.get(id))}`);
    return res;
  }

  hashes(partition: number): number[] {
    return [...this.nodes.values()].filter((n) => n.up).map((n) => n.core.stateHash(partition));
  }

  restart(id: number, seed = 2): void {
    const node = this.nodes.get(id)!;
    node.disk.pending = []; // unacknowledged writes are lost with the process
    node.leaders.clear();
    node.core = this.make(node, seed);
    node.up = true;
  }
}

function getReq(key: string) {
  return { ...tx, key, revision: -1, readTimestamp: zero, durability: 1 };
}

function setReq(key: string, value: string) {
  return { ...tx, key, value: new TextEncoder().encode(value), compareValue: null,
    compareRevision: 0, flags: 0, expiresMs: 0, durability: 1 };
}

describe('PartitionCore across three nodes', () => {
  it('elects one leader per partition that every node knows', () => {
    const c = new Cluster();
    c.electAll();
    for (const p of partitions) {
      const leader = c.leaderOf(p)!;
      for (const n of c.nodes.values()) expect(n.leaders.get(p)).toBe(leader.id);
    }
  });

  it('replicates writes to every replica and answers only on the leader', () => {
    const c = new Cluster();
    c.electAll();
    for (let i = 0; i < 20; i++) expect(c.set(1 + (i % 2), `k/${i}`, `v${i}`).type).toBe(0);
    c.until(() => partitions.every((p) => new Set(c.hashes(p)).size === 1));
    for (const p of partitions) expect(new Set(c.hashes(p)).size).toBe(1);
    // A follower refuses client requests: the main thread forwards them to the leader.
    const follower = [...c.nodes.values()].find((n) => !n.core.isLeader(1))!;
    const id = c.send(follower, 1, KahunaOp.KvSet, setReq('k/x', 'x'));
    expect(c.errors.get(id)?.code).toBe('HONU_ERR_MUST_RETRY');
  });

  it('elects a new leader when the old one is cut off, which then steps down', () => {
    const c = new Cluster();
    c.electAll();
    c.set(1, 'a/1', 'before');
    const old = c.leaderOf(1)!;
    for (const other of ids) {
      if (other === old.id) continue;
      c.cut.add(`${old.id}>${other}`).add(`${other}>${old.id}`);
    }
    c.until(() => [...c.nodes.values()].some((n) => n.id !== old.id && n.core.isLeader(1)));
    // check-quorum: the isolated leader stops leading within an election timeout or so
    c.until(() => !old.core.isLeader(1));
    // a write on the stale side is never answered as done
    const stale = c.send(old, 1, KahunaOp.KvSet, setReq('a/2', 'stale'));
    const fresh = c.set(1, 'a/3', 'after');
    expect(fresh.type).toBe(0);
    expect(c.replies.has(stale)).toBe(false);
    c.cut.clear();
    c.until(() => new Set(c.hashes(1)).size === 1);
    expect(old.core.isLeader(1) && c.leaderOf(1)!.id !== old.id).toBe(false);
  });

  it('stamps writes in log order across a leader transfer to a node whose clock is behind',
    () => {
      const c = new Cluster();
      c.electAll();
      const first = c.leaderOf(1)!;
      const next = ids.find((id) => id !== first.id)!;
      c.skew.set(first.id, 60_000); // the first leader's wall clock runs a minute ahead
      const before = c.set(1, 'a/1', 'one') as unknown as { lastModified: Hlc };
      // Handed over at once: the new leader has the entry but has not applied it yet (it
      // learns that commit with the next append or heartbeat), so its clock has not seen it.
      expect(first.core.transferLeader(1, next)).toBe(true);
      c.until(() => c.leaderOf(1)?.id === next, 5);
      const after = c.set(1, 'a/1', 'two') as unknown as { lastModified: Hlc; revision: number };
      expect(after.revision).toBe(1);
      expect(compareHlc(after.lastModified, before.lastModified)).toBe(1);
      c.until(() => new Set(c.hashes(1)).size === 1);
    });

  it.each([['lease', 0], ['read-index', 2]] as const)(
    'with --reads %s a read within the lease sends %i Raft messages', (reads, messages) => {
      const c = new Cluster(1000, 1, reads);
      c.electAll();
      c.set(1, 'a/1', 'one');
      const leader = c.leaderOf(1)!;
      const first = c.send(leader, 1, KahunaOp.KvGet, getReq('a/1'));
      c.until(() => c.replies.has(first), 5); // confirms leadership: the lease starts here
      const before = c.sent.get(leader.id) ?? 0;
      const second = c.send(leader, 1, KahunaOp.KvGet, getReq('a/1'));
      leader.core.process(c.now);
      if (reads === 'read-index') c.until(() => c.replies.has(second), 5);
      expect(c.answer<{ type: number }>(second)?.type).toBe(3); // Get
      expect((c.sent.get(leader.id) ?? 0) - before).toBe(messages); // a heartbeat per follower
    });

  it('serves no lease read its clock has outrun: a leader stalled after its tick catch-up',
    () => {
      const c = new Cluster(1000, 1, 'lease');
      c.electAll();
      c.set(1, 'a/1', 'one');
      const old = c.leaderOf(1)!;
      const first = c.send(old, 1, KahunaOp.KvGet, getReq('a/1'));
      c.until(() => c.replies.has(first), 5); // the lease starts
      // The old leader stalls (no ticks, no messages) while the others elect a new leader,
      // which commits a newer value.
      old.up = false;
      c.until(() => c.leaderOf(1) !== undefined, 100);
      c.set(1, 'a/1', 'two');
      // It resumes inside a turn whose tick catch-up ran before the stall: its group's tick
      // count still says the lease holds, its clock says 30 ticks have passed.
      old.up = true;
      c.due.set(old.id, 30);
      const read = c.send(old, 1, KahunaOp.KvGet, getReq('a/1'));
      old.core.process(c.now);
      expect(c.replies.has(read)).toBe(false); // without the check: 'one', a stale read
      // The next turn runs the due ticks first; the read then needs a heartbeat round, which
      // finds the new term: the old leader steps down and the read is refused.
      c.due.set(old.id, 0);
      for (let i = 0; i < 30; i++) old.core.tick();
      c.until(() => c.replies.has(read) || c.errors.has(read), 20);
      expect(c.replies.has(read)).toBe(false);
      expect(c.errors.get(read)?.code).toBe('HONU_ERR_MUST_RETRY');
    });

  it('trims the log below a checkpoint a little per flush; a restart finishes a trim', () => {
    const c = new Cluster(2500);
    c.electAll();
    const leader = c.leaderOf(1)!;
    const follower = [...c.nodes.values()].find((n) => n !== leader)!;
    const checkpointOf = (n: Node): number => {
      const cp = n.disk.kv.get(Buffer.from(checkpointKey(1)).toString('hex'));
      return cp === undefined ? 0 : decodeCheckpoint(cp).index;
    };
    const logIndexes = (n: Node): number[] => [...n.disk.kv.keys()]
      .map((k) => decodeKey(Buffer.from(k, 'hex')))
      .flatMap((k) => (k.kind === 'raftLog' && k.partition === 1 ? [k.logIndex] : []));
    // The most log entries one batch of a node's disk deletes (the trim is spread out).
    const widest = new Map<number, number>();
    for (const n of c.nodes.values()) {
      const write = n.disk.write.bind(n.disk);
      n.disk.write = (ops) => {
        let deletes = 0;
        for (const op of ops) {
          if (op.kind === 'deleteRange') deletes = Infinity; // the trim never enumerates
          else if (op.kind === 'delete' && decodeKey(op.key).kind === 'raftLog') deletes += 1;
        }
        widest.set(n.id, Math.max(widest.get(n.id) ?? 0, deletes));
        write(ops);
      };
    }
    let restartedWithRest = 0;
    for (let sent = 0; sent < 2700; sent += 100) {
      const ids = [];
      for (let i = 0; i < 100; i++) {
        ids.push(c.send(leader, 1, KahunaOp.KvSet, setReq(`t/${(sent + i) % 300}`, `v${sent}`)));
      }
      for (let s = 0; s < 50 && !ids.every((id) => c.replies.has(id)); s++) {
        c.step();
        const cp = checkpointOf(follower);
        if (restartedWithRest === 0 && cp > 0 && logIndexes(follower).some((i) => i <= cp)) {
          restartedWithRest = logIndexes(follower).filter((i) => i <= cp).length;
          c.restart(follower.id); // stops mid-trim: its disk holds entries below the checkpoint
        }
      }
      expect(ids.every((id) => c.replies.has(id))).toBe(true);
    }
    c.until(() => new Set(c.hashes(1)).size === 1);
    for (let t = 0; t < 3; t++) { // idle: the rest goes a chunk per tick
      c.tick();
      c.step();
    }
    expect(restartedWithRest).toBeGreaterThan(logTrimChunkEntries); // the trim was unfinished
    for (const n of c.nodes.values()) {
      const cp = checkpointOf(n);
      expect(cp).toBeGreaterThanOrEqual(2500);
      expect(logIndexes(n).filter((i) => i <= cp)).toEqual([]);
      expect(Math.min(...logIndexes(n))).toBe(cp + 1);
      expect(widest.get(n.id)).toBeLessThanOrEqual(logTrimChunkEntries);
    }
  });

  it('deletes a deposed leader\'s longer unreplicated tail from its disk', () => {
    const c = new Cluster();
    c.electAll();
    c.set(1, 'k/0', 'a');
    const old = c.leaderOf(1)!;
    for (const n of c.nodes.values()) {
      if (n === old) continue;
      c.cut.add(`${old.id}>${n.id}`);
      c.cut.add(`${n.id}>${old.id}`);
    }
    const stale = [0, 1, 2, 3, 4, 5, 6, 7]
      .map((i) => c.send(old, 1, KahunaOp.KvSet, setReq(`k/${i}`, 'stale')));
    for (let i = 0; i < 3; i++) c.step(); // on the old leader's disk, never committed
    const others = [...c.nodes.values()].filter((n) => n !== old);
    c.until(() => others.some((n) => n.core.isLeader(1)), 100);
    const next = others.find((n) => n.core.isLeader(1))!;
    const fresh = c.send(next, 1, KahunaOp.KvSet, setReq('k/1', 'new'));
    c.until(() => c.replies.has(fresh), 50);
    const log = (n: Node): Map<number, number> => new Map([...n.disk.kv.entries()]
      .filter(([k]) => {
        const d = decodeKey(Buffer.from(k, 'hex'));
        return d.kind === 'raftLog' && d.partition === 1;
      })
      .map(([, v]) => {
        const e = decodeEntry(v);
        return [e.index, e.term] as const;
      }));
    const staleLast = Math.max(...log(old).keys());
    expect(staleLast).toBeGreaterThan(Math.max(...log(next).keys())); // the longer tail
    c.cut.clear();
    c.until(() => new Set(c.hashes(1)).size === 1);
    expect(log(old)).toEqual(log(next)); // same indexes, same terms: nothing stale is left
    expect(stale.some((id) => c.replies.has(id))).toBe(false);
    c.restart(old.id);
    c.until(() => new Set(c.hashes(1)).size === 1);
  });

  it('restarts a node from its disk and catches it up', () => {
    const c = new Cluster();
    c.electAll();
    for (let i = 0; i < 10; i++) c.set(1, `r/${i}`, 'x');
    const victim = [...c.nodes.values()].find((n) => !n.core.isLeader(1))!;
    victim.up = false;
    for (let i = 10; i < 20; i++) c.set(1, `r/${i}`, 'y');
    c.restart(victim.id);
    c.until(() => new Set(c.hashes(1)).size === 1);
    expect(new Set(c.hashes(1)).size).toBe(1);
  });

  it('sends a snapshot to a follower whose missing entries were compacted', () => {
    const c = new Cluster(8); // checkpoint (and compact the log) every 8 applied entries
    c.electAll();
    const leader = c.leaderOf(1)!;
    const lagging = [...c.nodes.values()].find((n) => n.id !== leader.id)!;
    for (const other of ids) {
      if (other !== lagging.id) c.cut.add(`${other}>${lagging.id}`).add(`${lagging.id}>${other}`);
    }
    for (let i = 0; i < 40; i++) c.set(1, `s/${i}`, `v${i}`);
    // The lagging follower may have called elections meanwhile; pre-vote keeps terms stable.
    c.cut.clear();
    c.until(() => new Set(c.hashes(1)).size === 1, 300);
    expect(new Set(c.hashes(1)).size).toBe(1);
    expect(c.snapshotsTo.get(lagging.id) ?? 0).toBeGreaterThan(0);
    // Its disk holds the snapshot as a checkpoint: a restart rebuilds the same state.
    const hash = lagging.core.stateHash(1);
    c.restart(lagging.id, 5);
    expect(c.nodes.get(lagging.id)!.core.stateHash(1)).toBe(hash);
  });
});

describe('PartitionCore membership changes', () => {
  it('removes members down to one, which then leads alone (a removed leader hands over)', () => {
    const c = new Cluster();
    c.electAll();
    c.set(1, 'm/1', 'a');
    const change = (node: number, kind: 0 | 1 | 2, target: number): void => {
      const id = 10_000 + target * 10 + kind;
      c.nodes.get(node)!.core.proposeMembership(id, 1, kind, target, null);
      c.until(() => c.replies.has(id) || c.errors.has(id), 50);
      expect(c.errors.get(id)).toBeUndefined();
    };
    // 3 -> 2: remove a follower
    let leader = c.leaderOf(1)!;
    const follower = ids.find((n) => n !== leader.id)!;
    change(leader.id, 2, follower);
    c.nodes.get(follower)!.up = false;
    // 2 -> 1: the leader removes itself; the last voter must lead within a few election
    // timeouts
    leader = c.leaderOf(1)!;
    const last = ids.find((n) => n !== leader.id && n !== follower)!;
    change(leader.id, 2, leader.id);
    let ticks = 0;
    c.until(() => {
      ticks += 1;
      return c.nodes.get(last)!.core.isLeader(1);
    }, 100);
    expect(ticks).toBeLessThan(60);
    expect(c.nodes.get(last)!.core.membersOf(1)!.voters).toEqual([last]);
    expect(c.set(1, 'm/2', 'b').type).toBe(0);
  });
});
