// What MultiRaftNode needs from a group: the RaftGroup API (raft-group.ts). An interface, so this
// layer names only the calls it makes; RaftGroup satisfies it structurally.
import type {
  ConfChange, ConfState, Message, NodeId, ProposeErrorValue, Ready, RoleValue,
} from '../types.js';

export interface HostedProgress {
  readonly match: number;
  readonly next: number;
  readonly state: unknown;
}

export interface HostedStatus {
  readonly id: NodeId;
  readonly group: number;
  readonly term: number;
  readonly role: RoleValue;
  readonly leader: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly conf: ConfState;
  readonly progress?: ReadonlyMap<NodeId, HostedProgress> | undefined;
}

export interface HostedRaft {
  tick(): void;
  step(msg: Message): void;
  campaign(): void;
  propose(data: Uint8Array): ProposeErrorValue | null;
  proposeMany(datas: readonly Uint8Array[]): ProposeErrorValue | null;
  proposeConfChange(cc: ConfChange): ProposeErrorValue | null;
  transferLeader(to: NodeId): void;
  readIndex(context: Uint8Array): void;
  hasReady(): boolean;
  ready(): Ready;
  onPersisted(readyNumber: number): void;
  onApplied(index: number): void;
  reportUnreachable(to: NodeId): void;
  reportSnapshot(to: NodeId, ok: boolean): void;
  status(): HostedStatus;
  /** Leader: followers caught up, nothing pending; follower: nothing to do (optional). */
  isIdle?(): boolean;
}
