// Writer micro-benchmark: durable entries/s through the writer worker's group commit.
//   npm run bench:writer   (= npm run build && node dist/bench/micro/writer.js)
//   node dist/bench/micro/writer.js --duration-ms 5000 --value-bytes 64 --batch-sizes 1,16 --runs 3
// Scenarios, each with a fresh writer worker and a fresh RocksDB under os.tmpdir():
//   group-N    two producer threads (playing partition workers, one link each), each keeping
//              64 batches of N entries in flight; entries are Raft-log-like puts
//   serial     one producer thread, ONE batch of one entry in flight: one fsync per entry
//   raw-sync   no threads: RocksDB batch of one put written with sync, in a loop (the floor)
// Latency is submit -> ack (persist() call to its promise resolving), per batch.
// Prints a table and one JSON line. Figures go to bench/RESULTS.md; speed is never asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { raftLogKey } from '../../src/core/writer/keys.js';
import { workerPath } from '../../src/env/paths.js';
import { RocksStore } from '../../src/env/rocksdb.js';
import { createDoorbell, Doorbell, RingConsumer, RingProducer } from '../../src/ipc/ring.js';
import { createWriterLink, WriterClient } from '../../src/ipc/writer-client.js';
import type { WriteOpInput } from '../../src/ipc/writer-client.js';
import { isWriterEvent } from '../../src/ipc/writer-protocol.js';
import type {
  WriterEvent, WriterLink, WriterStatsMessage, WriterWorkerData,
} from '../../src/ipc/writer-protocol.js';

const latencySamplesMax = 1 << 20;
/** Producers sleep on their doorbell until the writer rings it (acks), at most this long. */
const producerIdleWaitMs = 50;

interface ProducerJob {
  readonly link: WriterLink;
  readonly writerDoorbell: SharedArrayBuffer;
  readonly partition: number;
  readonly entriesPerBatch: number;
  readonly outstanding: number;
  readonly valueBytes: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

interface ProducerResult {
  /** Atomics.notify calls on this producer's doorbell (the writer waking it with acks). */
  readonly wakeups: number;
  readonly batches: number;
  readonly entries: number;
  readonly elapsedMs: number;
  readonly latenciesMs: Float64Array;
}

interface Row {
  readonly scenario: string;
  readonly threads: number;
  readonly outstanding: number;
  readonly entriesPerBatch: number;
  readonly entriesPerSec: number;
  readonly batchesPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly batchesPerFsync: number;
  readonly fsyncMsMean: number;
  /** Doorbell notifies per second, writer -> producers and producers -> writer. */
  readonly wakeupsPerSec: number;
}

// ------------------------------------------------------------------ producer thread

/** Keeps `outstanding` batches in flight on one link for warmup + duration; measures the
 *  batches acked during the measured window only. */
async function runProducer(job: ProducerJob): Promise<ProducerResult> {
  const bellSab = job.link.outboundDoorbell;
  const bell = new Doorbell(bellSab);
  const client = new WriterClient(new RingProducer(job.link.inbound, job.writerDoorbell));
  const consumer = new RingConsumer(job.link.outbound);
  const onFrame = (bytes: Uint8Array, offset: number, length: number): void => {
    client.handleFrameAt(bytes, offset, length);
  };
  const value = new Uint8Array(job.valueBytes).fill(0x5a);
  const latencies = new Float64Array(latencySamplesMax);
  let logIndex = 0;
  let measuring = false;
  let stopping = false;
  let inFlight = 0;
  let batches = 0;
  const submit = (): void => {
    const ops: WriteOpInput[] = [];
    for (let i = 0; i < job.entriesPerBatch; i += 1) {
      logIndex += 1;
      ops.push({ kind: 'put', key: raftLogKey(job.partition, logIndex), value });
    }
    const startMs = performance.now();
    const counted = measuring;
    inFlight += 1;
    void client.persist(job.partition, ops).then(() => {
      inFlight -= 1;
      if (counted && measuring) {
        if (batches < latencySamplesMax) latencies[batches] = performance.now() - startMs;
        batches += 1;
      }
      if (!stopping) submit();
    });
  };
  for (let i = 0; i < job.outstanding; i += 1) submit();
  const warmupEnd = performance.now() + job.warmupMs;
  let measureStart = 0;
  let measureEnd = Number.POSITIVE_INFINITY;
  for (;;) {
    const now = performance.now();
    if (!measuring && measureStart === 0 && now >= warmupEnd) {
      measuring = true;
      measureStart = now;
      measureEnd = now + job.durationMs;
    }
    if (measuring && now >= measureEnd) {
      measuring = false;
      stopping = true;
    }
    if (stopping && inFlight === 0) break;
    client.flush();
    consumer.drainInPlace(onFrame);
    await bell.wait(() => consumer.hasData(), producerIdleWaitMs);
  }
  const elapsedMs = measureEnd - measureStart;
  return {
    wakeups: bell.notifyCount(), batches, entries: batches * job.entriesPerBatch, elapsedMs,
    latenciesMs: latencies.slice(0, Math.min(batches, latencySamplesMax)),
  };
}

// ------------------------------------------------------------------ main thread

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function startWriter(dataDir: string, writerDoorbell: SharedArrayBuffer, links: WriterLink[],
  events: WriterEvent[]): Worker {
  const data: WriterWorkerData = { dataDir, doorbell: writerDoorbell, links };
  const writer = new Worker(workerPath('writer-worker'), { workerData: data });
  writer.on('message', (m: unknown) => {
    if (isWriterEvent(m)) events.push(m);
  });
  return writer;
}

function waitEvent(writer: Worker, events: WriterEvent[], type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (events.some((e) => e.type === type)) resolve();
      else if (events.some((e) => e.type === 'fatal')) reject(new Error('writer fatal'));
      else setTimeout(check, 2);
    };
    writer.once('error', reject);
    check();
  });
}

function runThread(job: ProducerJob): Promise<ProducerResult> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(new URL(import.meta.url), { workerData: job });
    thread.once('message', (m: ProducerResult) => resolve(m));
    thread.once('error', reject);
  });
}

/** Sums the writer's 'stats' messages over the whole run (warmup included). */
function flushFigures(events: WriterEvent[]): { batchesPerFsync: number; fsyncMsMean: number } {
  const stats = events.filter((e): e is WriterStatsMessage => e.type === 'stats');
  const flushes = stats.reduce((n, s) => n + s.flushCount, 0);
  const batches = stats.reduce((n, s) => n + s.batchCount, 0);
  const fsyncMs = stats.reduce((n, s) => n + s.fsyncMsTotal, 0);
  return { batchesPerFsync: batches / Math.max(flushes, 1), fsyncMsMean: fsyncMs / flushes };
}

interface ScenarioSpec {
  readonly name: string;
  readonly threads: number;
  readonly outstanding: number;
  readonly entriesPerBatch: number;
}

async function runScenario(spec: ScenarioSpec, options: Options): Promise<Row> {
  const dataDir = mkdtempSync(join(tmpdir(), 'honu-bench-writer-'));
  try {
    const writerDoorbell = createDoorbell();
    const links = Array.from({ length: spec.threads }, (_, w) =>
      createWriterLink(w, createDoorbell(), options.ringBytes));
    const events: WriterEvent[] = [];
    const writer = startWriter(dataDir, writerDoorbell, links, events);
    await waitEvent(writer, events, 'ready');
    const writerBell = new Doorbell(writerDoorbell);
    const results = await Promise.all(links.map((link, w) => runThread({
      link, writerDoorbell, partition: w, entriesPerBatch: spec.entriesPerBatch,
      outstanding: spec.outstanding, valueBytes: options.valueBytes,
      warmupMs: options.warmupMs, durationMs: options.durationMs,
    })));
    writer.postMessage({ type: 'shutdown' });
    await waitEvent(writer, events, 'closed');
    const entries = results.reduce((n, r) => n + r.entries, 0);
    const batches = results.reduce((n, r) => n + r.batches, 0);
    const seconds = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
    const wakeups = results.reduce((n, r) => n + r.wakeups, 0) + writerBell.notifyCount();
    const runSeconds = seconds + options.warmupMs / 1000;
    const all = new Float64Array(results.reduce((n, r) => n + r.latenciesMs.length, 0));
    let at = 0;
    for (const r of results) {
      all.set(r.latenciesMs, at);
      at += r.latenciesMs.length;
    }
    all.sort();
    return {
      scenario: spec.name, threads: spec.threads, outstanding: spec.outstanding,
      entriesPerBatch: spec.entriesPerBatch, entriesPerSec: entries / seconds,
      batchesPerSec: batches / seconds, p50Ms: percentile(all, 0.5), p99Ms: percentile(all, 0.99),
      ...flushFigures(events), wakeupsPerSec: wakeups / runSeconds,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One sync write per entry straight into RocksDB on this thread: no rings, no worker. */
async function runRawSync(options: Options): Promise<Row> {
  const dataDir = mkdtempSync(join(tmpdir(), 'honu-bench-raw-'));
  const store = await RocksStore.open(dataDir);
  try {
    const value = new Uint8Array(options.valueBytes).fill(0x5a);
    const latencies: number[] = [];
    const endMs = performance.now() + Math.min(options.durationMs, 3000);
    const startMs = performance.now();
    let i = 0;
    while (performance.now() < endMs) {
      const t = performance.now();
      const batch = store.batch();
      batch.put(raftLogKey(0, (i += 1)), value);
      await batch.commit();
      latencies.push(performance.now() - t);
    }
    const seconds = (performance.now() - startMs) / 1000;
    const sorted = Float64Array.from(latencies).sort();
    return {
      scenario: 'raw-sync', threads: 1, outstanding: 1, entriesPerBatch: 1,
      entriesPerSec: i / seconds, batchesPerSec: i / seconds, p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99), batchesPerFsync: 1, fsyncMsMean: Number.NaN,
      wakeupsPerSec: 0,
    };
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Options {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly valueBytes: number;
  readonly ringBytes: number;
  readonly batchSizes: number[];
  readonly runs: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      'duration-ms': { type: 'string', default: '5000' },
      'warmup-ms': { type: 'string', default: '1000' },
      'value-bytes': { type: 'string', default: '64' },
      'ring-bytes': { type: 'string', default: String(4 * 1024 * 1024) },
      'batch-sizes': { type: 'string', default: '1,16' },
      'runs': { type: 'string', default: '1' },
    },
  });
  return {
    durationMs: Number(values['duration-ms']), warmupMs: Number(values['warmup-ms']),
    valueBytes: Number(values['value-bytes']), ringBytes: Number(values['ring-bytes']),
    batchSizes: String(values['batch-sizes']).split(',').map(Number),
    runs: Number(values.runs),
  };
}

function fmt(n: number, digits = 0): string {
  return Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

async function main(): Promise<void> {
  const options = parseOptions();
  const rows: Row[] = [];
  for (let run = 0; run < options.runs; run += 1) {
    for (const n of options.batchSizes) {
      rows.push(await runScenario({ name: `group-${n}`, threads: 2, outstanding: 64,
        entriesPerBatch: n }, options));
    }
    rows.push(await runScenario({ name: 'serial', threads: 1, outstanding: 1,
      entriesPerBatch: 1 }, options));
    rows.push(await runRawSync(options));
  }
  console.log(`writer benchmark, node ${process.version}, ${availableParallelism()} cores, ` +
    `${options.valueBytes}-byte values, ${options.durationMs} ms per scenario`);
  console.log('scenario   threads x in-flight  entries/batch  entries/s   batches/s  ' +
    'p50 ms  p99 ms  batches/fsync  fsync ms  wakeups/s');
  for (const r of rows) {
    console.log(`${r.scenario.padEnd(10)} ${`${r.threads} x ${r.outstanding}`.padStart(17)}  ` +
      `${String(r.entriesPerBatch).padStart(13)}  ${fmt(r.entriesPerSec).padStart(9)}  ` +
      `${fmt(r.batchesPerSec).padStart(10)}  ${fmt(r.p50Ms, 3).padStart(6)}  ` +
      `${fmt(r.p99Ms, 3).padStart(6)}  ${fmt(r.batchesPerFsync, 1).padStart(13)}  ` +
      `${fmt(r.fsyncMsMean, 3).padStart(8)}  ${fmt(r.wakeupsPerSec).padStart(9)}`);
  }
  console.log(JSON.stringify({ bench: 'writer', node: process.version, rows }));
}

if (isMainThread) {
  await main();
} else {
  const result = await runProducer(workerData as ProducerJob);
  parentPort?.postMessage(result, [result.latenciesMs.buffer as ArrayBuffer]);
}
