// The piscina pool for stateless CPU-heavy jobs (workers/script-pool.ts). Pinned partition state
// never lives here; jobs take bytes and return values.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerPath } from '../env/paths.js';
import type { ChecksumResult, PoolJob } from '../../workers/script-pool.js';

export class CpuPool {
  private readonly pool: Piscina<PoolJob, ChecksumResult>;

  constructor(maxThreads = Math.max(1, availableParallelism() - 1)) {
    this.pool = new Piscina<PoolJob, ChecksumResult>({
      filename: workerPath('script-pool'), minThreads: 0, maxThreads, idleTimeout: 30_000,
    });
  }

  /** SHA-256 of the bytes, computed in the pool. */
  checksum(bytes: Uint8Array): Promise<ChecksumResult> {
    return this.pool.run({ kind: 'checksum', bytes });
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
