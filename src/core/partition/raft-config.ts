// The Raft configuration of every partition group, and --reads: how a partition leader
// confirms a linearizable read. 'lease' answers under the leader's lease (thesis 6.4.1; what
// it assumes is below), 'read-index' after a heartbeat round every time (no clock assumption,
// a round trip more).
import type { RaftConfig } from '../raft/types.js';

export type ReadMode = 'lease' | 'read-index';
export const readModes: readonly ReadMode[] = ['lease', 'read-index'];
export const defaultReadMode: ReadMode = 'lease';

/** With --reads lease (thesis 6.4.1) a leader whose heartbeat round a quorum acked in the
 *  last electionTicks - leaseDriftTicks ticks answers at once, without a round per read. The
 *  followers that acked refuse votes for electionTicks of their own ticks after receiving it
 *  (check-quorum's leader stickiness), which, with ticks counted from the monotonic clock on
 *  both sides (workers/partition-host.ts catchUpTicks), is at least 900 ms after it left;
 *  the lease ends at most 700 ms after. The 200 ms between is the bound on clock-rate drift.
 *  A leader transfer, a conf change and a quiesced group void the lease (raft.ts leaseValid). */
export function partitionRaftConfig(id: number, group: number, applied: number,
  reads: ReadMode): RaftConfig {
  return {
    id, group, electionTicks: 10, heartbeatTicks: 1, preVote: true, checkQuorum: true,
    inflightMsgsMax: 256, inflightBytesMax: 16 * 1024 * 1024, msgBytesMax: 1024 * 1024,
    uncommittedBytesMax: 256 * 1024 * 1024, committedBytesPerReadyMax: 16 * 1024 * 1024,
    readOnly: reads === 'lease' ? 'lease' : 'safe', leaseDriftTicks: 3, applied,
    lazyCommitBroadcast: true,
  };
}
