// The writer as a sorted in-memory map, for unit tests of PartitionCore (the part beside it):
// batches wait in `pending` until the test acks them; restore() reads back what a restart
// from RocksDB would (checkpoint, state records, the log after it).
import type { RestoredPartition } from '../../src/core/partition/partition-core.js';
import {
  decodeCheckpoint, decodeEntry, decodeHardState,
} from '../../src/core/partition/raft-records.js';
import type { WriteOpInput } from '../../src/ipc/writer-client.js';
import {
  checkpointKey, compareKeys, decodeKey, hardStateKey,
} from '../../src/core/writer/keys.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The writer as a sorted map, acking batches only when asked. */
export class FakeDisk {
  readonly kv = new Map<string, Uint8Array>();
  pending: { partition: number; ops: WriteOpInput[]; token: number }[] = [];
  batches = 0;

  write(ops: WriteOpInput[]): void {
    for (const op of ops) {
      if (op.kind === 'put') this.kv.set(hex(op.key), op.value);
      else if (op.kind === 'delete') this.kv.delete(hex(op.key));
      else {
        for (const k of [...this.kv.keys()]) {
          const key = Buffer.from(k, 'hex');
          if (compareKeys(key, op.start) >= 0 && compareKeys(key, op.end) < 0) this.kv.delete(k);
        }
      }
    }
  }

  restore(partition: number): RestoredPartition {
    const get = (key: Uint8Array): Uint8Array | undefined => this.kv.get(hex(key));
    const hs = get(hardStateKey(partition));
    const cp = get(checkpointKey(partition));
    const records = [];
    const entries = [];
    let logStart: number | null = null;
    const sorted = [...this.kv.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [k, value] of sorted) {
      const key = decodeKey(Buffer.from(k, 'hex'));
      if (key.kind === 'state' && key.partition === partition) {
        records.push({ namespace: key.namespace, key: key.userKey, value });
      } else if (key.kind === 'raftLog' && key.partition === partition) {
        logStart ??= key.logIndex;
        entries.push(decodeEntry(value));
      }
    }
    const checkpoint = cp === undefined ? null : decodeCheckpoint(cp);
    // As the partition host reads it: the log after the checkpoint, and where the log starts.
    return { partition, hardState: hs === undefined ? null : decodeHardState(hs), checkpoint,
      records, entries: entries.filter((e) => e.index > (checkpoint?.index ?? 0)), logStart };
  }
}
