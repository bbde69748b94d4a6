// Durability under SIGKILL: a child process (test/writer/fixtures/crash-storm.mjs, against
// dist/) runs the writer worker and a write storm from two links, printing each batch only
// after its ack. The test kills it with SIGKILL mid-storm, reopens RocksDB and requires every
// acknowledged batch to be there, at three different kill points.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeKey, stateKey } from '../../src/core/writer/keys.js';
import { RocksStore } from '../../src/env/rocksdb.js';
import { makeTempDir, removeDir } from './fixtures/harness.js';

const fixture = fileURLToPath(new URL('./fixtures/crash-storm.mjs', import.meta.url));
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

interface AckedBatch {
  readonly partition: number;
  readonly sequence: number;
  readonly firstKey: string;
  readonly opCount: number;
}

/** Runs the storm until `killAfterAcks` acks were printed, then SIGKILLs it. */
interface StormResult {
  readonly acked: AckedBatch[];
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

function stormAndKill(dataDir: string, killAfterAcks: number): Promise<StormResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    let stderr = '';
    const acked: AckedBatch[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? ''; // a torn last line is not an ack yet
      for (const line of lines) {
        const [tag, p, s, key, n] = line.split(' ');
        if (tag !== 'ack') continue;
        acked.push({ partition: Number(p), sequence: Number(s), firstKey: key ?? '',
          opCount: Number(n) });
      }
      if (acked.length >= killAfterAcks && child.exitCode === null) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ acked, signal, stderr }));
  });
}

function expectedOps(batch: AckedBatch): { key: Uint8Array; value: string }[] {
  return Array.from({ length: batch.opCount }, (_, j) => {
    const user = new Uint8Array(5);
    new DataView(user.buffer).setUint32(0, batch.sequence, false);
    user[4] = j;
    const value = `${batch.partition}:${batch.sequence}:${j}`;
    return { key: stateKey(batch.partition, 1, user), value };
  });
}

describe('writer durability under SIGKILL', () => {
  for (const killAfterAcks of [300, 2000, 8000]) {
    it(`finds every acknowledged batch after a kill at ${killAfterAcks} acks`, async () => {
      const dataDir = makeTempDir('crash');
      dirs.push(dataDir);
      const { acked, signal, stderr } = await stormAndKill(dataDir, killAfterAcks);
      expect(stderr).toBe('');
      expect(signal).toBe('SIGKILL');
      expect(acked.length).toBeGreaterThanOrEqual(killAfterAcks);
      const store = await RocksStore.open(dataDir, { mustExist: true });
      let checked = 0;
      try {
        for (const batch of acked) {
          const ops = expectedOps(batch);
          expect(Buffer.from(ops[0]?.key ?? []).toString('hex')).toBe(batch.firstKey);
          const values = store.getManySync(ops.map((op) => op.key));
          values.forEach((value, j) => {
            expect(value?.toString(), `batch ${batch.partition}/${batch.sequence} op ${j}`)
              .toBe(ops[j]?.value);
          });
          checked += ops.length;
        }
        // Sequences of a partition are acked in order: no acked batch follows a gap.
        for (const p of new Set(acked.map((b) => b.partition))) {
          const seqs = acked.filter((b) => b.partition === p).map((b) => b.sequence);
          expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1));
        }
        const firstKey = expectedOps(acked[0] as AckedBatch)[0]?.key ?? new Uint8Array();
        expect(decodeKey(firstKey)).toMatchObject({ kind: 'state', namespace: 1 });
      } finally {
        await store.close();
      }
      console.log(`kill at ${killAfterAcks}: ${acked.length} acked batches, ${checked} writes ` +
        'all present after reopen');
    });
  }
});
