// The partition worker's contract with the main thread. Data path: ClientRequest and
// RaftMessage frames on the `fromMain` ring, ClientReply and RaftMessage frames on the `toMain`
// ring (proto/ring.fbs). Control path
// (postMessage, low rate): the messages below.
import type { ErrorCode } from '../errors.js';
import type { ReadMode } from '../core/partition/raft-config.js';

export interface PartitionWorkerData {
  readonly workerIndex: number;
  readonly nodeId: number;
  /** Node ids of the initial cluster (bootstrap voters of every partition; includes nodeId). */
  readonly voters: readonly number[];
  /** Applied entries between checkpoints (--checkpoint-entries). */
  readonly checkpointEntries: number;
  /** How leaders confirm linearizable reads (--reads). */
  readonly reads: ReadMode;
  /** Partition ids this worker owns: p with (p - 1) % workers === workerIndex. */
  readonly partitions: readonly number[];
  readonly ownDoorbell: SharedArrayBuffer; // rung by the main thread and by the writer
  readonly fromMain: SharedArrayBuffer;
  readonly toMain: SharedArrayBuffer;
  readonly mainDoorbell: SharedArrayBuffer;
  readonly toWriter: SharedArrayBuffer;
  readonly fromWriter: SharedArrayBuffer;
  readonly writerDoorbell: SharedArrayBuffer;
  readonly leaderTable: SharedArrayBuffer;
}

/** main -> partition worker. */
export type PartitionControl =
  /** Stop taking requests, finish what is in flight (its persists acked, replies sent),
   *  post 'closed' and exit. */
  { readonly type: 'shutdown' };

/** partition worker -> main. */
export type PartitionEvent =
  /** Every partition was restored from disk and knows its leader (published in the leader
   *  table). */
  | { readonly type: 'ready'; readonly restoredPartitions: number }
  | { readonly type: 'fatal'; readonly code: ErrorCode; readonly detail: string }
  /** A membership change was applied to a partition: its members now, the change, and the
   *  address carried with it (an added node's host:port). */
  | { readonly type: 'members'; readonly partition: number; readonly voters: readonly number[];
      readonly learners: readonly number[];
      readonly changes: readonly { readonly kind: number; readonly node: number }[];
      readonly address: string | null }
  /** A partition replaced its state with a leader's snapshot (it was too far behind). */
  | { readonly type: 'snapshot'; readonly partition: number; readonly index: number }
  | { readonly type: 'closed' };

export function partitionsOfWorker(workerIndex: number, workers: number,
  partitions: number): number[] {
  const owned: number[] = [];
  for (let p = workerIndex + 1; p <= partitions; p += workers) owned.push(p);
  return owned;
}

export function workerOfPartition(partition: number, workers: number): number {
  return (partition - 1) % workers;
}
