// PartitionCore (issue 4) with an in-memory stand-in for the writer: replies wait for the
// persist ack, reads see applied writes, ephemeral state never reaches the writer, and a
// restart from what the writer holds (checkpoint + the log after it) rebuilds the same state.
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/ipc/messages/codec.js';
import { KahunaOp, type KahunaOpValue, opCodecs } from '../../src/ipc/messages/kahuna.js';
import type { ErrorData } from '../../src/errors.js';
import { PartitionCore } from '../../src/core/partition/partition-core.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { KahunaState } from '../../src/core/state/kahuna-state-impl.js';
import { FakeDisk } from '../helpers/fake-disk.js';

const zero = { n: 0, l: 0, c: 0 };
const tx = { txId: zero, coordinatorKey: '', operationIdHigh: 0, operationIdLow: 0 };

class Harness {
  readonly replies = new Map<number, Uint8Array>();
  readonly errors = new Map<number, ErrorData>();
  readonly ops = new Map<number, KahunaOpValue>();
  core: PartitionCore;
  private nextId = 1;
  now = 1_800_000_000_000;

  constructor(readonly disk: FakeDisk, checkpointEntries = 1000) {
    this.core = this.make(checkpointEntries);
  }

  make(checkpointEntries: number): PartitionCore {
    const prng = new SeededPrng(7);
    return new PartitionCore({ nodeId: 1, voters: [1], checkpointEntries,
      newStore: (partition, persistent) => new KahunaState({ partition, nodeId: 1, persistent }),
      prng: (p) => prng.fork(`p${p}`) }, [this.disk.restore(1)], {
      reply: (id, payload) => this.replies.set(id, payload),
      replyError: (id, error) => this.errors.set(id, error),
      persist: (partition, ops, token) => {
        this.disk.pending.push({ partition, ops, token });
        this.disk.batches += 1;
      },
      leaderChanged: () => {},
      sendRaft: () => {},
    });
  }

  /** Acks every pending batch (in order) and runs turns until nothing moves. */
  settle(): void {
    for (let i = 0; i < 100; i++) {
      this.core.process(this.now);
      if (this.disk.pending.length === 0) return;
      const batch = this.disk.pending;
      this.disk.pending = [];
      for (const b of batch) {
        this.disk.write(b.ops);
        if (b.token > 0) this.core.onPersisted(b.partition, b.token);
      }
    }
    throw new Error('never settled');
  }

  send(op: KahunaOpValue, req: unknown): number {
    const id = this.nextId++;
    this.ops.set(id, op);
    this.core.onRequest(id, 1, op, encode(opCodecs[op].request, req), this.now);
    return id;
  }

  answer<T>(id: number): T {
    const bytes = this.replies.get(id);
    if (bytes === undefined) throw new Error(`no reply for ${id}: ${JSON.stringify(this.errors.get(id))}`);
    return decode<T>(opCodecs[this.ops.get(id)!].response, bytes);
  }

  call<T>(op: KahunaOpValue, req: unknown): T {
    const id = this.send(op, req);
    this.settle();
    return this.answer<T>(id);
  }
}

function setReq(key: string, value: string, durability = 1) {
  return { ...tx, key, value: new TextEncoder().encode(value), compareValue: null,
    compareRevision: 0, flags: 1, expiresMs: 0, durability };
}

function getReq(key: string, durability = 1) {
  return { ...tx, key, revision: -1, readTimestamp: zero, durability };
}

describe('PartitionCore', () => {
  it('answers MustRetry until the partition has elected itself', () => {
    const h = new Harness(new FakeDisk());
    const id = h.send(KahunaOp.KvSet, setReq('a/1', 'x'));
    expect(h.errors.get(id)?.code).toBe('HONU_ERR_MUST_RETRY');
    h.core.campaignAll();
    h.settle();
    expect(h.core.isLeader(1)).toBe(true);
  });

  it('replies to a persistent write only after the writer acked it', () => {
    const h = new Harness(new FakeDisk());
    h.core.campaignAll();
    h.settle();
    const id = h.send(KahunaOp.KvSet, setReq('a/1', 'x'));
    h.core.process(h.now);
    expect(h.replies.has(id)).toBe(false);
    expect(h.disk.pending.length).toBeGreaterThan(0);
    h.settle();
    expect(h.answer<{ type: number; revision: number }>(id)).toMatchObject({ type: 0, revision: 0 });
    const got = h.call<{ type: number; value: Uint8Array }>(KahunaOp.KvGet, getReq('a/1'));
    expect(got.type).toBe(3);
    expect(new TextDecoder().decode(got.value)).toBe('x');
  });

  it('a Ready that writes nothing never acknowledges an earlier write still at the writer',
    () => {
      const h = new Harness(new FakeDisk());
      h.core.campaignAll();
      h.settle();
      const set = h.send(KahunaOp.KvSet, setReq('a/2', 'x'));
      h.core.process(h.now); // the entry's Ready goes to the writer and stays there
      const get = h.send(KahunaOp.KvGet, getReq('a/2'));
      h.send(KahunaOp.KvSet, setReq('e/2', 'y', 0));
      for (let i = 0; i < 5; i++) h.core.process(h.now); // ReadIndex and empty Readys
      expect(h.replies.has(set)).toBe(false);
      // The read is served at the commit index, which the unacknowledged write has not
      // reached: it sees the key missing (linearizable: the write has not completed).
      expect(h.answer<{ type: number }>(get).type).toBe(103);
      h.settle();
      expect(h.answer<{ type: number }>(set).type).toBe(0);
      expect(h.call<{ type: number }>(KahunaOp.KvGet, getReq('a/2')).type).toBe(3);
    });

  it('keeps ephemeral state in memory only', () => {
    const h = new Harness(new FakeDisk());
    h.core.campaignAll();
    h.settle();
    const before = h.disk.batches;
    const id = h.send(KahunaOp.KvSet, setReq('e/1', 'y', 0));
    expect(h.answer<{ type: number }>(id).type).toBe(0);
    h.settle();
    expect(h.disk.batches).toBe(before);
    expect(h.call<{ type: number }>(KahunaOp.KvGet, getReq('e/1', 0)).type).toBe(3);
    expect(h.call<{ type: number }>(KahunaOp.KvGet, getReq('e/1', 1)).type).toBe(103);
  });

  it('restores from checkpoint plus log tail: same state, next token and revision continue', () => {
    const disk = new FakeDisk();
    const h = new Harness(disk, 10);
    h.core.campaignAll();
    h.settle();
    for (let i = 0; i < 25; i++) h.call(KahunaOp.KvSet, setReq(`k/${i % 7}`, `v${i}`));
    const lock = { resource: 'r', owner: Uint8Array.of(1), expiresMs: 60_000, durability: 1 };
    expect(h.call<{ fencingToken: number }>(KahunaOp.TryLock, lock).fencingToken).toBe(0);
    h.call(KahunaOp.Unlock, { resource: 'r', owner: Uint8Array.of(1), durability: 1 });
    const hash = h.core.stateHash(1);
    const restored = disk.restore(1);
    expect(restored.checkpoint?.index).toBeGreaterThanOrEqual(20);
    expect(restored.entries.every((e) => e.index > restored.checkpoint!.index)).toBe(true);
    const again = new Harness(disk, 10);
    again.core.campaignAll();
    again.settle();
    expect(again.core.stateHash(1)).toBe(hash);
    const got = again.call<{ type: number; revision: number }>(KahunaOp.KvGet, getReq('k/3'));
    expect(got).toMatchObject({ type: 3, revision: 3 });
    expect(again.call<{ fencingToken: number }>(KahunaOp.TryLock, lock).fencingToken).toBe(1);
  });
});
