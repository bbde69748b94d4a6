// Transaction state through a PartitionCore (in-memory writer): tx writes go through Raft and
// the writer, TxDecide is persistent though it names no durability, and a restart from the
// checkpoint plus the log tail rebuilds the locks, intents and decisions (StateNamespace.Tx).
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { TxDecision, TxMutationKind } from '../../src/core/api/tx-types.js';
import { PartitionCore } from '../../src/core/partition/partition-core.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { KahunaState } from '../../src/core/state/kahuna-state-impl.js';
import { decode, encode } from '../../src/ipc/messages/codec.js';
import { KahunaOp, type KahunaOpValue, opCodecs } from '../../src/ipc/messages/kahuna.js';
import { FakeDisk } from '../helpers/fake-disk.js';

const zero = { n: 0, l: 0, c: 0 };
const T1 = { n: 5, l: 1_700_000_000_001, c: 1 };
const T2 = { n: 5, l: 1_700_000_000_002, c: 2 };
const nowMs = 1_800_000_000_000;

/** One single-voter partition 1 over `disk`, elected and settled. */
function start(disk: FakeDisk, checkpointEntries: number) {
  const replies = new Map<number, Uint8Array>();
  const prng = new SeededPrng(3);
  const core = new PartitionCore({ nodeId: 1, voters: [1], checkpointEntries,
    newStore: (partition, persistent) => new KahunaState({ partition, nodeId: 1, persistent }),
    prng: (p) => prng.fork(`p${p}`) }, [disk.restore(1)], {
    reply: (id, payload) => replies.set(id, payload),
    replyError: (id, error) => { throw new Error(`request ${id}: ${error.code}`); },
    persist: (partition, ops, token) => {
      disk.pending.push({ partition, ops, token });
      disk.batches += 1;
    },
    leaderChanged: () => {},
    sendRaft: () => {},
  });
  const settle = () => {
    for (let i = 0; i < 100; i++) {
      core.process(nowMs);
      if (disk.pending.length === 0) return;
      const batch = disk.pending;
      disk.pending = [];
      for (const b of batch) {
        disk.write(b.ops);
        if (b.token > 0) core.onPersisted(b.partition, b.token);
      }
    }
    throw new Error('never settled');
  };
  let nextId = 1;
  const call = <T>(op: KahunaOpValue, req: unknown): T => {
    const id = nextId++;
    core.onRequest(id, 1, op, encode(opCodecs[op].request, req), nowMs);
    settle();
    const bytes = replies.get(id);
    if (bytes === undefined) throw new Error(`no reply to ${id}`);
    return decode<T>(opCodecs[op].response, bytes);
  };
  core.campaignAll();
  settle();
  return { core, call };
}

type Typed = { type: number };

const lock = (txId: typeof T1, key: string, prefix = false) =>
  ({ txId, key, expiresMs: 60_000, durability: 1, prefix });
const prepare = (txId: typeof T1, key: string) => ({ txId, durability: 1, onePhase: false,
  anchorKey: key, decisionTimeoutMs: 0, recordDecision: false, reads: [], wounded: [],
  commitTs: { n: 0, l: 0, c: 0 },
  mutations: [{ key, kind: TxMutationKind.Set, value: Uint8Array.of(7), flags: 1, expiresMs: 0,
    baseRevision: -1 }] });

describe('transactions in a partition', () => {
  it('survive a restart from checkpoint plus log', () => {
    const disk = new FakeDisk();
    const a = start(disk, 4);
    expect(a.call<Typed>(KahunaOp.TxLock, lock(T1, 'a/1')).type).toBe(KvType.Locked);
    expect(a.call<Typed>(KahunaOp.TxLock, lock(T1, 'b', true)).type).toBe(KvType.Locked);
    for (let i = 0; i < 5; i++) a.call(KahunaOp.TxLock, lock(T2, `c/${i}`)); // past a checkpoint
    expect(a.call<Typed>(KahunaOp.TxPrepare, prepare(T1, 'a/1')).type).toBe(KvType.Prepared);
    expect(a.call<{ decision: number }>(KahunaOp.TxDecide,
      { txId: T2, anchorKey: 'c/0', decision: TxDecision.Abort }).decision).toBe(2);
    const hash = a.core.stateHash(1);
    expect(disk.restore(1).records.some((r) => r.namespace === 4)).toBe(true);

    const b = start(disk, 4);
    expect(b.core.stateHash(1)).toBe(hash);
    expect(b.call(KahunaOp.TxLock, lock(T2, 'a/1'))).toEqual({
      type: KvType.AlreadyLocked, holder: T1 });
    expect(b.call<Typed>(KahunaOp.TxLock, lock(T2, 'b/q')).type).toBe(KvType.AlreadyLocked);
    expect(b.call<{ decision: number }>(KahunaOp.TxDecide,
      { txId: T2, anchorKey: 'c/0', decision: TxDecision.Commit }).decision).toBe(2);
    const pending = b.call<{ items: { txId: typeof T1 }[] }>(KahunaOp.TxPending,
      { durability: 1, limit: 10 });
    expect(pending.items.map((i) => i.txId)).toEqual([T1]);
    expect(b.call<Typed>(KahunaOp.TxFinish,
      { txId: T1, durability: 1, commit: true, commitTs: { n: 0, l: 0, c: 0 } }).type)
      .toBe(KvType.Committed);
    const read = b.call<{ type: number; lastRevision: number }>(KahunaOp.TxRead,
      { txId: T2, key: 'a/1', revision: -1, readTimestamp: zero, durability: 1 });
    expect(read).toMatchObject({ type: KvType.Get, lastRevision: 0 });
  });

  it('keeps ephemeral tx state off the disk', () => {
    const disk = new FakeDisk();
    const a = start(disk, 1000);
    const before = disk.batches;
    expect(a.call<Typed>(KahunaOp.TxLock, { ...lock(T1, 'e/1'), durability: 0 }).type)
      .toBe(KvType.Locked);
    expect(disk.batches).toBe(before);
    expect(a.call<Typed>(KahunaOp.TxLock, { ...lock(T2, 'e/1'), durability: 0 }).type)
      .toBe(KvType.AlreadyLocked);
    expect(a.call<Typed>(KahunaOp.TxLock, lock(T2, 'e/1')).type).toBe(KvType.Locked);
  });
});
