// Operation kinds carried in ClientRequest.op (proto/ring.fbs). One handler per kind in the
// partition worker (style.md rule 8). Issue 4 adds the lock, key/value and sequence operations.
export const Op = {
  /** Round trip through the ring to the worker and back; no storage. */
  Ping: 1,
  /** Bumps the partition's durable ping counter through the writer's fsync, then replies with it. */
  PingDurable: 2,
  /** The partition's state as bytes (what a snapshot of it would hold). */
  SnapshotBytes: 3,
  /** Hand the partition's leadership to node `payload` (u32 little-endian) if this node leads
   *  it (leader balancing); replies at once, the transfer completes or lapses in Raft. */
  TransferLeader: 4,
  /** A membership change of the partition (join, leave): payload u8 kind (ConfChangeKind),
   *  u32 LE node id, then the node's address as UTF-8 (may be empty). Answered once applied
   *  with the partition's members (raft-records.ts encodeConfState). */
  ConfChange: 5,
} as const;

export type OpKind = (typeof Op)[keyof typeof Op];

const opKinds = new Set<number>(Object.values(Op));

export function isOpKind(op: number): op is OpKind {
  return opKinds.has(op);
}
