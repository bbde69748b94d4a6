// Ring micro-benchmark: 64-byte frames from one thread to another.
//   npm run bench:ring   (= npm run build && node dist/bench/micro/ring.js)
//   node dist/bench/micro/ring.js --runs 5 --ring-frames 20000000 --ring-bytes 1048576
// Scenarios, each in two fresh worker threads (producer, consumer), the main thread idle:
//   ring        SharedArrayBuffer ring, publish every 256 frames, consumer drain() in batches
//   ring-inplace  the same, consumer drainInPlace() (no Uint8Array view per frame)
//   pm-each     postMessage, one 64-byte Uint8Array per message (structured clone)
//   pm-array    postMessage, arrays of 256 Uint8Arrays per message
//   pm-buffer   postMessage, one 16 KiB ArrayBuffer holding 256 frames per message, transferred
// The consumer sums frame[0] of every frame; the sum is checked against the expected one.
// Prints a table and one JSON line. Figures go to bench/RESULTS.md; speed is never asserted.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  parentPort,
  Worker,
  workerData,
} from 'node:worker_threads';
import { createDoorbell, createRingBuffer, Doorbell, RingConsumer, RingProducer } from
  '../../src/ipc/ring.js';

const frameBytes = 64;
const batchFrames = 256;
const consumerIdleWaitMs = 100;

type Scenario = 'ring' | 'ring-inplace' | 'pm-each' | 'pm-array' | 'pm-buffer';

interface Job {
  readonly role: 'producer' | 'consumer';
  readonly scenario: Scenario;
  readonly frames: number;
  readonly ring?: SharedArrayBuffer;
  readonly bell?: SharedArrayBuffer;
  readonly port?: MessagePort;
}

const describeScenario: Record<Scenario, string> = {
  'ring': `SAB ring, publish per ${batchFrames}, drain`,
  'ring-inplace': `SAB ring, publish per ${batchFrames}, drainInPlace`,
  'pm-each': 'postMessage per frame',
  'pm-array': `postMessage, arrays of ${batchFrames}`,
  'pm-buffer': `postMessage, ${(batchFrames * frameBytes) / 1024} KiB moved per ${batchFrames}`,
};

function expectedSum(frames: number): number {
  let sum = 0;
  for (let i = 0; i < frames; i++) sum += i & 0xff;
  return sum;
}

// ------------------------------------------------------------------ producers

async function produceRing(job: Job): Promise<void> {
  const producer = new RingProducer(job.ring!, job.bell!);
  const frame = new Uint8Array(frameBytes).fill(7);
  for (let i = 0; i < job.frames; i++) {
    frame[0] = i & 0xff;
    if (!producer.tryWrite(frame)) {
      producer.publish();
      await producer.write(frame);
    }
    if ((i & (batchFrames - 1)) === batchFrames - 1) producer.publish();
  }
  producer.publish();
}

function producePostMessage(job: Job): void {
  const port = job.port!;
  if (job.scenario === 'pm-each') {
    const frame = new Uint8Array(frameBytes).fill(7);
    for (let i = 0; i < job.frames; i++) {
      frame[0] = i & 0xff;
      port.postMessage(frame);
    }
    return;
  }
  for (let first = 0; first < job.frames; first += batchFrames) {
    const count = Math.min(batchFrames, job.frames - first);
    if (job.scenario === 'pm-array') {
      const batch: Uint8Array[] = [];
      for (let k = 0; k < count; k++) {
        const frame = new Uint8Array(frameBytes).fill(7);
        frame[0] = (first + k) & 0xff;
        batch.push(frame);
      }
      port.postMessage(batch);
    } else {
      const buffer = new Uint8Array(count * frameBytes).fill(7);
      for (let k = 0; k < count; k++) buffer[k * frameBytes] = (first + k) & 0xff;
      port.postMessage(buffer.buffer, [buffer.buffer]);
    }
  }
}

// ------------------------------------------------------------------ consumers

async function consumeRing(job: Job): Promise<number> {
  const consumer = new RingConsumer(job.ring!);
  const bell = new Doorbell(job.bell!);
  let sum = 0;
  let count = 0;
  const onFrame = (frame: Uint8Array): void => {
    sum += frame[0]!;
  };
  const onFrameInPlace = (bytes: Uint8Array, offset: number): void => {
    sum += bytes[offset]!;
  };
  const hasWork = (): boolean => consumer.hasData();
  const inPlace = job.scenario === 'ring-inplace';
  while (count < job.frames) {
    await bell.wait(hasWork, consumerIdleWaitMs);
    count += inPlace ? consumer.drainInPlace(onFrameInPlace) : consumer.drain(onFrame);
  }
  return sum;
}

function consumePostMessage(job: Job): Promise<number> {
  const port = job.port!;
  let sum = 0;
  let count = 0;
  return new Promise((resolve) => {
    port.on('message', (message: Uint8Array | Uint8Array[] | ArrayBuffer) => {
      if (message instanceof Uint8Array) {
        sum += message[0]!;
        count++;
      } else if (Array.isArray(message)) {
        for (const frame of message) sum += frame[0]!;
        count += message.length;
      } else {
        const bytes = new Uint8Array(message);
        for (let at = 0; at < bytes.length; at += frameBytes) sum += bytes[at]!;
        count += bytes.length / frameBytes;
      }
      if (count === job.frames) {
        port.close();
        resolve(sum);
      }
    });
  });
}

async function runWorker(job: Job): Promise<void> {
  const port = parentPort!;
  if (job.role === 'consumer') {
    port.postMessage({ ready: true });
    const sum = job.ring !== undefined ? await consumeRing(job) : await consumePostMessage(job);
    port.postMessage({ done: true, sum });
    return;
  }
  port.once('message', () => {
    void (async () => {
      if (job.ring !== undefined) await produceRing(job);
      else producePostMessage(job);
      port.postMessage({ done: true });
    })();
  });
  port.postMessage({ ready: true });
}

// ------------------------------------------------------------------ main thread

function nextMessage(worker: Worker): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** One run of a scenario in two fresh threads; frames per second. */
async function runOnce(scenario: Scenario, frames: number, ringBytes: number): Promise<number> {
  const url = new URL(import.meta.url);
  let producerJob: Job;
  let consumerJob: Job;
  let transfer: MessagePort[] = [];
  let transferConsumer: MessagePort[] = [];
  if (scenario === 'ring' || scenario === 'ring-inplace') {
    const ring = createRingBuffer(ringBytes);
    const bell = createDoorbell();
    producerJob = { role: 'producer', scenario, frames, ring, bell };
    consumerJob = { role: 'consumer', scenario, frames, ring, bell };
  } else {
    const { port1, port2 } = new MessageChannel();
    producerJob = { role: 'producer', scenario, frames, port: port1 };
    consumerJob = { role: 'consumer', scenario, frames, port: port2 };
    transfer = [port1];
    transferConsumer = [port2];
  }
  const consumer = new Worker(url, { workerData: consumerJob, transferList: transferConsumer });
  const producer = new Worker(url, { workerData: producerJob, transferList: transfer });
  await Promise.all([nextMessage(consumer), nextMessage(producer)]);
  const consumerDone = nextMessage(consumer);
  const started = performance.now();
  producer.postMessage({ go: true });
  const done = await consumerDone;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([producer.terminate(), consumer.terminate()]);
  if (done['sum'] !== expectedSum(frames)) {
    throw new Error(`${scenario}: checksum ${String(done['sum'])} != ${expectedSum(frames)}`);
  }
  return frames / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? (perSecond / 1e6).toFixed(2) + 'M' : (perSecond / 1e3).toFixed(0) + 'k';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'runs': { type: 'string', default: '3' },
      'ring-frames': { type: 'string', default: '20000000' },
      'pm-frames': { type: 'string', default: '2000000' },
      'ring-bytes': { type: 'string', default: String(1024 * 1024) },
      'only': { type: 'string' },
    },
  });
  const runs = Number(values['runs']);
  const ringBytes = Number(values['ring-bytes']);
  const scenarios: Scenario[] = ['ring', 'ring-inplace', 'pm-each', 'pm-array', 'pm-buffer'];
  const rows = [];
  for (const scenario of scenarios) {
    if (values['only'] !== undefined && values['only'] !== scenario) continue;
    const many = scenario !== 'pm-each' && scenario !== 'pm-array';
    const frames = Number(many ? values['ring-frames'] : values['pm-frames']);
    const rates: number[] = [];
    for (let r = 0; r < runs; r++) rates.push(await runOnce(scenario, frames, ringBytes));
    rows.push({ scenario, frames, framesPerSecMedian: median(rates), framesPerSecRuns: rates });
  }
  console.log(`ring bench: ${frameBytes}-byte frames, one thread to another, ${runs} runs each,`
    + ` ring ${ringBytes} bytes, node ${process.version}, ${availableParallelism()} cores`);
  console.log('scenario'.padEnd(42) + 'frames'.padStart(10) + 'median/s'.padStart(10)
    + '  runs/s');
  for (const row of rows) {
    console.log(describeScenario[row.scenario].padEnd(42) + String(row.frames).padStart(10)
      + formatRate(row.framesPerSecMedian).padStart(10) + '  '
      + row.framesPerSecRuns.map(formatRate).join(' '));
  }
  console.log(JSON.stringify({
    bench: 'ring', frameBytes, batchFrames, ringBytes, runs, node: process.version,
    cores: availableParallelism(), results: rows.map((row) => ({
      scenario: row.scenario, frames: row.frames,
      framesPerSecMedian: Math.round(row.framesPerSecMedian),
      framesPerSecRuns: row.framesPerSecRuns.map(Math.round),
    })),
  }));
}

if (isMainThread) await main();
else await runWorker(workerData as Job);
