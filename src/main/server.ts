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
import { WorkerBackend } from './backend/worker-backend.js';
import { createGrpcServer } from './grpc/grpc-server.js';
import { startListener, type Listener } from './listener.js';
import { ClusterRouter } from './cluster/cluster-router.js';
import { LeaderBalancer } from './cluster/leader-balancer.js';
import { PeerTransport } from './peer/peer-transport.js';
import { listenerDrainMsDefault, shutdownDeadlineMs } from '../limits.js';

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
  const supervisor = new Supervisor({
    nodeId: config.nodeId, dataDir: config.dataDir, partitions: config.partitions,
    workers: config.workers, log, metrics, voters: config.initialCluster.map((m) => m.id),
    checkpointEntries: config.checkpointEntries,
  });
  // A cluster: the peer transport (dialing every other member at the address this node's
  // --initial-cluster gives) and the router that forwards requests to partition leaders.
  const peers = config.initialCluster.filter((m) => m.id !== config.nodeId);
  let router: ClusterRouter | null = null;
  const transport = peers.length === 0 ? null : new PeerTransport({
    nodeId: config.nodeId, peers, log,
    onInbound: (from, inbound) => router?.onInbound(from, inbound),
    onPeerState: (peer, connected) => router?.onPeerState(peer, connected),
    onRequestsFailed: (peer, ids) => router?.onRequestsFailed(peer, ids),
  });
  if (transport !== null) {
    router = new ClusterRouter(config.nodeId, supervisor, transport);
    const r = router;
    supervisor.onRaftOut = (to, batch) => r.sendRaft(to, batch);
  }
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
  const scheme = config.tls === null ? 'http' : 'https';
  const workerBackend = new WorkerBackend(router ?? supervisor, {
    nodeId: config.nodeId, partitions: config.partitions,
    peers: peers.map((m) => ({ id: m.id, endpoint: `${scheme}://${m.host}:${m.port}` })),
    leaderOf: (partition) => supervisor.leaderTable.leaderOf(partition),
    endpoint: `${config.tls === null ? 'http' : 'https'}://127.0.0.1:${config.port}`,
  });
  const backend = options.backend ?? workerBackend;
  registerKahunaRoutes(restRouter, { backend });
  const grpcServer = createGrpcServer(backend, log);
  transport?.register(grpcServer);
  let listener: Listener;
  try {
    listener = await startListener({
      host: config.host, port: config.port, tls: config.tls, http: createHttpServer(restRouter),
      grpc: grpcServer, log,
    });
  } catch (e) {
    router?.close();
    await Promise.all([supervisor.close(), pool.close(), transport?.close()]);
    throw e;
  }
  transport?.start();
  const balancer = transport === null ? null : new LeaderBalancer({
    nodeId: config.nodeId, partitions: config.partitions,
    leaderOf: (partition) => supervisor.leaderTable.leaderOf(partition),
    connectedPeers: () => peers.filter((m) => transport.isConnected(m.id)).map((m) => m.id),
    request: (partition, op, payload) => supervisor.request(partition, op, payload),
  });
  // Clients match route hints against their configured URLs: advertise the bound port.
  workerBackend.endpoint = `${config.tls === null ? 'http' : 'https'}://127.0.0.1:${listener.port}`;
  log.info({ port: listener.port, nodeId: config.nodeId, partitions: config.partitions,
    workers: config.workers, dataDir: config.dataDir }, 'honu node listening');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      balancer?.close();
      await listener.close(listenerDrainMsDefault);
      router?.close();
      await transport?.close();
      await supervisor.close(shutdownDeadlineMs - listenerDrainMsDefault);
      await pool.close();
      log.info('honu node stopped');
    })();
    return closing;
  };
  if (options.handleSignals === true) installSignalHandlers(close, log);
  return { port: listener.port, supervisor, metrics, log, close };
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
