// The partition host: one partition thread's glue, runnable in a worker thread
// (workers/partition-worker.ts) or on the main thread (--workers 0, src/main/inline-worker.ts).
// Restores its partitions from the writer, wires the rings to a PartitionCore
// (src/core/partition/partition-core.ts), owns the Raft tick timer and the loop (drain writer
// ring -> drain main ring -> one core turn -> one publish per ring). It never blocks: it waits
// with Doorbell.wait (Atomics.waitAsync), so its timers (and, inline, the main thread's event
// loop) keep running. The writer ring and doorbells are the same on a thread and inline; inline,
// client requests, replies and Raft batches between main and host are handed over as plain
// values (request, raft, env.outbox) instead of ring frames: the same order, no codec, no copy.
import { assert } from '../src/assert.js';
import { errorData, errorId, type ErrorData } from '../src/errors.js';
import { encodeClientReply, encodeRaftMessage, FrameReader, Body } from '../src/ipc/frames.js';
import type { ClientRequest } from '../src/ipc/frames.js';
import { LeaderTable } from '../src/ipc/leader-table.js';
import { Op } from '../src/ipc/ops.js';
import { isKahunaOp, type KahunaOpValue } from '../src/ipc/messages/kahuna.js';
import type { PartitionEvent, PartitionWorkerData } from '../src/ipc/partition-protocol.js';
import { Doorbell, RingConsumer, RingProducer } from '../src/ipc/ring.js';
import { WriterClient, type WriteOpInput } from '../src/ipc/writer-client.js';
import type { KeyValueData } from '../src/ipc/frames.js';
import {
  checkpointKey, decodeKey, hardStateKey, raftLogRange, stateKey, stateRange,
} from '../src/core/writer/keys.js';
import {
  PartitionState, PING_COUNTER_NAME, decodeU64, encodeU64,
} from '../src/core/partition/partition-state.js';
import { PartitionCore, type RestoredPartition } from '../src/core/partition/partition-core.js';
import {
  decodeCheckpoint, decodeEntry, decodeHardState,
} from '../src/core/partition/raft-records.js';
import { StateNamespace, type StateRecord } from '../src/core/state/kahuna-state.js';
import { KahunaState } from '../src/core/state/kahuna-state-impl.js';
import { SeededPrng } from '../src/core/raft/prng.js';
import {
  raftTickCatchUpMax, raftTickMs, threadIdleWaitMs, workerDrainFramesMax,
} from '../src/limits.js';

/** What the host needs from whoever runs it: the control path out, and how to end. */
export interface PartitionHostEnv {
  /** A control event for the supervisor (postMessage on a thread). */
  post(event: PartitionEvent): void;
  /** The host is done (0: shut down cleanly; 1: failed). A thread exits the process. */
  exit(code: number): void;
  /** Inline only: called after each publish to the main ring, so the main thread drains it
   *  at once instead of through its doorbell. */
  published?(): void;
  /** Inline only: replies and outgoing Raft batches go here instead of into the main ring. */
  outbox?: HostOutbox;
}

/** Inline only: what the host hands the main thread directly (no ring frame). */
export interface HostOutbox {
  reply(id: number, error: ErrorData | null, payload: Uint8Array): void;
  /** A Kahuna op's answer as its response object (CoreSink.replyValue). */
  replyValue(id: number, op: KahunaOpValue, value: unknown): void;
  raft(to: number, batch: Uint8Array): void;
}

/** Inline only: what the main thread handed the host, handled in its next round in this order. */
type InboxItem =
  | { readonly kind: 'request'; readonly id: number; readonly partition: number;
    readonly op: number; readonly payload: Uint8Array }
  | { readonly kind: 'raft'; readonly peer: number; readonly batch: Uint8Array | null };

function itemBytes(item: InboxItem): number {
  return item.kind === 'request' ? item.payload.length : item.batch?.length ?? 0;
}

export interface PartitionHost {
  /** Stop taking requests, finish what is in flight, post 'closed', then exit(0). */
  shutdown(): void;
  /** Stop at once (a crash, as far as the supervisor can tell); nothing more is posted. */
  terminate(): void;
  /** Inline only: run one round now (the main thread just published requests), instead of
   *  waiting for the doorbell's wake-up task. */
  poke(): void;
  /** Inline only: one client request (answered through env.outbox.reply), handled in the next
   *  round, in order with raft(). */
  request(id: number, partition: number, op: number, payload: Uint8Array): void;
  /** Inline only: a peer's encoded PeerBatch for this host, or with `batch` null the news that
   *  `peer` is unreachable. */
  raft(peer: number, batch: Uint8Array | null): void;
  /** Inline only: payload bytes handed over and not yet handled (the supervisor bounds it as
   *  a worker's ring is bounded). */
  queuedBytes(): number;
}

export function startPartitionHost(data: PartitionWorkerData,
  env: PartitionHostEnv): PartitionHost {
  const doorbell = new Doorbell(data.ownDoorbell);
  const fromMain = new RingConsumer(data.fromMain);
  const toMain = new RingProducer(data.toMain, data.mainDoorbell);
  const fromWriter = new RingConsumer(data.fromWriter);
  /** Per partition: (writer sequence, core token) of each batch not yet acknowledged. */
  const tokens = new Map<number, [bigint, number][]>();
  const writer = new WriterClient(new RingProducer(data.toWriter, data.writerDoorbell),
    { onAck });
  const leaders = new LeaderTable(data.leaderTable);
  const reader = new FrameReader();
  const pings = new Map<number, PartitionState>();
  const empty = new Uint8Array(0);
  const pingCounterKey = new TextEncoder().encode(PING_COUNTER_NAME);
  const outbox = env.outbox;
  let inbox: InboxItem[] = [];
  let inboxBytes = 0;

  let core: PartitionCore | null = null;
  let stopping = false;
  let inflight = 0;
  let publishScheduled = false;
  let readyPosted = false;
  /** Set by fail() and terminate(): the host does nothing more. */
  let dead = false;

  function post(event: PartitionEvent): void {
    if (!dead) env.post(event);
  }

  function publishReplies(): void {
    publishScheduled = false;
    publishToMain();
  }

  function publishToMain(): void {
    toMain.publish();
    env.published?.();
  }

  /** Replies written in one turn (or one microtask checkpoint) share one publish. */
  function schedulePublish(): void {
    if (publishScheduled) return;
    publishScheduled = true;
    queueMicrotask(publishReplies);
  }

  function reply(id: number, error: ErrorData | null, payload: Uint8Array): void {
    if (outbox !== undefined) {
      if (!dead) outbox.reply(id, error, payload);
      return;
    }
    const frame = encodeClientReply({
      id, code: error === null ? 0 : errorId(error.code), detail: error?.detail ?? '', payload,
    });
    if (toMain.tryWrite(frame)) {
      schedulePublish();
      return;
    }
    // The main ring is full: wait for space (write() copies and keeps order), never drop.
    toMain.write(frame).then(schedulePublish, (e: unknown) => fail(`reply lost: ${String(e)}`));
  }

  /** Raft traffic to the main thread's peer transport. Never dropped here: a full ring waits. */
  function sendRaft(to: number, batch: Uint8Array): void {
    if (outbox !== undefined) {
      if (!dead) outbox.raft(to, batch);
      return;
    }
    const frame = encodeRaftMessage({ peer: to, data: batch, unreachable: false });
    if (toMain.tryWrite(frame)) {
      schedulePublish();
      return;
    }
    toMain.write(frame).then(schedulePublish,
      (e: unknown) => fail(`raft batch lost: ${String(e)}`));
  }

  function asErrorData(e: unknown): ErrorData {
    if (typeof e === 'object' && e !== null && 'code' in e && 'detail' in e) return e as ErrorData;
    return errorData('HONU_ERR_INTERNAL', String(e));
  }

  /** The writer acknowledged (or failed) a batch: hand the core its tokens, in order. */
  function onAck(partition: number, sequence: bigint, error: ErrorData | null): void {
    const queue = tokens.get(partition);
    if (error !== null) {
      // The writer posts fatal and exits; the supervisor restarts every worker from disk.
      core?.failAll(`the write failed: ${error.detail}`);
      return;
    }
    while (queue !== undefined && queue.length > 0 && queue[0]![0] <= sequence) {
      const [, token] = queue.shift()!;
      if (token > 0) core?.onPersisted(partition, token);
    }
  }

  function persist(partition: number, ops: WriteOpInput[], token: number): void {
    const before = writer.lastSequence(partition);
    writer.persist(partition, ops).catch(() => {
      // Reported through onAck (a failed write) or failAll (the writer went away).
    });
    if (writer.lastSequence(partition) === before) {
      // Refused before it was sent (too much pending, or the batch does not fit a frame).
      core?.failAll('the writer refused a batch');
      return fail('the writer refused a persist batch');
    }
    let queue = tokens.get(partition);
    if (queue === undefined) tokens.set(partition, queue = []);
    queue.push([writer.lastSequence(partition), token]);
  }

  function onPingDurable(id: number, state: PartitionState): void {
    const value = state.nextPing();
    inflight += 1;
    const key = stateKey(state.partition, StateNamespace.Meta, pingCounterKey);
    writer.persist(state.partition, [{ kind: 'put', key, value: encodeU64(value) }]).then(
      () => {
        state.applyPing(value);
        reply(id, null, encodeU64(value));
      },
      (e: unknown) => reply(id, asErrorData(e), empty),
    ).finally(() => {
      inflight -= 1;
    });
  }

  function onRequest(id: number, partition: number, op: number, payload: Uint8Array): void {
    if (stopping) return reply(id, errorData('HONU_ERR_SHUTTING_DOWN'), empty);
    if (isKahunaOp(op) && core !== null) {
      return core.onRequest(id, partition, op, payload, Date.now());
    }
    const state = pings.get(partition);
    if (state === undefined || core === null) {
      return reply(id, errorData('HONU_ERR_MUST_RETRY', `partition ${partition} not here`), empty);
    }
    switch (op) {
      case Op.Ping: return reply(id, null, payload);
      case Op.PingDurable: return onPingDurable(id, state);
      case Op.SnapshotBytes: return reply(id, null, state.snapshotBytes());
      case Op.ConfChange: {
        const p = payload;
        if (p.length < 5 || p[0]! > 2) {
          return reply(id, errorData('HONU_ERR_INVALID_INPUT', 'bad membership change'), empty);
        }
        const node = new DataView(p.buffer, p.byteOffset, 5).getUint32(1, true);
        const context = p.length > 5 ? p.slice(5) : null;
        return core.proposeMembership(id, partition, p[0] as 0 | 1 | 2, node, context);
      }
      case Op.TransferLeader: {
        const to = payload;
        const target = to.length === 4
          ? new DataView(to.buffer, to.byteOffset, 4).getUint32(0, true) : 0;
        const started = core.transferLeader(partition, target);
        return reply(id, null, Uint8Array.of(started ? 1 : 0));
      }
      default: return reply(id, errorData('HONU_ERR_INVALID_INPUT', `bad op ${op}`), empty);
    }
  }

  function onMainFrame(frame: Uint8Array): void {
    const decoded = reader.read(frame);
    if (decoded.kind === Body.RaftMessage) {
      const m = decoded.body;
      if (m.unreachable()) core?.reportUnreachable(m.peer());
      else core?.onRaft(m.dataArray() ?? empty);
      return;
    }
    assert(decoded.kind === Body.ClientRequest, 'main ring carries ClientRequest frames');
    const req: ClientRequest = decoded.body;
    onRequest(req.id(), req.partition(), req.op(), req.payloadArray() ?? empty);
  }

  function handOver(item: InboxItem): void {
    if (dead) return;
    inbox.push(item);
    inboxBytes += itemBytes(item);
  }

  /** Inline: up to workerDrainFramesMax handed-over items, in the order they came. */
  function drainInbox(): void {
    if (inbox.length === 0) return;
    let items = inbox;
    if (items.length > workerDrainFramesMax) {
      inbox = items.slice(workerDrainFramesMax);
      items = items.slice(0, workerDrainFramesMax);
    } else {
      inbox = [];
    }
    for (const item of items) {
      if (dead) return;
      inboxBytes -= itemBytes(item);
      if (item.kind === 'request') onRequest(item.id, item.partition, item.op, item.payload);
      else if (item.batch === null) core?.reportUnreachable(item.peer);
      else core?.onRaft(item.batch);
    }
  }

  function onWriterFrame(frame: Uint8Array): void {
    const handled = writer.handleFrame(frame);
    assert(handled, 'writer ring carries PersistAck and ReadReply frames');
  }

  function hasWork(): boolean {
    return inbox.length > 0 || fromMain.hasData() || fromWriter.hasData();
  }

  /** Every key of [start, end) from the writer, following `more` across pages. */
  async function readAll(start: Uint8Array, end: Uint8Array | null): Promise<KeyValueData[]> {
    const out: KeyValueData[] = [];
    let from = start;
    for (;;) {
      const page = writer.range(from, end);
      writer.flush();
      const result = await page;
      out.push(...result.entries);
      const last = result.entries[result.entries.length - 1];
      if (!result.more || last === undefined) return out;
      from = Uint8Array.of(...last.key, 0); // the smallest key after `last`
    }
  }

  async function restorePartition(partition: number): Promise<RestoredPartition> {
    const hs = writer.get(hardStateKey(partition));
    const cp = writer.get(checkpointKey(partition));
    writer.flush();
    const [hsBytes, cpBytes] = await Promise.all([hs, cp]);
    const checkpoint = cpBytes === undefined ? null : decodeCheckpoint(cpBytes);
    const records: StateRecord[] = [];
    const range = stateRange(partition);
    for (const kv of await readAll(range.start, range.end)) {
      const key = decodeKey(kv.key);
      assert(key.kind === 'state', 'state range holds state keys');
      if (key.namespace === StateNamespace.Meta) continue;
      records.push({ namespace: key.namespace, key: key.userKey, value: kv.value });
    }
    const log = raftLogRange(partition, (checkpoint?.index ?? 0) + 1);
    const entries = (await readAll(log.start, log.end)).map((kv) => decodeEntry(kv.value));
    const wholeLog = raftLogRange(partition);
    const firstPage = writer.range(wholeLog.start, wholeLog.end, 1);
    writer.flush();
    const first = (await firstPage).entries[0];
    const firstKey = first === undefined ? null : decodeKey(first.key);
    const logStart = firstKey?.kind === 'raftLog' ? firstKey.logIndex : null;
    const pingBytes = await writer.get(stateKey(partition, StateNamespace.Meta, pingCounterKey));
    const ping = new PartitionState(partition);
    ping.restore(pingBytes === undefined ? 0n : decodeU64(pingBytes));
    pings.set(partition, ping);
    return { partition, hardState: hsBytes === undefined ? null : decodeHardState(hsBytes),
      checkpoint, records, entries, logStart };
  }

  async function restore(): Promise<void> {
    const restored = await Promise.all(data.partitions.map(restorePartition));
    const prng = new SeededPrng(data.nodeId * 1_000_003 + data.workerIndex);
    core = new PartitionCore({
      nodeId: data.nodeId, voters: data.voters, epoch: Date.now(),
      newStore: (partition, persistent) => new KahunaState({ partition, nodeId: data.nodeId,
        persistent }),
      prng: (partition) => prng.fork(`raft-${partition}`),
      checkpointEntries: data.checkpointEntries, reads: data.reads, ticksDue,
    }, restored, {
      reply: (id, payload) => reply(id, null, payload),
      ...(outbox === undefined ? {} : {
        replyValue: (id: number, op: KahunaOpValue, value: unknown) => {
          if (!dead) outbox.replyValue(id, op, value);
        },
      }),
      replyError: (id, error) => reply(id, error, empty),
      persist,
      leaderChanged: (partition, leader, term) => {
        if (leader === 0) leaders.clear(partition);
        else leaders.publish(partition, leader, term);
      },
      sendRaft,
      snapshotInstalled: (partition, index) => post({ type: 'snapshot', partition, index }),
      membersChanged: (partition, conf, changes, context) => post({
        type: 'members', partition, voters: [...conf.voters], learners: [...conf.learners],
        changes: changes.map((c) => ({ kind: c.kind, node: c.node })),
        address: context === null ? null : new TextDecoder().decode(context),
      }),
    });
    // The restored membership of each partition (the log replay posts later changes).
    for (const p of data.partitions) {
      const conf = core.membersOf(p);
      if (conf !== null) {
        post({ type: 'members', partition: p, voters: [...conf.voters],
          learners: [...conf.learners], changes: [], address: null });
      }
    }
    tickBase = performance.now(); // the core's ticks count from its creation
    ticked = 0;
    core.campaignAll();
    turn();
  }

  // Raft ticks follow the monotonic clock, not the timer's count: a timer that fires late (a
  // busy loop, a GC pause, SIGSTOP) does not fire the missed ticks, and the leader lease
  // (src/core/partition/raft-config.ts) is counted in ticks, so a stalled leader would believe
  // it still held a lease that had run out. Every round and turn catches up before it steps
  // anything.
  let tickBase = performance.now();
  let ticked = 0;

  /** Ticks the monotonic clock has passed that the core has not run. */
  function ticksDue(): number {
    return Math.max(0, Math.floor((performance.now() - tickBase) / raftTickMs) - ticked);
  }

  function catchUpTicks(): void {
    if (core === null) return;
    const due = ticksDue();
    if (due <= 0) return;
    ticked += due; // beyond raftTickCatchUpMax every timer has expired: the rest are dropped
    for (let i = Math.min(due, raftTickCatchUpMax); i > 0; i--) core.tick();
  }

  /** One core turn: Readys, applies, replies; then one publish per ring. */
  function turn(): void {
    if (core === null) return;
    catchUpTicks();
    core.process(Date.now());
    writer.flush();
    // A single node is ready once it leads every partition (at once: it is the only voter). In a
    // cluster the worker is ready when restored: elections need peers, which may not be up yet;
    // the node reports readiness (health) from the leader table.
    const alone = data.voters.length === 1;
    if (!readyPosted && (!alone || data.partitions.every((p) => core!.isLeader(p)))) {
      readyPosted = true;
      post({ type: 'ready', restoredPartitions: data.partitions.length });
    }
  }

  async function loop(): Promise<void> {
    for (;;) {
      if (dead) return;
      if (stopping && inflight === 0 && writer.pendingCount() === 0) break;
      await doorbell.wait(hasWork, threadIdleWaitMs);
      round();
    }
    core?.failAll('the node is shutting down');
    publishToMain();
    post({ type: 'closed' });
  }

  /** One round of the loop: both rings drained, one core turn, one publish to main. */
  function round(): void {
    catchUpTicks(); // before any Raft message is stepped (a commit may confirm a lease read)
    fromWriter.drain(onWriterFrame);
    fromMain.drain(onMainFrame, workerDrainFramesMax);
    drainInbox();
    turn();
    publishToMain();
  }

  const ticker = setInterval(() => {
    if (dead) return;
    try {
      turn(); // its catch-up runs the tick
    } catch (e) {
      fail(String(e));
    }
  }, raftTickMs);
  ticker.unref();

  const looping = loop();
  restore().catch((e: unknown) => fail(String(e)));
  looping.then(() => finish(0), (e: unknown) => fail(String(e)));

  function finish(code: number): void {
    if (dead) return;
    dead = true;
    clearInterval(ticker);
    env.exit(code);
  }

  function fail(detail: string): void {
    if (dead) return;
    post({ type: 'fatal', code: 'HONU_ERR_INTERNAL', detail });
    finish(1);
  }

  return {
    shutdown(): void {
      if (dead || stopping) return;
      stopping = true;
      core?.checkpointAll(); // a faster restart: less log to replay
      writer.flush();
      doorbell.ring();
    },
    poke(): void {
      if (dead) return;
      try {
        round();
      } catch (e) {
        fail(String(e));
      }
    },
    request(id: number, partition: number, op: number, payload: Uint8Array): void {
      handOver({ kind: 'request', id, partition, op, payload });
    },
    raft(peer: number, batch: Uint8Array | null): void {
      handOver({ kind: 'raft', peer, batch });
    },
    queuedBytes(): number {
      return inboxBytes;
    },
    terminate(): void {
      if (dead) return;
      dead = true;
      inbox = [];
      inboxBytes = 0;
      stopping = true;
      clearInterval(ticker);
      core = null;
      doorbell.ring();
    },
  };
}
