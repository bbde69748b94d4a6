// The grpc-js server of a node. It never binds a port itself: startListener() injects the
// connections that start with the HTTP/2 preface (or negotiate ALPN h2) through
// server.createConnectionInjector(). Messages over grpcMessageBytesMax get RESOURCE_EXHAUSTED
// from grpc-js (the length prefix is checked before the body is buffered); methods nobody
// registered get UNIMPLEMENTED (grpc-js default). Both are covered by test/main/listener.test.ts.
// It serves Kahuna's four services (wire.md 2.1-2.4) at /<Service>/<Rpc>, plus whatever the
// caller registers through `extraServices` (HonuPeer, src/main/peer/peer-transport.ts).
import * as grpc from '@grpc/grpc-js';
import type { KahunaBackend } from '../../core/api/types.js';
import type { TxBackend } from '../../core/api/tx-types.js';
import { grpcMessageBytesMax } from '../../limits.js';
import type { Logger } from '../log.js';
import { createClusterService } from './cluster-service.js';
import { ClusterService } from './generated/cluster.js';
import { KeyValuerService } from './generated/keyvalues.js';
import { LockerService } from './generated/locks.js';
import { SequencerService } from './generated/sequences.js';
import { createKeyValuerService } from './key-valuer-service.js';
import { createLockerService } from './locker-service.js';
import { createSequencerService } from './sequencer-service.js';
import { unavailableTxBackend } from './tx-unavailable.js';

export const grpcServerOptions: grpc.ServerOptions = {
  'grpc.max_receive_message_length': grpcMessageBytesMax,
  'grpc.max_send_message_length': grpcMessageBytesMax,
};

/** The four Kahuna services over `backend`; `log` receives handler failures. `extraServices`
 *  adds services of Honu's own on the same server (the peer transport's `register`). `tx`
 *  serves KeyValuer's scripts, sessions and exclusive locks (default: all Errored). */
export function createGrpcServer(backend: KahunaBackend, log?: Logger,
  extraServices?: (server: grpc.Server) => void,
  tx: TxBackend = unavailableTxBackend): grpc.Server {
  const server = new grpc.Server(grpcServerOptions);
  const ctx = { log };
  server.addService(LockerService, createLockerService(backend, ctx));
  server.addService(KeyValuerService, createKeyValuerService(backend, ctx, tx));
  server.addService(SequencerService, createSequencerService(backend, ctx));
  server.addService(ClusterService, createClusterService(backend, ctx));
  extraServices?.(server);
  return server;
}
