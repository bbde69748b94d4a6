// The Cluster service (wire.md 2.4). Only GetMembership is in the KahunaBackend contract; the
// admin RPCs and GetRoutingMetadata answer UNIMPLEMENTED, which every client tolerates
// (wire.md 2.5: only routing.test.ts needs the metadata).
import type { KahunaBackend, MembershipResponse } from '../../core/api/types.js';
import type { ClusterServer, GrpcGetMembershipResponse } from './generated/cluster.js';
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

export function createClusterService(backend: KahunaBackend,
  ctx: HandlerContext): ClusterServer {
  return {
    // No Type field to carry MustRetry: a failure is UNAVAILABLE, which the .NET channel
    // retries (wire.md 1.2).
    getMembership: (_call, callback) => {
      backend.membership().then(
        (res) => callback(null, membershipTo(res)),
        (error: unknown) => {
          ctx.log?.error({ err: error, rpc: 'GetMembership' }, 'gRPC handler failed');
          callback({ code: grpc.status.UNAVAILABLE, details: 'membership is unavailable' });
        },
      );
    },
    leave: unimplementedUnary('Leave'),
    getPlacement: unimplementedUnary('GetPlacement'),
    setReplicationFactor: unimplementedUnary('SetReplicationFactor'),
    getRanges: unimplementedUnary('GetRanges'),
    splitRange: unimplementedUnary('SplitRange'),
    mergeRanges: unimplementedUnary('MergeRanges'),
    getRoutingMetadata: unimplementedUnary('GetRoutingMetadata'),
  };
}
