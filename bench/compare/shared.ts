// What compare.ts (the parent) and grpc-compare-load.ts (the gRPC load processes) share: key
// names, so both transports touch the same key pattern, and the gRPC scenario names.
import type { GrpcLoadResult } from '../macro/kahuna-common.js';

/** Keys a connection (or gRPC in-flight slot) cycles over: writes rewrite them every pass. */
export const bodiesPerConn = 32;

/** The preloaded key index (preloadKey) that connection `conn` reads at step `i`. */
export const getIndex = (conn: number, i: number): number => conn * 131 + i * 7;

export const writeKey = (tag: string, conn: number, i: number): string =>
  `bench-${tag}-${conn}-${i}`;

/** The gRPC load process scenarios (grpc-compare-load.ts). */
export const grpcCompareScenarios = [
  'honu-set', 'honu-get', 'etcd-put', 'etcd-range',
  'honu-lock', 'etcd-lock', 'honu-reserve', 'etcd-txn-counter',
] as const;
export type GrpcCompareScenario = (typeof grpcCompareScenarios)[number];

/** Scenarios whose step list is one counted operation (a lock+unlock pair), not one per call. */
export const grpcPairScenarios: readonly GrpcCompareScenario[] = ['honu-lock', 'etcd-lock'];

/** What a gRPC load process reports: grpc-load.ts's result plus the answers that asked for a
 *  retry (etcd txn counter: a lost compare), counted neither as ops nor as errors. */
export interface GrpcCompareResult extends GrpcLoadResult {
  readonly retries: number;
}
