// The cluster's members as this node knows them (issue 6, deliverable 5): the address book
// the peer transport dials, the bootstrap voters every partition started from, and the roster
// (partition 1's applied membership, the same on every partition since changes are made on
// all of them). Addresses travel inside the Raft membership changes that add a node (their
// context), so every member learns a joiner's address when it applies the change; this node
// keeps them in <data-dir>/members.json (written atomically: temp file, fsync, rename) so a
// restart dials the nodes that joined after its --initial-cluster was written.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfChangeKind } from '../../core/raft/types.js';
import type { PartitionEvent } from '../../ipc/partition-protocol.js';

export interface MemberAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface MembersFile {
  /** Voters every partition was bootstrapped with (the first --initial-cluster). */
  readonly bootstrap: readonly number[];
  /** Every member ever added and not removed, this node included. */
  readonly addresses: readonly MemberAddress[];
}

export const MemberRole = { Voter: 'voter', Learner: 'learner', None: 'none' } as const;
export type MemberRoleValue = (typeof MemberRole)[keyof typeof MemberRole];

const fileName = 'members.json';

export function parseAddress(text: string): { host: string; port: number } | null {
  const m = /^([^:\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(text.trim());
  if (m === null) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65_535 ? { host: m[1]!, port } : null;
}

export function readMembersFile(dataDir: string): MembersFile | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, fileName), 'utf8');
  } catch {
    return null;
  }
  const raw = JSON.parse(text) as MembersFile;
  return { bootstrap: raw.bootstrap, addresses: raw.addresses };
}

export function writeMembersFile(dataDir: string, file: MembersFile): void {
  const path = join(dataDir, fileName);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export interface MemberRegistryOptions {
  readonly nodeId: number;
  readonly dataDir: string;
  readonly file: MembersFile;
  /** A member to dial (added) or to stop dialing (removed). */
  readonly onPeerAdded: (address: MemberAddress) => void;
  readonly onPeerRemoved: (id: number) => void;
}

export class MemberRegistry {
  private readonly addresses = new Map<number, MemberAddress>();
  private readonly bootstrap: readonly number[];
  private voters: readonly number[];
  private learners: readonly number[] = [];

  constructor(private readonly opts: MemberRegistryOptions) {
    this.bootstrap = opts.file.bootstrap;
    for (const a of opts.file.addresses) this.addresses.set(a.id, a);
    this.voters = opts.file.bootstrap;
  }

  bootstrapVoters(): readonly number[] {
    return this.bootstrap;
  }

  /** This node's own address (where it really listens); written to members.json. */
  setSelf(address: MemberAddress): void {
    this.addresses.set(address.id, address);
    this.persist();
  }

  /** Every known member but this node. */
  peers(): MemberAddress[] {
    return [...this.addresses.values()].filter((a) => a.id !== this.opts.nodeId)
      .sort((a, b) => a.id - b.id);
  }

  all(): MemberAddress[] {
    return [...this.addresses.values()].sort((a, b) => a.id - b.id);
  }

  roleOf(id: number): MemberRoleValue {
    if (this.voters.includes(id)) return MemberRole.Voter;
    if (this.learners.includes(id)) return MemberRole.Learner;
    return MemberRole.None;
  }

  /** Partition 1's voters (the roster's voters). */
  rosterVoters(): readonly number[] {
    return this.voters;
  }

  /** A membership change a worker applied. */
  onMembers(event: Extract<PartitionEvent, { type: 'members' }>): void {
    let changed = false;
    for (const c of event.changes) {
      if (c.kind !== ConfChangeKind.Remove && event.address !== null &&
        !this.addresses.has(c.node)) {
        const parsed = parseAddress(event.address);
        if (parsed !== null) {
          const address = { id: c.node, ...parsed };
          this.addresses.set(c.node, address);
          changed = true;
          if (c.node !== this.opts.nodeId) this.opts.onPeerAdded(address);
        }
      }
    }
    if (event.partition !== 1) {
      if (changed) this.persist();
      return;
    }
    this.voters = event.voters;
    this.learners = event.learners;
    for (const c of event.changes) {
      if (c.kind === ConfChangeKind.Remove && this.addresses.has(c.node)) {
        this.addresses.delete(c.node);
        changed = true;
        if (c.node !== this.opts.nodeId) this.opts.onPeerRemoved(c.node);
      }
    }
    if (changed) this.persist();
  }

  private persist(): void {
    writeMembersFile(this.opts.dataDir, { bootstrap: this.bootstrap, addresses: this.all() });
  }
}
