// The Cluster service (wire.md 2.4): GetMembership, Leave, GetPlacement, SetReplicationFactor
// and GetRoutingMetadata (routing.proto, wire.md 2.5) from the KahunaBackend. The key-range
// admin RPCs (GetRanges, SplitRange, MergeRanges) answer UNIMPLEMENTED, which every client
// tolerates.
import type {
  KahunaBackend, LeaveResponse, MembershipResponse, PlacementResponse,
  RoutingMetadataResponse, SetReplicationFactorResponse,
} from '../../core/api/types.js';
import type {
  ClusterServer, GrpcClusterLeaveResponse, GrpcGetMembershipResponse,
  GrpcGetPlacementResponse, GrpcSetReplicationFactorResponse,
} from './generated/cluster.js';
import type { GrpcGetRoutingMetadataResponse } from './generated/routing.js';
import { long } from './convert.js';
import { unimplementedUnary, type HandlerContext } from './handlers.js';
import * as grpc from '@grpc/grpc-js';

function membershipTo(res: MembershipResponse): GrpcGetMembershipResponse {
  return {
    MembershipVersion: long(res.membershipVersion),
    Members: res.members.map((m) => ({
      Endpoint: m.endpoint, NodeId: m.nodeId, Role: m.role, JoinedVersion: long(m.joinedVersion),
    })),
    LocalRole: res.localRole, Initialized: res.initialized,
  };
}

function leaveTo(res: LeaveResponse): GrpcClusterLeaveResponse {
  return { Left: res.left, Outcome: res.outcome, MembershipVersion: long(res.membershipVersion),
    Retryable: res.retryable, Reason: res.reason, Drained: res.drained };
}

function placementTo(res: PlacementResponse): GrpcGetPlacementResponse {
  return {
    ReplicationFactor: res.replicationFactor, RebalancerEnabled: res.rebalancerEnabled,
    Initialized: res.initialized, LocalEndpoint: res.localEndpoint,
    HostedPartitionCount: res.hostedPartitionCount,
    Partitions: res.partitions.map((p) => ({
      PartitionId: p.partitionId, State: p.state, Generation: long(p.generation),
      EffectiveReplicationFactor: p.effectiveReplicationFactor, HostedLocally: p.hostedLocally,
      Replicas: p.replicas.map((r) => ({ Endpoint: r.endpoint, Role: r.role })),
    })),
  };
}

function replicationFactorTo(res: SetReplicationFactorResponse):
  GrpcSetReplicationFactorResponse {
  return { Success: res.success, Status: res.status, Generation: long(res.generation),
    Reason: res.reason };
}

function routingMetadataTo(res: RoutingMetadataResponse): GrpcGetRoutingMetadataResponse {
  return {
    Initialized: res.initialized, SchemaVersion: res.schemaVersion,
    HashAlgorithm: res.hashAlgorithm, PrefixSeparator: res.prefixSeparator,
    GroupSeparator: res.groupSeparator, HashPoolSize: res.hashPoolSize,
    HashPartitionOffset: res.hashPartitionOffset,
    SequenceStorageKeyFormat: res.sequenceStorageKeyFormat,
    ReservedKeyPrefix: res.reservedKeyPrefix, LocalEndpoint: res.localEndpoint,
    SnapshotVersion: long(res.snapshotVersion), Coherent: res.coherent,
    KeySpaces: res.keySpaces.map((k) => ({
      KeySpace: k.keySpace, RoutingMode: k.routingMode,
      Ranges: k.ranges.map((r) => ({
        ...(r.startKey === null ? {} : { StartKey: r.startKey }),
        ...(r.endKey === null ? {} : { EndKey: r.endKey }),
        PartitionId: r.partitionId, Generation: long(r.generation),
      })),
    })),
    Leaders: res.leaders.map((l) => ({ PartitionId: l.partitionId, Endpoint: l.endpoint })),
  };
}

/**
 * A Cluster RPC: these messages have no Type field to carry MustRetry, so a backend failure
 * is UNAVAILABLE, which the .NET channel retries (wire.md 1.2).
 */
function clusterUnary<Req, Res, Out>(ctx: HandlerContext, rpc: string,
  run: (req: Req) => Promise<Res>, to: (res: Res) => Out): grpc.handleUnaryCall<Req, Out> {
  return (call, callback) => {
    let pending: Promise<Res>;
    try {
      pending = run(call.request);
    } catch (error) {
      pending = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    pending.then(
      (res) => callback(null, to(res)),
      (error: unknown) => {
        ctx.log?.error({ err: error, rpc }, 'gRPC handler failed');
        callback({ code: grpc.status.UNAVAILABLE, details: `${rpc} is unavailable` });
      },
    );
  };
}

export function createClusterService(backend: KahunaBackend,
  ctx: HandlerContext): ClusterServer {
  return {
    getMembership: clusterUnary(ctx, 'GetMembership', () => backend.membership(),
      membershipTo),
    leave: clusterUnary(ctx, 'Leave', () => backend.leave(), leaveTo),
    getPlacement: clusterUnary(ctx, 'GetPlacement', () => backend.placement(), placementTo),
    setReplicationFactor: clusterUnary(ctx, 'SetReplicationFactor',
      (req: { PartitionId: number; ReplicationFactor: number }) =>
        backend.setReplicationFactor({ partitionId: req.PartitionId,
          replicationFactor: req.ReplicationFactor }),
      replicationFactorTo),
    getRanges: unimplementedUnary('GetRanges'),
    splitRange: unimplementedUnary('SplitRange'),
    mergeRanges: unimplementedUnary('MergeRanges'),
    getRoutingMetadata: clusterUnary(ctx, 'GetRoutingMetadata',
      (req: { KeySpace: string }) => backend.routingMetadata({ keySpace: req.KeySpace }),
      routingMetadataTo),
  };
}
