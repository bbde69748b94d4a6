// The register checker of issue 7: linearizability of get, set and compare-and-set, one
// independent register per key (absent, null, until written), in the style of Porcupine.
//
// Algorithm: Wing & Gong's search with Lowe's just-in-time linearization and memoization, as
// Porcupine does it. The key's ok ops become call and return entries in a doubly linked list
// ordered by time (a call before a return at the same instant, so ops that touch are
// concurrent). From a configuration (ops linearized so far, register state) the candidates are
// the calls before the first return entry: an op whose return comes first must be linearized
// before any op invoked after that return. Linearizing a candidate needs the register model to
// accept it and the new configuration to be new to the memo; then its entries are lifted out of
// the list, it is pushed on a stack, and the walk restarts at the head. When every candidate
// fails, the last op is popped and put back and the walk goes on after it. All ok ops
// linearized: linearizable; popping an empty stack: not.
//
// Unknown outcomes: an 'info' op (or an 'ok' one without a completion time) may have taken effect
// at any point after its invocation, or never: its return is at +∞, its result unchecked. Such
// ops are not in the list: they are candidates (tried after the ok ones) at any configuration
// after their invocation, and never have to be linearized (dropping one is placing it after
// everything, where it changes nothing anyone saw). 'fail' ops never happened and are left out;
// so are info reads. What keeps many pending info ops from making the search exponential:
//  - dead values: a value no remaining op can tell apart (no ok read still to linearize returned
//    it, no cas still to linearize expects it) behaves exactly like any other such value, so as
//    a state it is OTHER (values nobody ever observes are OTHER from the start);
//  - an info op is only linearized where it changes the state, and one that leaves a dead value
//    only where an ok cas can then fail because of it (else dropping it is as good);
//  - info ops with the same effect are interchangeable and the earlier-invoked one can always
//    take the later one's place, so each such class is linearized in invocation order;
//  - the memo: configurations are keyed by a 53-bit hash of (ok ops linearized, state), two
//    32-bit Zobrist hashes kept incrementally and mixed with the state; under a key it keeps the
//    info ops linearized, and a configuration is pruned when a fully explored (so failed) one had
//    a subset of its info ops linearized: that one had every option this one has. Spent writes
//    (info writes whose value no ok op still to linearize observes and no info cas expects) are
//    all alike, so they are only counted: the explored one must have had at most as many.
// Answers are exact but for a hash collision between two (ok set, state) pairs of one key, which
// could only prune a branch (odds about configurations / 2^53).
//
// The search is bounded by a step budget per key; past it the key is reported, not hung on. On
// failure the window is the shortest prefix by time of the key's ops that is already not
// linearizable, found by bisection, as Porcupine reports it. A prefix up to time T holds the ops
// invoked by T (so it is a prefix of the ops sorted by invocation); those still running at T are
// unknown there, as they were to an observer at T. Cut that way, prefixes are monotone (a
// linearization of a longer one, with the later-invoked ops dropped, is one of a shorter one), so
// bisecting over the completion times finds the exact first T, and the ops that completed at T
// are the ones no order can explain. ('fail' ops are not in the window.)
import type { RegisterOp, Verdict } from '../history.js';
import { byKey, describeOp, isOk, ms, verdict } from './format.js';

export interface RegisterCheckOptions {
  /** Search steps allowed per key, for the whole history and again for each bisection step of
   *  the window (a step tries one op from one configuration, backtracks once, or compares with
   *  one memo entry; a few million a second). Default 5,000,000. */
  readonly maxStatesPerKey?: number;
}

const defaultBudget = 5_000_000;

const READ = 0;
const WRITE = 1;
const CAS = 2;
/** Interned states: the register was never written. */
const NULL = 0;
/** Interned states: some value no op can observe. */
const OTHER = 1;

/** One key's relevant ops, sorted by invocation, in struct-of-arrays form. */
interface Prepared {
  readonly ops: readonly RegisterOp[];
  readonly kind: Uint8Array;
  /** write: the value; cas: the expected value. */
  readonly a1: Int32Array;
  /** cas: the new value. */
  readonly a2: Int32Array;
  /** ok read: the value read; ok cas: 1 if it set, 0 if not. */
  readonly res: Int32Array;
  readonly info: Uint8Array;
  /** Info ops: the class of interchangeable ops and the rank within it; -1 for ok ops. */
  readonly cls: Int32Array;
  readonly rank: Int32Array;
  /** Each class's ops by rank (invocation order). */
  readonly members: readonly Int32Array[];
  /** The classes of info writes, and of info cas by expected value: a cas is only worth
   *  linearizing where it sets. */
  readonly writeClasses: readonly number[];
  readonly casClasses: ReadonlyMap<number, readonly number[]>;
  readonly inv: Float64Array;
  readonly ret: Float64Array;
  readonly z1: Int32Array;
  readonly z2: Int32Array;
  /** The observable value (>= 2) op i tells apart from the others: an ok read's result, any
   *  cas's expected value; -1 if none. */
  readonly obs: Int32Array;
  /** Interned states: NULL, OTHER, then the observable values. */
  readonly values: number;
}

/** Deterministic 32-bit mixer (splitmix32 finalizer) for the Zobrist values. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/** The key's history as observed up to time `cut`: ops invoked after it are left out, and ops
 *  still running at it (completed after it) are unknown, like 'info' ones. */
function prepare(keyOps: readonly RegisterOp[], cut: number): Prepared {
  const known = (op: RegisterOp): boolean => isOk(op) && op.completeMs! <= cut;
  const relevant: Array<{ op: RegisterOp; i: number }> = [];
  keyOps.forEach((op, i) => {
    if (op.outcome === 'fail' || op.invokeMs > cut) return;
    if (op.f === 'read' && !known(op)) return; // an unknown read has no effect
    relevant.push({ op, i });
  });
  relevant.sort((a, b) => a.op.invokeMs - b.op.invokeMs || a.i - b.i);
  const ops = relevant.map((r) => r.op);
  const n = ops.length;

  // Observable values: what ok reads returned and what any cas expects.
  const ids = new Map<string, number>();
  const observe = (v: string): void => {
    if (!ids.has(v)) ids.set(v, ids.size + 2);
  };
  for (const op of ops) {
    if (op.f === 'read' && typeof op.result === 'string') observe(op.result); // known reads only
    if (op.f === 'cas') observe(op.value[0]);
  }
  const id = (v: string | null | undefined): number =>
    v === null || v === undefined ? NULL : (ids.get(v) ?? OTHER);

  const p = {
    ops,
    kind: new Uint8Array(n), a1: new Int32Array(n), a2: new Int32Array(n), res: new Int32Array(n),
    info: new Uint8Array(n), cls: new Int32Array(n).fill(-1), rank: new Int32Array(n),
    members: [] as Int32Array[], writeClasses: [] as number[], casClasses: new Map<number, number[]>(),
    inv: new Float64Array(n), ret: new Float64Array(n),
    z1: new Int32Array(n), z2: new Int32Array(n), obs: new Int32Array(n).fill(-1), values: ids.size + 2,
  };
  const classes = new Map<string, number>();
  const classOps: number[][] = [];
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    const unknown = !known(op);
    p.info[i] = unknown ? 1 : 0;
    p.inv[i] = op.invokeMs;
    p.ret[i] = unknown ? Infinity : Math.max(op.completeMs!, op.invokeMs);
    p.z1[i] = mix32(2 * i + 1);
    p.z2[i] = mix32(mix32(2 * i + 2) ^ 0x5bd1e995);
    switch (op.f) {
      case 'read':
        p.kind[i] = READ;
        p.res[i] = id(op.result);
        if (p.res[i]! >= 2) p.obs[i] = p.res[i]!;
        break;
      case 'write':
        p.kind[i] = WRITE;
        p.a1[i] = id(op.value);
        break;
      case 'cas':
        p.kind[i] = CAS;
        p.a1[i] = id(op.value[0]);
        p.a2[i] = id(op.value[1]);
        p.res[i] = op.result === true ? 1 : 0;
        p.obs[i] = p.a1[i]!;
        break;
    }
    if (unknown) {
      const effect = `${p.kind[i]}:${p.a1[i]}:${p.kind[i] === CAS ? p.a2[i] : 0}`;
      let c = classes.get(effect);
      if (c === undefined) {
        c = classes.size;
        classes.set(effect, c);
        classOps.push([]);
        if (p.kind[i] === WRITE) p.writeClasses.push(c);
        else {
          let list = p.casClasses.get(p.a1[i]!);
          if (list === undefined) p.casClasses.set(p.a1[i]!, (list = []));
          list.push(c);
        }
      }
      p.cls[i] = c;
      p.rank[i] = classOps[c]!.length;
      classOps[c]!.push(i);
    }
  }
  p.members = classOps.map((ops) => Int32Array.from(ops));
  return p;
}

/** The register model: the state after op i from state s, or -1 if op i cannot happen there. */
function step(p: Prepared, i: number, s: number): number {
  switch (p.kind[i]) {
    case READ:
      return s === p.res[i] ? s : -1;
    case WRITE:
      return p.a1[i]!;
    default: {
      const matches = s === p.a1[i];
      if (p.info[i] === 0 && (p.res[i] === 1) !== matches) return -1;
      return matches ? p.a2[i]! : s;
    }
  }
}

type SearchResult = 'linearizable' | 'not linearizable' | 'budget';

/** A configuration the search reached: the info ops linearized, under one (ok ops linearized,
 *  state) hash; `done` once fully explored (and so failed). */
interface Seen {
  /** The info ops linearized, but for spent writes (see below), which are only counted. */
  readonly info: Int32Array;
  readonly spent: number;
  done: boolean;
}

const noInfo = new Int32Array(0);
const none: readonly number[] = [];

/** Searches for a linearization of the prepared ops. */
function search(p: Prepared, budget: number): SearchResult {
  const n = p.ops.length;
  // The ok ops' entries: 2i is op i's call, 2i + 1 its return, in one list from node 2n, the
  // head. Info ops return at +∞: they are not in the list; the candidates among them are the
  // next member of each class, once invoked.
  const okOps: number[] = [];
  for (let i = 0; i < n; i++) if (p.info[i] === 0) okOps.push(i);
  let okLeft = okOps.length;
  if (okLeft === 0) return 'linearizable';
  const order = new Int32Array(2 * okLeft);
  okOps.forEach((i, k) => {
    order[2 * k] = 2 * i;
    order[2 * k + 1] = 2 * i + 1;
  });
  const time = (e: number): number => ((e & 1) === 0 ? p.inv[e >> 1]! : p.ret[e >> 1]!);
  order.sort((a, b) => time(a) - time(b) || (a & 1) - (b & 1) || (a >> 1) - (b >> 1));
  const head = 2 * n;
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  let last = head;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = -1;

  const lift = (i: number): void => {
    const c = 2 * i;
    const r = c + 1;
    next[prev[c]!] = next[c]!;
    prev[next[c]!] = prev[c]!; // a call always has its return after it
    next[prev[r]!] = next[r]!;
    if (next[r] !== -1) prev[next[r]!] = prev[r]!;
  };
  const unlift = (i: number): void => {
    const c = 2 * i;
    const r = c + 1;
    next[prev[r]!] = r;
    if (next[r] !== -1) prev[next[r]!] = r;
    next[prev[c]!] = c;
    prev[next[c]!] = c;
  };

  // How many ops not linearized yet tell each observable value apart from OTHER. A value none
  // does is dead: as a state it behaves exactly like OTHER from here on, so it becomes OTHER.
  const observers = new Int32Array(p.values);
  for (let i = 0; i < n; i++) if (p.obs[i]! >= 0) observers[p.obs[i]!]!++;
  const canonical = (s: number): number => (s >= 2 && observers[s] === 0 ? OTHER : s);
  // A spent write is an info write whose value no ok op left observes and no info cas expects
  // at all: whether it is spent depends on the ok ops linearized only, and any two spent writes
  // are as good as each other (each leaves a dead value). So what the memo keeps of them is how
  // many were linearized.
  const okObservers = new Int32Array(p.values);
  const casExpects = new Uint8Array(p.values);
  for (let i = 0; i < n; i++) {
    if (p.obs[i]! < 0) continue;
    if (p.info[i] === 0) okObservers[p.obs[i]!]!++;
    else casExpects[p.obs[i]!] = 1;
  }
  const spent = (j: number): boolean =>
    p.kind[j] === WRITE && okObservers[p.a1[j]!] === 0 && casExpects[p.a1[j]!] === 0;
  /** An ok cas that must fail from state s can be linearized now. */
  const casFailsHere = (s: number): boolean => {
    for (let e = next[head]!; (e & 1) === 0; e = next[e]!) {
      const i = e >> 1;
      if (p.kind[i] === CAS && p.res[i] === 0 && p.a1[i] === s) return true;
    }
    return false;
  };

  const memo = new Map<number, Seen[]>();
  const inI = new Uint8Array(n);
  const infoStack = new Int32Array(n);
  let infoDepth = 0;
  const stackOp = new Int32Array(n);
  const stackState = new Int32Array(n);
  const stackLimit = new Float64Array(n);
  const stackK = new Int32Array(n);
  const stackSeen: Seen[] = [];
  const classNext = new Int32Array(p.members.length);
  let depth = 0;
  let state = NULL;
  let h1 = 0;
  let h2 = 0;
  // Where the walk is: phase 0 tries the ok calls before the first return entry; phase 1 then
  // the info candidates (the k-th of the write classes, then of the cas classes expecting the
  // state) invoked by that return's time, `limit`. `casFails` caches casFailsHere(state).
  let phase = 0;
  let entry = next[head]!;
  let k = 0;
  let limit = 0;
  let casFails = -1;
  let steps = 0;
  for (;;) {
    if (okLeft === 0) return 'linearizable';
    if (++steps > budget) return 'budget';
    let i = -1;
    if (phase === 0) {
      if ((entry & 1) === 1) {
        phase = 1;
        limit = p.ret[entry >> 1]!;
        k = 0;
        casFails = -1;
        continue;
      }
      i = entry >> 1;
    } else {
      const writes = p.writeClasses;
      const cas = p.casClasses.get(state) ?? none;
      for (; k < writes.length + cas.length; k++) {
        const c = k < writes.length ? writes[k]! : cas[k - writes.length]!;
        const members = p.members[c]!;
        const m = classNext[c]!;
        if (m < members.length && p.inv[members[m]!]! <= limit) {
          i = members[m]!;
          break;
        }
      }
      if (i < 0) {
        // Every candidate of this configuration failed: backtrack.
        if (depth === 0) return 'not linearizable';
        depth--;
        i = stackOp[depth]!;
        stackSeen[depth]!.done = true;
        state = stackState[depth]!;
        if (p.obs[i]! >= 0) observers[p.obs[i]!]!++;
        if (p.info[i] === 0) {
          h1 ^= p.z1[i]!;
          h2 ^= p.z2[i]!;
          if (p.obs[i]! >= 0) okObservers[p.obs[i]!]!++;
          okLeft++;
          unlift(i);
          phase = 0;
          entry = next[2 * i]!;
        } else {
          inI[i] = 0;
          infoDepth--;
          classNext[p.cls[i]!]!--;
          phase = 1;
          k = stackK[depth]! + 1;
          limit = stackLimit[depth]!;
          casFails = -1;
        }
        continue;
      }
    }

    // Try to linearize op i now.
    const info = p.info[i] === 1;
    let s = step(p, i, state);
    if (s >= 0) {
      if (p.obs[i]! >= 0) observers[p.obs[i]!]!--;
      s = canonical(s);
      if (info) {
        // An info op that changes nothing might as well never have happened; one that leaves a
        // dead value only matters if an ok cas then fails because of it (else drop it too).
        if (s === state) s = -1;
        else if (s === OTHER) {
          if (casFails < 0) casFails = casFailsHere(state) ? 1 : 0;
          if (casFails === 0) s = -1;
        }
      }
      if (s < 0 && p.obs[i]! >= 0) observers[p.obs[i]!]!++;
    }
    if (s >= 0) {
      const g1 = info ? h1 : h1 ^ p.z1[i]!;
      const g2 = info ? h2 : h2 ^ p.z2[i]!;
      const lo = (g1 ^ Math.imul(s + 1, 0x9e3779b1)) >>> 0;
      const hi = (g2 ^ Math.imul(s + 1, 0x27d4eb2f)) & 0x1fffff;
      const key = hi * 4294967296 + lo;
      if (info) inI[i] = 1;
      let seenList = memo.get(key);
      let dominated = false;
      // The ok ops' observers as they will be once op i is linearized (spent() reads them).
      if (!info && p.obs[i]! >= 0) okObservers[p.obs[i]!]!--;
      let spentHere = info && spent(i) ? 1 : 0;
      for (let d = 0; d < infoDepth; d++) if (spent(infoStack[d]!)) spentHere++;
      if (seenList !== undefined) {
        // Pruned if a fully explored configuration with the same ok ops and state had at most
        // these info ops linearized (spent writes: at most as many): it had every option this
        // one has, and failed.
        for (const seen of seenList) {
          steps++;
          if (!seen.done || seen.spent > spentHere) continue;
          let subset = true;
          for (const j of seen.info) {
            if (inI[j] === 0) {
              subset = false;
              break;
            }
          }
          if (subset) {
            dominated = true;
            break;
          }
        }
      } else {
        memo.set(key, (seenList = []));
      }
      if (!dominated) {
        let kept = noInfo;
        if (infoDepth + (info ? 1 : 0) > spentHere) {
          kept = new Int32Array(infoDepth + (info ? 1 : 0) - spentHere);
          let c = 0;
          for (let d = 0; d < infoDepth; d++) if (!spent(infoStack[d]!)) kept[c++] = infoStack[d]!;
          if (info && !spent(i)) kept[c++] = i;
        }
        if (info) infoStack[infoDepth++] = i;
        const seen: Seen = { info: kept, spent: spentHere, done: false };
        steps += infoDepth >> 3;
        seenList.push(seen);
        stackOp[depth] = i;
        stackState[depth] = state;
        stackLimit[depth] = limit;
        stackK[depth] = k;
        stackSeen[depth] = seen;
        depth++;
        state = s;
        if (info) classNext[p.cls[i]!]!++;
        else {
          h1 = g1;
          h2 = g2;
          okLeft--;
          lift(i);
        }
        phase = 0;
        entry = next[head]!;
        continue;
      }
      if (info) inI[i] = 0;
      if (p.obs[i]! >= 0) observers[p.obs[i]!]!++;
      if (!info && p.obs[i]! >= 0) okObservers[p.obs[i]!]!++;
    }
    if (phase === 0) entry = next[entry]!;
    else k++;
  }
}

/** Checks that the register history is linearizable, key by key. */
export function checkRegister(history: readonly RegisterOp[], opts: RegisterCheckOptions = {}): Verdict {
  const budget = opts.maxStatesPerKey ?? defaultBudget;
  const problems: string[] = [];
  let window: readonly RegisterOp[] | null = null;
  for (const [key, keyOps] of byKey(history)) {
    const whole = prepare(keyOps, Infinity);
    const result = search(whole, budget);
    if (result === 'linearizable') continue;
    if (result === 'budget') {
      problems.push(`search budget exceeded on key ${JSON.stringify(key)} ` +
        `(${whole.ops.length} ops, ${budget} steps): linearizability unknown`);
      continue;
    }
    // The shortest failing observation: bisect over the times ok ops completed. Truncations are
    // monotone (a linearization of a longer one, cut, is one of a shorter one), so this finds the
    // first completion after which no linearization exists. cuts[lo] passes (or is unknown),
    // cuts[hi] fails.
    const cuts = [...new Set(keyOps.filter(isOk).map((op) => op.completeMs!))].sort((a, b) => a - b);
    let lo = -1;
    let hi = cuts.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (search(prepare(keyOps, cuts[mid]!), budget) === 'not linearizable') hi = mid;
      else lo = mid;
    }
    const cut = cuts[hi]!;
    const ops = keyOps.filter((op) => op.outcome !== 'fail' && op.invokeMs <= cut)
      .sort((a, b) => a.invokeMs - b.invokeMs);
    const culprits = ops.filter((op) => isOk(op) && op.completeMs === cut);
    problems.push(`key ${JSON.stringify(key)}: not linearizable: its ${ops.length} ops invoked by ` +
      `${ms(cut)} admit no linearization once ${culprits.map(describeOp).join(' and ')} completed`);
    window ??= ops;
  }
  return verdict('register', problems, window ?? []);
}
