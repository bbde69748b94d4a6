// A discrete-event queue: a binary min-heap ordered by (time, sequence). Events at the same time
// run in the order they were scheduled, so a seed replays exactly.
import { assert } from '../../src/assert.js';

interface Slot<T> {
  readonly time: number;
  readonly seq: number;
  readonly event: T;
}

export class EventQueue<T> {
  private readonly heap: Slot<T>[] = [];
  private seq = 0;
  private nowTime = 0;

  get now(): number {
    return this.nowTime;
  }

  get size(): number {
    return this.heap.length;
  }

  schedule(time: number, event: T): void {
    assert(Number.isFinite(time), 'event time must be finite');
    assert(time >= this.nowTime, 'events cannot be scheduled in the past');
    this.heap.push({ time, seq: this.seq++, event });
    this.up(this.heap.length - 1);
  }

  after(delay: number, event: T): void {
    assert(delay >= 0, 'delays are non-negative');
    this.schedule(this.nowTime + delay, event);
  }

  /** Removes the earliest event and advances the clock to it; undefined when empty. */
  pop(): T | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop();
    assert(last !== undefined, 'heap lost its last slot');
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    assert(top.time >= this.nowTime, 'time never goes backwards');
    this.nowTime = top.time;
    return top.event;
  }

  peekTime(): number {
    return this.heap[0]?.time ?? Infinity;
  }

  private less(a: Slot<T>, b: Slot<T>): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const a = h[i] as Slot<T>;
      const p = h[parent] as Slot<T>;
      if (!this.less(a, p)) return;
      h[i] = p;
      h[parent] = a;
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as Slot<T>, h[m] as Slot<T>)) m = l;
      if (r < h.length && this.less(h[r] as Slot<T>, h[m] as Slot<T>)) m = r;
      if (m === i) return;
      const t = h[i] as Slot<T>;
      h[i] = h[m] as Slot<T>;
      h[m] = t;
      i = m;
    }
  }
}
