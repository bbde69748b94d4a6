// Kahuna's cluster routes backed by the KahunaBackend (wire.md 3.6): GET /v1/cluster/membership,
// POST /v1/cluster/leave, GET /v1/cluster/placement, POST /v1/cluster/replication-factor and
// GET /v1/cluster/routing. GET /v1/cluster/health stays in system-routes.ts (it reads the node,
// not the backend). REST writes roles and leave outcomes as strings where gRPC writes the enum
// (wire.md 4.9.7).
import type {
  ClusterMember, KahunaBackend, PartitionPlacement, RoutingKeySpace,
  SetReplicationFactorResponse,
} from '../../core/api/types.js';
import { LeaveOutcome, ReplicaRole } from '../../core/api/types.js';
import { MemberRole } from '../../core/api/codes.js';
import type { RestReply, RestRouter } from './router.js';
import { fieldsOf, notAnObjectReply } from './json-fields.js';

export interface ClusterRouteDeps {
  readonly backend: KahunaBackend;
}

function namesOf(values: Readonly<Record<string, number>>): (value: number) => string {
  const names: ReadonlyMap<number, string> = new Map(
    Object.entries(values).map(([name, value]) => [value, name]));
  // An unknown value is a backend bug; its number still tells the operator which one.
  return (value) => names.get(value) ?? String(value);
}

const roleName = namesOf(MemberRole);
const replicaRoleName = namesOf(ReplicaRole);
const outcomeName = namesOf(LeaveOutcome);

/** wire.md 3.6: the HTTP status of each leave outcome. */
const leaveStatus: ReadonlyMap<number, number> = new Map([
  [LeaveOutcome.Committed, 200], [LeaveOutcome.NotAMember, 200],
  [LeaveOutcome.RefusedInsufficientVoters, 409],
  [LeaveOutcome.NotInitialized, 503], [LeaveOutcome.NoLeader, 503],
  [LeaveOutcome.RefusedDrainInProgress, 503],
  [LeaveOutcome.DrainTimedOut, 504], [LeaveOutcome.Timeout, 504],
]);

function memberJson(member: ClusterMember): object {
  return { endpoint: member.endpoint, nodeId: member.nodeId, role: roleName(member.role),
    joinedVersion: member.joinedVersion };
}

function partitionJson(p: PartitionPlacement): object {
  return { partitionId: p.partitionId, state: p.state, generation: p.generation,
    effectiveReplicationFactor: p.effectiveReplicationFactor, hostedLocally: p.hostedLocally,
    replicas: p.replicas.map((r) => ({ endpoint: r.endpoint, role: replicaRoleName(r.role) })) };
}

function keySpaceJson(k: RoutingKeySpace): object {
  return { keySpace: k.keySpace, routingMode: k.routingMode,
    ranges: k.ranges.map((r) => ({ startKey: r.startKey, endKey: r.endKey,
      partitionId: r.partitionId, generation: r.generation })) };
}

/** 200 on success, 409 otherwise (wire.md 3.6). */
function replicationFactorReply(res: SetReplicationFactorResponse): RestReply {
  return { status: res.success ? 200 : 409, json: { success: res.success, status: res.status,
    generation: res.generation, reason: res.reason } };
}

function registerReadRoutes(router: RestRouter, backend: KahunaBackend): void {
  router.add('GET', '/v1/cluster/membership', async () => {
    const res = await backend.membership();
    return { json: { membershipVersion: res.membershipVersion,
      members: res.members.map(memberJson), localRole: roleName(res.localRole),
      initialized: res.initialized } };
  });
  router.add('GET', '/v1/cluster/placement', async () => {
    const res = await backend.placement();
    return { json: { replicationFactor: res.replicationFactor,
      rebalancerEnabled: res.rebalancerEnabled, initialized: res.initialized,
      localEndpoint: res.localEndpoint, hostedPartitionCount: res.hostedPartitionCount,
      partitions: res.partitions.map(partitionJson) } };
  });
  router.add('GET', '/v1/cluster/routing', async ({ query }) => {
    const res = await backend.routingMetadata({ keySpace: query.get('keySpace') ?? '' });
    return { json: { initialized: res.initialized, schemaVersion: res.schemaVersion,
      hashAlgorithm: res.hashAlgorithm, prefixSeparator: res.prefixSeparator,
      groupSeparator: res.groupSeparator, hashPoolSize: res.hashPoolSize,
      hashPartitionOffset: res.hashPartitionOffset,
      sequenceStorageKeyFormat: res.sequenceStorageKeyFormat,
      reservedKeyPrefix: res.reservedKeyPrefix, localEndpoint: res.localEndpoint,
      snapshotVersion: res.snapshotVersion, coherent: res.coherent,
      keySpaces: res.keySpaces.map(keySpaceJson),
      leaders: res.leaders.map((l) => ({ partitionId: l.partitionId, endpoint: l.endpoint })) } };
  });
}

function registerWriteRoutes(router: RestRouter, backend: KahunaBackend): void {
  // kahuna-ts posts {}, others nothing; the leave takes no arguments either way.
  router.add('POST', '/v1/cluster/leave', async () => {
    const res = await backend.leave();
    return { status: leaveStatus.get(res.outcome) ?? 500, json: { left: res.left,
      drained: res.drained, outcome: outcomeName(res.outcome),
      membershipVersion: res.membershipVersion, retryable: res.retryable,
      reason: res.reason } };
  });
  router.add('POST', '/v1/cluster/replication-factor', async ({ body }) => {
    const f = fieldsOf(body);
    if (f === null) return notAnObjectReply();
    const req = { partitionId: f.int32('partitionId'),
      replicationFactor: f.int32('replicationFactor') };
    if (f.problem !== null) {
      return replicationFactorReply({ success: false, status: 'InvalidInput', generation: 0,
        reason: f.problem });
    }
    return replicationFactorReply(await backend.setReplicationFactor(req));
  });
}

export function registerClusterRoutes(router: RestRouter, deps: ClusterRouteDeps): void {
  registerReadRoutes(router, deps.backend);
  registerWriteRoutes(router, deps.backend);
}
