// Liveness, readiness and metrics (spec/wire.md 3.6): `GET /` answers `Kahuna.Server` (clients
// and scripts poll for this exact body), `GET /v1/cluster/health` answers Kahuna's JSON with 200
// when ready and 503 otherwise, `GET /metrics` serves Prometheus text.
import type { Metrics } from '../metrics.js';
import type { RestRouter } from './router.js';

/** Kahuna's health body, field for field and in this order. */
export interface NodeHealth {
  readonly ready: boolean; // initialized and every partition hosted here has a leader
  readonly initialized: boolean;
  readonly localRole: string; // 'Voter' | 'Learner' | 'Leaving' | 'NotMember'
  readonly hostedPartitions: number;
}

export interface SystemRouteDeps {
  health(): NodeHealth;
  readonly metrics: Metrics;
}

export const livenessBody = 'Kahuna.Server';

export function registerSystemRoutes(router: RestRouter, deps: SystemRouteDeps): void {
  router.add('GET', '/', () => ({ text: livenessBody }));
  router.add('GET', '/v1/cluster/health', () => {
    const health = deps.health();
    const json = {
      ready: health.ready,
      initialized: health.initialized,
      localRole: health.localRole,
      hostedPartitions: health.hostedPartitions,
    };
    return { status: health.ready ? 200 : 503, json };
  });
  router.add('GET', '/metrics', async () => ({
    text: await deps.metrics.text(),
    contentType: deps.metrics.contentType,
  }));
}
