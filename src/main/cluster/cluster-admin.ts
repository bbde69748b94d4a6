// Membership on the fly (issue 6, deliverable 5). Every partition's group spans every member,
// so a change is made on every partition, one Raft membership change each, proposed at the
// partition's leader (ClusterRouter forwards Op.ConfChange like any request):
// - join: a new node asks any member (POST /v1/cluster/join); the member adds it as a learner
//   to every partition, with its address in the change, and answers with the bootstrap voters
//   and the address book. The new node starts, catches up by log or snapshot, and each
//   partition's leader promotes it to voter once it is caught up (PartitionCore).
// - leave: the leaving node removes itself from every partition (Cluster.Leave,
//   POST /v1/cluster/leave); refused when it is the last voter.
import { decodeConfState } from '../../core/partition/raft-records.js';
import { ConfChangeKind, type ConfChangeKindValue, type ConfState } from '../../core/raft/types.js';
import { Op } from '../../ipc/ops.js';
import { membershipChangeTimeoutMs } from '../../limits.js';
import type { WorkerReply } from '../supervisor.js';
import type { MemberAddress, MemberRegistry } from './members.js';

export interface AdminDeps {
  readonly nodeId: number;
  readonly partitions: number;
  readonly members: MemberRegistry;
  request(partition: number, op: number, payload: Uint8Array): Promise<WorkerReply>;
}

export interface JoinAnswer {
  readonly bootstrap: readonly number[];
  readonly members: readonly MemberAddress[];
}

export type LeaveResult =
  | { readonly outcome: 'committed' }
  | { readonly outcome: 'not-a-member' }
  | { readonly outcome: 'refused-last-voter' }
  | { readonly outcome: 'timeout'; readonly detail: string };

function changePayload(kind: ConfChangeKindValue, node: number, address: string): Uint8Array {
  const text = new TextEncoder().encode(address);
  const out = new Uint8Array(5 + text.length);
  out[0] = kind;
  new DataView(out.buffer).setUint32(1, node, true);
  out.set(text, 5);
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ClusterAdmin {
  private busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: AdminDeps) {}

  /** Adds `node` at `address` as a learner to every partition (idempotent). */
  join(node: number, address: string): Promise<JoinAnswer> {
    return this.serial(async () => {
      const failed = await this.onEveryPartition(ConfChangeKind.AddLearner, node, address,
        (conf) => conf.voters.includes(node) || conf.learners.includes(node));
      if (failed !== null) throw new Error(failed);
      const members = this.deps.members.all().filter((m) => m.id !== node);
      return { bootstrap: this.deps.members.bootstrapVoters(), members };
    });
  }

  /** Removes `node` from every partition (run on a member that stays: it keeps hearing the
   *  partitions' leaders while the removed node may stop hearing anything). */
  remove(node: number): Promise<LeaveResult> {
    return this.serial(async () => {
      const voters = this.deps.members.rosterVoters();
      if (this.deps.members.roleOf(node) === 'none') return { outcome: 'not-a-member' as const };
      if (voters.length === 1 && voters[0] === node) {
        return { outcome: 'refused-last-voter' as const };
      }
      const failed = await this.onEveryPartition(ConfChangeKind.Remove, node, '',
        (conf) => !conf.voters.includes(node) && !conf.learners.includes(node));
      return failed === null ? { outcome: 'committed' as const }
        : { outcome: 'timeout' as const, detail: failed };
    });
  }

  /** This node leaves: another voter removes it (POST /v1/cluster/remove there), the first
   *  that answers; the last voter is refused here. */
  async leave(): Promise<LeaveResult> {
    const self = this.deps.nodeId;
    const voters = this.deps.members.rosterVoters();
    if (this.deps.members.roleOf(self) === 'none') return { outcome: 'not-a-member' };
    if (voters.length === 1 && voters[0] === self) return { outcome: 'refused-last-voter' };
    let last = 'no other voter answered';
    for (const m of this.deps.members.peers()) {
      if (!voters.includes(m.id)) continue;
      try {
        const res = await fetch(`http://${m.host}:${m.port}/v1/cluster/remove`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ nodeId: self }),
          signal: AbortSignal.timeout(membershipChangeTimeoutMs + 5_000),
        });
        const body = await res.json() as LeaveResult;
        if (res.ok) return body;
        last = `node ${m.id} answered ${res.status}`;
      } catch (e) {
        last = `node ${m.id}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    return { outcome: 'timeout', detail: last };
  }

  /** One change per partition, retried on MustRetry until `done(conf)` or the deadline. */
  private async onEveryPartition(kind: ConfChangeKindValue, node: number, address: string,
    done: (conf: ConfState) => boolean): Promise<string | null> {
    const until = Date.now() + membershipChangeTimeoutMs;
    const payload = changePayload(kind, node, address);
    for (let p = 1; p <= this.deps.partitions; p++) {
      for (;;) {
        const reply = await this.deps.request(p, Op.ConfChange, payload);
        if (reply.error === null && done(decodeConfState(reply.payload))) break;
        if (Date.now() > until) {
          return `partition ${p}: ${reply.error?.detail ?? 'the change did not take effect'}`;
        }
        await sleep(200);
      }
    }
    return null;
  }

  /** One membership operation at a time on this node. */
  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.busy.then(run, run);
    this.busy = next.catch(() => undefined);
    return next;
  }
}
