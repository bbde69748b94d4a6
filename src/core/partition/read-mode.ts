// --reads: how a partition leader confirms a linearizable read. 'lease' answers under the
// leader's lease (thesis 6.4.1; partition-core.ts raftConfig says what it assumes),
// 'read-index' after a heartbeat round every time (no clock assumption, a round trip more).
export type ReadMode = 'lease' | 'read-index';
export const readModes: readonly ReadMode[] = ['lease', 'read-index'];
