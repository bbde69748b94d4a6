// A failing RocksDB write (the WAL outgrows a file size limit: `ulimit -f` in a child process,
// test/writer/fixtures/disk-full.mjs) is acked with HONU_ERR_WRITE_FAILED, reported as 'fatal',
// and the writer exits 1; every batch acked before it is still there after a reopen.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { raftLogKey } from '../../src/core/writer/keys.js';
import { RocksStore } from '../../src/env/rocksdb.js';
import { makeTempDir, removeDir } from './fixtures/harness.js';

const fixture = fileURLToPath(new URL('./fixtures/disk-full.mjs', import.meta.url));
const fileBlocksMax = 4096; // `ulimit -f` units (512 or 1024 bytes): a WAL of 2-4 MiB at most
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

interface Outcome {
  readonly ack?: number;
  readonly failed?: number;
  readonly code?: string;
  readonly event?: string;
  readonly exit?: number;
}

function runUnderFileLimit(dataDir: string): Promise<{ lines: Outcome[]; status: number | null }> {
  return new Promise((resolve, reject) => {
    const script = `ulimit -f ${fileBlocksMax} && exec "$0" "$1" "$2"`;
    const child = spawn('/bin/sh', ['-c', script, process.execPath, fixture, dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      const lines = out.split('\n').filter((l) => l.length > 0);
      resolve({ lines: lines.map((l) => JSON.parse(l) as Outcome), status });
    });
  });
}

describe('writer write failure', () => {
  it('acks the failed batch with HONU_ERR_WRITE_FAILED, posts fatal and exits 1', async () => {
    const dataDir = makeTempDir('disk-full');
    dirs.push(dataDir);
    const { lines, status } = await runUnderFileLimit(dataDir);
    expect(status).toBe(0);
    const acked = lines.flatMap((l) => (l.ack === undefined ? [] : [l.ack]));
    const failed = lines.filter((l) => l.failed !== undefined);
    expect(acked.length).toBeGreaterThan(0);
    expect(failed).toEqual([{ failed: acked.length + 1, code: 'HONU_ERR_WRITE_FAILED' }]);
    expect(lines).toContainEqual({ event: 'fatal', code: 'HONU_ERR_WRITE_FAILED' });
    expect(lines.at(-1)).toEqual({ exit: 1 });
    expect(lines.some((l) => l.event === 'closed')).toBe(false);
    const store = await RocksStore.open(dataDir, { mustExist: true });
    try {
      const values = store.getManySync(acked.map((i) => raftLogKey(1, i)));
      expect(values.every((v) => v?.length === 32 * 1024)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
