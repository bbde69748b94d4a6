// Leader balancing (issue 6, deliverable 4): partition leaders spread evenly over the live
// nodes by leader transfer. Every node runs this on its own and only ever gives away
// leaderships it holds, so nodes never contend: when this node leads at least two more
// partitions than the least-loaded live node, it hands one of them to that node (one transfer
// per round, so the table settles between moves). With P partitions on N live nodes the counts
// end within one of each other (8 on 3: 3, 3, 2); a node that comes back leads nothing and is
// given partitions until it is level.
import { assert } from '../../assert.js';
import { Op } from '../../ipc/ops.js';
import { balanceIntervalMs } from '../../limits.js';
import type { WorkerReply } from '../supervisor.js';

export interface Transfer {
  readonly partition: number;
  readonly to: number;
}

/**
 * The next transfer this node should start, or null. `leaderOf` is the leader table (0: none);
 * `live` are the nodes that can take a leadership now (this node included). Pure.
 */
export function planTransfer(nodeId: number, partitions: number,
  leaderOf: (partition: number) => number, live: readonly number[]): Transfer | null {
  assert(live.includes(nodeId), 'this node is live');
  const counts = new Map<number, number>(live.map((n) => [n, 0]));
  const mine: number[] = [];
  for (let p = 1; p <= partitions; p++) {
    const leader = leaderOf(p);
    if (leader === 0) return null; // an election is running: wait until the table is whole
    if (counts.has(leader)) counts.set(leader, counts.get(leader)! + 1);
    if (leader === nodeId) mine.push(p);
  }
  let target = 0;
  let least = Infinity;
  for (const n of [...live].sort((a, b) => a - b)) {
    const c = counts.get(n)!;
    if (n !== nodeId && c < least) {
      least = c;
      target = n;
    }
  }
  if (target === 0 || mine.length - least < 2) return null;
  // Give away the highest-numbered partition led here: a deterministic choice.
  return { partition: mine[mine.length - 1]!, to: target };
}

export interface BalancerDeps {
  readonly nodeId: number;
  readonly partitions: number;
  leaderOf(partition: number): number;
  /** Peers the transport can reach now. */
  connectedPeers(): number[];
  request(partition: number, op: number, payload: Uint8Array): Promise<WorkerReply>;
}

/** Runs planTransfer every balanceIntervalMs and asks the leading worker to transfer. */
export class LeaderBalancer {
  transfers = 0;
  private readonly timer: NodeJS.Timeout;
  private busy = false;

  constructor(private readonly deps: BalancerDeps) {
    this.timer = setInterval(() => this.round(), balanceIntervalMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private round(): void {
    if (this.busy) return;
    const d = this.deps;
    const plan = planTransfer(d.nodeId, d.partitions, (p) => d.leaderOf(p),
      [d.nodeId, ...d.connectedPeers()]);
    if (plan === null) return;
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, plan.to, true);
    this.busy = true;
    this.transfers += 1;
    void d.request(plan.partition, Op.TransferLeader, payload).finally(() => {
      this.busy = false;
    });
  }
}
