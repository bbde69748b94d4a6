// A real `honu server` child process (bin/honu.mjs, compiled dist/: `npm test` builds first) on a
// free port of 127.0.0.1 with its own data directory. The port is read from the
// 'honu node listening' log line, as in test/e2e/signals.test.ts. The last log lines are kept so
// a failing test can say what the server printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../src/env/paths.js';

export interface HonuProcess {
  readonly proc: ChildProcess;
  readonly port: number;
  /** `http://127.0.0.1:<port>` (REST over HTTP/1.1, gRPC over h2c on the same port). */
  readonly url: string;
  readonly dataDir: string;
  /** The last log lines (stdout and stderr) of the child. */
  readonly log: string[];
  /** SIGKILL, and wait until the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, and wait for the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

const logLinesKept = 200;
/** The partitions on the main thread, as a node on 2 cores runs by default (its answers take
 *  the object path; test/e2e covers worker threads). HONU_ACCEPTANCE_WORKERS=1 runs the suite
 *  against a worker thread instead. */
const acceptanceWorkers = process.env['HONU_ACCEPTANCE_WORKERS'] ?? '0';
const startTimeoutMs = 30_000;

export function tempDataDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `honu-acceptance-${label}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function startHonu(dataDir: string, flags: string[] = []): Promise<HonuProcess> {
  const proc = spawn(process.execPath,
    [join(repoRoot, 'bin', 'honu.mjs'), 'server', '--port', '0', '--host', '127.0.0.1',
      '--data-dir', dataDir, '--workers', acceptanceWorkers, ...flags],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const keep = (line: string): void => {
    log.push(line);
    if (log.length > logLinesKept) log.shift();
  };
  createInterface({ input: proc.stderr! }).on('line', keep);
  const exited = once(proc, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `honu did not listen within ${startTimeoutMs} ms:\n${log.join('\n')}`)), startTimeoutMs);
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      keep(line);
      let entry: { msg?: string; port?: number } = {};
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'honu node listening' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`honu exited (${String(code)}, ${String(signal)}) before listening:\n` +
        log.join('\n')));
    });
  });
  let gone = false;
  void exited.then(() => { gone = true; });
  return {
    proc, port, url: `http://127.0.0.1:${port}`, dataDir, log,
    async kill9() {
      if (!gone) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
    async stop() {
      if (gone) return proc.exitCode;
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}
