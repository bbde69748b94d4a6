// piscina task file: stateless CPU jobs only (architecture.md): parsing Kahuna Script (a parse
// that misses the main thread's cache runs here, off the request path) and checksumming
// partition snapshots. Jobs take plain data and return plain data (structured clone).
import { createHash } from 'node:crypto';
import type { Program } from '../src/core/script/ast.js';
import { tryParseScript } from '../src/core/script/parser.js';

export interface ChecksumJob {
  readonly kind: 'checksum';
  readonly bytes: Uint8Array;
}

export interface ChecksumResult {
  readonly sha256: string; // hex
  readonly byteCount: number;
}

export interface ParseJob {
  readonly kind: 'parse';
  readonly text: string;
}

/** A program, or the syntax error's message ("Syntax error: ... at line N"). */
export type ParseResult = { readonly ok: true; readonly program: Program }
  | { readonly ok: false; readonly reason: string };

export type PoolJob = ChecksumJob | ParseJob;
export type PoolResult = ChecksumResult | ParseResult;

export default function run(job: PoolJob): PoolResult {
  switch (job.kind) {
    case 'checksum':
      return {
        sha256: createHash('sha256').update(job.bytes).digest('hex'),
        byteCount: job.bytes.byteLength,
      };
    case 'parse': {
      const r = tryParseScript(job.text);
      return r.ok ? { ok: true, program: r.program } : { ok: false, reason: r.reason };
    }
  }
}
