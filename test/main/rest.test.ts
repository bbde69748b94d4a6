// The REST router and the system routes over Honu's HTTP/1.1 server on a real socket;
// metrics read back through prom-client's text format.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMetrics } from '../../src/main/metrics.js';
import type { Metrics } from '../../src/main/metrics.js';
import type { Http1Server } from '../../src/main/http/http1-server.js';
import { RestRouter, createHttpServer } from '../../src/main/rest/router.js';
import { livenessBody, registerSystemRoutes } from '../../src/main/rest/system-routes.js';
import type { NodeHealth } from '../../src/main/rest/system-routes.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function call(port: number, method: string, path: string, body?: string,
  headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8') }));
      });
    req.on('error', reject);
    req.end(body);
  });
}

let health: NodeHealth = { ready: false, initialized: false, localRole: 'NotMember',
  hostedPartitions: 0 };
let metrics: Metrics;
let server: Http1Server;
let port = 0;
const smallBodyBytesMax = 1024;

beforeAll(async () => {
  metrics = createMetrics();
  const router = new RestRouter({ metrics, bodyBytesMax: smallBodyBytesMax });
  registerSystemRoutes(router, { health: () => health, metrics });
  router.add('POST', '/v1/kv/try-set', ({ body }) => ({ json: { type: 0, echoed: body } }));
  router.add('POST', '/v1/kv/try-get', () => ({ json: { type: 3 } }));
  router.add('GET', '/v1/backups/{id}/chain', ({ params, query }) =>
    ({ json: { id: params['id'], depth: query.get('depth') } }));
  router.add('GET', '/v1/bigint', () => ({ json: { n: 10n } }));
  router.add('GET', '/v1/custom', () => ({ status: 202, text: 'a,b', contentType: 'text/csv',
    headers: { 'retry-after': '1' } }));
  server = createHttpServer(router);
  port = await server.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await server.close();
});

describe('system routes', () => {
  test('GET / answers exactly Kahuna.Server as text/plain', async () => {
    const reply = await call(port, 'GET', '/');
    expect([reply.status, reply.body]).toEqual([200, livenessBody]);
    expect(livenessBody).toBe('Kahuna.Server');
    expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  test('health: 503 until ready, then 200, with Kahuna\'s exact JSON', async () => {
    health = { ready: false, initialized: true, localRole: 'Voter', hostedPartitions: 8 };
    const notReady = await call(port, 'GET', '/v1/cluster/health');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toBe(
      '{"ready":false,"initialized":true,"localRole":"Voter","hostedPartitions":8}');
    health = { ready: true, initialized: true, localRole: 'Voter', hostedPartitions: 8 };
    const ready = await call(port, 'GET', '/v1/cluster/health');
    expect(ready.status).toBe(200);
    expect(ready.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(ready.body).toBe(
      '{"ready":true,"initialized":true,"localRole":"Voter","hostedPartitions":8}');
  });

  test('/metrics serves every Honu metric name and the process metrics', async () => {
    metrics.setRingDepthSource(() => [{ ring: 'main->worker0', bytes: 4096 }]);
    // Thinned: two samples at stride 2 for three flushes -> weights 2 and 1.
    metrics.observeWriterStats({ flushCount: 3, stride: 2, flushEntries: [3, 100],
      flushBytes: [300, 10_000], fsyncMs: [0.25, 1.5] });
    metrics.countWorkerRestart('partition-0');
    metrics.setWakeupSource(() => [{ thread: 'main', count: 3 }, { thread: 'worker0', count: 8 }]);
    let peerStats = { envelopesSent: 5, raftItemsSent: 7 };
    metrics.setPeerStatsSource(() => peerStats);
    const first = await call(port, 'GET', '/metrics');
    expect(first.body).toContain('honu_peer_events_total{event="raftItemsSent"} 7');
    peerStats = { envelopesSent: 9, raftItemsSent: 12 };
    const reply = await call(port, 'GET', '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of ['honu_requests_total', 'honu_ring_depth_bytes',
      'honu_writer_batch_entries', 'honu_writer_batch_bytes', 'honu_writer_fsync_seconds',
      'honu_worker_restarts_total', 'honu_peer_events_total', 'honu_thread_wakeups_total',
      'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
      expect(reply.body).toContain(`# TYPE ${name} `);
    }
    expect(reply.body).toContain('honu_ring_depth_bytes{ring="main->worker0"} 4096');
    expect(reply.body).toContain('honu_writer_batch_entries_count 3');
    expect(reply.body).toContain('honu_writer_batch_entries_sum 106');
    expect(reply.body).toContain('honu_writer_fsync_seconds_count 3');
    expect(reply.body).toContain('honu_writer_fsync_seconds_bucket{le="0.00025"} 2');
    expect(reply.body).toContain('honu_worker_restarts_total{worker="partition-0"} 1');
    expect(reply.body).toContain('honu_thread_wakeups_total{thread="worker0"} 8');
    // Each scrape reports the transport's counters as they are, not added to the last scrape.
    expect(reply.body).toContain('honu_peer_events_total{event="envelopesSent"} 9');
    expect(reply.body).toContain('honu_peer_events_total{event="raftItemsSent"} 12');
  });
});

describe('router', () => {
  test('counts requests by route and the reply\'s numeric type', async () => {
    await call(port, 'POST', '/v1/kv/try-get', '{}');
    await call(port, 'POST', '/v1/kv/try-get', '{}');
    await call(port, 'POST', '/v1/kv/try-set', '{"key":"a"}');
    await call(port, 'POST', '/v1/kv/try-set', '{bad');
    const text = await metrics.text();
    expect(text).toContain('honu_requests_total{route="/v1/kv/try-get",type="3"} 2');
    expect(text).toContain('honu_requests_total{route="/v1/kv/try-set",type="0"} 1');
    expect(text).toContain('honu_requests_total{route="/v1/kv/try-set",type="error"} 1');
  });

  test('path parameters, query strings and a trailing slash', async () => {
    const reply = await call(port, 'GET', '/v1/backups/a%2Fb/chain/?depth=3');
    expect(JSON.parse(reply.body)).toEqual({ id: 'a/b', depth: '3' });
    const badEscape = await call(port, 'GET', '/v1/backups/%E0%A4%A/chain');
    expect(badEscape.status).toBe(400);
    expect(JSON.parse(badEscape.body)).toMatchObject({ error: 'HONU_ERR_INVALID_INPUT' });
    expect((await call(port, 'GET', '/v1/backups//chain')).status).toBe(404);
  });

  test('HEAD is served by the GET handler without a body', async () => {
    const reply = await call(port, 'HEAD', '/');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('');
    expect(reply.headers['content-length']).toBe(String(livenessBody.length));
  });

  test('status, content type and extra headers from the reply', async () => {
    const reply = await call(port, 'GET', '/v1/custom');
    expect([reply.status, reply.body, reply.headers['content-type'], reply.headers['retry-after']])
      .toEqual([202, 'a,b', 'text/csv', '1']);
  });

  test('a reply that cannot be serialized is a 500, not a crash', async () => {
    const reply = await call(port, 'GET', '/v1/bigint');
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body)).toMatchObject({ error: 'HONU_ERR_INTERNAL' });
  });

  test('an empty POST body reaches the handler as undefined', async () => {
    const reply = await call(port, 'POST', '/v1/kv/try-set');
    expect(reply.body).toBe('{"type":0}');
  });

  test('Expect: 100-continue: a body over the limit is refused before it is sent', async () => {
    const reply = await call(port, 'POST', '/v1/kv/try-set', undefined,
      { expect: '100-continue', 'content-length': smallBodyBytesMax + 1 });
    expect(reply.status).toBe(413);
    const ok = await new Promise<Reply>((resolve, reject) => {
      const body = '{"k":1}';
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/kv/try-set',
        agent: false, headers: { expect: '100-continue', 'content-length': body.length } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers,
          body: text }));
      });
      req.on('continue', () => req.end(body));
      req.on('error', reject);
    });
    expect([ok.status, ok.body]).toEqual([200, '{"type":0,"echoed":{"k":1}}']);
  });

  test('routes cannot be registered twice or without a leading slash', () => {
    const router = new RestRouter();
    router.add('GET', '/x', () => ({ text: 'x' }));
    expect(() => router.add('GET', '/x', () => ({ text: 'y' }))).toThrow(/added twice/);
    expect(() => router.add('GET', 'x', () => ({ text: 'y' }))).toThrow(/must start with/);
  });
});
