// What one partition replica holds: its Raft group and in-memory log, its states, and the
// requests waiting on it (PartitionCore's per-partition record).
import type { Hlc } from '../api/types.js';
import type { RaftGroup } from '../raft/raft-group.js';
import { MemoryStorage } from '../raft/memory-storage.js';
import type { ConfState, HardState, Snapshot } from '../raft/types.js';
import type { KahunaStateStore } from '../state/kahuna-state.js';
import type { KahunaOpValue } from '../../ipc/messages/kahuna.js';
import type { HlcClock } from './hlc-clock.js';

/** The log of a replica in memory; a leader's snapshot for a lagging follower is built when
 *  Raft asks for it, from the state applied so far (never older than the log's start). */
export class PartitionStorage extends MemoryStorage {
  source: (() => Snapshot) | null = null;

  override snapshot(): Snapshot {
    return this.source?.() ?? super.snapshot();
  }
}

export interface Proposal {
  readonly id: number;
  readonly term: number;
  /** A Kahuna op, or 0 for a membership change (answered with the resulting members). */
  readonly op: KahunaOpValue | 0;
  /** The request as onRequest decoded it: the leader applies it without decoding it again. */
  readonly req: unknown;
}

export interface WaitingRead {
  readonly id: number;
  readonly op: KahunaOpValue;
  readonly req: unknown;
}

export interface Replica {
  readonly partition: number;
  readonly raft: RaftGroup;
  readonly storage: PartitionStorage;
  persistent: KahunaStateStore;
  readonly ephemeral: KahunaStateStore;
  readonly clock: HlcClock;
  /** Proposals by log index. */
  readonly proposals: Map<number, Proposal>;
  /** Reads waiting for the ReadIndex of the next batch, by context id. */
  readonly readBatches: Map<number, WaitingRead[]>;
  queuedReads: WaitingRead[];
  /** Reads whose ReadIndex came back, waiting for apply to reach `index`. */
  readonly servable: { index: number; lease: boolean; reads: WaitingRead[] }[];
  /** Readys handed to the writer and not yet acknowledged, oldest first: `ack` is the Ready
   *  number to acknowledge when the batch is durable (raised by later Readys that wrote
   *  nothing, which must not be acknowledged before earlier writes are: onPersisted(n)
   *  covers every Ready up to n). */
  readonly inflight: { token: number; ack: number }[];
  /** Last log index handed to the writer (a shorter new tail deletes the rest). */
  persistedLast: number;
  /** The newest hard state, and the term and vote last handed to the writer: a hard state
   *  that only moved the commit index is not written on its own (it is soft: a restarted
   *  single group re-commits its log), but rides with the next entries or checkpoint. */
  hardState: HardState | null;
  hardStateWritten: boolean;
  writtenTerm: number;
  writtenVote: number;
  applied: number;
  appliedHlc: Hlc;
  conf: ConfState;
  checkpointIndex: number;
  /** The lowest log index that may still be on disk below the checkpoint: the entries from
   *  here to checkpointIndex are deleted a few with every persist and a chunk per tick. */
  trimFrom: number;
  leader: number;
  term: number;
  /** Leader only: ticks each learner has been caught up (auto-promotion). */
  readonly learnerTicks: Map<number, number>;
}
