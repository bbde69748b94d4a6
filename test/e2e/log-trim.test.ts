// The log below a checkpoint is deleted a little at a time after it (partition-core.ts trimLog):
// a node that crashed before the trim finished leaves entries below its checkpoint on disk, and
// the restarted node, reading where its log starts, deletes them. Real node, writer and RocksDB;
// the unfinished trim is made by writing such entries into the stopped node's database.
import { afterAll, describe, expect, it } from 'vitest';
import { RocksStore } from '../../src/env/rocksdb.js';
import { checkpointKey, decodeKey, raftLogKey, raftLogRange } from '../../src/core/writer/keys.js';
import { decodeCheckpoint, encodeEntry } from '../../src/core/partition/raft-records.js';
import { EntryKind } from '../../src/core/raft/types.js';
import { postJson, removeDir, startTestNode, tempDataDir } from '../helpers/node.js';

const tx = { transactionId: { n: 0, l: 0, c: 0 } };
const flags = ['--partitions', '1', '--checkpoint-entries', '100'];

/** The checkpoint index and the log indexes of partition 1 on disk (the node is stopped). */
async function diskLog(dataDir: string): Promise<{ checkpoint: number; log: number[] }> {
  const store = await RocksStore.open(dataDir, { mustExist: true });
  try {
    const cp = store.getSync(checkpointKey(1));
    const range = raftLogRange(1);
    const log = store.keysSync(range.start, range.end ?? null).map((k) => {
      const key = decodeKey(k);
      return key.kind === 'raftLog' ? key.logIndex : -1;
    });
    return { checkpoint: cp === undefined ? 0 : decodeCheckpoint(cp).index, log };
  } finally {
    await store.close();
  }
}

describe('log trim below checkpoints', () => {
  const dataDir = tempDataDir('log-trim');
  afterAll(() => removeDir(dataDir));

  it('leaves no entry below the checkpoint once a restarted node has run', async () => {
    const first = await startTestNode(dataDir, flags);
    for (let i = 0; i < 350; i++) {
      const r = await postJson(`${first.url}/v1/kv/try-set`, {
        ...tx, key: `trim/${i % 40}`, value: Buffer.from(`v${i}`).toString('base64'),
        compareValue: null, compareRevision: 0, expiresMs: 0, flags: 0, durability: 1 });
      expect(r.json.type).toBe(0);
    }
    await first.node.close(); // a clean stop checkpoints and trims it all
    const stopped = await diskLog(dataDir);
    expect(stopped.checkpoint).toBeGreaterThanOrEqual(350);
    expect(stopped.log.filter((i) => i <= stopped.checkpoint)).toEqual([]);
    // What a crash in the middle of a trim leaves: entries 101..300 below the checkpoint.
    const store = await RocksStore.open(dataDir, { mustExist: true });
    const batch = store.batch();
    for (let i = 101; i <= 300; i++) {
      batch.put(raftLogKey(1, i), encodeEntry({ index: i, term: 1, kind: EntryKind.Normal,
        data: new Uint8Array(0) }));
    }
    await batch.commit();
    await store.close();
    expect((await diskLog(dataDir)).log.filter((i) => i <= stopped.checkpoint)).toHaveLength(200);

    const second = await startTestNode(dataDir, flags);
    await new Promise((r) => setTimeout(r, 300)); // ticks: an idle partition trims per tick
    const read = await postJson(`${second.url}/v1/kv/try-get`, {
      ...tx, key: 'trim/29', revision: -1, readTimestamp: { n: 0, l: 0, c: 0 }, durability: 1 });
    expect(Buffer.from(read.json.value as string, 'base64').toString()).toBe('v349');
    await second.node.close();
    const after = await diskLog(dataDir);
    expect(after.checkpoint).toBeGreaterThanOrEqual(stopped.checkpoint);
    expect(after.log.filter((i) => i <= after.checkpoint)).toEqual([]);
  });
});
