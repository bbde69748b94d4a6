// Kahuna's cluster routes backed by the KahunaBackend (wire.md 3.6): GET /v1/cluster/membership.
// GET /v1/cluster/health stays in system-routes.ts (it reads the node, not the backend). REST
// writes roles as strings where gRPC writes the enum (wire.md 4.9.7).
import type { ClusterMember, KahunaBackend } from '../../core/api/types.js';
import { MemberRole } from '../../core/api/codes.js';
import type { RestRouter } from './router.js';

export interface ClusterRouteDeps {
  readonly backend: KahunaBackend;
}

const roleNames: ReadonlyMap<number, string> = new Map(
  Object.entries(MemberRole).map(([name, value]) => [value, name]));

/** An unknown role is a backend bug; its number still tells the operator which one. */
function roleName(role: number): string {
  return roleNames.get(role) ?? String(role);
}

function memberJson(member: ClusterMember): object {
  return { endpoint: member.endpoint, nodeId: member.nodeId, role: roleName(member.role),
    joinedVersion: member.joinedVersion };
}

export function registerClusterRoutes(router: RestRouter, deps: ClusterRouteDeps): void {
  router.add('GET', '/v1/cluster/membership', async () => {
    const res = await deps.backend.membership();
    return { json: { membershipVersion: res.membershipVersion,
      members: res.members.map(memberJson), localRole: roleName(res.localRole),
      initialized: res.initialized } };
  });
}
