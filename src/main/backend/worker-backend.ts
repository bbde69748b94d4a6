// KahunaBackend over the partition workers: routes each call by Kahuna's placement hash
// (src/core/routing/placement.ts), encodes it for the ring (src/ipc/messages/kahuna.ts), and
// maps the worker's answer back. Batches are split by (partition, durability) and merged;
// prefix scans fan out to every partition. A worker that cannot decide (no leader, worker
// down, queue full, timeout) is the family's MustRetry, never a transport error.
import { KvType, LockType, MemberRole, reservedKeyPrefix, reservedSequencePrefix, scanItemsMax,
  SeqType } from '../../core/api/codes.js';
import type {
  GetLockResponse, Hlc, KahunaBackend, KvDeleteManyRequest, KvDeleteManyResponse,
  KvGetByRangeResponse, KvGetManyRequest, KvGetManyResponse, KvReadItem, KvReadResponse,
  KvScanByPrefixRequest, KvScanItem, KvScanResponse, KvSetManyRequest, KvSetManyResponse,
  KvWriteItem, KvWriteResponse, LeaveResponse, LockResponse, MembershipResponse,
  PlacementResponse, RoutingMetadataRequest, RoutingMetadataResponse,
  SequenceAllocationResponse, SequenceResponse, SetReplicationFactorRequest,
  SetReplicationFactorResponse,
} from '../../core/api/types.js';
import {
  hlcZero, LeaveOutcome, RouteProvenance, type RouteDomain, type RouteHint,
} from '../../core/api/types.js';
import { groupSeparator, keySpaceSeparator, PartitionMap, partitionOffset,
  placementAlgorithm } from '../../core/routing/placement.js';
import type { ErrorData } from '../../errors.js';
import { decode, encodeShared } from '../../ipc/messages/codec.js';
import { KahunaOp, type KahunaOpValue, opCodecs } from '../../ipc/messages/kahuna.js';
import type { WorkerReply } from '../supervisor.js';
import type { LeaveResult } from '../cluster/cluster-admin.js';

/** What the backend needs from the supervisor (an interface, so tests can stand in). The
 *  backend asks for object answers (wantValue): a reply's `value`, when set, is the decoded
 *  response, else `payload` holds its encoding. */
export interface PartitionRequester {
  request(partition: number, op: number, payload: Uint8Array,
    wantValue?: boolean): Promise<WorkerReply>;
}

export interface WorkerBackendOptions {
  readonly nodeId: number;
  readonly partitions: number;
  /** This node's advertised endpoint (membership, placement, routing metadata). */
  readonly endpoint: string;
  /** The other members of the cluster and their endpoints (none on a single node). */
  readonly peers?: () => readonly { readonly id: number; readonly endpoint: string }[];
  /** A member's role in the roster (default: every listed member is a voter). */
  readonly roleOf?: (id: number) => 'voter' | 'learner' | 'none';
  /** Removes this node from the cluster (default: refused, the only voter cannot leave). */
  readonly leave?: () => Promise<LeaveResult>;
  /** The node leading a partition as this node knows it (0: none); default: this node. */
  readonly leaderOf?: (partition: number) => number;
}

const zero: Hlc = hlcZero;
const lockRetry: LockResponse = { type: LockType.MustRetry, fencingToken: 0 };
const writeRetry: KvWriteResponse = { type: KvType.MustRetry, revision: 0, lastModified: zero };
const readRetry: KvReadResponse = { type: KvType.MustRetry, value: null, revision: 0,
  expires: zero, lastUsed: zero, lastModified: zero, state: 0 };

function isZeroHlc(h: Hlc): boolean {
  return h.n === 0 && h.l === 0 && h.c === 0;
}

export class WorkerBackend implements KahunaBackend {
  private readonly map: PartitionMap;

  /** The advertised endpoint; server.ts sets the bound port once it listens (--port 0). */
  endpoint: string;

  constructor(private readonly workers: PartitionRequester,
    private readonly opts: WorkerBackendOptions) {
    this.map = new PartitionMap(opts.partitions);
    this.endpoint = opts.endpoint;
  }

  /** One op on one partition; `retry` is the answer when the worker could not decide. */
  private async call<T>(partition: number, op: KahunaOpValue, req: unknown,
    retry: (error: ErrorData) => T): Promise<T> {
    const codec = opCodecs[op];
    // The request bytes live until the partition decodes them, or copies them into a ring
    // frame, a Raft entry or a peer envelope: a slab view, not an allocation of their own.
    const payload = encodeShared(codec.request, req);
    const reply = await this.workers.request(partition, op, payload, true);
    if (reply.error === null) {
      if (reply.value !== undefined) return reply.value as T;
      return decode<T>(codec.response, reply.payload);
    }
    // A request too large for the ring (an oversized value) is the caller's error; anything
    // else the node could not decide is MustRetry.
    if (reply.error.code === 'HONU_ERR_INVALID_INPUT') {
      return withType(retry(reply.error), isSequenceOp(op) ? SeqType.InvalidInput
        : KvType.InvalidInput);
    }
    return retry(reply.error);
  }

  private ofKey(key: string): number {
    return this.map.ofKey(key);
  }

  /** The partition owning `key` (transactions: src/main/tx/). */
  partitionOfKey(key: string): number {
    return this.map.ofKey(key);
  }

  /** The partition owning every key of `bucket` (GetByBucket, prefix locks). */
  partitionOfBucket(bucket: string): number {
    return this.map.ofKeySpace(bucket);
  }

  /** One op (a transaction op of src/core/api/tx-types.ts) on `partition`; `retry` answers
   *  when the node could not decide (InvalidInput keeps its meaning, as in call()). */
  op<T>(partition: number, op: KahunaOpValue, req: unknown, retry: () => T): Promise<T> {
    return this.call(partition, op, req, retry);
  }

  // ------------------------------------------------------------------ locks

  tryLock(req: Parameters<KahunaBackend['tryLock']>[0]): Promise<LockResponse> {
    return this.call(this.ofKey(req.resource), KahunaOp.TryLock, req, () => lockRetry);
  }

  extendLock(req: Parameters<KahunaBackend['extendLock']>[0]): Promise<LockResponse> {
    return this.call(this.ofKey(req.resource), KahunaOp.ExtendLock, req, () => lockRetry);
  }

  unlock(req: Parameters<KahunaBackend['unlock']>[0]): Promise<LockResponse> {
    return this.call(this.ofKey(req.resource), KahunaOp.Unlock, req, () => lockRetry);
  }

  getLock(req: Parameters<KahunaBackend['getLock']>[0]): Promise<GetLockResponse> {
    return this.call(this.ofKey(req.resource), KahunaOp.GetLock, req,
      () => ({ type: LockType.MustRetry, owner: null, expires: zero, fencingToken: 0 }));
  }

  // ------------------------------------------------------------------ key/values

  kvSet(req: Parameters<KahunaBackend['kvSet']>[0]): Promise<KvWriteResponse> {
    return this.call(this.ofKey(req.key), KahunaOp.KvSet, req, () => writeRetry);
  }

  kvExtend(req: Parameters<KahunaBackend['kvExtend']>[0]): Promise<KvWriteResponse> {
    return this.call(this.ofKey(req.key), KahunaOp.KvExtend, req, () => writeRetry);
  }

  kvDelete(req: Parameters<KahunaBackend['kvDelete']>[0]): Promise<KvWriteResponse> {
    return this.call(this.ofKey(req.key), KahunaOp.KvDelete, req, () => writeRetry);
  }

  kvGet(req: Parameters<KahunaBackend['kvGet']>[0]): Promise<KvReadResponse> {
    return this.call(this.ofKey(req.key), KahunaOp.KvGet, req, () => readRetry);
  }

  kvExists(req: Parameters<KahunaBackend['kvExists']>[0]): Promise<KvReadResponse> {
    return this.call(this.ofKey(req.key), KahunaOp.KvExists, req, () => readRetry);
  }

  /** Batch-wide rules first (wire.md 4.3: one reserved key or one transactional item fails
   *  every item), then one sub-batch per (partition, durability). */
  async kvSetMany(req: KvSetManyRequest): Promise<KvSetManyResponse> {
    const transactional = req.items.some((i) => !isZeroHlc(i.txId));
    if (transactional || anyReserved(req.items)) {
      return { type: transactional ? KvType.InvalidInput : KvType.Set,
        items: req.items.map((i) => writeItem(i.key, i.durability, KvType.InvalidInput)) };
    }
    const groups = this.split(req.items, (i) => this.ofKey(i.key), (i) => i.durability);
    const parts = await Promise.all(groups.map(({ partition, items }) =>
      this.call<KvSetManyResponse>(partition, KahunaOp.KvSetMany, { items },
        () => ({ type: KvType.Set, items: items.map((i) => writeItem(i.key, i.durability,
          KvType.MustRetry)) }))));
    return { type: KvType.Set, items: parts.flatMap((p) => p.items) };
  }

  async kvDeleteMany(req: KvDeleteManyRequest): Promise<KvDeleteManyResponse> {
    const session = req.coordinatorKey !== null || req.operationIdHigh !== null ||
      req.operationIdLow !== null;
    const transactional = req.items.some((i) => !isZeroHlc(i.txId));
    const unregistered = transactional && !(req.coordinatorKey !== null &&
      req.operationIdHigh !== null && req.operationIdLow !== null);
    if (unregistered || anyReserved(req.items)) {
      return { type: KvType.Deleted, items: req.items.map((i) => writeItem(i.key, i.durability,
        KvType.InvalidInput)) };
    }
    const groups = this.split(req.items, (i) => this.ofKey(i.key), (i) => i.durability);
    const parts = await Promise.all(groups.map(({ partition, items }) =>
      this.call<KvDeleteManyResponse>(partition, KahunaOp.KvDeleteMany,
        { items, coordinatorKey: session ? req.coordinatorKey : null,
          operationIdHigh: session ? req.operationIdHigh : null,
          operationIdLow: session ? req.operationIdLow : null },
        () => ({ type: KvType.Deleted, items: items.map((i) => writeItem(i.key, i.durability,
          KvType.MustRetry)) }))));
    return { type: KvType.Deleted, items: parts.flatMap((p) => p.items) };
  }

  kvGetMany(req: KvGetManyRequest): Promise<KvGetManyResponse> {
    return this.readMany(req, KahunaOp.KvGetMany);
  }

  kvExistsMany(req: KvGetManyRequest): Promise<KvGetManyResponse> {
    return this.readMany(req, KahunaOp.KvExistsMany);
  }

  private async readMany(req: KvGetManyRequest, op: KahunaOpValue): Promise<KvGetManyResponse> {
    const transactional = !isZeroHlc(req.txId);
    if (transactional || anyReserved(req.items)) {
      return { type: transactional ? KvType.InvalidInput : KvType.Get,
        items: req.items.map((i) => readItem(i.key, i.durability, KvType.InvalidInput)) };
    }
    const groups = this.split(req.items, (i) => this.ofKey(i.key), (i) => i.durability);
    const parts = await Promise.all(groups.map(({ partition, items }) =>
      this.call<KvGetManyResponse>(partition, op, { ...req, items },
        () => ({ type: KvType.Get, items: items.map((i) => readItem(i.key, i.durability,
          KvType.MustRetry)) }))));
    return { type: KvType.Get, items: parts.flatMap((p) => p.items) };
  }

  /** Items grouped by (partition, durability), in first-seen order. */
  private split<I>(items: readonly I[], partitionOf: (i: I) => number,
    durabilityOf: (i: I) => number): { partition: number; items: I[] }[] {
    const groups = new Map<string, { partition: number; items: I[] }>();
    for (const item of items) {
      const partition = partitionOf(item);
      const id = `${partition}:${durabilityOf(item) === 1 ? 1 : 0}`;
      let g = groups.get(id);
      if (g === undefined) groups.set(id, g = { partition, items: [] });
      g.items.push(item);
    }
    return [...groups.values()];
  }

  kvGetByBucket(req: Parameters<KahunaBackend['kvGetByBucket']>[0]): Promise<KvScanResponse> {
    return this.call(this.map.ofKeySpace(req.prefixKey), KahunaOp.KvGetByBucket, req,
      () => ({ type: KvType.MustRetry, items: [] }));
  }

  /** Every partition's live keys with the prefix, merged in key order, capped (wire.md 4.3). */
  async kvScanAllByPrefix(req: KvScanByPrefixRequest): Promise<KvScanResponse> {
    if (req.prefixKey === '') return { type: KvType.InvalidInput, items: [] };
    const parts = await Promise.all(this.allPartitions().map((p) =>
      this.call<KvScanResponse>(p, KahunaOp.KvScanByPrefix, req,
        () => ({ type: KvType.MustRetry, items: [] }))));
    const failed = parts.find((p) => p.type !== KvType.Get);
    if (failed !== undefined) return { type: failed.type, items: [] };
    const items: KvScanItem[] = parts.flatMap((p) => p.items);
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { type: KvType.Get, items: items.slice(0, scanItemsMax) };
  }

  kvScanByPrefix(req: KvScanByPrefixRequest): Promise<KvScanResponse> {
    // One node hosts every partition: the node-local scan is the whole scan.
    return this.kvScanAllByPrefix(req);
  }

  kvGetByRange(req: Parameters<KahunaBackend['kvGetByRange']>[0]):
    Promise<KvGetByRangeResponse> {
    if (req.prefix === '') {
      return Promise.resolve({ type: KvType.InvalidInput, items: [], nextCursor: null,
        hasMore: false });
    }
    return this.call(this.map.ofKeySpace(req.prefix), KahunaOp.KvGetByRange, req,
      () => ({ type: KvType.MustRetry, items: [], nextCursor: null, hasMore: false }));
  }

  private allPartitions(): number[] {
    return Array.from({ length: this.opts.partitions }, (_, i) => i + 1);
  }

  // ------------------------------------------------------------------ sequences

  /** Sequences live under __kahuna:sequences:<name> (wire.md 4.7); route by that key. */
  private ofSequence(name: string): number {
    return this.ofKey(`${reservedSequencePrefix}${name.trim()}`);
  }

  private seq(name: string, op: KahunaOpValue, req: unknown): Promise<SequenceResponse> {
    return this.call(this.ofSequence(name), op, req,
      () => ({ type: SeqType.MustRetry, sequence: null, revision: 0 }));
  }

  seqCreate(req: Parameters<KahunaBackend['seqCreate']>[0]): Promise<SequenceResponse> {
    return this.seq(req.name, KahunaOp.SeqCreate, req);
  }

  seqUpdate(req: Parameters<KahunaBackend['seqUpdate']>[0]): Promise<SequenceResponse> {
    return this.seq(req.name, KahunaOp.SeqUpdate, req);
  }

  seqGet(req: Parameters<KahunaBackend['seqGet']>[0]): Promise<SequenceResponse> {
    return this.seq(req.name, KahunaOp.SeqGet, req);
  }

  seqDelete(req: Parameters<KahunaBackend['seqDelete']>[0]): Promise<SequenceResponse> {
    return this.seq(req.name, KahunaOp.SeqDelete, req);
  }

  seqReserve(req: Parameters<KahunaBackend['seqReserve']>[0]):
    Promise<SequenceAllocationResponse> {
    return this.call(this.ofSequence(req.name), KahunaOp.SeqReserve, req,
      () => ({ type: SeqType.MustRetry, allocation: null }));
  }

  // ------------------------------------------------------------------ cluster

  /** The node that leads `partition`, or this node when none is known (single node: always). */
  private leaderNode(partition: number): number {
    const leader = this.opts.leaderOf?.(partition) ?? this.opts.nodeId;
    return leader === 0 ? this.opts.nodeId : leader;
  }

  private endpointOf(node: number): string {
    if (node === this.opts.nodeId) return this.endpoint;
    return this.opts.peers?.().find((p) => p.id === node)?.endpoint ?? this.endpoint;
  }

  /** The hint names the key's partition and its leader: this node when it executed the
   *  call, the leader it was forwarded to otherwise. */
  routeHint(domain: RouteDomain, key: string): RouteHint {
    const partitionId = domain === 'sequence' ? this.ofSequence(key) : this.ofKey(key);
    const leader = this.leaderNode(partitionId);
    return { partitionId, endpoint: this.endpointOf(leader),
      provenance: leader === this.opts.nodeId ? RouteProvenance.Executed
        : RouteProvenance.Forwarded,
      generation: 0 };
  }

  membership(): Promise<MembershipResponse> {
    const members = [{ id: this.opts.nodeId, endpoint: this.endpoint },
      ...(this.opts.peers?.() ?? [])].sort((a, b) => a.id - b.id);
    const role = (id: number): number => {
      const r = this.opts.roleOf?.(id) ?? 'voter';
      return r === 'voter' ? MemberRole.Voter : r === 'learner' ? MemberRole.Learner
        : MemberRole.NotMember;
    };
    return Promise.resolve({
      membershipVersion: 1, localRole: role(this.opts.nodeId), initialized: true,
      members: members.filter((m) => role(m.id) !== MemberRole.NotMember)
        .map((m) => ({ endpoint: m.endpoint, nodeId: m.id, role: role(m.id), joinedVersion: 1 })),
    });
  }

  /** The only voter cannot leave: Kahuna refuses a leave that would lose the quorum. */
  async leave(): Promise<LeaveResponse> {
    const refused = (reason: string): LeaveResponse => ({
      left: false, outcome: LeaveOutcome.RefusedInsufficientVoters, membershipVersion: 1,
      retryable: false, drained: false, reason });
    if (this.opts.leave === undefined) {
      return refused('this node is the only voter of a single-node cluster; it cannot leave');
    }
    const res = await this.opts.leave();
    switch (res.outcome) {
      case 'committed':
        return { left: true, outcome: LeaveOutcome.Committed, membershipVersion: 1,
          retryable: false, drained: false, reason: 'removed from every partition' };
      case 'not-a-member':
        return { left: false, outcome: LeaveOutcome.NotAMember, membershipVersion: 1,
          retryable: false, drained: false, reason: 'this node is not a member' };
      case 'refused-last-voter':
        return refused('this node is the last voter; the cluster cannot lose it');
      case 'timeout':
        return { left: false, outcome: LeaveOutcome.Timeout, membershipVersion: 1,
          retryable: true, drained: false, reason: res.detail };
    }
  }

  /** Full replication (factor 0): every partition is active here, no replica sets. */
  placement(): Promise<PlacementResponse> {
    return Promise.resolve({
      replicationFactor: 0, rebalancerEnabled: false, initialized: true,
      localEndpoint: this.endpoint, hostedPartitionCount: this.opts.partitions,
      partitions: this.allPartitions().map((partitionId) => ({
        partitionId, state: 'Active', generation: 0, effectiveReplicationFactor: 0,
        hostedLocally: true, replicas: [],
      })),
    });
  }

  /** A single node has no other replicas to place: a valid override is refused. */
  setReplicationFactor(req: SetReplicationFactorRequest): Promise<SetReplicationFactorResponse> {
    const { partitionId, replicationFactor } = req;
    const partitions = this.opts.partitions;
    let reason: string | null = null;
    if (!Number.isInteger(partitionId) || partitionId < 1 || partitionId > partitions) {
      reason = `partitionId must be a data partition, 1..${String(partitions)}`;
    } else if (!Number.isInteger(replicationFactor) || replicationFactor < 0) {
      reason = 'replicationFactor must be 0 (clear the override) or more';
    }
    if (reason !== null) {
      return Promise.resolve({ success: false, status: 'InvalidInput', generation: 0, reason });
    }
    return Promise.resolve({ success: false, status: 'Refused', generation: 0,
      reason: 'a single-node cluster replicates every partition fully on its only node' });
  }

  /** Kahuna's hash routing with this node's pool and this node as every partition's leader;
   *  hash spaces are all there is, so no key-range spaces (wire.md 2.5). */
  routingMetadata(_req: RoutingMetadataRequest): Promise<RoutingMetadataResponse> {
    const endpoint = this.endpoint;
    return Promise.resolve({
      initialized: true, schemaVersion: 1, hashAlgorithm: placementAlgorithm,
      prefixSeparator: keySpaceSeparator, groupSeparator,
      hashPoolSize: this.opts.partitions, hashPartitionOffset: partitionOffset,
      sequenceStorageKeyFormat: `${reservedSequencePrefix}{0}`, reservedKeyPrefix,
      localEndpoint: endpoint, snapshotVersion: 1, coherent: true, keySpaces: [],
      leaders: this.allPartitions().map((partitionId) => ({ partitionId,
        endpoint: this.endpointOf(this.leaderNode(partitionId)) })),
    });
  }
}

function isSequenceOp(op: KahunaOpValue): boolean {
  return op >= KahunaOp.SeqCreate && op <= KahunaOp.SeqReserve;
}

/** `res` (a MustRetry answer) with another outcome type, on every item too. */
function withType<T>(res: T, type: number): T {
  const r = res as { items?: readonly object[] };
  const items = r.items?.map((i) => ({ ...i, type }));
  return { ...res, type, ...(items === undefined ? {} : { items }) };
}

/** wire.md 4.7: one reserved key in a batch fails every item. */
function anyReserved(items: readonly { readonly key: string }[]): boolean {
  return items.some((i) => i.key.startsWith(reservedKeyPrefix));
}

function writeItem(key: string, durability: number, type: number): KvWriteItem {
  return { type, key, durability, revision: 0, lastModified: zero };
}

function readItem(key: string, durability: number, type: number): KvReadItem {
  return { type, key, durability, value: null, revision: 0, expires: zero, lastUsed: zero,
    lastModified: zero, state: 0 };
}
