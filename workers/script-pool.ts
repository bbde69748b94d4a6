// piscina task file: stateless CPU jobs only (architecture.md). Parsing and compiling Kahuna
// Script will run here later; today it checksums partition snapshots off the main thread.
import { createHash } from 'node:crypto';

export interface ChecksumJob {
  readonly kind: 'checksum';
  readonly bytes: Uint8Array;
}

export interface ChecksumResult {
  readonly sha256: string; // hex
  readonly byteCount: number;
}

export type PoolJob = ChecksumJob;

export default function run(job: PoolJob): ChecksumResult {
  switch (job.kind) {
    case 'checksum':
      return {
        sha256: createHash('sha256').update(job.bytes).digest('hex'),
        byteCount: job.bytes.byteLength,
      };
  }
}
