// What the leader knows of each follower (etcd tracker/): match/next, the replication state
// machine (probe, replicate, snapshot; thesis 10.2.1 pipelining), flow control (inflights), and
// the membership configuration with its votes.
import { assert } from '../../assert.js';
import {
  jointCommitted,
  jointVoteResult,
  type JointVoters,
  VoteResult,
  type VoteResultValue,
} from './quorum.js';
import type { ConfState, NodeId } from './types.js';

/** Append messages in flight to one follower: a ring of (last index, bytes) (etcd inflights). */
export class Inflights {
  private readonly indexes: Float64Array;
  private readonly sizes: Float64Array;
  private start = 0;
  count = 0;
  bytes = 0;

  constructor(readonly capacity: number, readonly bytesMax: number) {
    assert(capacity >= 1, 'inflights capacity must be >= 1');
    this.indexes = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
  }

  add(index: number, bytes: number): void {
    assert(!this.full(), 'inflights add while full');
    const slot = (this.start + this.count) % this.capacity;
    if (this.count > 0) {
      const prev = this.indexes[(slot + this.capacity - 1) % this.capacity]!;
      assert(index > prev, 'inflights indexes must increase');
    }
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= index (acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.indexes[this.start]! <= index) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) {
      this.start = 0;
      this.bytes = 0;
    }
  }

  full(): boolean {
    return this.count === this.capacity || (this.bytesMax > 0 && this.bytes >= this.bytesMax);
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}

export const ProgressState = { Probe: 0, Replicate: 1, Snapshot: 2 } as const;
export type ProgressStateValue = (typeof ProgressState)[keyof typeof ProgressState];

export class Progress {
  match = 0;
  next: number;
  /** Highest commit index sent to this follower (so a commit can be bumped with an empty
   *  append when nothing else would carry it). */
  sentCommit = 0;
  state: ProgressStateValue = ProgressState.Probe;
  /** Snapshot index being sent (state Snapshot). */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round (paper 6.2 / thesis 6.2). */
  recentActive = false;
  /** Probe: one append per heartbeat; Replicate: inflights full. */
  msgAppFlowPaused = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, isLearner: boolean, inflightMsgsMax: number,
    inflightBytesMax: number) {
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(inflightMsgsMax, inflightBytesMax);
  }

  private resetState(state: ProgressStateValue): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
    this.sentCommit = snapshotIndex;
  }

  /** An append of `entryCount` entries (`bytes` of data) was sent from `next`. */
  sentEntries(entryCount: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entryCount > 0) {
        this.next += entryCount;
        this.inflights.add(this.next - 1, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
      return;
    }
    assert(this.state === ProgressState.Probe, 'append sent to a follower in snapshot state');
    if (entryCount > 0) this.msgAppFlowPaused = true;
  }

  canBumpCommit(commit: number): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** An ack for `index`: returns false when it is stale. */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** A rejection of the append after `rejected`; `matchHint` is the follower's hint (fast
   *  backtracking). Returns false when the rejection is stale. */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.next - 1);
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  isPaused(): boolean {
    if (this.state === ProgressState.Snapshot) return true;
    return this.msgAppFlowPaused;
  }
}

/** Membership as sets (etcd tracker.Config). */
export interface TrackerConfig {
  readonly voters: readonly [Set<NodeId>, Set<NodeId>];
  readonly learners: Set<NodeId>;
  readonly learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

export function configFromConfState(cs: ConfState): TrackerConfig {
  return {
    voters: [new Set(cs.voters), new Set(cs.votersOutgoing)],
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
    autoLeave: cs.autoLeave,
  };
}

const byId = (a: number, b: number): number => a - b;

export function confStateFromConfig(cfg: TrackerConfig): ConfState {
  return {
    voters: [...cfg.voters[0]].sort(byId),
    learners: [...cfg.learners].sort(byId),
    votersOutgoing: [...cfg.voters[1]].sort(byId),
    learnersNext: [...cfg.learnersNext].sort(byId),
    autoLeave: cfg.autoLeave,
  };
}

export function cloneConfig(cfg: TrackerConfig): TrackerConfig {
  return {
    voters: [new Set(cfg.voters[0]), new Set(cfg.voters[1])],
    learners: new Set(cfg.learners),
    learnersNext: new Set(cfg.learnersNext),
    autoLeave: cfg.autoLeave,
  };
}

export function isJoint(cfg: TrackerConfig): boolean {
  return cfg.voters[1].size > 0;
}

/** Voters of both halves, sorted (deterministic iteration). */
export function allVoters(cfg: TrackerConfig): NodeId[] {
  const ids = new Set<NodeId>(cfg.voters[0]);
  for (const id of cfg.voters[1]) ids.add(id);
  return [...ids].sort(byId);
}

export function isVoter(cfg: TrackerConfig, id: NodeId): boolean {
  return cfg.voters[0].has(id) || cfg.voters[1].has(id);
}

export class ProgressTracker {
  config: TrackerConfig;
  /** Every voter and learner (both halves of a joint config, and learnersNext). */
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();
  /** Ids of `progress` in ascending order, kept in step with the map. */
  ids: NodeId[] = [];

  constructor(config: TrackerConfig, readonly inflightMsgsMax: number,
    readonly inflightBytesMax: number) {
    this.config = config;
  }

  setProgress(progress: Map<NodeId, Progress>): void {
    this.progress = progress;
    this.ids = [...progress.keys()].sort(byId);
  }

  newProgress(next: number, isLearner: boolean): Progress {
    return new Progress(next, isLearner, this.inflightMsgsMax, this.inflightBytesMax);
  }

  voters(): JointVoters {
    return this.config.voters;
  }

  committed(): number {
    return jointCommitted(this.config.voters, (id) => this.progress.get(id)?.match ?? 0);
  }

  isSingleton(): boolean {
    return this.config.voters[0].size === 1 && this.config.voters[1].size === 0;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResultValue {
    return jointVoteResult(this.config.voters, this.votes);
  }

  /** Check-quorum: a quorum of voters was heard from recently (the leader counts itself). */
  quorumActive(self: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (!pr.isLearner) votes.set(id, id === self || pr.recentActive);
    }
    return jointVoteResult(this.config.voters, votes) === VoteResult.Won;
  }
}
