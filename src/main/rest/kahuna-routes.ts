// Every Kahuna REST route family, registered in one call so server.ts wires them with one line:
// the KahunaBackend's (locks, key/values, sequences, cluster) and the TxBackend's (scripts,
// sessions, exclusive locks; without one they answer Errored (99)).
import type { KahunaBackend } from '../../core/api/types.js';
import type { TxBackend } from '../../core/api/tx-types.js';
import { unavailableTxBackend } from '../grpc/tx-unavailable.js';
import type { RestRouter } from './router.js';
import { registerClusterRoutes } from './cluster-routes.js';
import { registerKvRoutes } from './kv-routes.js';
import { registerLockRoutes } from './lock-routes.js';
import { registerSequenceRoutes } from './sequence-routes.js';
import { registerTxRoutes } from './tx-routes.js';

export interface KahunaRouteDeps {
  readonly backend: KahunaBackend;
  /** Scripts, sessions and exclusive locks; default: unavailableTxBackend. */
  readonly tx?: TxBackend;
}

export function registerKahunaRoutes(router: RestRouter, deps: KahunaRouteDeps): void {
  registerLockRoutes(router, deps);
  registerKvRoutes(router, deps);
  registerTxRoutes(router, { tx: deps.tx ?? unavailableTxBackend });
  registerSequenceRoutes(router, deps);
  registerClusterRoutes(router, deps);
}
