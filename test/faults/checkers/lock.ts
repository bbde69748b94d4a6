// The lock checker of issue 7, per resource:
//   mutual exclusion  no two owners certainly hold the lease at the same time. An ok acquire's
//                     lease is certainly valid from the acquire's completion until its
//                     invoke + leaseMs − clockSlackMs (the server may have started the lease as
//                     early as the invocation, and clocks drift). An ok extend by the owner
//                     replaces the end with its own invoke + leaseMs − slack (it may have taken
//                     effect as early as its invocation); if the lease had perhaps lapsed by its
//                     invocation, the owner certainly held the lock again from the extend's
//                     completion to that end. An ok or info release ends the lease at the
//                     release's invocation; an info extend caps it at its invoke + leaseMs −
//                     slack (had it applied, the lease would run that long at least). Failed ops
//                     change nothing.
//   fencing tokens    no two ok acquires got the same token, and an acquire invoked after
//                     another completed got a higher token (the order they took effect).
//   fenced resource   a fenced write accepted with token t invoked after another accepted
//                     with a higher token had completed is a violation: the resource accepted a
//                     lower token than one it had already accepted.
// Everything is judged on what certainly happened, so unknown ('info') ops only ever shorten
// leases and never count as acquires or accepted writes.
import type { LockOp, Op, Verdict } from '../history.js';
import { byKey, describeOp, isOk, ms, verdict, windowOf } from './format.js';

export interface LockCheckOptions {
  /** How far the client's clock and the server's may drift apart over a lease. */
  readonly clockSlackMs: number;
}

type Acquire = Extract<LockOp, { f: 'acquire' }>;
type OwnerOp = Exclude<LockOp, { f: 'fencedWrite' }>;

/** A stretch of time the owner certainly held the lock, under one ok acquire. */
interface Lease {
  readonly acquire: Acquire;
  readonly owner: string;
  readonly token: number | null;
  readonly start: number;
  end: number;
  /** The ops that made it: the acquire, extends, a release. */
  readonly ops: LockOp[];
}

interface Problem {
  readonly at: number;
  readonly text: string;
  readonly ops: readonly Op[];
}

function tokenOf(op: LockOp): number | null {
  const r = op.result as { token?: unknown } | null;
  return r !== null && typeof r.token === 'number' ? r.token : null;
}

/** The stretches of time each ok acquire's owner certainly held the lock (possibly empty:
 *  end <= start). */
function leases(ops: readonly LockOp[], slack: number): Lease[] {
  const byOwner = new Map<string, OwnerOp[]>();
  for (const op of ops) {
    if (op.f === 'fencedWrite') continue;
    const owner = op.value.owner;
    let list = byOwner.get(owner);
    if (list === undefined) byOwner.set(owner, (list = []));
    list.push(op);
  }
  const out: Lease[] = [];
  for (const [owner, list] of byOwner) {
    const sorted = [...list].sort((a, b) => a.invokeMs - b.invokeMs);
    sorted.forEach((op, i) => {
      if (op.f !== 'acquire' || !isOk(op)) return;
      const token = tokenOf(op);
      let lease: Lease = {
        acquire: op, owner, token, start: op.completeMs!, end: op.invokeMs + op.value.leaseMs - slack, ops: [op],
      };
      out.push(lease);
      // The owner's later ops, up to its next ok acquire.
      for (const later of sorted.slice(i + 1)) {
        if (later.f === 'acquire' && isOk(later)) break;
        if (later.outcome === 'fail' || later.f === 'acquire') continue;
        if (later.f === 'release') {
          // Released at some time after its invocation (or, if info, perhaps).
          if (later.invokeMs < lease.end) lease.end = later.invokeMs;
          lease.ops.push(later);
          break;
        }
        const extended = later.invokeMs + later.value.leaseMs - slack;
        if (!isOk(later)) {
          // Had it applied, the lease would run until at least `extended`.
          if (extended < lease.end) {
            lease.end = extended;
            lease.ops.push(later);
          }
        } else if (later.invokeMs <= lease.end) {
          // Held until it took effect, then leaseMs from then.
          lease.end = extended;
          lease.ops.push(later);
        } else {
          // The lease may have lapsed before; the server still said it was this owner's.
          lease = { acquire: op, owner, token, start: later.completeMs!, end: extended, ops: [op, later] };
          out.push(lease);
        }
      }
    });
  }
  return out;
}

function who(op: LockOp): string {
  return `${JSON.stringify(op.value.owner)} (process ${op.process})`;
}

function holder(lease: Lease): string {
  return `${JSON.stringify(lease.owner)} (process ${lease.acquire.process}, token ${lease.token})`;
}

function checkResource(resource: string, ops: readonly LockOp[], slack: number): Problem[] {
  const problems: Problem[] = [];
  const r = JSON.stringify(resource);

  // Mutual exclusion: sweep the certain leases by start.
  const held = leases(ops, slack).filter((l) => l.end > l.start).sort((a, b) => a.start - b.start);
  let active: Lease[] = [];
  for (const lease of held) {
    active = active.filter((a) => a.end > lease.start);
    for (const other of active) {
      if (other.owner === lease.owner) continue;
      const until = Math.min(other.end, lease.end);
      problems.push({
        at: lease.start,
        text: `resource ${r}: mutual exclusion: ${holder(other)} and ${holder(lease)} both ` +
          `certainly held the lease during ` +
          `${ms(lease.start)}–${ms(until)}: ${describeOp(other.acquire)}; ${describeOp(lease.acquire)}`,
        ops: [...other.ops, ...lease.ops],
      });
    }
    active.push(lease);
  }

  // Fencing tokens of ok acquires.
  const acquires = ops.filter((op): op is Acquire => op.f === 'acquire' && isOk(op) && tokenOf(op) !== null);
  const byToken = new Map<number, Acquire>();
  for (const a of [...acquires].sort((x, y) => x.completeMs! - y.completeMs!)) {
    const t = tokenOf(a)!;
    const first = byToken.get(t);
    if (first === undefined) byToken.set(t, a);
    else {
      problems.push({
        at: a.completeMs!,
        text: `resource ${r}: fencing token ${t} handed out twice: to ${who(first)} and ${who(a)}: ` +
          `${describeOp(first)}; ${describeOp(a)}`,
        ops: [first, a],
      });
    }
  }
  problems.push(...realTimeOrder(acquires, tokenOf, (earlier, later) =>
    `resource ${r}: fencing token went down: ${who(later)} got token ${tokenOf(later)} at ` +
    `${ms(later.completeMs)}, invoked after ${who(earlier)} got token ${tokenOf(earlier)} ` +
    `(completed ${ms(earlier.completeMs)}): ${describeOp(earlier)}; ${describeOp(later)}`));

  // The fenced resource: accepted writes, by the token they carried.
  const accepted = ops.filter((op) => op.f === 'fencedWrite' && isOk(op) &&
    (op.result as { accepted?: unknown } | null)?.accepted === true);
  const fencedToken = (op: LockOp): number => (op.f === 'fencedWrite' ? op.value.token : NaN);
  problems.push(...realTimeOrder(accepted, fencedToken, (earlier, later) =>
    `resource ${r}: fenced resource accepted token ${fencedToken(later)} from ${who(later)} ` +
    `at ${ms(later.completeMs)} after it had accepted token ${fencedToken(earlier)} from ` +
    `${who(earlier)} (completed ${ms(earlier.completeMs)}): ${describeOp(earlier)}; ${describeOp(later)}`));
  return problems;
}

/** Pairs (a, b) with a completed before b was invoked but value(a) > value(b), each b reported
 *  once against the highest earlier value. */
function realTimeOrder<T extends LockOp>(ops: readonly T[], value: (op: T) => number | null,
  describe: (earlier: T, later: T) => string): Problem[] {
  const byComplete = [...ops].sort((a, b) => a.completeMs! - b.completeMs!);
  const byInvoke = [...ops].sort((a, b) => a.invokeMs - b.invokeMs);
  const problems: Problem[] = [];
  let k = 0;
  let max: T | null = null;
  for (const later of byInvoke) {
    while (k < byComplete.length && byComplete[k]!.completeMs! < later.invokeMs) {
      const c = byComplete[k++]!;
      if (max === null || value(c)! > value(max)!) max = c;
    }
    if (max !== null && value(max)! > value(later)!) {
      problems.push({ at: later.completeMs!, text: describe(max, later), ops: [max, later] });
    }
  }
  return problems;
}

/** Checks lock safety on every resource of the history. */
export function checkLock(history: readonly LockOp[], opts: LockCheckOptions): Verdict {
  const problems: Problem[] = [];
  for (const [resource, ops] of byKey(history)) problems.push(...checkResource(resource, ops, opts.clockSlackMs));
  problems.sort((a, b) => a.at - b.at);
  return verdict('lock', problems.map((p) => p.text), windowOf(problems[0]?.ops ?? []));
}
