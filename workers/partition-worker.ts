// Partition worker thread: the entry point only. The glue (rings, PartitionCore, the loop and
// the Raft tick) is workers/partition-host.ts, which --workers 0 runs on the main thread
// instead; here its control path is postMessage and its end is the thread's exit.
import { parentPort, workerData } from 'node:worker_threads';
import { assert } from '../src/assert.js';
import type { PartitionWorkerData } from '../src/ipc/partition-protocol.js';
import { startPartitionHost } from './partition-host.js';

assert(parentPort !== null, 'partition-worker runs as a worker thread');
const port = parentPort;
const host = startPartitionHost(workerData as PartitionWorkerData, {
  post: (event) => port.postMessage(event),
  exit: (code) => process.exit(code),
});
port.on('message', (msg: unknown) => {
  if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'shutdown') {
    host.shutdown();
  }
});
