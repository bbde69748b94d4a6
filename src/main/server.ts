// Boot of one node: threads first (writer, then partition workers restored from disk), then the
// one port that serves gRPC and REST. SIGTERM/SIGINT: stop accepting, drain, flush the writer,
// close RocksDB, exit 0 within 5 s.
import { mkdirSync } from 'node:fs';
import type { NodeConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Supervisor } from './supervisor.js';
import { CpuPool } from './cpu-pool.js';
import { createHttpServer, RestRouter } from './rest/router.js';
import { registerSystemRoutes } from './rest/system-routes.js';
import { registerHonuRoutes } from './rest/honu-routes.js';
import { registerKahunaRoutes } from './rest/kahuna-routes.js';
import type { KahunaBackend } from '../core/api/types.js';
import { TxCoordinator } from './tx/coordinator.js';
import { WorkerBackend } from './backend/worker-backend.js';
import { createGrpcServer } from './grpc/grpc-server.js';
import { startListener, type Listener } from './listener.js';
import { ClusterRouter } from './cluster/cluster-router.js';
import { LeaderBalancer } from './cluster/leader-balancer.js';
import { PeerTransport } from './peer/peer-transport.js';
import { missingServerNodeFlags } from '../env/node-flags.js';
import { ClusterAdmin } from './cluster/cluster-admin.js';
import { registerJoinRoute } from './cluster/join-route.js';
import {
  MemberRegistry, readMembersFile, writeMembersFile, type MemberAddress, type MembersFile,
} from './cluster/members.js';
import {
  joinRequestTimeoutMs, joinRetryMs, listenerDrainMsDefault, shutdownDeadlineMs,
} from '../limits.js';

export interface RunningNode {
  readonly port: number;
  readonly supervisor: Supervisor;
  readonly metrics: Metrics;
  readonly log: Logger;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Install SIGTERM/SIGINT handlers that close the node and exit the process (the CLI). */
  readonly handleSignals?: boolean;
  readonly log?: Logger;
  /** Serves Kahuna's API from this backend instead of the node's partition workers (tests). */
  readonly backend?: KahunaBackend;
}

export async function startNode(config: NodeConfig,
  options: StartOptions = { handleSignals: true }): Promise<RunningNode> {
  const log = options.log ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  mkdirSync(config.dataDir, { recursive: true });
  const membersFile = await resolveMembers(config, log);
  const supervisor = new Supervisor({
    nodeId: config.nodeId, dataDir: config.dataDir, partitions: config.partitions,
    workers: config.workers, log, metrics, voters: membersFile.bootstrap,
    checkpointEntries: config.checkpointEntries, reads: config.reads,
  });
  // The cluster: the peer transport dials every other member (at the address this node's
  // --initial-cluster gives, or that a membership change carried), the router forwards
  // requests to partition leaders, the registry follows membership changes. A single node
  // has all of them too, with no peers, so that other nodes can join it.
  // The transport calls back only after start(), by when clusterRouter exists.
  const transport: PeerTransport = new PeerTransport({
    nodeId: config.nodeId, peers: membersFile.addresses.filter((m) => m.id !== config.nodeId),
    log,
    onInbound: (from, inbound) => clusterRouter.onInbound(from, inbound),
    onPeerState: (peer, connected) => clusterRouter.onPeerState(peer, connected),
    onRequestsFailed: (peer, ids) => clusterRouter.onRequestsFailed(peer, ids),
  });
  metrics.setPeerStatsSource(() => ({ ...transport.stats }));
  const members = new MemberRegistry({
    nodeId: config.nodeId, dataDir: config.dataDir, file: membersFile,
    onPeerAdded: (address) => {
      log.info({ peer: address.id, host: address.host, port: address.port }, 'member added');
      transport.addPeer(address);
    },
    onPeerRemoved: (id) => {
      log.info({ peer: id }, 'member removed');
      transport.removePeer(id);
    },
  });
  const clusterRouter = new ClusterRouter(config.nodeId, supervisor, transport);
  supervisor.onRaftOut = (to, batch) => clusterRouter.sendRaft(to, batch);
  supervisor.onMembers = (event) => members.onMembers(event);
  const admin = new ClusterAdmin({
    nodeId: config.nodeId, partitions: config.partitions, members,
    request: (partition, op, payload) => clusterRouter.request(partition, op, payload),
  });
  await supervisor.start();
  const pool = new CpuPool();
  const restRouter = new RestRouter({ metrics, log });
  registerSystemRoutes(restRouter, {
    metrics,
    health: () => ({
      ready: supervisor.ready(), initialized: true, localRole: 'Voter',
      hostedPartitions: supervisor.hostedPartitions().length,
    }),
  });
  registerHonuRoutes(restRouter, { supervisor, pool, partitions: config.partitions });
  registerJoinRoute(restRouter, admin);
  const scheme = config.tls === null ? 'http' : 'https';
  const workerBackend = new WorkerBackend(clusterRouter, {
    nodeId: config.nodeId, partitions: config.partitions,
    peers: () => members.peers().map((m) => ({ id: m.id,
      endpoint: `${scheme}://${m.host}:${m.port}` })),
    roleOf: (id) => members.roleOf(id),
    leave: () => admin.leave(),
    leaderOf: (partition) => supervisor.leaderTable.leaderOf(partition),
    endpoint: `${config.tls === null ? 'http' : 'https'}://127.0.0.1:${config.port}`,
  });
  const coordinator = new TxCoordinator(workerBackend, {
    nodeId: config.nodeId, partitions: config.partitions,
    leaderOf: (partition) => supervisor.leaderTable.leaderOf(partition),
    parser: (text) => pool.parse(text),
  });
  const backend = options.backend ?? coordinator.backend;
  registerKahunaRoutes(restRouter, { backend, tx: coordinator });
  const grpcServer = createGrpcServer(backend, log, undefined, coordinator);
  transport.register(grpcServer);
  let listener: Listener;
  try {
    listener = await startListener({
      host: config.host, port: config.port, tls: config.tls, http: createHttpServer(restRouter),
      grpc: grpcServer, peer: transport, log,
    });
  } catch (e) {
    clusterRouter.close();
    coordinator.close();
    await Promise.all([supervisor.close(), pool.close(), transport.close()]);
    throw e;
  }
  // The members file names this node at the port it really listens on (--port 0 in tests).
  members.setSelf({ id: config.nodeId, host: selfHost(config), port: listener.port });
  transport.start();
  const balancer = new LeaderBalancer({
    nodeId: config.nodeId, partitions: config.partitions,
    leaderOf: (partition) => supervisor.leaderTable.leaderOf(partition),
    connectedPeers: () => transport.peerIds().filter((id) => transport.isConnected(id) &&
      members.roleOf(id) === 'voter'),
    request: (partition, op, payload) => supervisor.request(partition, op, payload),
  });
  // Clients match route hints against their configured URLs: advertise the bound port.
  workerBackend.endpoint = `${config.tls === null ? 'http' : 'https'}://127.0.0.1:${listener.port}`;
  log.info({ port: listener.port, nodeId: config.nodeId, partitions: config.partitions,
    workers: config.workers, dataDir: config.dataDir }, 'honu node listening');
  const missing = missingServerNodeFlags();
  if (missing.length > 0) {
    log.info({ missing }, 'node was started without the flags npm start passes (GC tuning, ' +
      'src/env/node-flags.ts): run `node ' + missing.join(' ') + ' bin/honu.mjs server`');
  }

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      balancer.close();
      coordinator.close();
      await listener.close(listenerDrainMsDefault);
      clusterRouter.close();
      await transport.close();
      await supervisor.close(shutdownDeadlineMs - listenerDrainMsDefault);
      await pool.close();
      log.info('honu node stopped');
    })();
    return closing;
  };
  if (options.handleSignals === true) installSignalHandlers(close, log);
  return { port: listener.port, supervisor, metrics, log, close };
}

/** The host this node's address names (its --initial-cluster entry, else where it listens). */
function selfHost(config: NodeConfig): string {
  return config.initialCluster.find((m) => m.id === config.nodeId)?.host ?? '127.0.0.1';
}

/**
 * The members this node starts with. A restart reads <data-dir>/members.json (which holds
 * nodes that joined later, too); a first start with --initial-cluster takes that list; a
 * first start with --join asks the member at that address to add this node (as a learner of
 * every partition) and takes its answer, retrying until it gets one.
 */
async function resolveMembers(config: NodeConfig, log: Logger): Promise<MembersFile> {
  const known = readMembersFile(config.dataDir);
  if (known !== null) {
    // The file adds the nodes that joined later; for the nodes --initial-cluster lists, its
    // addresses win (the operator's flags, e.g. a proxy in front of a peer).
    if (config.join !== null) return known;
    const listed = new Map(config.initialCluster.map((m) => [m.id, m]));
    const addresses = [
      ...known.addresses.filter((a) => !listed.has(a.id)),
      ...config.initialCluster.map((m) => ({ id: m.id, host: m.host, port: m.port })),
    ].sort((a, b) => a.id - b.id);
    return { bootstrap: known.bootstrap, addresses };
  }
  if (config.join === null) {
    return { bootstrap: config.initialCluster.map((m) => m.id),
      addresses: config.initialCluster.map((m) => ({ id: m.id, host: m.host, port: m.port })) };
  }
  const self = `${selfHost(config)}:${config.port}`;
  const url = `http://${config.join.host}:${config.join.port}/v1/cluster/join`;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ nodeId: config.nodeId, address: self }),
        signal: AbortSignal.timeout(joinRequestTimeoutMs) });
      const body = await res.json() as { bootstrap?: number[]; members?: MemberAddress[];
        error?: string; message?: string };
      if (res.ok && body.bootstrap !== undefined && body.members !== undefined) {
        log.info({ seed: url, members: body.members.length }, 'joined the cluster as a learner');
        const file = { bootstrap: body.bootstrap, addresses: [...body.members,
          { id: config.nodeId, host: selfHost(config), port: config.port }] };
        writeMembersFile(config.dataDir, file);
        return file;
      }
      log.warn({ seed: url, status: res.status, detail: body.message ?? body.error, attempt },
        'join refused; retrying');
    } catch (e) {
      log.warn({ seed: url, err: e, attempt }, 'join request failed; retrying');
    }
    await new Promise((r) => setTimeout(r, joinRetryMs));
  }
}

function installSignalHandlers(close: () => Promise<void>, log: Logger): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'shutting down');
    const hardStop = setTimeout(() => {
      log.error('shutdown took longer than 5 s; exiting');
      process.exit(1);
    }, 5_000);
    hardStop.unref();
    close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
