// The Kahuna API as plain data (issue 4): what the gRPC and REST adapters (src/main/grpc,
// src/main/rest) decode requests into and encode responses from, what crosses the rings to the
// partition workers (src/ipc/messages/), and what the state machine (src/core/state/) takes and
// returns. Field meanings follow ../shared/spec/wire.md; names are camelCase, int64 fields are
// JS numbers (safe integers, wire.md 1.5), bytes are Uint8Array, and `null` is "absent".
// Pure: no node:*.

/** Hybrid logical clock timestamp (wire.md 1.3): node id, physical ms, logical counter. The
 *  all-zero value means "none" (no expiry) or "latest" (a read timestamp). */
export interface Hlc {
  readonly n: number;
  readonly l: number;
  readonly c: number;
}

export const hlcZero: Hlc = { n: 0, l: 0, c: 0 };

export const Durability = { Ephemeral: 0, Persistent: 1 } as const;

// ------------------------------------------------------------------ locks (wire.md 2.1, 4.1)

export interface TryLockRequest {
  readonly resource: string;
  readonly owner: Uint8Array;
  readonly expiresMs: number;
  readonly durability: number;
}

export type ExtendLockRequest = TryLockRequest;

export interface UnlockRequest {
  readonly resource: string;
  readonly owner: Uint8Array;
  readonly durability: number;
}

export interface GetLockRequest {
  readonly resource: string;
  readonly durability: number;
}

/** TryLock, TryExtendLock and Unlock (Unlock's token is 0). */
export interface LockResponse {
  readonly type: number; // LockType
  readonly fencingToken: number;
}

export interface GetLockResponse {
  readonly type: number;
  readonly owner: Uint8Array | null;
  readonly expires: Hlc;
  readonly fencingToken: number;
}

// ------------------------------------------------------------------ key/values (wire.md 2.2)

/** Session fields every transactional-capable call carries (wire.md 1.3). Non-transactional
 *  calls have txId zero, coordinatorKey "" and operation ids 0. */
export interface TxFields {
  readonly txId: Hlc;
  readonly coordinatorKey: string;
  readonly operationIdHigh: number;
  readonly operationIdLow: number;
}

export interface KvSetRequest extends TxFields {
  readonly key: string;
  /** null: the key exists but holds no value (wire.md 4.9.1). */
  readonly value: Uint8Array | null;
  readonly compareValue: Uint8Array | null;
  readonly compareRevision: number;
  readonly flags: number; // KvFlags bit set
  readonly expiresMs: number;
  readonly durability: number;
}

export interface KvExtendRequest extends TxFields {
  readonly key: string;
  readonly expiresMs: number;
  readonly durability: number;
}

export interface KvDeleteRequest extends TxFields {
  readonly key: string;
  readonly durability: number;
}

export interface KvGetRequest extends TxFields {
  readonly key: string;
  /** -1 = latest; >= 0 = that archived revision. */
  readonly revision: number;
  readonly readTimestamp: Hlc;
  readonly durability: number;
}

/** Set, extend and delete. */
export interface KvWriteResponse {
  readonly type: number; // KvType
  readonly revision: number;
  readonly lastModified: Hlc;
}

/** Get and exists (exists never carries a value). */
export interface KvReadResponse {
  readonly type: number;
  readonly value: Uint8Array | null;
  readonly revision: number;
  readonly expires: Hlc;
  readonly lastUsed: Hlc;
  readonly lastModified: Hlc;
  readonly state: number; // KvState
}

export interface KvSetManyRequest {
  readonly items: readonly KvSetRequest[];
}

export interface KvWriteItem extends KvWriteResponse {
  readonly key: string;
  readonly durability: number;
}

export interface KvSetManyResponse {
  /** Envelope type (REST): Set, or InvalidInput when `items` is missing (wire.md 3.4). */
  readonly type: number;
  readonly items: readonly KvWriteItem[];
}

export interface KvDeleteManyItem {
  readonly txId: Hlc;
  readonly key: string;
  readonly durability: number;
}

export interface KvDeleteManyRequest {
  readonly items: readonly KvDeleteManyItem[];
  /** Only for a transactional batch (null otherwise). */
  readonly coordinatorKey: string | null;
  readonly operationIdHigh: number | null;
  readonly operationIdLow: number | null;
}

export interface KvDeleteManyResponse {
  readonly type: number; // envelope: Deleted, or InvalidInput
  readonly items: readonly KvWriteItem[];
}

export interface KvManyReadItemRequest {
  readonly key: string;
  readonly revision: number;
  readonly durability: number;
}

export interface KvGetManyRequest {
  readonly txId: Hlc;
  readonly items: readonly KvManyReadItemRequest[];
  readonly readTimestamp: Hlc;
}

export interface KvReadItem extends KvReadResponse {
  readonly key: string;
  readonly durability: number;
}

/** Get-many and exists-many. */
export interface KvGetManyResponse {
  readonly type: number; // envelope: Get, or InvalidInput
  readonly items: readonly KvReadItem[];
}

/** One row of every scan (wire.md GrpcKeyValueByPrefixItemResponse). */
export interface KvScanItem {
  readonly key: string;
  readonly value: Uint8Array | null;
  readonly revision: number;
  readonly expires: Hlc;
  readonly lastUsed: Hlc;
  readonly lastModified: Hlc;
  readonly state: number;
}

export interface KvGetByBucketRequest {
  readonly txId: Hlc;
  /** The bucket: the part of the keys before their last '/'. */
  readonly prefixKey: string;
  readonly readTimestamp: Hlc;
  readonly durability: number;
}

export interface KvScanByPrefixRequest {
  readonly prefixKey: string;
  readonly readTimestamp: Hlc;
  readonly durability: number;
}

export interface KvScanResponse {
  readonly type: number;
  readonly items: readonly KvScanItem[];
}

export interface KvGetByRangeRequest {
  readonly txId: Hlc;
  readonly prefix: string;
  readonly startKey: string | null;
  readonly startInclusive: boolean;
  readonly endKey: string | null;
  readonly endInclusive: boolean;
  /** <= 0: unbounded. */
  readonly limit: number;
  readonly readTimestamp: Hlc;
  readonly durability: number;
  /** Opaque cursor from a previous page (REST); null for the first page. */
  readonly cursor: string | null;
}

export interface KvGetByRangeResponse {
  readonly type: number;
  readonly items: readonly KvScanItem[];
  readonly nextCursor: string | null;
  readonly hasMore: boolean;
}

// ------------------------------------------------------------------ sequences (wire.md 2.3, 4.6)

export interface SeqCreateRequest {
  readonly name: string;
  readonly initialValue: number;
  readonly increment: number;
  readonly maxValue: number | null;
  readonly durability: number;
  readonly blockSize: number | null;
}

export interface SeqUpdateRequest {
  readonly name: string;
  readonly currentValue: number | null;
  readonly increment: number | null;
  readonly initialValue: number | null;
  readonly maxValue: number | null;
  readonly removeMaxValue: boolean;
  readonly blockSize: number | null;
  readonly removeBlockSize: boolean;
  readonly durability: number;
}

export interface SeqNameRequest {
  readonly name: string;
  readonly durability: number;
}

export interface SeqReserveRequest {
  readonly name: string;
  /** 1 for NextSequenceValue. */
  readonly count: number;
  readonly idempotencyKey: string | null;
  readonly durability: number;
}

export interface SequenceEntry {
  readonly name: string;
  readonly currentValue: number;
  readonly initialValue: number;
  readonly increment: number;
  readonly maxValue: number | null;
  readonly revision: number;
  readonly durability: number;
  readonly createdAt: Hlc;
  readonly updatedAt: Hlc;
  readonly blockSize: number | null;
  readonly incarnation: number;
}

export interface SequenceAllocation {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly count: number;
  readonly revision: number;
}

/** Create, update, get and delete. */
export interface SequenceResponse {
  readonly type: number; // SeqType
  readonly sequence: SequenceEntry | null;
  readonly revision: number;
}

/** Next and reserve. */
export interface SequenceAllocationResponse {
  readonly type: number;
  readonly allocation: SequenceAllocation | null;
}

// ------------------------------------------------------------------ cluster (wire.md 2.4)

export interface ClusterMember {
  readonly endpoint: string;
  readonly nodeId: number;
  readonly role: number; // MemberRole
  readonly joinedVersion: number;
}

export interface MembershipResponse {
  readonly membershipVersion: number;
  readonly members: readonly ClusterMember[];
  readonly localRole: number;
  readonly initialized: boolean;
}

/** Leave outcomes, as Kahuna's GrpcLeaveClusterOutcome numbers them (wire.md 2.4, 2.6). */
export const LeaveOutcome = {
  Committed: 0, NotAMember: 1, RefusedInsufficientVoters: 2, NotInitialized: 3, NoLeader: 4,
  Timeout: 5, RefusedDrainInProgress: 6, DrainTimedOut: 7,
} as const;

/** Replica roles, as Kahuna's GrpcPartitionReplicaRole numbers them (wire.md 2.6). */
export const ReplicaRole = { Voter: 0, Learner: 1, Removing: 2 } as const;

export interface LeaveResponse {
  readonly left: boolean;
  readonly outcome: number; // LeaveOutcome
  readonly membershipVersion: number;
  readonly retryable: boolean;
  readonly reason: string;
  readonly drained: boolean;
}

export interface PartitionReplica {
  readonly endpoint: string;
  readonly role: number; // ReplicaRole
}

export interface PartitionPlacement {
  readonly partitionId: number;
  /** Lifecycle name: "Active", "Draining", "Removed", ... */
  readonly state: string;
  readonly generation: number;
  /** The partition's override or the global factor; 0 = full replication. */
  readonly effectiveReplicationFactor: number;
  readonly hostedLocally: boolean;
  /** Empty = full replication. */
  readonly replicas: readonly PartitionReplica[];
}

export interface PlacementResponse {
  /** 0 = full replication. */
  readonly replicationFactor: number;
  readonly rebalancerEnabled: boolean;
  readonly initialized: boolean;
  readonly localEndpoint: string;
  /** Partitions hosted locally, excluding Removed ones. */
  readonly hostedPartitionCount: number;
  readonly partitions: readonly PartitionPlacement[];
}

export interface SetReplicationFactorRequest {
  readonly partitionId: number;
  /** 0 clears the override. */
  readonly replicationFactor: number;
}

export interface SetReplicationFactorResponse {
  readonly success: boolean;
  /** Outcome name: "Success", "InvalidInput", "Refused", ... */
  readonly status: string;
  /** The new generation; 0 when refused. */
  readonly generation: number;
  /** "" on success. */
  readonly reason: string;
}

export interface RoutingMetadataRequest {
  /** Filter; "" = all. */
  readonly keySpace: string;
}

export interface RoutingRange {
  readonly startKey: string | null; // null = -infinity
  readonly endKey: string | null; // null = +infinity (exclusive)
  readonly partitionId: number;
  readonly generation: number;
}

export interface RoutingKeySpace {
  readonly keySpace: string;
  readonly routingMode: string; // "KeyRange" or "Hash"
  readonly ranges: readonly RoutingRange[];
}

export interface PartitionLeader {
  readonly partitionId: number;
  /** Leader client URL; "" = unknown. */
  readonly endpoint: string;
}

/** What kahuna-ts needs to route by itself (wire.md 2.5, routing mode 'metadata'). */
export interface RoutingMetadataResponse {
  readonly initialized: boolean;
  readonly schemaVersion: number;
  readonly hashAlgorithm: string;
  readonly prefixSeparator: string;
  readonly groupSeparator: string;
  readonly hashPoolSize: number;
  readonly hashPartitionOffset: number;
  readonly sequenceStorageKeyFormat: string;
  readonly reservedKeyPrefix: string;
  readonly localEndpoint: string;
  readonly snapshotVersion: number;
  readonly coherent: boolean;
  readonly keySpaces: readonly RoutingKeySpace[];
  readonly leaders: readonly PartitionLeader[];
}

// ------------------------------------------------------------------ route hints (wire.md 2.5)

export const RouteProvenance = { Unknown: 0, Executed: 1, Forwarded: 2 } as const;

/** Where a resource lives, sent back so kahuna-ts's `learned` routing calls the owner next. */
export interface RouteHint {
  readonly partitionId: number;
  readonly endpoint: string;
  readonly provenance: number;
  readonly generation: number;
}

/** The routing domains of kahuna-ts: keys, lock resources and sequence names. */
export type RouteDomain = 'keyValue' | 'lock' | 'sequence';

/** What the gRPC and REST adapters call. Every method resolves (never rejects) with the
 *  outcome in `type`; transient trouble is the MustRetry code of the family. */
export interface KahunaBackend {
  tryLock(req: TryLockRequest): Promise<LockResponse>;
  extendLock(req: ExtendLockRequest): Promise<LockResponse>;
  unlock(req: UnlockRequest): Promise<LockResponse>;
  getLock(req: GetLockRequest): Promise<GetLockResponse>;

  kvSet(req: KvSetRequest): Promise<KvWriteResponse>;
  kvExtend(req: KvExtendRequest): Promise<KvWriteResponse>;
  kvDelete(req: KvDeleteRequest): Promise<KvWriteResponse>;
  kvGet(req: KvGetRequest): Promise<KvReadResponse>;
  kvExists(req: KvGetRequest): Promise<KvReadResponse>;
  kvSetMany(req: KvSetManyRequest): Promise<KvSetManyResponse>;
  kvDeleteMany(req: KvDeleteManyRequest): Promise<KvDeleteManyResponse>;
  kvGetMany(req: KvGetManyRequest): Promise<KvGetManyResponse>;
  kvExistsMany(req: KvGetManyRequest): Promise<KvGetManyResponse>;
  kvGetByBucket(req: KvGetByBucketRequest): Promise<KvScanResponse>;
  kvScanAllByPrefix(req: KvScanByPrefixRequest): Promise<KvScanResponse>;
  /** The node-local scan (gRPC ScanByPrefix). */
  kvScanByPrefix(req: KvScanByPrefixRequest): Promise<KvScanResponse>;
  kvGetByRange(req: KvGetByRangeRequest): Promise<KvGetByRangeResponse>;

  seqCreate(req: SeqCreateRequest): Promise<SequenceResponse>;
  seqUpdate(req: SeqUpdateRequest): Promise<SequenceResponse>;
  seqGet(req: SeqNameRequest): Promise<SequenceResponse>;
  seqDelete(req: SeqNameRequest): Promise<SequenceResponse>;
  seqReserve(req: SeqReserveRequest): Promise<SequenceAllocationResponse>;

  membership(): Promise<MembershipResponse>;

  /** The route hint for a key, lock resource or sequence name, or null to send none. */
  routeHint(domain: RouteDomain, key: string): RouteHint | null;
  leave(): Promise<LeaveResponse>;
  placement(): Promise<PlacementResponse>;
  setReplicationFactor(req: SetReplicationFactorRequest): Promise<SetReplicationFactorResponse>;
  routingMetadata(req: RoutingMetadataRequest): Promise<RoutingMetadataResponse>;
}
