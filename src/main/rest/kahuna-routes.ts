// Every Kahuna REST route family that the KahunaBackend serves, registered in one call so
// server.ts wires them with one line.
import type { KahunaBackend } from '../../core/api/types.js';
import type { RestRouter } from './router.js';
import { registerClusterRoutes } from './cluster-routes.js';
import { registerKvRoutes } from './kv-routes.js';
import { registerLockRoutes } from './lock-routes.js';
import { registerSequenceRoutes } from './sequence-routes.js';

export interface KahunaRouteDeps {
  readonly backend: KahunaBackend;
}

export function registerKahunaRoutes(router: RestRouter, deps: KahunaRouteDeps): void {
  registerLockRoutes(router, deps);
  registerKvRoutes(router, deps);
  registerSequenceRoutes(router, deps);
  registerClusterRoutes(router, deps);
}
