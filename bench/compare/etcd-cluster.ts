// A 3-member etcd 3.4 cluster on loopback for bench/compare/cluster.ts: free client and peer
// ports, one temp data dir per member, every member started together with the same
// --initial-cluster and --initial-cluster-state new, then polled until each member's /health
// answers true (the cluster has a leader). Each member is a Peer of peers.ts: stopped by its pid
// with stopPeer (SIGTERM, SIGKILL after 5 s) and its dir removed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { findBinary, spawnPeer, stopPeer, waitFor, type Peer } from './peers.js';

export interface EtcdMember extends Peer {
  /** etcd --name: etcd-1 ... */
  readonly memberName: string;
}

/** `members` etcd members (default 3); null if etcd is not installed. Members already spawned
 *  are stopped if one never gets ready. */
export async function startEtcdCluster(members = 3): Promise<EtcdMember[] | null> {
  const file = findBinary('etcd');
  if (file === null) return null;
  const ids = Array.from({ length: members }, (_, i) => i + 1);
  const ports: Array<{ client: number; peer: number }> = [];
  for (const _ of ids) ports.push({ client: await freePort(), peer: await freePort() });
  const peerUrl = (i: number): string => `http://127.0.0.1:${ports[i - 1]!.peer}`;
  const clientUrl = (i: number): string => `http://127.0.0.1:${ports[i - 1]!.client}`;
  const initialCluster = ids.map((i) => `etcd-${i}=${peerUrl(i)}`).join(',');
  const token = `honu-bench-${process.pid}-${Date.now().toString(36)}`;
  const started: EtcdMember[] = [];
  try {
    for (const i of ids) {
      const dataDir = mkdtempSync(join(tmpdir(), `honu-bench-etcd-${i}-`));
      const peer = spawnPeer(`etcd-${i}`, file, [
        '--name', `etcd-${i}`, '--data-dir', dataDir,
        '--listen-client-urls', clientUrl(i), '--advertise-client-urls', clientUrl(i),
        '--listen-peer-urls', peerUrl(i), '--initial-advertise-peer-urls', peerUrl(i),
        '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
        '--initial-cluster-token', token,
        '--logger', 'zap', '--log-level', 'error',
      ], ports[i - 1]!.client, dataDir);
      started.push(Object.assign(peer, { memberName: `etcd-${i}` }));
    }
    await Promise.all(started.map((m) => waitFor(m, async () => {
      const res = await fetch(`http://127.0.0.1:${m.port}/health`);
      return res.status === 200 && ((await res.json()) as { health?: string }).health === 'true';
    })));
    return started;
  } catch (e) {
    for (const m of started) await stopPeer(m);
    throw e;
  }
}

/** The name of the member that leads (maintenance Status of every member through the JSON
 *  gateway: each names itself and the leader), or '?' when none answers. */
export async function etcdLeader(members: readonly EtcdMember[]): Promise<string> {
  const ids = new Map<string, string>();
  let leader: string | undefined;
  for (const m of members) {
    try {
      const res = await fetch(`http://127.0.0.1:${m.port}/v3/maintenance/status`, {
        method: 'POST', body: '{}',
      });
      const body = (await res.json()) as { header?: { member_id?: string }; leader?: string };
      if (body.header?.member_id !== undefined) ids.set(body.header.member_id, m.memberName);
      leader ??= body.leader;
    } catch {
      // that member does not answer: its name stays unknown
    }
  }
  return leader === undefined ? '?' : ids.get(leader) ?? `id ${leader}`;
}

/** The member that leads (the client that avoids forwarding sends everything to it). */
export async function etcdLeaderMember(members: readonly EtcdMember[]): Promise<EtcdMember> {
  const leader = await etcdLeader(members);
  const m = members.find((e) => e.memberName === leader);
  if (m === undefined) throw new Error(`etcd leader ${leader} is not a member`);
  return m;
}
