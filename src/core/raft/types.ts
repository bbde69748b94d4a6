// The seam of the pure Raft core (style.md "The seam between the pure core and I/O"; etcd-io/raft's
// RawNode is the model). Everything here is plain data: synchronous, deterministic, no I/O.
// Indexes and terms are JS numbers (exact up to 2^53; a log will not reach that).

export type NodeId = number; // > 0; 0 means "none"
export type GroupId = number; // the partition id

export const EntryKind = {
  Normal: 0,
  /** data is an encoded ConfChange (conf-change.ts). */
  ConfChange: 1,
} as const;
export type EntryKindValue = (typeof EntryKind)[keyof typeof EntryKind];

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly kind: EntryKindValue;
  /** Empty for the no-op a new leader appends (paper 5.4.2 / thesis 6.4). */
  readonly data: Uint8Array;
}

export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** Membership. `votersOutgoing` is non-empty only while in a joint configuration. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  /** Learners to promote when the joint configuration is left (etcd LearnersNext). */
  readonly learnersNext: readonly NodeId[];
  readonly autoLeave: boolean;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The state machine image at meta.index (opaque to Raft). */
  readonly data: Uint8Array;
}

export const ConfChangeKind = { AddVoter: 0, AddLearner: 1, Remove: 2 } as const;
export type ConfChangeKindValue = (typeof ConfChangeKind)[keyof typeof ConfChangeKind];

export interface ConfChangeSingle {
  readonly kind: ConfChangeKindValue;
  readonly node: NodeId;
}

/** One change (simple, one server at a time) or several (joint consensus, thesis 4.3). An
 *  empty `changes` with `leaveJoint` true leaves a joint configuration. */
export interface ConfChange {
  readonly changes: readonly ConfChangeSingle[];
  readonly leaveJoint: boolean;
  /** Joint configs only: the leader proposes leaving it as soon as it is applied (default
   *  true, etcd ConfChangeTransitionAuto); false waits for an explicit leaveJoint change. */
  readonly autoLeave?: boolean;
  /** Enter a joint config even for a single change (default: joint iff changes > 1). */
  readonly joint?: boolean;
  /** Opaque bytes for the application, replicated with the change (etcd's Context): Honu
   *  puts the added node's address here. Ignored by Raft. */
  readonly context?: Uint8Array;
}

export const MsgKind = {
  // local only (never sent on the wire)
  Hup: 0, // start an election (campaign)
  Beat: 1, // leader: send heartbeats
  Prop: 2, // proposal (a follower may forward it to the leader)
  // wire
  App: 3,
  AppResp: 4,
  Vote: 5,
  VoteResp: 6,
  PreVote: 7,
  PreVoteResp: 8,
  Snap: 9,
  Heartbeat: 10,
  HeartbeatResp: 11,
  TransferLeader: 12,
  TimeoutNow: 13,
  ReadIndex: 14,
  ReadIndexResp: 15,
  // local feedback from the transport
  Unreachable: 16,
  SnapStatus: 17,
  CheckQuorum: 18,
} as const;
export type MsgKindValue = (typeof MsgKind)[keyof typeof MsgKind];

export interface Message {
  readonly kind: MsgKindValue;
  readonly group: GroupId;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** App: term of the entry before `entries`; Vote/PreVote: candidate's last log term. */
  readonly logTerm: number;
  /** App: index before `entries`; AppResp: the index acked or rejected; Vote: last index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** Fast backtracking (thesis 5.3 / etcd findConflictByTerm): the follower's hint. */
  readonly rejectHint: number;
  readonly rejectHintTerm: number;
  readonly snapshot: Snapshot | null;
  /** ReadIndex request context, echoed back in the read state; also heartbeat context. */
  readonly context: Uint8Array | null;
}

export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
  /** Granted under the leader lease at this group's tick count, not by a heartbeat round: the
   *  host's clock may be past ticks it has not run yet (a stall inside its turn), so whoever
   *  serves it checks `leaseValid(ticks due)` after reading its state (partition-core.ts). */
  readonly lease?: true;
}

export const Role = { Follower: 0, PreCandidate: 1, Candidate: 2, Leader: 3 } as const;
export type RoleValue = (typeof Role)[keyof typeof Role];

export interface SoftState {
  readonly leader: NodeId;
  readonly role: RoleValue;
}

/** What the caller must do, in order (etcd's async-storage-writes contract):
 *  1. send `messages` now (leader's appends go out in parallel with its own write, thesis
 *     10.2.1);
 *  2. persist `snapshot`, `entries` and `hardState` (fsync if `mustSync`);
 *  3. then call onPersisted(number) and only then send `messagesAfterPersist` (votes and
 *     append acks: persist before you promise);
 *  4. apply `committedEntries` and call onApplied(lastAppliedIndex);
 *  5. hand `readStates` to the waiting reads (serve once applied >= readState.index). */
export interface Ready {
  readonly number: number;
  readonly softState: SoftState | null; // set when leader or role changed
  readonly hardState: HardState | null; // set when it changed
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

export interface RaftConfig {
  readonly id: NodeId;
  readonly group: GroupId;
  /** Followers start an election after a random timeout in [electionTicks, 2*electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Flow control: append messages in flight per follower, and their bytes. */
  readonly inflightMsgsMax: number;
  readonly inflightBytesMax: number;
  /** Largest append message (entries' data bytes); at least one entry is always sent. */
  readonly msgBytesMax: number;
  /** Proposals are refused while this many bytes are uncommitted (0 = no limit). */
  readonly uncommittedBytesMax: number;
  /** Applied entries already given out but not yet applied limit (committedEntries per Ready). */
  readonly committedBytesPerReadyMax: number;
  /** 'safe' = ReadIndex with a heartbeat round (thesis 6.4); 'lease' = leader lease, valid
   *  only if clocks drift less than `leaseDriftTicks` per election timeout (thesis 6.4.1). */
  readonly readOnly: 'safe' | 'lease';
  readonly leaseDriftTicks: number;
  /** Index already applied by the state machine when this group was (re)started. */
  readonly applied: number;
  /** Followers forward proposals (MsgProp) to a known leader instead of refusing them with
   *  NotLeader (default false: Honu forwards requests above Raft). */
  readonly forwardProposals?: boolean;
  /** A commit advance is not broadcast on its own: followers learn it with the next append
   *  or heartbeat, except for conf changes and a new leader's no-op (default false, as etcd).
   *  For groups whose reads only the leader serves. */
  readonly lazyCommitBroadcast?: boolean;
}

/** The group's read-only view of its persisted log (the caller owns writing it). */
export interface StorageView {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries [lo, hi), at most maxBytes of data but at least one if any. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of the entry at index; for the snapshot index, the snapshot term. Asserts in range. */
  term(index: number): number;
  /** First index still in the log (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** The only source of randomness (style.md rule 7): a seeded generator. */
export interface Prng {
  /** An integer in [0, bound). */
  nextInt(bound: number): number;
}

/** Why a proposal was refused (errors are data; style.md). */
export const ProposeError = {
  NotLeader: 'not-leader',
  Transferring: 'transferring',
  TooManyUncommittedBytes: 'too-many-uncommitted',
  ConfChangePending: 'conf-change-pending',
  /** The ConfChange cannot apply to the current configuration (e.g. removes every voter). */
  InvalidConfChange: 'invalid-conf-change',
  /** The node is not (or no longer) a member of this group. */
  NotMember: 'not-member',
} as const;
export type ProposeErrorValue = (typeof ProposeError)[keyof typeof ProposeError];
