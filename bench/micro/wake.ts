// Thread wake-up micro-benchmark: what one cross-thread hand-off costs when the other thread
// is parked, the thing every ring hop pays when its consumer has gone to sleep.
//   npm run bench:wake   (= npm run build && node dist/bench/micro/wake.js)
//   node dist/bench/micro/wake.js --round-trips 20000 --runs 3
// Main and one worker thread play ping-pong on a SharedArrayBuffer: main stores a sequence
// number and wakes the worker, the worker echoes it and wakes main. Modes (the worker side):
//   doorbell  Honu's Doorbell on both sides (Atomics.waitAsync; notify only when parked)
//   sync      the worker blocks in Atomics.wait, main notifies on every store; main waits
//             with its Doorbell as above
//   spin      the worker spins on Atomics.load and never parks: no wake-up at all on its side
// Per round trip: wall time, main's time inside Atomics.notify (the producer's share), and
// the process's CPU time (both threads; process.cpuUsage). Speed is never asserted.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createDoorbell, Doorbell } from '../../src/ipc/ring.js';

type Mode = 'doorbell' | 'sync' | 'spin';
const modes: readonly Mode[] = ['doorbell', 'sync', 'spin'];
const waitMs = 1000;
const STOP = -1;

interface Job { readonly mode: Mode; readonly seq: SharedArrayBuffer;
  readonly toWorker: SharedArrayBuffer; readonly toMain: SharedArrayBuffer }

// seq[0]: main -> worker, seq[1]: worker -> main.
async function workerSide(job: Job): Promise<void> {
  const seq = new Int32Array(job.seq);
  const inbox = new Doorbell(job.toWorker);
  const outbox = new Doorbell(job.toMain);
  let seen = 0;
  parentPort!.postMessage('up');
  for (;;) {
    const v = Atomics.load(seq, 0);
    if (v === STOP) return;
    if (v !== seen) {
      seen = v;
      Atomics.store(seq, 1, v);
      outbox.ring();
      continue;
    }
    if (job.mode === 'spin') continue;
    if (job.mode === 'sync') {
      Atomics.wait(seq, 0, seen, waitMs); // main notifies seq[0] on every store in this mode
      continue;
    }
    await inbox.wait(() => Atomics.load(seq, 0) !== seen, waitMs, 0);
  }
}

interface Result { mode: Mode; roundTripUs: number; notifyUs: number; cpuUs: number }

async function run(mode: Mode, roundTrips: number): Promise<Result> {
  const job: Job = { mode, seq: new SharedArrayBuffer(8), toWorker: createDoorbell(),
    toMain: createDoorbell() };
  const seq = new Int32Array(job.seq);
  const inbox = new Doorbell(job.toMain);
  const outbox = new Doorbell(job.toWorker);
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  await new Promise((resolve) => worker.once('message', resolve));
  const warm = Math.min(1000, roundTrips);
  let notifyMs = 0;
  let t0 = 0;
  let c0 = process.cpuUsage();
  for (let s = 1; s <= roundTrips + warm; s++) {
    if (s === warm + 1) { notifyMs = 0; t0 = performance.now(); c0 = process.cpuUsage(); }
    Atomics.store(seq, 0, s);
    const a = performance.now();
    if (mode === 'doorbell') outbox.ring();
    else if (mode === 'sync') Atomics.notify(seq, 0);
    notifyMs += performance.now() - a;
    const answered = (): boolean => Atomics.load(seq, 1) === s;
    while (!answered()) await inbox.wait(answered, waitMs, 0);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  Atomics.store(seq, 0, STOP);
  outbox.ring();
  Atomics.notify(seq, 0);
  await new Promise((resolve) => worker.once('exit', resolve));
  return { mode, roundTripUs: 1000 * wallMs / roundTrips, notifyUs: 1000 * notifyMs / roundTrips,
    cpuUs: (cpu.user + cpu.system) / roundTrips };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    'round-trips': { type: 'string', default: '20000' },
    'runs': { type: 'string', default: '3' },
    'modes': { type: 'string', default: modes.join(',') },
  } });
  const roundTrips = Number(values['round-trips']);
  const runs = Number(values.runs);
  const chosen = values.modes.split(',') as Mode[];
  for (const m of chosen) if (!modes.includes(m)) throw new Error(`unknown mode ${m}`);
  if (!(roundTrips > 0) || !(runs > 0)) throw new Error('--round-trips and --runs must be > 0');
  const results: Result[] = [];
  console.log(`wake benchmark, node ${process.version}, ${availableParallelism()} cores, ` +
    `${roundTrips} round trips per run`);
  console.log('mode       round trip us  notify us  process CPU us');
  for (let r = 0; r < runs; r++) {
    for (const mode of chosen) {
      const res = await run(mode, roundTrips);
      results.push(res);
      console.log(`${mode.padEnd(10)} ${res.roundTripUs.toFixed(1).padStart(13)} ` +
        `${res.notifyUs.toFixed(2).padStart(10)} ${res.cpuUs.toFixed(1).padStart(15)}`);
    }
  }
  console.log(JSON.stringify({ bench: 'wake', node: process.version,
    cores: availableParallelism(), roundTrips, results }));
}

if (isMainThread) {
  main().catch((e: unknown) => { console.error(e); process.exit(1); });
} else {
  workerSide(workerData as Job).then(() => process.exit(0),
    (e: unknown) => { console.error(e); process.exit(1); });
}
