// The workloads of the fault-injection runs (issue 7): logical client processes, each making
// one REST call at a time to a random node of a Cluster (test/helpers/cluster.ts) and recording
// every call in the history (test/faults/history.ts) with its invocation and completion times
// (the run's clock: performance.now() based, ms since the run started).
//
// Outcomes, as history.ts defines them:
//   - a definite answer: 'ok' (it happened; a CAS that did not match is 'ok' with false) or
//     'fail' (the server said it did not happen: a busy lock, an unknown owner);
//   - a connection refused (ECONNREFUSED: the node is down, nothing was sent): 'fail';
//   - a timeout, a dropped connection, a non-200 status, MustRetry, or an answer this workload
//     does not expect: 'info' (it may take effect at any time after the invocation);
//   - reads that got no answer are 'fail', not 'info': a read changes nothing, so dropping it is
//     exact, and it spares the linearizability search an unknown op.
//
// register   get / set / compare-and-set (Kahuna's SetIfEqualToValue flag, 16, with
//            compareValue) on a few keys; every written value is unique.
// lock       one persistent lock resource: acquire (a fresh owner per acquire, so Kahuna's
//            same-owner re-lock, which keeps the old lease, never happens), writes to the fenced
//            resource under the token (now and then after stalling past the lease), maybe an
//            extend, release. The fenced resource is a KV key holding {token, data} of the
//            highest accepted token, updated by CAS only when the new token is >= the stored one.
// sequencer  one sequence (initial 0, increment 1), reserve with random counts; some calls use
//            an idempotency key, some replay a recent key with its count. Honu answers the
//            allocation as inclusive [start, end] (src/core/state/sequences.ts nextRun); the
//            history holds [start, end + 1).
// durability unique keys written once each; after the full-cluster crash (the runner's job),
//            `final` reads one per key written (acknowledged or not), retried until a definite
//            answer.
// bank       (issue 8) accounts on different partitions with a fixed opening total (the 'init'
//            op); clients 1.. transfer random amounts between random accounts through random
//            nodes, each transfer one transaction script that refuses an overdraft; process 0
//            reads every account in ONE transaction script every few hundred ms, holding the
//            others' new transfers back for up to half a second meanwhile (a read locks every
//            account, so with transfers always in flight it would nearly always abort); after
//            the faults healed, a `final` read, retried until answered.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SeededPrng } from '../../src/core/raft/prng.js';
import { KvFlags, KvType, LockType, SeqType } from '../../src/core/api/codes.js';
import { PartitionMap } from '../../src/core/routing/placement.js';
import type { Cluster } from '../helpers/cluster.js';
import type { BankBalances, BankOp, Op, Outcome } from './history.js';

export const workloadNames = ['register', 'lock', 'sequencer', 'durability', 'bank'] as const;
export type WorkloadName = (typeof workloadNames)[number];

const durabilityPersistent = 1;

export interface WorkloadOptions {
  readonly cluster: Cluster;
  /** The workload's stream; every client forks its own from it. */
  readonly prng: SeededPrng;
  /** ms since the run started (performance.now() based). */
  readonly clock: () => number;
  /** Per-call timeout: no answer within it is 'info'. Default 3000. */
  readonly callTimeoutMs?: number;
  /** Logical client processes. Default 5. */
  readonly clients?: number;
  /** Lock leases (ms). Default 2000 (shorter than a paused node stays down). */
  readonly leaseMs?: number;
  /** Warnings (unexpected answers). */
  readonly log?: (line: string) => void;
}

export interface Workload {
  readonly name: WorkloadName;
  readonly history: Op[];
  /** Before the clock starts: e.g. create the sequence (retried until it exists). */
  setup(): Promise<void>;
  /** Starts every client; they run until stop(). */
  start(): void;
  /** Asks the clients to stop and waits for their current calls. */
  stop(): Promise<void>;
  /** After stop() (and the full-cluster crash): the durability workload's final reads. */
  finish(): Promise<void>;
  /** Answers the workload did not expect (a type it has no meaning for), for the report. */
  readonly unexpected: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Calls

type CallResult =
  | { readonly kind: 'reply'; readonly json: any }
  | { readonly kind: 'refused'; readonly message: string }
  | { readonly kind: 'unknown'; readonly message: string };

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | null | undefined): string | null =>
  s === null || s === undefined ? null : Buffer.from(s, 'base64').toString('utf8');

async function call(cluster: Cluster, node: number, path: string, body: unknown,
  timeoutMs: number): Promise<CallResult> {
  try {
    const reply = await cluster.rest(node, path, body, { timeoutMs });
    if (reply.status !== 200 || typeof reply.json !== 'object' || reply.json === null) {
      return { kind: 'unknown', message: `HTTP ${reply.status} ${reply.text.slice(0, 200)}` };
    }
    return { kind: 'reply', json: reply.json };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    return code === 'ECONNREFUSED' ? { kind: 'refused', message } :
      { kind: 'unknown', message };
  }
}

/** The shared machinery: the history, the clients' loop, stopping. */
abstract class BaseWorkload implements Workload {
  abstract readonly name: WorkloadName;
  readonly history: Op[] = [];
  readonly unexpected: string[] = [];
  protected readonly cluster: Cluster;
  protected readonly prng: SeededPrng;
  protected readonly clock: () => number;
  protected readonly callTimeoutMs: number;
  protected readonly clientCount: number;
  protected readonly log: (line: string) => void;
  protected stopped = false;
  #running: Promise<void>[] = [];

  constructor(options: WorkloadOptions) {
    this.cluster = options.cluster;
    this.prng = options.prng;
    this.clock = options.clock;
    this.callTimeoutMs = options.callTimeoutMs ?? 3_000;
    this.clientCount = options.clients ?? 5;
    this.log = options.log ?? (() => {});
  }

  setup(): Promise<void> {
    return Promise.resolve();
  }

  start(): void {
    for (let p = 0; p < this.clientCount; p++) {
      const prng = this.prng.fork(`client-${p}`);
      this.#running.push(this.client(p, prng).catch((error: unknown) => {
        // A workload bug, not a server answer: the run must not look valid.
        this.unexpected.push(`client ${p} crashed: ${String(error)}`);
        this.log(`client ${p} crashed: ${error instanceof Error ? error.stack : String(error)}`);
      }));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.#running);
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }

  protected abstract client(process: number, prng: SeededPrng): Promise<void>;

  protected pickNode(prng: SeededPrng): number {
    const nodes = this.cluster.nodes;
    return nodes[prng.nextInt(nodes.length)]!.id;
  }

  /** Records the invocation now; the caller completes it with `complete`. */
  protected invoke<F extends string, V>(process: number, f: F, key: string, value: V,
    node: number): Op<F, V, any> {
    const op: Op<F, V, any> = { process, f, key, value, invokeMs: this.clock(),
      completeMs: null, outcome: 'info', result: null, node };
    this.history.push(op);
    return op;
  }

  protected complete(op: Op, outcome: Outcome, result: unknown = null): void {
    op.completeMs = this.clock();
    op.outcome = outcome;
    op.result = outcome === 'ok' ? result : null;
  }

  /** 'info' for an answer with no meaning here (a server or workload bug), and a warning. */
  protected weird(op: Op, what: string): void {
    const line = `${op.f} ${op.key} on node ${op.node}: unexpected answer ${what}`;
    if (this.unexpected.length < 50) this.unexpected.push(line);
    this.log(line);
    this.complete(op, 'info');
  }

  /**
   * A pause between calls; longer after trouble (MustRetry, a timeout, a refused connection), as
   * a client backs off before retrying: a node cut off from the leaders answers MustRetry at
   * once, and every such answer to a write is one more unknown ('info') op for the checkers.
   */
  protected async breathe(prng: SeededPrng, afterTrouble: boolean): Promise<void> {
    await sleep(afterTrouble ? 200 + prng.nextInt(200) : prng.nextInt(30));
  }
}

// ---------------------------------------------------------------------------------------------
// register

class RegisterWorkload extends BaseWorkload {
  readonly name = 'register' as const;
  readonly #keys: readonly string[];
  /** The last value seen per key (any client): a CAS expects it, so some CAS match. */
  readonly #lastSeen = new Map<string, string>();
  #counter = 0;

  constructor(options: WorkloadOptions, keys = 3) {
    super(options);
    this.#keys = Array.from({ length: keys }, (_, i) => `reg/${i}`);
  }

  protected async client(process: number, prng: SeededPrng): Promise<void> {
    while (!this.stopped) {
      const key = this.#keys[prng.nextInt(this.#keys.length)]!;
      const node = this.pickNode(prng);
      const roll = prng.nextFloat();
      let trouble: boolean;
      if (roll < 0.5) trouble = await this.#read(process, node, key);
      else if (roll < 0.75) trouble = await this.#write(process, node, key);
      else trouble = await this.#cas(process, node, key);
      await this.breathe(prng, trouble);
    }
  }

  #fresh(process: number): string {
    this.#counter += 1;
    return `${process}:${this.#counter}`;
  }

  async #read(process: number, node: number, key: string): Promise<boolean> {
    const op = this.invoke(process, 'read', key, null, node);
    const r = await call(this.cluster, node, '/v1/kv/try-get',
      { key, revision: -1, durability: durabilityPersistent }, this.callTimeoutMs);
    if (r.kind !== 'reply') {
      this.complete(op, 'fail'); // a read without an answer changed nothing
      return true;
    }
    const type = r.json.type as number;
    if (type === KvType.Get) {
      const value = unb64(r.json.value);
      this.complete(op, 'ok', value);
      if (value !== null) this.#lastSeen.set(key, value);
    } else if (type === KvType.DoesNotExist) {
      this.complete(op, 'ok', null);
    } else if (type === KvType.MustRetry) {
      this.complete(op, 'fail');
      return true;
    } else {
      this.weird(op, JSON.stringify(r.json));
    }
    return false;
  }

  async #write(process: number, node: number, key: string): Promise<boolean> {
    const value = this.#fresh(process);
    const op = this.invoke(process, 'write', key, value, node);
    const r = await call(this.cluster, node, '/v1/kv/try-set', { key, value: b64(value),
      expiresMs: 0, flags: KvFlags.None, durability: durabilityPersistent },
    this.callTimeoutMs);
    return this.#written(op, r, () => {
      this.complete(op, 'ok', null);
      this.#lastSeen.set(key, value);
    });
  }

  async #cas(process: number, node: number, key: string): Promise<boolean> {
    const expected = this.#lastSeen.get(key) ?? 'never-written';
    const value = this.#fresh(process);
    const op = this.invoke(process, 'cas', key, [expected, value] as const, node);
    const r = await call(this.cluster, node, '/v1/kv/try-set', { key, value: b64(value),
      compareValue: b64(expected), expiresMs: 0, flags: KvFlags.SetIfEqualToValue,
      durability: durabilityPersistent }, this.callTimeoutMs);
    if (r.kind === 'reply' && r.json.type === KvType.NotSet) {
      this.complete(op, 'ok', false);
      return false;
    }
    return this.#written(op, r, () => {
      this.complete(op, 'ok', true);
      this.#lastSeen.set(key, value);
    });
  }

  /** Set -> `onSet`; refused -> fail; MustRetry, timeouts, errors -> info. True on trouble. */
  #written(op: Op, r: CallResult, onSet: () => void): boolean {
    if (r.kind === 'refused') {
      this.complete(op, 'fail');
      return true;
    }
    if (r.kind === 'unknown') {
      this.complete(op, 'info');
      return true;
    }
    const type = r.json.type as number;
    if (type === KvType.Set) {
      onSet();
      return false;
    }
    if (type === KvType.MustRetry) {
      this.complete(op, 'info');
      return true;
    }
    this.weird(op, JSON.stringify(r.json));
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// lock

interface FencedValue {
  readonly token: number;
  readonly data: string;
}

class LockWorkload extends BaseWorkload {
  readonly name = 'lock' as const;
  readonly resource = 'lock/r';
  readonly fencedKey = 'fenced/r';
  readonly #leaseMs: number;
  #owners = 0;
  #writes = 0;

  constructor(options: WorkloadOptions) {
    super(options);
    this.#leaseMs = options.leaseMs ?? 2_000;
  }

  protected async client(process: number, prng: SeededPrng): Promise<void> {
    while (!this.stopped) {
      this.#owners += 1;
      const owner = `owner-${process}-${this.#owners}`;
      const got = await this.#acquire(process, prng, owner);
      if (got === 'busy' || got === 'refused') {
        await sleep(100 + prng.nextInt(200));
        continue;
      }
      if (typeof got === 'number') {
        const writes = 1 + prng.nextInt(3);
        for (let i = 0; i < writes && !this.stopped; i++) {
          // Now and then the holder stalls past its lease (a client's GC pause): another client
          // takes the lock with a higher token, and this late write must be refused.
          if (prng.chance(0.1)) await sleep(this.#leaseMs + 200 + prng.nextInt(800));
          await this.#fencedWrite(process, prng, owner, got);
          if (prng.chance(0.3)) await this.#extend(process, prng, owner);
          await sleep(prng.nextInt(100));
        }
      }
      // Held, or maybe held (an unknown acquire): release with this owner either way.
      await this.#release(process, prng, owner);
      await this.breathe(prng, got === 'unknown');
    }
  }

  async #acquire(process: number, prng: SeededPrng, owner: string):
  Promise<number | 'busy' | 'refused' | 'unknown'> {
    const node = this.pickNode(prng);
    const op = this.invoke(process, 'acquire', this.resource,
      { owner, leaseMs: this.#leaseMs }, node);
    const r = await call(this.cluster, node, '/v1/locks/try-lock', { resource: this.resource,
      owner: b64(owner), expiresMs: this.#leaseMs, durability: durabilityPersistent },
    this.callTimeoutMs);
    if (r.kind === 'refused') {
      this.complete(op, 'fail');
      return 'refused';
    }
    if (r.kind === 'unknown') {
      this.complete(op, 'info');
      return 'unknown';
    }
    const type = r.json.type as number;
    if (type === LockType.Locked) {
      const token = r.json.fencingToken as number;
      this.complete(op, 'ok', { token });
      return token;
    }
    if (type === LockType.Busy) {
      this.complete(op, 'fail');
      return 'busy';
    }
    if (type === LockType.MustRetry) {
      this.complete(op, 'info');
      return 'unknown';
    }
    this.weird(op, JSON.stringify(r.json));
    return 'unknown';
  }

  async #extend(process: number, prng: SeededPrng, owner: string): Promise<void> {
    const node = this.pickNode(prng);
    const op = this.invoke(process, 'extend', this.resource,
      { owner, leaseMs: this.#leaseMs }, node);
    const r = await call(this.cluster, node, '/v1/locks/try-extend', { resource: this.resource,
      owner: b64(owner), expiresMs: this.#leaseMs, durability: durabilityPersistent },
    this.callTimeoutMs);
    if (r.kind === 'refused') return this.complete(op, 'fail');
    if (r.kind === 'unknown') return this.complete(op, 'info');
    const type = r.json.type as number;
    if (type === LockType.Extended) {
      return this.complete(op, 'ok', { token: r.json.fencingToken as number });
    }
    if (type === LockType.LockDoesNotExist || type === LockType.InvalidOwner) {
      return this.complete(op, 'fail');
    }
    if (type === LockType.MustRetry) return this.complete(op, 'info');
    return this.weird(op, JSON.stringify(r.json));
  }

  async #release(process: number, prng: SeededPrng, owner: string): Promise<void> {
    const node = this.pickNode(prng);
    const op = this.invoke(process, 'release', this.resource, { owner }, node);
    const r = await call(this.cluster, node, '/v1/locks/try-unlock', { resource: this.resource,
      owner: b64(owner), durability: durabilityPersistent }, this.callTimeoutMs);
    if (r.kind === 'refused') return this.complete(op, 'fail');
    if (r.kind === 'unknown') return this.complete(op, 'info');
    const type = r.json.type as number;
    if (type === LockType.Unlocked) return this.complete(op, 'ok', null);
    if (type === LockType.LockDoesNotExist || type === LockType.InvalidOwner) {
      return this.complete(op, 'fail');
    }
    if (type === LockType.MustRetry) return this.complete(op, 'info');
    return this.weird(op, JSON.stringify(r.json));
  }

  /**
   * A write to the fenced resource: read the stored {token, data}; a higher stored token
   * rejects (accepted false); else CAS the new {token, data} over exactly the bytes read (or
   * SetIfNotExists on an absent key), again from the read when the CAS lost a race. 'fail' when
   * nothing can have been written (every CAS definitely NotSet or none sent), 'info' once a CAS
   * may have been applied.
   */
  async #fencedWrite(process: number, prng: SeededPrng, owner: string, token: number):
  Promise<void> {
    this.#writes += 1;
    const data = `${owner}#${this.#writes}`;
    const node = this.pickNode(prng);
    const op = this.invoke(process, 'fencedWrite', this.resource, { owner, token, data }, node);
    const attemptsMax = 3;
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      const read = await call(this.cluster, node, '/v1/kv/try-get',
        { key: this.fencedKey, revision: -1, durability: durabilityPersistent },
        this.callTimeoutMs);
      if (read.kind !== 'reply' || read.json.type === KvType.MustRetry) {
        return this.complete(op, 'fail'); // nothing sent that could have written
      }
      let stored: FencedValue | null = null;
      let storedB64: string | null = null;
      if (read.json.type === KvType.Get) {
        storedB64 = read.json.value as string;
        stored = JSON.parse(unb64(storedB64) ?? 'null') as FencedValue;
      } else if (read.json.type !== KvType.DoesNotExist) {
        return this.weird(op, JSON.stringify(read.json));
      }
      if (stored !== null && stored.token > token) {
        return this.complete(op, 'ok', { accepted: false });
      }
      const value = b64(JSON.stringify({ token, data } satisfies FencedValue));
      const body = storedB64 === null
        ? { key: this.fencedKey, value, expiresMs: 0, flags: KvFlags.SetIfNotExists,
          durability: durabilityPersistent }
        : { key: this.fencedKey, value, compareValue: storedB64, expiresMs: 0,
          flags: KvFlags.SetIfEqualToValue, durability: durabilityPersistent };
      const w = await call(this.cluster, node, '/v1/kv/try-set', body, this.callTimeoutMs);
      if (w.kind === 'refused') return this.complete(op, 'fail');
      if (w.kind === 'unknown') return this.complete(op, 'info');
      const type = w.json.type as number;
      if (type === KvType.Set) return this.complete(op, 'ok', { accepted: true });
      if (type === KvType.MustRetry) return this.complete(op, 'info');
      if (type !== KvType.NotSet) return this.weird(op, JSON.stringify(w.json));
      // NotSet: another write came between the read and the CAS; read again.
    }
    return this.complete(op, 'fail');
  }
}

// ---------------------------------------------------------------------------------------------
// sequencer

class SequencerWorkload extends BaseWorkload {
  readonly name = 'sequencer' as const;
  readonly sequence = 'seq/s';
  /** Keys used so far with their counts; replays pick among the latest. */
  readonly #keys: { key: string; count: number }[] = [];
  #keyCounter = 0;

  override async setup(): Promise<void> {
    const until = Date.now() + 30_000;
    for (;;) {
      const node = this.pickNode(this.prng);
      const r = await call(this.cluster, node, '/v1/sequences/create', { name: this.sequence,
        initialValue: 0, increment: 1, maxValue: null, blockSize: null,
        durability: durabilityPersistent }, this.callTimeoutMs);
      if (r.kind === 'reply' &&
        (r.json.type === SeqType.Success || r.json.type === SeqType.AlreadyExists)) return;
      if (Date.now() > until) {
        throw new Error(`sequencer setup: could not create ${this.sequence}: ${JSON.stringify(r)}`);
      }
      await sleep(200);
    }
  }

  protected async client(process: number, prng: SeededPrng): Promise<void> {
    while (!this.stopped) {
      let count = 1 + prng.nextInt(10);
      let idempotencyKey: string | null = null;
      const roll = prng.nextFloat();
      if (roll < 0.2 && this.#keys.length > 0) {
        const recent = this.#keys.slice(-50);
        const replay = recent[prng.nextInt(recent.length)]!;
        idempotencyKey = replay.key;
        count = replay.count;
      } else if (roll < 0.5) {
        this.#keyCounter += 1;
        idempotencyKey = `idem-${process}-${this.#keyCounter}`;
        this.#keys.push({ key: idempotencyKey, count });
      }
      const node = this.pickNode(prng);
      const op = this.invoke(process, 'reserve', this.sequence, { count, idempotencyKey }, node);
      const r = await call(this.cluster, node, '/v1/sequences/reserve', { name: this.sequence,
        count, idempotencyKey, durability: durabilityPersistent }, this.callTimeoutMs);
      let trouble = r.kind !== 'reply';
      if (r.kind === 'refused') this.complete(op, 'fail');
      else if (r.kind === 'unknown') this.complete(op, 'info');
      else if (r.json.type === SeqType.Success) {
        const a = r.json.allocation as { start: number; end: number; count: number };
        if (a.end - a.start + 1 !== count) {
          // Still recorded as answered: the checker sees the broken range.
          this.unexpected.push(`reserve ${count}: allocation ${JSON.stringify(a)}`);
        }
        // Honu answers [start, end] inclusive (increment 1); the history wants [start, end).
        this.complete(op, 'ok', { start: a.start, end: a.end + 1 });
      } else if (r.json.type === SeqType.MustRetry) {
        this.complete(op, 'info');
        trouble = true;
      } else {
        this.weird(op, JSON.stringify(r.json));
      }
      await this.breathe(prng, trouble);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// durability

class DurabilityWorkload extends BaseWorkload {
  readonly name = 'durability' as const;
  readonly #written: string[] = [];
  #counter = 0;

  protected async client(process: number, prng: SeededPrng): Promise<void> {
    while (!this.stopped) {
      this.#counter += 1;
      const key = `dur/${process}/${this.#counter}`;
      const value = `${key}=${prng.nextUint32().toString(16)}`;
      const node = this.pickNode(prng);
      this.#written.push(key);
      const op = this.invoke(process, 'write', key, value, node);
      const r = await call(this.cluster, node, '/v1/kv/try-set', { key, value: b64(value),
        expiresMs: 0, flags: KvFlags.None, durability: durabilityPersistent },
      this.callTimeoutMs);
      let trouble = r.kind !== 'reply';
      if (r.kind === 'refused') this.complete(op, 'fail');
      else if (r.kind === 'unknown') this.complete(op, 'info');
      else if (r.json.type === KvType.Set) this.complete(op, 'ok', null);
      else if (r.json.type === KvType.MustRetry) {
        this.complete(op, 'info');
        trouble = true;
      } else {
        this.weird(op, JSON.stringify(r.json));
      }
      await this.breathe(prng, trouble);
    }
  }

  /**
   * One `final` read per key written, each retried (any node) until a definite answer, for up
   * to 60 s in all: a key still unread then is recorded unanswered.
   */
  override async finish(): Promise<void> {
    const keys = [...this.#written];
    const prng = this.prng.fork('final');
    const until = Date.now() + 60_000;
    const parallel = 8;
    let next = 0;
    const reader = async (lane: number): Promise<void> => {
      for (;;) {
        const index = next++;
        if (index >= keys.length) return;
        await this.#finalRead(1000 + lane, prng, keys[index]!, until);
      }
    };
    await Promise.all(Array.from({ length: parallel }, (_, lane) => reader(lane)));
  }

  async #finalRead(process: number, prng: SeededPrng, key: string, until: number):
  Promise<void> {
    for (;;) {
      const node = this.pickNode(prng);
      const op = { process, f: 'final', key, value: null, invokeMs: this.clock(),
        completeMs: null as number | null, outcome: 'info' as Outcome, result: null as unknown,
        node };
      const r = await call(this.cluster, node, '/v1/kv/try-get',
        { key, revision: -1, durability: durabilityPersistent }, this.callTimeoutMs);
      if (r.kind === 'reply' && (r.json.type === KvType.Get ||
        r.json.type === KvType.DoesNotExist)) {
        op.completeMs = this.clock();
        op.outcome = 'ok';
        op.result = r.json.type === KvType.Get ? unb64(r.json.value) : null;
        this.history.push(op);
        return;
      }
      if (Date.now() > until) {
        // No definite answer: recorded unanswered (the checker cannot count it as read).
        this.history.push(op);
        this.log(`final read of ${key}: no answer in time (${JSON.stringify(r)})`);
        return;
      }
      await sleep(100);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// bank

/** Every transfer moves between 1 and this much. */
const bankAmountMax = 20;
const bankOpeningBalance = 100;
/** The reader's pause between reads, and how long it holds new transfers back for one. */
const bankReadEveryMs: readonly [number, number] = [200, 500];
const bankHoldMs = 500;

/** A transfer that happened answers Set (its last command); an overdraft is refused with
 *  "insufficient" (Get, nothing written). Pessimistic (Kahuna's default): each GET locks. */
const bankTransferScript = `LET a = GET @from
LET b = GET @to
LET amt = to_int(@amount)
IF to_int(a) < amt THEN
  RETURN "insufficient"
END
SET @from to_int(a) - amt
SET @to to_int(b) + amt`;

/** Every account in one transaction, answered as "b0,b1,..." (absent: empty). Pessimistic:
 *  every GET locks its key; optimistic: no read locks, the commit checks nothing changed. */
function bankReadScript(count: number, optimistic: boolean): string {
  const lets = Array.from({ length: count }, (_, i) => `LET a${i} = GET @k${i}`).join('\n');
  const parts = Array.from({ length: count }, (_, i) => `to_str(a${i})`).join(', ",", ');
  return optimistic
    ? `BEGIN (locking="optimistic")\n${lets}\nCOMMIT\nRETURN concat(${parts})\nEND`
    : `${lets}\nRETURN concat(${parts})`;
}

/** `count` account keys on different partitions while there are partitions left (Honu's
 *  default 8; keys without '/', so each key is its own placement group). */
export function bankAccounts(count: number, partitions = 8): string[] {
  const map = new PartitionMap(partitions);
  const used = new Set<number>();
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `bank-${i}`;
    const p = map.ofKey(key);
    if (used.has(p) && used.size < partitions) continue;
    used.add(p);
    keys.push(key);
  }
  return keys;
}

class BankWorkload extends BaseWorkload {
  readonly name = 'bank' as const;
  readonly accounts: readonly string[];
  /** The reader asks the transfer clients not to start new transfers for a moment. */
  #hold = false;

  constructor(options: WorkloadOptions, accounts = 8) {
    super(options);
    this.accounts = bankAccounts(accounts);
  }

  /** The opening balances, each written until acknowledged (30 s in all). */
  override async setup(): Promise<void> {
    const until = Date.now() + 30_000;
    for (const key of this.accounts) {
      for (;;) {
        const r = await call(this.cluster, this.pickNode(this.prng), '/v1/kv/try-set', { key,
          value: b64(String(bankOpeningBalance)), expiresMs: 0, flags: KvFlags.None,
          durability: durabilityPersistent }, this.callTimeoutMs);
        if (r.kind === 'reply' && r.json.type === KvType.Set) break;
        if (Date.now() > until) {
          throw new Error(`bank setup: could not write ${key}: ${JSON.stringify(r)}`);
        }
        await sleep(200);
      }
    }
  }

  /** Records the opening balances as the history's first op, when the clock starts. */
  override start(): void {
    const opening: BankBalances = Object.fromEntries(this.accounts.map((k) =>
      [k, bankOpeningBalance]));
    const at = this.clock();
    const init: BankOp = { process: -1, f: 'init', key: 'bank', value: opening, invokeMs: at,
      completeMs: at, outcome: 'ok', result: null, node: 0 };
    this.history.push(init);
    super.start();
  }

  protected async client(process: number, prng: SeededPrng): Promise<void> {
    while (!this.stopped) {
      if (process === 0) {
        await sleep(bankReadEveryMs[0] + prng.nextInt(bankReadEveryMs[1] - bankReadEveryMs[0]));
        await this.#readBurst(process, prng);
      } else if (this.#hold) {
        await sleep(10);
      } else {
        await this.breathe(prng, await this.#transfer(process, prng));
      }
    }
  }

  /** Holds new transfers back and reads until one read answers, for up to bankHoldMs. */
  async #readBurst(process: number, prng: SeededPrng): Promise<void> {
    this.#hold = true;
    try {
      const until = Date.now() + bankHoldMs;
      while (!this.stopped && Date.now() < until) {
        const answered = await this.#read(process, this.pickNode(prng), 'read',
          prng.chance(0.5));
        if (answered) return;
        await sleep(20);
      }
    } finally {
      this.#hold = false;
    }
  }

  /** One read of every account; true when it answered. Unanswered reads are 'fail'. */
  async #read(process: number, node: number, f: 'read' | 'final', optimistic: boolean):
  Promise<boolean> {
    const params = this.accounts.map((key, i) => ({ key: `@k${i}`, value: key }));
    const op = this.invoke(process, f, 'bank',
      { locking: optimistic ? 'optimistic' : 'pessimistic' }, node);
    const r = await call(this.cluster, node, '/v1/kv/try-execute-tx-script', {
      script: b64(bankReadScript(this.accounts.length, optimistic)), parameters: params },
    this.callTimeoutMs);
    if (r.kind !== 'reply' || r.json.type !== KvType.Get) {
      const definite = r.kind === 'reply' && (r.json.type === KvType.Aborted ||
        r.json.type === KvType.MustRetry);
      if (r.kind === 'reply' && !definite) this.weird(op, JSON.stringify(r.json));
      else this.complete(op, 'fail');
      return false;
    }
    const parts = (unb64(r.json.values?.[0]?.value) ?? '').split(',');
    if (parts.length !== this.accounts.length || parts.some((p) => !/^(-?\d+)?$/.test(p))) {
      this.weird(op, JSON.stringify(r.json));
      return false;
    }
    const balances: BankBalances = Object.fromEntries(this.accounts.map((k, i) =>
      [k, parts[i] === '' ? null : Number(parts[i])]));
    this.complete(op, 'ok', balances);
    return true;
  }

  /** One transfer between two random accounts through a random node; true on trouble. */
  async #transfer(process: number, prng: SeededPrng): Promise<boolean> {
    const from = this.accounts[prng.nextInt(this.accounts.length)]!;
    let to = from;
    while (to === from) to = this.accounts[prng.nextInt(this.accounts.length)]!;
    const amount = 1 + prng.nextInt(bankAmountMax);
    const node = this.pickNode(prng);
    const op = this.invoke(process, 'transfer', 'bank', { from, to, amount }, node);
    const r = await call(this.cluster, node, '/v1/kv/try-execute-tx-script', {
      script: b64(bankTransferScript), parameters: [{ key: '@from', value: from },
        { key: '@to', value: to }, { key: '@amount', value: String(amount) }] },
    this.callTimeoutMs);
    if (r.kind === 'refused') {
      this.complete(op, 'fail');
      return true;
    }
    if (r.kind === 'unknown') {
      this.complete(op, 'info');
      return true;
    }
    const type = r.json.type as number;
    if (type === KvType.Set) this.complete(op, 'ok', { applied: true });
    else if (type === KvType.Get && unb64(r.json.values?.[0]?.value) === 'insufficient') {
      this.complete(op, 'ok', { applied: false });
    } else if (type === KvType.Aborted) this.complete(op, 'fail');
    else if (type === KvType.MustRetry) {
      this.complete(op, 'info');
      return true;
    } else this.weird(op, JSON.stringify(r.json));
    return false;
  }

  /** After the faults healed: one pessimistic read of every account, retried (any node) until
   *  it answers, for up to 60 s (transactions left prepared settle within seconds). */
  override async finish(): Promise<void> {
    const prng = this.prng.fork('final');
    const started = Date.now();
    const until = started + 60_000;
    const process = 1000;
    for (let tries = 1; Date.now() < until; tries++) {
      const before = this.history.length;
      if (await this.#read(process, this.pickNode(prng), 'final', false)) {
        this.log(`bank final read: answered after ${Date.now() - started} ms, ${tries} tries`);
        return;
      }
      if (Date.now() < until) this.history.splice(before); // keep only the answered one
      await sleep(100);
    }
    this.log('bank final read: no answer in 60 s');
  }
}

export function makeWorkload(name: WorkloadName, options: WorkloadOptions): Workload {
  switch (name) {
    case 'register': return new RegisterWorkload(options);
    case 'lock': return new LockWorkload(options);
    case 'sequencer': return new SequencerWorkload(options);
    case 'durability': return new DurabilityWorkload(options);
    case 'bank': return new BankWorkload(options);
  }
}
