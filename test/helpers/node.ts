// Starts a real Honu node in this process (real worker threads, real RocksDB in a temp dir,
// real sockets on a free port). Workers run from dist/: `npm test` builds first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServerArgs } from '../../src/main/config.js';
import { startNode, type RunningNode } from '../../src/main/server.js';

export interface TestNode {
  readonly node: RunningNode;
  readonly url: string;
  readonly dataDir: string;
}

export function tempDataDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `honu-${label}-`));
}

export async function startTestNode(dataDir: string, flags: string[] = []): Promise<TestNode> {
  const config = parseServerArgs(
    ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'silent',
      ...flags],
    {},
  );
  const node = await startNode(config, { handleSignals: false });
  return { node, url: `http://127.0.0.1:${node.port}`, dataDir };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

export async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
