// Test support for the checker tests: hand-made ops and a generator of linearizable register
// histories (a simulated register with random real-time overlaps, info and fail ops).
import type {
  BankBalances, BankOp, DurabilityOp, LockOp, Op, Outcome, RegisterOp, SequencerOp,
} from '../history.js';

/** mulberry32: a small seeded PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One op; `at` is [invokeMs, completeMs] (completeMs null: no answer). */
export function op<F extends string, V, R>(
  process: number, f: F, key: string, value: V, at: readonly [number, number | null],
  outcome: Outcome, result: R | null, node = 1,
): Op<F, V, R> {
  return { process, f, key, value, invokeMs: at[0], completeMs: at[1], outcome, result, node };
}

export const reg = {
  read: (p: number, at: readonly [number, number | null], result: string | null, key = 'k',
    outcome: Outcome = 'ok'): RegisterOp => op(p, 'read', key, null, at, outcome, result),
  write: (p: number, at: readonly [number, number | null], value: string, key = 'k',
    outcome: Outcome = 'ok'): RegisterOp => op(p, 'write', key, value, at, outcome, null),
  cas: (p: number, at: readonly [number, number | null], expected: string, next: string,
    result: boolean | null, key = 'k', outcome: Outcome = 'ok'): RegisterOp =>
    op(p, 'cas', key, [expected, next] as const, at, outcome, result),
};

export interface RegisterGenOptions {
  readonly ops: number;
  readonly keys: number;
  readonly processes: number;
  /** Fraction of ops whose outcome is 'info' (about half of them take effect, some late). */
  readonly infoRate: number;
  /** Fraction of 'fail' ops (never take effect; their results are junk). */
  readonly failRate: number;
  /** 'unique': every write a fresh value; a number: values drawn from '0'..'n-1'. */
  readonly values: 'unique' | number;
}

/** A linearizable history: every op that takes effect does so at one instant inside its
 *  interval (info ops: any time after invocation, possibly after the client gave up). */
export function linearizableHistory(seed: number, o: RegisterGenOptions): RegisterOp[] {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const clock = new Array<number>(o.processes).fill(0).map(() => rand() * 5);
  const written = new Map<string, string[]>();
  let fresh = 0;
  const value = (): string => (o.values === 'unique' ? `v${fresh++}` : String(Math.floor(rand() * o.values)));
  interface Planned { op: RegisterOp; effectAt: number | null }
  const planned: Planned[] = [];
  for (let n = 0; n < o.ops; n++) {
    let p = 0;
    for (let q = 1; q < o.processes; q++) if (clock[q]! < clock[p]!) p = q;
    const key = `k${Math.floor(rand() * o.keys)}`;
    const invokeMs = clock[p]!;
    const latency = 0.2 + rand() * rand() * 20;
    const roll = rand();
    const outcome: Outcome = roll < o.infoRate ? 'info' : roll < o.infoRate + o.failRate ? 'fail' : 'ok';
    const completeMs = outcome === 'info' ? (rand() < 0.5 ? null : invokeMs + 25 + rand() * 10)
      : invokeMs + latency;
    let effectAt: number | null = invokeMs + rand() * latency;
    if (outcome === 'fail' || (outcome === 'info' && rand() < 0.5)) effectAt = null;
    else if (outcome === 'info') effectAt = invokeMs + rand() * 100; // perhaps after the timeout
    const f = pick(['read', 'read', 'write', 'cas'] as const);
    const seen = written.get(key) ?? [];
    let op: RegisterOp;
    if (f === 'read') op = reg.read(p, [invokeMs, completeMs], null, key, outcome);
    else if (f === 'write') {
      const v = value();
      written.set(key, [...seen.slice(-3), v]);
      op = reg.write(p, [invokeMs, completeMs], v, key, outcome);
    } else {
      const expected = seen.length > 0 && rand() < 0.8 ? pick(seen) : value();
      const v = value();
      written.set(key, [...seen.slice(-3), v]);
      op = reg.cas(p, [invokeMs, completeMs], expected, v, null, key, outcome);
    }
    planned.push({ op, effectAt });
    // A process that timed out moves on at once; otherwise it thinks a little.
    clock[p] = (completeMs ?? invokeMs + 30) + rand() * 2;
  }
  // Apply the effects in time order to compute the results.
  const state = new Map<string, string>();
  for (const { op } of [...planned].filter((x) => x.effectAt !== null)
    .sort((a, b) => a.effectAt! - b.effectAt!)) {
    const current = state.get(op.key) ?? null;
    const mutable = op as { result: unknown };
    if (op.f === 'read') mutable.result = op.outcome === 'ok' ? current : null;
    else if (op.f === 'write') state.set(op.key, op.value);
    else {
      const swapped = current === op.value[0];
      if (swapped) state.set(op.key, op.value[1]);
      mutable.result = op.outcome === 'ok' ? swapped : null;
    }
  }
  for (const { op } of planned) {
    if (op.outcome === 'fail') (op as { result: unknown }).result = op.f === 'cas' ? true : op.f === 'read' ? 'junk' : null;
  }
  return planned.map((x) => x.op);
}

/** Brute force, for tiny histories: some subset of the info ops took effect, and some order of
 *  those and the ok ops that respects real time (a before b when a completed before b was
 *  invoked) gives every ok op its result. */
export function bruteForceLinearizable(history: readonly RegisterOp[]): boolean {
  const byKey = new Map<string, RegisterOp[]>();
  for (const o of history) if (o.outcome !== 'fail') byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
  return [...byKey.values()].every((ops) => {
    const known = (o: RegisterOp): boolean => o.outcome === 'ok' && o.completeMs !== null;
    const okOps = ops.filter(known);
    const infoOps = ops.filter((o) => !known(o) && o.f !== 'read');
    const end = (o: RegisterOp): number => (known(o) ? o.completeMs! : Infinity);
    for (let mask = 0; mask < 1 << infoOps.length; mask++) {
      const chosen = [...okOps, ...infoOps.filter((_, i) => (mask >> i) & 1)];
      const used = new Array<boolean>(chosen.length).fill(false);
      const extend = (depth: number, state: string | null): boolean => {
        if (depth === chosen.length) return true;
        for (let i = 0; i < chosen.length; i++) {
          if (used[i]) continue;
          const o = chosen[i]!;
          // Every op that must precede o is already placed.
          if (chosen.some((x, j) => !used[j] && j !== i && end(x) < o.invokeMs)) continue;
          let next = state;
          if (o.f === 'read') {
            if (o.result !== state) continue;
          } else if (o.f === 'write') next = o.value;
          else {
            const match = state === o.value[0];
            if (known(o) && o.result !== match) continue;
            if (match) next = o.value[1];
          }
          used[i] = true;
          if (extend(depth + 1, next)) return true;
          used[i] = false;
        }
        return false;
      };
      if (extend(0, null)) return true;
    }
    return false;
  });
}

/** A tiny random register history on one key, about as often linearizable as not. */
export function tinyHistory(rand: () => number, size: number, values = 3, infoRate = 0.15): RegisterOp[] {
  const vals = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].slice(0, values);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const ops: RegisterOp[] = [];
  for (let n = 0; n < size; n++) {
    const inv = Math.floor(rand() * 10);
    const done = rand() < 0.2 ? null : inv + Math.floor(rand() * 5);
    const roll = rand();
    const outcome: Outcome = done === null || roll < infoRate ? 'info' : roll < infoRate + 0.07 ? 'fail' : 'ok';
    const f = pick(['read', 'write', 'cas'] as const);
    if (f === 'read') ops.push(reg.read(n, [inv, done], rand() < 0.2 ? null : pick(vals), 'k', outcome));
    else if (f === 'write') ops.push(reg.write(n, [inv, done], pick(vals), 'k', outcome));
    else ops.push(reg.cas(n, [inv, done], pick(vals), pick(vals), rand() < 0.5, 'k', outcome));
  }
  return ops;
}

/** A plain Wing & Gong / Lowe search (no reductions, exact memo), per key: the reference the
 *  real checker is compared with on histories too long for brute force. */
export function referenceLinearizable(history: readonly RegisterOp[]): boolean {
  const byKey = new Map<string, RegisterOp[]>();
  for (const o of history) if (o.outcome !== 'fail') byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
  return [...byKey.values()].every((all) => {
    const known = (o: RegisterOp): boolean => o.outcome === 'ok' && o.completeMs !== null;
    const ops = all.filter((o) => known(o) || o.f !== 'read');
    interface Entry { op: number; call: boolean; time: number }
    const entries: Entry[] = ops.flatMap((o, i) => [
      { op: i, call: true, time: o.invokeMs },
      { op: i, call: false, time: known(o) ? o.completeMs! : Infinity },
    ]);
    entries.sort((a, b) => a.time - b.time || Number(b.call) - Number(a.call) || a.op - b.op);
    const done = new Array<boolean>(ops.length).fill(false);
    const seen = new Set<string>();
    const go = (state: string | null): boolean => {
      const first = entries.findIndex((e) => !done[e.op]);
      if (first < 0) return true;
      for (let k = first; k < entries.length; k++) {
        const e = entries[k]!;
        if (done[e.op]) continue;
        if (!e.call) return false;
        const o = ops[e.op]!;
        let next = state;
        if (o.f === 'read') {
          if (o.result !== state) continue;
        } else if (o.f === 'write') next = o.value;
        else {
          const match = state === o.value[0];
          if (known(o) && o.result !== match) continue;
          if (match) next = o.value[1];
        }
        done[e.op] = true;
        const key = `${done.map((d) => (d ? 1 : 0)).join('')}|${next}`;
        if (!seen.has(key)) {
          seen.add(key);
          if (go(next)) return true;
        }
        done[e.op] = false;
      }
      return false;
    };
    return go(null);
  });
}

export const lock = {
  acquire: (p: number, at: readonly [number, number | null], owner: string, token: number | null,
    outcome: Outcome = 'ok', leaseMs = 1000, key = 'r'): LockOp =>
    op(p, 'acquire', key, { owner, leaseMs }, at, outcome, token === null ? null : { token }),
  extend: (p: number, at: readonly [number, number | null], owner: string, token: number | null,
    outcome: Outcome = 'ok', leaseMs = 1000, key = 'r'): LockOp =>
    op(p, 'extend', key, { owner, leaseMs }, at, outcome, token === null ? null : { token }),
  release: (p: number, at: readonly [number, number | null], owner: string, outcome: Outcome = 'ok',
    key = 'r'): LockOp => op(p, 'release', key, { owner }, at, outcome, null),
  fenced: (p: number, at: readonly [number, number | null], owner: string, token: number,
    accepted: boolean | null, outcome: Outcome = 'ok', key = 'r'): LockOp =>
    op(p, 'fencedWrite', key, { owner, token, data: `${owner}@${at[0]}` }, at, outcome,
      accepted === null ? null : { accepted }),
};

export const seq = {
  reserve: (p: number, at: readonly [number, number | null], count: number,
    got: readonly [number, number] | null, idempotencyKey: string | null = null,
    outcome: Outcome = 'ok', key = 's'): SequencerOp =>
    op(p, 'reserve', key, { count, idempotencyKey }, at, outcome,
      got === null ? null : { start: got[0], end: got[1] }),
};

export const dur = {
  write: (p: number, at: readonly [number, number | null], key: string, data: string,
    outcome: Outcome = 'ok'): DurabilityOp => op(p, 'write', key, data, at, outcome, null),
  final: (p: number, at: readonly [number, number | null], key: string, data: string | null,
    outcome: Outcome = 'ok'): DurabilityOp => op(p, 'final', key, null, at, outcome, data),
};

export const bank = {
  init: (balances: BankBalances, at = 0): BankOp =>
    op(-1, 'init', 'bank', balances, [at, at], 'ok', null, 0),
  transfer: (p: number, at: readonly [number, number | null], from: string, to: string,
    amount: number, applied: boolean | null, outcome: Outcome = 'ok'): BankOp =>
    op(p, 'transfer', 'bank', { from, to, amount }, at, outcome,
      applied === null ? null : { applied }),
  read: (p: number, at: readonly [number, number | null], balances: BankBalances | null,
    outcome: Outcome = 'ok', f: 'read' | 'final' = 'read'): BankOp =>
    op(p, f, 'bank', { locking: 'pessimistic' as const }, at, outcome, balances),
  final: (p: number, at: readonly [number, number | null], balances: BankBalances | null,
    outcome: Outcome = 'ok'): BankOp => bank.read(p, at, balances, outcome, 'final'),
};
