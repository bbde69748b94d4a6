// handlers[role][kind] (style.md rule 8, dragonboat): one handler per message kind and role.
// Kinds handled the same in every role (Hup, Vote, PreVote) share a handler. A missing entry
// means the message is ignored in that role.
import type { Raft } from './raft.js';
import {
  onCandidateApp, onCandidateHeartbeat, onCandidateProp, onCandidateSnap, onCandidateVoteResp,
} from './step-candidate.js';
import {
  onFollowerApp, onFollowerHeartbeat, onFollowerProp, onFollowerReadIndex,
  onFollowerReadIndexResp, onFollowerSnap, onFollowerTimeoutNow, onFollowerTransferLeader,
} from './step-follower.js';
import {
  onLeaderAppResp, onLeaderBeat, onLeaderCheckQuorum, onLeaderHeartbeatResp, onLeaderProp,
  onLeaderReadIndex, onLeaderSnapStatus, onLeaderTransferLeader, onLeaderUnreachable,
} from './step-leader.js';
import { type Message, MsgKind, type ProposeErrorValue, Role } from './types.js';

/** A proposal's refusal, or null (accepted, or any other message). */
export type StepResult = ProposeErrorValue | null;
export type Handler = (r: Raft, m: Message) => StepResult;
type Table = Readonly<Partial<Record<number, Handler>>>;

function onHup(r: Raft): StepResult {
  r.hup(false);
  return null;
}

function onVote(r: Raft, m: Message): StepResult {
  r.onVoteRequest(m);
  return null;
}

const common: Table = { [MsgKind.Hup]: onHup, [MsgKind.Vote]: onVote, [MsgKind.PreVote]: onVote };

const follower: Table = {
  ...common,
  [MsgKind.Prop]: onFollowerProp,
  [MsgKind.App]: onFollowerApp,
  [MsgKind.Heartbeat]: onFollowerHeartbeat,
  [MsgKind.Snap]: onFollowerSnap,
  [MsgKind.TransferLeader]: onFollowerTransferLeader,
  [MsgKind.TimeoutNow]: onFollowerTimeoutNow,
  [MsgKind.ReadIndex]: onFollowerReadIndex,
  [MsgKind.ReadIndexResp]: onFollowerReadIndexResp,
};

const candidateCommon: Table = {
  ...common,
  [MsgKind.Prop]: onCandidateProp,
  [MsgKind.App]: onCandidateApp,
  [MsgKind.Heartbeat]: onCandidateHeartbeat,
  [MsgKind.Snap]: onCandidateSnap,
};

const preCandidate: Table = { ...candidateCommon, [MsgKind.PreVoteResp]: onCandidateVoteResp };
const candidate: Table = { ...candidateCommon, [MsgKind.VoteResp]: onCandidateVoteResp };

const leader: Table = {
  ...common,
  [MsgKind.Beat]: onLeaderBeat,
  [MsgKind.CheckQuorum]: onLeaderCheckQuorum,
  [MsgKind.Prop]: onLeaderProp,
  [MsgKind.ReadIndex]: onLeaderReadIndex,
  [MsgKind.AppResp]: onLeaderAppResp,
  [MsgKind.HeartbeatResp]: onLeaderHeartbeatResp,
  [MsgKind.SnapStatus]: onLeaderSnapStatus,
  [MsgKind.Unreachable]: onLeaderUnreachable,
  [MsgKind.TransferLeader]: onLeaderTransferLeader,
};

export const handlers: Readonly<Record<number, Table>> = {
  [Role.Follower]: follower,
  [Role.PreCandidate]: preCandidate,
  [Role.Candidate]: candidate,
  [Role.Leader]: leader,
};
