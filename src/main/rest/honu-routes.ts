// Honu's own diagnostic routes (not Kahuna's). They exercise the whole request path and are
// what the end-to-end tests drive before the Kahuna APIs exist:
//   POST /v1/honu/ping {"partition": 1, "durable": false}
//     socket -> main thread -> ring -> partition worker -> (durable: writer fsync) -> back.
//     Durable pings bump a per-partition counter stored in RocksDB and restored on restart.
//   GET /v1/honu/partitions/{id}/digest
//     the partition's state bytes from its worker, checksummed in the piscina pool.
// Replies follow Kahuna's REST convention: HTTP 200 with a numeric `type`: 0 success,
// 100 InvalidInput, 101 MustRetry, 99 Errored.
import { errors, type ErrorData } from '../../errors.js';
import { Op } from '../../ipc/ops.js';
import { decodeU64 } from '../../core/partition/partition-state.js';
import type { CpuPool } from '../cpu-pool.js';
import type { Supervisor } from '../supervisor.js';
import type { RestReply, RestRouter } from './router.js';

export const KahunaType = { Success: 0, Errored: 99, InvalidInput: 100, MustRetry: 101 } as const;

export interface HonuRouteDeps {
  readonly supervisor: Supervisor;
  readonly pool: CpuPool;
  readonly partitions: number;
}

function errorReply(error: ErrorData, extra: Record<string, unknown> = {}): RestReply {
  const spec = errors[error.code];
  const type = spec.retryable ? KahunaType.MustRetry
    : error.code === 'HONU_ERR_INVALID_INPUT' ? KahunaType.InvalidInput : KahunaType.Errored;
  return { json: { type, error: error.code, detail: error.detail, ...extra } };
}

function invalid(detail: string): RestReply {
  return errorReply({ code: 'HONU_ERR_INVALID_INPUT', detail });
}

/** A partition id from JSON or a path segment, or an error text. */
function parsePartition(raw: unknown, partitions: number): number | string {
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > partitions) {
    return `partition must be an integer in 1..${partitions}`;
  }
  return value;
}

export function registerHonuRoutes(router: RestRouter, deps: HonuRouteDeps): void {
  router.add('POST', '/v1/honu/ping', async ({ body }) => {
    const input = (typeof body === 'object' && body !== null ? body : {}) as
      { partition?: unknown; durable?: unknown };
    const partition = parsePartition(input.partition ?? 1, deps.partitions);
    if (typeof partition === 'string') return invalid(partition);
    if (input.durable !== undefined && typeof input.durable !== 'boolean') {
      return invalid('durable must be a boolean');
    }
    const durable = input.durable === true;
    const reply = await deps.supervisor.request(partition,
      durable ? Op.PingDurable : Op.Ping, new Uint8Array(0));
    if (reply.error !== null) return errorReply(reply.error, { partition });
    const json: Record<string, unknown> = { type: KahunaType.Success, partition, durable };
    if (durable) json['count'] = Number(decodeU64(reply.payload));
    return { json };
  });

  router.add('GET', '/v1/honu/partitions/{id}/digest', async ({ params }) => {
    const partition = parsePartition(params['id'], deps.partitions);
    if (typeof partition === 'string') return invalid(partition);
    const reply = await deps.supervisor.request(partition, Op.SnapshotBytes, new Uint8Array(0));
    if (reply.error !== null) return errorReply(reply.error, { partition });
    const digest = await deps.pool.checksum(reply.payload);
    return {
      json: { type: KahunaType.Success, partition, bytes: digest.byteCount, sha256: digest.sha256 },
    };
  });
}
