// A partition "worker" on the main thread (--workers 0): the same host as a partition worker
// thread (workers/partition-host.ts) and the same writer ring, but no thread, and no ring between
// main and host: requests, replies and Raft batches pass as plain values. On a node
// with few cores this saves the two thread wake-ups of every request (main -> worker ->
// main), which cost more than the request's own work there (docs/ARCHITECTURE.md, "Partitions
// on the main thread"). It looks to the supervisor like a worker_threads Worker: the events
// 'message', 'error' and 'exit' (delivered on a later turn, as a thread's would be),
// postMessage for the control path, and terminate().
import { EventEmitter } from 'node:events';
import type { PartitionEvent, PartitionWorkerData } from '../ipc/partition-protocol.js';
import {
  startPartitionHost, type HostOutbox, type PartitionHost,
} from '../../workers/partition-host.js';

export class InlineWorker extends EventEmitter {
  private readonly host: PartitionHost;
  private exitCode: number | null = null;
  /** Like Worker.threadId: -1 once it has exited. */
  threadId = 0;

  /** `data.mainDoorbell` and the doorbell of the supervisor's producer to this host should be
   *  ones nobody waits on: the two sides call each other instead (poke, onPublished, outbox). */
  constructor(data: PartitionWorkerData, onPublished: () => void, outbox: HostOutbox) {
    super();
    this.host = startPartitionHost(data, {
      post: (event: PartitionEvent) => setImmediate(() => this.emit('message', event)),
      exit: (code: number) => this.exited(code),
      published: onPublished,
      outbox,
    });
  }

  /** One client request, handled in the next round (poke); answered through outbox.reply. */
  request(id: number, partition: number, op: number, payload: Uint8Array): void {
    this.host.request(id, partition, op, payload);
  }

  /** Bytes handed over and not yet handled. */
  queuedBytes(): number {
    return this.host.queuedBytes();
  }

  /** A peer's Raft batch for this host (null: the peer is unreachable), in the next round. */
  raft(peer: number, batch: Uint8Array | null): void {
    this.host.raft(peer, batch);
  }

  /** The supervisor published requests to this host: run a round now. */
  poke(): void {
    this.host.poke();
  }

  /** The control path (only {type: 'shutdown'} is defined). */
  postMessage(msg: unknown): void {
    if (typeof msg === 'object' && msg !== null &&
      (msg as { type?: unknown }).type === 'shutdown') {
      this.host.shutdown();
    }
  }

  /** Stops the host at once; resolves with the exit code (1, as a terminated thread's). */
  terminate(): Promise<number> {
    if (this.exitCode !== null) return Promise.resolve(this.exitCode);
    this.host.terminate();
    this.exited(1);
    return Promise.resolve(1);
  }

  private exited(code: number): void {
    if (this.exitCode !== null) return;
    this.exitCode = code;
    setImmediate(() => {
      this.threadId = -1;
      this.emit('exit', code);
    });
  }
}
