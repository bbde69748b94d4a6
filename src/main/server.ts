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
    workers: config.workers, log, metrics,
  });
  await supervisor.start();
  const pool = new CpuPool();
  const router = new RestRouter({ metrics, log });
  registerSystemRoutes(router, {
    metrics,
    health: () => ({
      ready: supervisor.ready(), initialized: true, localRole: 'Voter',
      hostedPartitions: supervisor.hostedPartitions().length,
    }),
  });
  registerHonuRoutes(router, { supervisor, pool, partitions: config.partitions });
  const workerBackend = new WorkerBackend(supervisor, {
    nodeId: config.nodeId, partitions: config.partitions,
    endpoint: `${config.tls === null ? 'http' : 'https'}://127.0.0.1:${config.port}`,
  });
  const backend = options.backend ?? workerBackend;
  registerKahunaRoutes(router, { backend });
  let listener: Listener;
  try {
    listener = await startListener({
      host: config.host, port: config.port, tls: config.tls, http: createHttpServer(router),
      grpc: createGrpcServer(backend, log), log,
    });
  } catch (e) {
    await Promise.all([supervisor.close(), pool.close()]);
    throw e;
  }
  // Clients match route hints against their configured URLs: advertise the bound port.
  workerBackend.endpoint = `${config.tls === null ? 'http' : 'https'}://127.0.0.1:${listener.port}`;
  log.info({ port: listener.port, nodeId: config.nodeId, partitions: config.partitions,
    workers: config.workers, dataDir: config.dataDir }, 'honu node listening');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await listener.close(listenerDrainMsDefault);
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
