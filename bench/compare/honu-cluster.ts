// Starting a local Honu cluster for the benchmarks and waiting until its partition leaders are
// spread over the nodes, and which node leads which keys: shared by bench/compare/cluster.ts and
// bench/macro/threads.ts.
import { freePort } from './free-port.js';
import { postJson, startServer, txFieldsJson } from '../macro/honu-server.js';
import type { Server } from '../macro/honu-server.js';

/** `nodeCount` honu servers started together (each waits for the others before it reports ready).
 *  Whatever started is returned in `nodes` even when another failed (`error`). */
export async function startHonuCluster(nodeCount: number):
  Promise<{ nodes: Server[]; error: unknown }> {
  const ports: number[] = [];
  for (let i = 0; i < nodeCount; i += 1) ports.push(await freePort());
  const initialCluster = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const settled = await Promise.allSettled(ports.map((port, i) => startServer([
    '--port', String(port), '--node-id', String(i + 1), '--initial-cluster', initialCluster,
  ])));
  const nodes: Server[] = [];
  let error: unknown = null;
  for (const s of settled) {
    if (s.status === 'fulfilled') nodes.push(s.value);
    else error ??= s.reason;
  }
  return { nodes, error };
}

/** Partition id -> leader node id (1..3) as `node` sees it, from GET /v1/cluster/routing. */
async function leadersSeenBy(node: Server, nodes: readonly Server[]): Promise<Map<number, number>> {
  const res = await fetch(`http://127.0.0.1:${node.port}/v1/cluster/routing`);
  const body = (await res.json()) as { leaders?: Array<{ partitionId: number; endpoint: string }> };
  const leaders = new Map<number, number>();
  for (const l of body.leaders ?? []) {
    const i = nodes.findIndex((n) => l.endpoint.endsWith(`:${n.port}`));
    leaders.set(l.partitionId, i + 1); // 0: an endpoint that is no node of ours
  }
  return leaders;
}

export interface Balance {
  /** Leader count per node, node 1 first; null if the nodes disagreed or did not answer. */
  readonly counts: number[] | null;
  readonly balanced: boolean;
  readonly waitedMs: number;
}

/** Polls until every node is healthy, all name the same leaders and the leader counts per node
 *  differ by at most one, or `waitMs` has passed. */
export async function waitBalanced(nodes: readonly Server[], waitMs: number): Promise<Balance> {
  const started = Date.now();
  let counts: number[] | null = null;
  for (;;) {
    counts = null;
    try {
      const health = await Promise.all(nodes.map(async (n) => {
        const res = await fetch(`http://127.0.0.1:${n.port}/v1/cluster/health`);
        return res.status === 200 && ((await res.json()) as { ready?: boolean }).ready === true;
      }));
      const views = await Promise.all(nodes.map((n) => leadersSeenBy(n, nodes)));
      const first = JSON.stringify([...views[0]!.entries()].sort((a, b) => a[0] - b[0]));
      const agree = views.every((v) =>
        JSON.stringify([...v.entries()].sort((a, b) => a[0] - b[0])) === first);
      if (health.every((h) => h) && agree && views[0]!.size > 0) {
        counts = nodes.map((_, i) => [...views[0]!.values()].filter((id) => id === i + 1).length);
        if (Math.max(...counts) - Math.min(...counts) <= 1) {
          return { counts, balanced: true, waitedMs: Date.now() - started };
        }
      }
    } catch {
      // a node did not answer: try again
    }
    if (Date.now() - started >= waitMs) {
      return { counts, balanced: false, waitedMs: Date.now() - started };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}


/** `keys` by the node (index in `nodes`) leading their partition, from the `route` hint of a
 *  try-get through node 1 (wire.md 2.5): what a Kahuna client's learned routing caches. Takes
 *  at most `want` keys per node and stops once every node has them. */
export async function keysByLeader(nodes: readonly Server[], keys: Iterable<string>,
  want: number): Promise<string[][]> {
  const byPort = new Map(nodes.map((n, j) => [n.port, j]));
  const pools: string[][] = nodes.map(() => []);
  for (const key of keys) {
    if (pools.every((p) => p.length >= want)) break;
    const reply = await postJson(nodes[0]!, '/v1/kv/try-get', JSON.parse(
      `{${txFieldsJson},"key":${JSON.stringify(key)},"revision":-1,"durability":1}`)) as
      { route?: { endpoint?: string } };
    const j = byPort.get(Number(reply.route?.endpoint?.split(':').pop()));
    if (j === undefined) throw new Error(`no route hint naming a node for key ${key}`);
    if (pools[j]!.length < want) pools[j]!.push(key);
  }
  return pools;
}
