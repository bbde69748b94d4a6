// ReadIndex bookkeeping (thesis 6.4, etcd read_only.go): a read is served at the commit index
// the leader had when it arrived, once a quorum acknowledged a heartbeat carrying its context
// (so the leader was still the leader after the read arrived).
import { assert } from '../../assert.js';
import type { Message, NodeId } from './types.js';

export interface ReadIndexStatus {
  /** The ReadIndex message (its `from` is who asked; its context identifies it). */
  readonly req: Message;
  /** The commit index when the request arrived. */
  readonly index: number;
  /** The leader's tick count when the request arrived (lease renewal, thesis 6.4.1). */
  readonly tick: number;
  readonly acks: Map<NodeId, boolean>;
}

/** Contexts are compared as byte strings. */
export function contextKey(context: Uint8Array): string {
  let s = '';
  for (let i = 0; i < context.length; i++) s += String.fromCharCode(context[i]!);
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly pendingMax: number) {
    assert(pendingMax >= 1, 'readOnly pendingMax must be >= 1');
  }

  get size(): number {
    return this.queue.length;
  }

  /** False when the request is a duplicate or too many are pending (the read is dropped; the
   *  caller times it out). */
  addRequest(index: number, req: Message, tick: number): boolean {
    assert(req.context !== null && req.context.length > 0, 'ReadIndex needs a context');
    const key = contextKey(req.context);
    if (this.pending.has(key) || this.queue.length >= this.pendingMax) return false;
    this.pending.set(key, { req, index, tick, acks: new Map() });
    this.queue.push(key);
    return true;
  }

  /** Records an ack from `id` for the request with `context`; returns its acks, or undefined
   *  when no such request is pending. */
  recvAck(id: NodeId, context: Uint8Array): ReadonlyMap<NodeId, boolean> | undefined {
    const status = this.pending.get(contextKey(context));
    if (status === undefined) return undefined;
    status.acks.set(id, true);
    return status.acks;
  }

  /** The request with `context` is confirmed by a quorum: it and every request queued before
   *  it are released, in order. */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of released) {
      const status = this.pending.get(k);
      assert(status !== undefined, 'readOnly queue and map disagree');
      this.pending.delete(k);
      out.push(status);
    }
    return out;
  }

  lastPendingContext(): Uint8Array | null {
    const key = this.queue[this.queue.length - 1];
    if (key === undefined) return null;
    return this.pending.get(key)!.req.context;
  }
}
