// What compare.ts (the parent) and grpc-compare-load.ts (the gRPC load processes) share: key
// names, so both transports touch the same key pattern, and the gRPC scenario names.

/** Keys a connection (or gRPC in-flight slot) cycles over: writes rewrite them every pass. */
export const bodiesPerConn = 32;

/** The preloaded key index (preloadKey) that connection `conn` reads at step `i`. */
export const getIndex = (conn: number, i: number): number => conn * 131 + i * 7;

export const writeKey = (tag: string, conn: number, i: number): string =>
  `bench-${tag}-${conn}-${i}`;

/** The gRPC load process scenarios (grpc-compare-load.ts). */
export const grpcCompareScenarios = ['honu-set', 'honu-get', 'etcd-put', 'etcd-range'] as const;
export type GrpcCompareScenario = (typeof grpcCompareScenarios)[number];
