// Honu's own routes for membership (not Kahuna's): POST /v1/cluster/remove {"nodeId": 2}
// removes a member (a leaving node asks a voter that stays), answered {"outcome": ...}; and
// for a node joining a running cluster:
//   POST /v1/cluster/join {"nodeId": 4, "address": "host:port"}
//   200 {"bootstrap": [1, 2, 3], "members": [{"id": 1, "host": "...", "port": 2070}, ...]}
// The new node is a learner of every partition when this answers (cluster-admin.ts). A bad
// body is 400; a change that did not take effect in time is 503 (the joiner retries).
import type { RestRouter } from '../rest/router.js';
import { isJsonObject } from '../rest/json-fields.js';
import type { ClusterAdmin } from './cluster-admin.js';
import { parseAddress } from './members.js';

const nodeIdMax = 2 ** 31 - 1;

function bad(message: string) {
  return { status: 400, json: { error: 'HONU_ERR_INVALID_INPUT', message } };
}

export function registerJoinRoute(router: RestRouter, admin: ClusterAdmin): void {
  // Removes a member from every partition (what a leaving node asks another voter to do).
  router.add('POST', '/v1/cluster/remove', async ({ body }) => {
    if (!isJsonObject(body)) return bad('the body must be a JSON object {nodeId}');
    const { nodeId } = body as { nodeId?: unknown };
    if (typeof nodeId !== 'number' || !Number.isInteger(nodeId) || nodeId < 1 ||
      nodeId > nodeIdMax) {
      return bad(`nodeId must be an integer in 1..${nodeIdMax}`);
    }
    return { json: await admin.remove(nodeId) };
  });
  router.add('POST', '/v1/cluster/join', async ({ body }) => {
    if (!isJsonObject(body)) return bad('the body must be a JSON object {nodeId, address}');
    const { nodeId, address } = body as { nodeId?: unknown; address?: unknown };
    if (typeof nodeId !== 'number' || !Number.isInteger(nodeId) || nodeId < 1 ||
      nodeId > nodeIdMax) {
      return bad(`nodeId must be an integer in 1..${nodeIdMax}`);
    }
    if (typeof address !== 'string' || parseAddress(address) === null) {
      return bad('address must be host:port');
    }
    try {
      return { json: await admin.join(nodeId, address) };
    } catch (e) {
      return { status: 503, json: { error: 'HONU_ERR_MUST_RETRY',
        message: `the join did not complete: ${e instanceof Error ? e.message : String(e)}` } };
    }
  });
}
