// Partition worker thread: glue only. Wires the rings to the partitions' state, owns the loop
// (drain main ring -> handle requests -> drain writer ring -> one publish per ring per turn).
// It never blocks: it waits with Doorbell.wait (Atomics.waitAsync), so its timers keep running.
import { parentPort, workerData } from 'node:worker_threads';
import { assert } from '../src/assert.js';
import { errorData, errorId, type ErrorData } from '../src/errors.js';
import { encodeClientReply, FrameReader, Body } from '../src/ipc/frames.js';
import type { ClientRequest } from '../src/ipc/frames.js';
import { LeaderTable } from '../src/ipc/leader-table.js';
import { Op, isOpKind } from '../src/ipc/ops.js';
import type { PartitionEvent, PartitionWorkerData } from '../src/ipc/partition-protocol.js';
import { Doorbell, RingConsumer, RingProducer } from '../src/ipc/ring.js';
import { WriterClient } from '../src/ipc/writer-client.js';
import { stateKey } from '../src/core/writer/keys.js';
import {
  PartitionState, PING_COUNTER_NAME, decodeU64, encodeU64,
} from '../src/core/partition/partition-state.js';
import { threadIdleWaitMs, workerDrainFramesMax } from '../src/limits.js';

assert(parentPort !== null, 'partition-worker runs as a worker thread');
const port = parentPort;
const data = workerData as PartitionWorkerData;
const doorbell = new Doorbell(data.ownDoorbell);
const fromMain = new RingConsumer(data.fromMain);
const toMain = new RingProducer(data.toMain, data.mainDoorbell);
const fromWriter = new RingConsumer(data.fromWriter);
const writer = new WriterClient(new RingProducer(data.toWriter, data.writerDoorbell));
const leaders = new LeaderTable(data.leaderTable);
const reader = new FrameReader();
const states = new Map<number, PartitionState>();
const empty = new Uint8Array(0);
/** Namespace byte of partition metadata in the materialized state (keys.ts stateKey). */
const metaNamespace = 0;
const pingCounterKey = new TextEncoder().encode(PING_COUNTER_NAME);

let stopping = false;
let inflight = 0;
let publishScheduled = false;

function post(event: PartitionEvent): void {
  port.postMessage(event);
}

function publishReplies(): void {
  publishScheduled = false;
  toMain.publish();
}

/** Replies written in one turn (or one microtask checkpoint) share one publish. */
function schedulePublish(): void {
  if (publishScheduled) return;
  publishScheduled = true;
  queueMicrotask(publishReplies);
}

function reply(id: number, error: ErrorData | null, payload: Uint8Array): void {
  const frame = encodeClientReply({
    id, code: error === null ? 0 : errorId(error.code), detail: error?.detail ?? '', payload,
  });
  if (toMain.tryWrite(frame)) {
    schedulePublish();
    return;
  }
  // The main ring is full: wait for space (write() copies and keeps order), never drop.
  toMain.write(frame).then(schedulePublish, (e: unknown) => {
    post({ type: 'fatal', code: 'HONU_ERR_INTERNAL', detail: `reply lost: ${String(e)}` });
    process.exit(1);
  });
}

function asErrorData(e: unknown): ErrorData {
  if (typeof e === 'object' && e !== null && 'code' in e && 'detail' in e) return e as ErrorData;
  return errorData('HONU_ERR_INTERNAL', String(e));
}

function onPingDurable(id: number, state: PartitionState): void {
  const value = state.nextPing();
  inflight += 1;
  const key = stateKey(state.partition, metaNamespace, pingCounterKey);
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

function onRequest(req: ClientRequest): void {
  const id = req.id();
  if (stopping) return reply(id, errorData('HONU_ERR_SHUTTING_DOWN'), empty);
  const state = states.get(req.partition());
  if (state === undefined) {
    return reply(id, errorData('HONU_ERR_MUST_RETRY', `partition ${req.partition()} not here`),
      empty);
  }
  const op = req.op();
  if (!isOpKind(op)) return reply(id, errorData('HONU_ERR_INVALID_INPUT', `bad op ${op}`), empty);
  switch (op) {
    case Op.Ping: return reply(id, null, req.payloadArray() ?? empty);
    case Op.PingDurable: return onPingDurable(id, state);
    case Op.SnapshotBytes: return reply(id, null, state.snapshotBytes());
  }
}

function onMainFrame(frame: Uint8Array): void {
  const decoded = reader.read(frame);
  assert(decoded.kind === Body.ClientRequest, 'main ring carries ClientRequest frames');
  onRequest(decoded.body);
}

function onWriterFrame(frame: Uint8Array): void {
  const handled = writer.handleFrame(frame);
  assert(handled, 'writer ring carries PersistAck and ReadReply frames');
}

function hasWork(): boolean {
  return fromMain.hasData() || fromWriter.hasData();
}

/** Loads every owned partition from the writer (the loop below delivers the replies). */
async function restore(): Promise<void> {
  await Promise.all(data.partitions.map(async (partition) => {
    const state = new PartitionState(partition);
    const stored = writer.get(stateKey(partition, metaNamespace, pingCounterKey));
    writer.flush();
    const value = await stored;
    state.restore(value === undefined ? 0n : decodeU64(value));
    states.set(partition, state);
    // Single node: this node leads every partition it hosts (issue 3 brings Raft elections).
    leaders.publish(partition, data.nodeId, 1);
  }));
}

async function loop(): Promise<void> {
  for (;;) {
    if (stopping && inflight === 0 && writer.pendingCount() === 0) break;
    await doorbell.wait(hasWork, threadIdleWaitMs);
    fromWriter.drain(onWriterFrame);
    fromMain.drain(onMainFrame, workerDrainFramesMax);
    writer.flush();
    toMain.publish();
  }
  toMain.publish();
  post({ type: 'closed' });
}

port.on('message', (msg: unknown) => {
  if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'shutdown') {
    stopping = true;
  }
});

const looping = loop();
restore().then(
  () => post({ type: 'ready', restoredPartitions: states.size }),
  (e: unknown) => fail(e),
);
looping.then(() => process.exit(0), (e: unknown) => fail(e));

function fail(e: unknown): void {
  post({ type: 'fatal', code: 'HONU_ERR_INTERNAL', detail: String(e) });
  process.exit(1);
}
