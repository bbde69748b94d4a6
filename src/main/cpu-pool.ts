// The piscina pool for stateless CPU-heavy jobs (workers/script-pool.ts). Pinned partition state
// never lives here; jobs take bytes and return values.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Program } from '../core/script/ast.js';
import { workerPath } from '../env/paths.js';
import type { ChecksumResult, ParseResult, PoolJob, PoolResult } from '../../workers/script-pool.js';

/** A script the pool could not parse; the message says "Syntax error" and the line. */
export class PooledSyntaxError extends Error {}

export class CpuPool {
  private readonly pool: Piscina<PoolJob, PoolResult>;

  constructor(maxThreads = Math.max(1, availableParallelism() - 1)) {
    this.pool = new Piscina<PoolJob, PoolResult>({
      filename: workerPath('script-pool'), minThreads: 0, maxThreads, idleTimeout: 30_000,
    });
  }

  /** SHA-256 of the bytes, computed in the pool. */
  async checksum(bytes: Uint8Array): Promise<ChecksumResult> {
    return await this.pool.run({ kind: 'checksum', bytes }) as ChecksumResult;
  }

  /** Kahuna Script text parsed in the pool; rejects with PooledSyntaxError. */
  async parse(text: string): Promise<Program> {
    const r = await this.pool.run({ kind: 'parse', text }) as ParseResult;
    if (!r.ok) throw new PooledSyntaxError(r.reason);
    return r.program;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
