// Every limit in Honu, named with its unit last and kept in one place (style.md rule 3).
// Helpers append their own section; relationships between limits are asserted at module load.
import { assert } from './assert.js';

// --- Rings (src/ipc/ring.ts) ---
/** Smallest ring data area: room for a few frames, so tests can force wraparound. */
export const ringCapacityBytesMin = 64;
/** Largest ring data area: keeps (head - tail) of the Int32 byte counters positive. */
export const ringCapacityBytesMax = 2 ** 30;
/** write() calls allowed to wait for space on one producer before write() rejects. */
export const ringWritesWaitingMax = 65_536;
/** Doorbell.wait polls hasWork() this many times before it parks (a few microseconds): a
 *  consumer that keeps up with a fast producer then rarely costs the producer a notify. */
export const doorbellSpinChecksDefault = 100;
/** A producer past this offset wraps to offset 0 as soon as the consumer has freed room there
 *  (src/ipc/ring.ts): the bytes a ring touches stay about this plus what is in flight, where
 *  cycling through a 32 MiB writer ring faulted in fresh pages (2.3% of the busy CPU of a
 *  3-node cluster's sets 20 s after start, stop 24). */
export const ringEarlyWrapBytesDefault = 256 * 1024;
assert(ringCapacityBytesMin < ringCapacityBytesMax, 'ring capacity range is empty');

// --- Network edge and command line (src/main/) ---
/** Largest REST request body (JSON). Kahuna's clients need at least 32 MB (spec/wire.md 1.1). */
export const restBodyBytesMax = 32 * 1024 * 1024;
/** Largest gRPC message, received or sent (kahuna-ts sets 64 MiB for both). */
export const grpcMessageBytesMax = 64 * 1024 * 1024;
/** A plaintext connection must send its first bytes within this time, or it is closed. */
export const listenerFirstBytesTimeoutMs = 10_000;
/** After the HTTP/2 preface, how long the listener waits for the client's first SETTINGS
 *  frame (which tells a Honu peer from other gRPC clients) before it hands the connection to
 *  grpc-js. Clients send it with the preface; this only bounds one that does not. */
export const listenerSettingsWaitMs = 200;
/** A TLS connection must finish its handshake within this time, or it is closed. */
export const tlsHandshakeTimeoutMs = 10_000;
/** How long Listener.close() lets in-flight requests finish by default (SIGTERM: exit in 5 s). */
export const listenerDrainMsDefault = 3_000;
/** HTTP/1.1: the whole header block must arrive within this time. */
export const httpHeadersTimeoutMs = 20_000;
/** HTTP/1.1: a whole request (headers and body) must arrive within this time. */
export const httpRequestTimeoutMs = 120_000;
/** HTTP/1.1: an idle keep-alive connection is closed after this time. */
export const httpKeepAliveTimeoutMs = 65_000;
/** HTTP/1.1: the largest request head (request line and fields); a bigger one gets 431. */
export const httpHeadBytesMax = 16 * 1024;
/** HTTP/1.1: pipelined requests waiting for replies on one connection before reading pauses. */
export const httpPipelineMax = 64;
/** After a 413, discard (never buffer) the rest of the body for at most this long, then close. */
export const restLingerMs = 2_000;
/** After a 413, discard at most this many more body bytes, then close the connection. */
export const restLingerBytesMax = 64 * 1024 * 1024;
/** Partition ids are 1..partitionsMax (Kahuna numbers partitions from 1). */
export const partitionsMax = 4096;
/** Upper bound on --workers (partition worker threads). */
export const workersMax = 256;
/** Upper bound on --initial-cluster members. */
export const clusterMembersMax = 64;
assert(httpHeadersTimeoutMs <= httpRequestTimeoutMs, 'headers timeout exceeds request timeout');
assert(restBodyBytesMax <= grpcMessageBytesMax, 'a REST body must fit in one gRPC message');
assert(workersMax <= partitionsMax, 'workersMax exceeds partitionsMax');

// --- Writer worker (src/core/writer/, workers/writer-worker.ts, src/ipc/writer-client.ts) ---
/** Soft cap on one group commit: no frame is taken once a flush holds this many frame bytes. */
export const writerFlushBytesMax = 4 * 1024 * 1024;
/** Hard cap on frames (PersistBatches and ReadRequests) in one group commit. */
export const writerFlushFramesMax = 16_384;
/** A link with this many frames queued for its full outbound ring is not drained. */
export const writerOutboxFramesMax = 256;
/** Entries a Range read returns when its request says limit 0, and the most it ever returns. */
export const writerReadEntriesMax = 4096;
/** Bytes kept free in a ReadReply frame for the table headers besides the entries. */
export const writerReadReplyOverheadBytes = 256;
/** FlatBuffers bytes per ReadReply entry besides its key and value (offsets, lengths, pad). */
export const writerReadEntryOverheadBytes = 32;
/** Per-flush samples in one 'stats' message (thinned evenly beyond this). */
export const writerStatsSamplesMax = 1024;
/** How often the writer posts 'stats' (when something was flushed). */
export const writerStatsIntervalMs = 1000;
/** Doorbell wait when idle; bounds how late a 'shutdown' or 'link' message is seen. */
export const writerIdleWaitMs = 50;
/** Doorbell wait while acks wait for room in an outbound ring (the consumer does not ring). */
export const writerOutboxRetryMs = 1;
/** Default size of each ring of a writer link (inbound and outbound). */
export const writerRingBytesDefault = 32 * 1024 * 1024;
/** Persists plus reads one WriterClient keeps in flight. */
export const writerClientPendingMax = 65_536;
assert(writerClientPendingMax <= ringWritesWaitingMax, 'client pending above ring waiters');
assert(writerRingBytesDefault <= ringCapacityBytesMax, 'writer ring above ring capacity max');
assert(writerFlushFramesMax >= 1 && writerOutboxFramesMax >= 1, 'writer frame caps');

// --- Threads: supervisor, partition workers (src/main/supervisor.ts, workers/) ---
/** Ring from the main thread to one partition worker, and back. */
export const mainRingBytes = 16 * 1024 * 1024;
/** A persistent write's Raft entry (a request of up to half the main ring) must fit in one
 *  writer frame as one op, and so must one key's checkpoint record: its current value plus up
 *  to 4 MiB of archived revisions (src/core/state/state-limits.ts kvArchiveBytesMax). */
assert(writerRingBytesDefault / 2 >= mainRingBytes / 2 + 5 * 1024 * 1024,
  'a request-sized value plus its history must fit in one writer frame');
/** Requests in flight from the main thread to one partition worker; past it: MustRetry. */
export const workerRequestsInflightMax = 65_536;
/** A request without a reply after this long is answered MustRetry (Kahuna clients use 30 s). */
export const workerRequestTimeoutMs = 30_000;
/** How often the main thread looks for requests past workerRequestTimeoutMs. */
export const workerRequestSweepMs = 1_000;
/** A request forwarded to the partition leader on another node answers MustRetry after this
 *  long without a reply (the leader may be paused or cut off; the client retries). */
export const forwardTimeoutMs = 5_000;
/** How often a cluster node checks whether to hand a partition leadership to a less loaded
 *  node (src/main/cluster/leader-balancer.ts). */
export const balanceIntervalMs = 1_000;
/** A join or leave gives up on a partition after this long (src/main/cluster/cluster-admin.ts). */
export const membershipChangeTimeoutMs = 30_000;
/** A node starting with --join: one join request's timeout, and the pause between attempts. */
export const joinRequestTimeoutMs = 40_000;
export const joinRetryMs = 1_000;
/** A worker (or the writer) must report ready within this long after it was spawned. */
export const workerStartTimeoutMs = 30_000;
/** Restart backoff after a worker died: first delay, doubled per consecutive death, capped. */
export const workerRestartDelayMs = 100;
export const workerRestartDelayMaxMs = 5_000;
/** A worker that stayed up this long has its restart backoff reset. */
export const workerStableMs = 30_000;
/** Frames a partition worker takes from the main ring per turn before looking at the writer. */
export const workerDrainFramesMax = 4096;
/** Doorbell wait of an idle worker or main thread: also the longest a tick can be late. */
export const threadIdleWaitMs = 50;
/** Whole-node shutdown budget: SIGTERM must exit within 5 s. */
export const shutdownDeadlineMs = 4_500;
assert(workerRestartDelayMs <= workerRestartDelayMaxMs, 'restart delay exceeds its cap');

// --- Partition workers running Raft (src/core/partition/partition-core.ts) ---
/** Raft tick of every partition group. Election timeouts are 10-20 ticks. */
export const raftTickMs = 100;
/** Most ticks a host runs at once to catch up with the monotonic clock (after a stall, GC
 *  pause or SIGSTOP); more than every Raft timeout, so the rest can be dropped. */
export const raftTickCatchUpMax = 40;
/** A partition materializes its state and compacts its log after this many applied entries. */
export const partitionCheckpointEntries = 20_000;
/** A checkpoint's log is deleted entry by entry, spread over flushes: at least this many with
 *  each persist of the partition (and twice its new entries) ... */
export const logTrimPerPersistEntries = 64;
/** ... and this many per Raft tick (an idle partition). One delete range of a checkpoint's
 *  20,000 entries, enumerated by the writer inside one flush, held every write behind it
 *  for 10-50 ms (bench/RESULTS.md, stop 20). */
export const logTrimChunkEntries = 1024;
/** Upper bound of --checkpoint-entries. */
export const checkpointEntriesMax = 10_000_000;

// --- Raft core (src/core/raft/) ---
/** ReadIndex requests one leader tracks while their heartbeat round is out (thesis 6.4). */
export const raftReadIndexPendingMax = 4096;
/** ReadIndex requests a new leader parks until it commits an entry of its term. */
export const raftReadIndexParkedMax = 4096;
/** Readys handed out but not yet persisted, per group (the writer's pipeline depth). */
export const raftReadiesInFlightMax = 1024;

// --- Raft multi-group layer (src/core/raft/multi/) ---
/** Groups one MultiRaftNode hosts (every partition of a worker). */
export const multiRaftGroupsMax = partitionsMax;
/** Readys of one group whose messagesAfterPersist wait for the writer's ack. */
export const multiRaftPendingReadiesMax = 4096;
/** A leader quiesces after this many idle ticks (followers caught up, all applied). */
export const multiRaftQuiesceAfterIdleTicksDefault = 4;
/** A node sends every peer at least one batch (maybe empty: a beacon) this often. */
export const multiRaftPeerBeaconIntervalTicksDefault = 2;
/** A peer silent this long is down: the groups it led wake and may elect. */
export const multiRaftPeerDownAfterTicksDefault = 10;
assert(
  multiRaftPeerBeaconIntervalTicksDefault < multiRaftPeerDownAfterTicksDefault,
  'beacons must come faster than the peer-down timeout',
);

// --- gRPC services (src/main/grpc/) ---
/** Unanswered requests on one batch stream (wire.md 2.7) before the server stops reading it. */
export const grpcBatchInflightMax = 4096;
