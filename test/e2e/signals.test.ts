// The real binary: `honu server` in a child process answers requests, exits 0 within 5 s on
// SIGTERM (after flushing the writer and closing RocksDB), and a restart finds its data.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/env/paths.js';
import { postJson, removeDir, tempDataDir } from '../helpers/node.js';

interface Child {
  readonly proc: ChildProcess;
  readonly url: string;
}

async function spawnNode(dataDir: string): Promise<Child> {
  const proc = spawn(process.execPath,
    [join(repoRoot, 'bin', 'honu.mjs'), 'server', '--port', '0', '--host', '127.0.0.1',
      '--partitions', '2', '--workers', '1'],
    { env: { ...process.env, HONU_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  for await (const line of lines) {
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    if (entry.msg === 'honu node listening') {
      lines.on('line', () => {}); // keep draining stdout
      return { proc, url: `http://127.0.0.1:${entry.port}` };
    }
  }
  throw new Error('honu exited before listening');
}

async function stop(child: Child, signal: NodeJS.Signals): Promise<{ code: number | null;
  elapsedMs: number }> {
  const started = Date.now();
  const exited = once(child.proc, 'exit');
  child.proc.kill(signal);
  const [code] = (await exited) as [number | null];
  return { code, elapsedMs: Date.now() - started };
}

describe('honu server process', () => {
  const dataDir = tempDataDir('signals');
  afterAll(() => removeDir(dataDir));

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`exits 0 within 5 s on ${signal} and keeps acknowledged writes`, async () => {
      const first = await spawnNode(dataDir);
      const before = await postJson(`${first.url}/v1/honu/ping`, { partition: 2, durable: true });
      expect(before.json.type).toBe(0);
      // Writes in flight while the signal arrives are drained, not dropped.
      const inflight = Array.from({ length: 100 }, () =>
        postJson(`${first.url}/v1/honu/ping`, { partition: 2, durable: true }).catch(() => null));
      const outcome = await stop(first, signal);
      expect(outcome.code).toBe(0);
      expect(outcome.elapsedMs).toBeLessThan(5_000);
      const acked = (await Promise.all(inflight))
        .filter((r) => r !== null && r.json.type === 0).map((r) => r!.json.count as number);
      const second = await spawnNode(dataDir);
      const after = await postJson(`${second.url}/v1/honu/ping`, { partition: 2, durable: true });
      expect(after.json.count).toBeGreaterThan(Math.max(before.json.count as number, ...acked));
      expect((await stop(second, 'SIGTERM')).code).toBe(0);
    });
  }
});
