// Prometheus metrics of one node (prom-client, on a Registry of its own, never the global one, so
// several nodes or tests in one process do not collide). Served by `GET /metrics`.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { assert } from '../assert.js';

export interface RingDepth {
  readonly ring: string;
  readonly bytes: number;
}

/** How many times producers woke a parked thread (Atomics.notify on its doorbell). */
export interface ThreadWakeups {
  readonly thread: string;
  readonly count: number;
}

/** What the writer reports per interval: per-flush (group commit) samples, each standing for
 *  `stride` flushes (the last for what is left of `flushCount`); stride 1 is every flush. */
export interface WriterStats {
  readonly flushCount: number;
  readonly stride: number;
  readonly flushEntries: readonly number[];
  readonly flushBytes: readonly number[];
  readonly fsyncMs: readonly number[];
}

export interface Metrics {
  readonly registry: Registry;
  /** The content-type of text(). */
  readonly contentType: string;
  /**
   * Counts one request. `route` is the route pattern or gRPC method path (bounded set), `type`
   * the reply's numeric Kahuna `type` as text, or 'none' / 'error' when there is none.
   */
  countRequest(route: string, type: string): void;
  /** Called on every scrape to fill honu_ring_depth_bytes{ring}. */
  setRingDepthSource(source: () => readonly RingDepth[]): void;
  /** Called on every scrape to fill honu_thread_wakeups_total{thread}. */
  setWakeupSource(source: () => readonly ThreadWakeups[]): void;
  observeWriterStats(stats: WriterStats): void;
  /** Called on every scrape to fill honu_peer_events_total{event} (the peer transport's
   *  counters since it started). */
  setPeerStatsSource(source: () => Readonly<Record<string, number>>): void;
  countWorkerRestart(worker: string): void;
  text(): Promise<string>;
}

const batchEntriesBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];
const batchBytesBuckets = [256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304,
  16_777_216, 67_108_864];
const fsyncSecondsBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
  0.1, 0.25, 1];
/** Distinct {route, type} pairs cached for the hot path; past it, children are looked up. */
const requestChildrenCachedMax = 4096;

type CounterChild = ReturnType<Counter<'route' | 'type'>['labels']>;

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'honu_requests_total', help: 'Requests served, by route and reply type',
    labelNames: ['route', 'type'] as const, registers: [registry],
  });
  let ringDepthSource: () => readonly RingDepth[] = () => [];
  new Gauge({
    name: 'honu_ring_depth_bytes', help: 'Bytes queued in each inter-thread ring',
    labelNames: ['ring'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const depth of ringDepthSource()) this.set({ ring: depth.ring }, depth.bytes);
    },
  });
  // Counters kept elsewhere (doorbells, the peer transport), copied in at each scrape.
  const snapshotCounter = (name: string, help: string, label: string,
    read: () => Iterable<readonly [string, number]>): void => {
    new Counter({
      name, help, labelNames: [label], registers: [registry],
      collect() {
        this.reset();
        for (const [value, n] of read()) this.inc({ [label]: value }, n);
      },
    });
  };
  let wakeupSource: () => readonly ThreadWakeups[] = () => [];
  snapshotCounter('honu_thread_wakeups_total',
    'Times a parked thread was woken through its doorbell (a restarted worker counts afresh)',
    'thread', () => wakeupSource().map((w) => [w.thread, w.count] as const));
  let peerStatsSource: () => Readonly<Record<string, number>> = () => ({});
  snapshotCounter('honu_peer_events_total',
    'Peer transport counters: envelopes and items sent and received, drops, dials',
    'event', () => Object.entries(peerStatsSource()));
  const batchEntries = new Histogram({
    name: 'honu_writer_batch_entries', help: 'Entries per writer group commit',
    buckets: batchEntriesBuckets, registers: [registry],
  });
  const batchBytes = new Histogram({
    name: 'honu_writer_batch_bytes', help: 'Bytes per writer group commit',
    buckets: batchBytesBuckets, registers: [registry],
  });
  const fsyncSeconds = new Histogram({
    name: 'honu_writer_fsync_seconds', help: 'Duration of each writer commit with fsync',
    buckets: fsyncSecondsBuckets, registers: [registry],
  });
  const workerRestarts = new Counter({
    name: 'honu_worker_restarts_total', help: 'Worker threads restarted after they died',
    labelNames: ['worker'] as const, registers: [registry],
  });
  // labels() hashes its arguments on every call: keep the children of the hot path.
  const requestChildren = new Map<string, CounterChild>();
  return {
    registry,
    contentType: registry.contentType,
    countRequest(route, type) {
      const key = route + '\u0000' + type;
      let child = requestChildren.get(key);
      if (child === undefined) {
        child = requests.labels(route, type);
        if (requestChildren.size < requestChildrenCachedMax) requestChildren.set(key, child);
      }
      child.inc();
    },
    setRingDepthSource(source) {
      ringDepthSource = source;
    },
    setWakeupSource(source) {
      wakeupSource = source;
    },
    setPeerStatsSource(source) {
      peerStatsSource = source;
    },
    observeWriterStats(stats) {
      const n = stats.flushEntries.length;
      assert(n === stats.flushBytes.length && n === stats.fsyncMs.length,
        'writer stats out of step');
      assert(stats.stride >= 1 && n <= stats.flushCount &&
        stats.flushCount <= n * stats.stride, 'writer samples do not cover the flushes');
      // A thinned sample is observed once per flush it stands for, so _count is the number of
      // flushes (the histogram's shape and _sum are then estimates from the samples).
      for (let j = 0; j < n; j++) {
        const weight = Math.min(stats.stride, stats.flushCount - j * stats.stride);
        for (let k = 0; k < weight; k++) {
          batchEntries.observe(stats.flushEntries[j]!);
          batchBytes.observe(stats.flushBytes[j]!);
          fsyncSeconds.observe(stats.fsyncMs[j]! / 1000);
        }
      }
    },
    countWorkerRestart(worker) {
      workerRestarts.inc({ worker });
    },
    text: () => registry.metrics(),
  };
}
