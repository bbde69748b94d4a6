// The state one partition owns. Pure: no I/O, no clock. For now it holds the durable ping
// counter that proves the write path end to end (socket -> ring -> worker -> writer fsync ->
// reply) and the restore path (writer read on start). Issue 4 adds locks, key/values and
// sequences here, behind the same persist/restore seam.
import { assert } from '../../assert.js';

export const PING_COUNTER_NAME = 'ping-counter';

export class PartitionState {
  readonly partition: number;
  private pingCount = 0n; // durable: acknowledged by the writer
  private pingProposed = 0n; // handed out, maybe not durable yet; never below pingCount

  constructor(partition: number) {
    assert(Number.isInteger(partition) && partition >= 1, 'partition ids start at 1');
    this.partition = partition;
  }

  get pings(): bigint {
    return this.pingCount;
  }

  /** Hands out the next counter value (unique even while earlier ones are in flight); the
   *  caller persists it and applies it once durable. */
  nextPing(): bigint {
    this.pingProposed += 1n;
    return this.pingProposed;
  }

  /** Applies a durable counter value. Acks may complete out of order; keep the maximum. */
  applyPing(value: bigint): void {
    assert(value > 0n, 'ping counter values start at 1');
    assert(value <= this.pingProposed, 'only proposed values become durable');
    if (value > this.pingCount) this.pingCount = value;
  }

  restore(counter: bigint): void {
    assert(counter >= 0n, 'restored counter is non-negative');
    this.pingCount = counter;
    this.pingProposed = counter;
  }

  /** Deterministic byte image of the state: partition id (u32 BE) then the counter (u64 BE). */
  snapshotBytes(): Uint8Array {
    const bytes = new Uint8Array(12);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.partition);
    view.setBigUint64(4, this.pingCount);
    return bytes;
  }
}

export function encodeU64(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value);
  return bytes;
}

export function decodeU64(bytes: Uint8Array): bigint {
  assert(bytes.length === 8, 'a u64 is 8 bytes');
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
}
