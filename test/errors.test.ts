// The error table, its documentation and its gRPC mapping stay in step (fastify-style).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/env/paths.js';
import { errorCodeOf, errorId, errors, type ErrorCode } from '../src/errors.js';

const doc = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');
const rows = new Map<string, string[]>();
for (const line of doc.split('\n')) {
  const cells = line.split('|').map((c) => c.trim());
  if (cells[1]?.startsWith('HONU_ERR_')) rows.set(cells[1], cells.slice(2));
}
const codes = Object.keys(errors) as ErrorCode[];

describe('error codes', () => {
  it('documents every code with its id, HTTP status, gRPC status and retryability', () => {
    for (const code of codes) {
      const spec = errors[code];
      const row = rows.get(code);
      expect(row, `${code} missing from docs/errors.md`).toBeDefined();
      const [id, http, grpc, retryable] = row!;
      expect(Number(id)).toBe(spec.id);
      expect(Number(http)).toBe(spec.httpStatus);
      expect(grpc).toBe(`${status[spec.grpcStatus]} (${spec.grpcStatus})`);
      expect(retryable).toBe(spec.retryable ? 'yes' : 'no');
    }
  });

  it('has no stale documentation rows', () => {
    for (const documented of rows.keys()) expect(codes).toContain(documented);
  });

  it('maps wire ids both ways and unknown ids to HONU_ERR_INTERNAL', () => {
    for (const code of codes) expect(errorCodeOf(errorId(code))).toBe(code);
    expect(errorCodeOf(0)).toBe('HONU_ERR_INTERNAL');
    expect(errorCodeOf(60_000)).toBe('HONU_ERR_INTERNAL');
  });
});
