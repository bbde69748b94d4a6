// Multi-key transactions across partitions on a real three-node cluster (issue 8, item 5), with
// nodes SIGKILLed mid-commit: `honu server` processes from test/helpers/cluster.ts, transfer
// scripts through POST /v1/kv/try-execute-tx-script.
//
// Sixteen accounts, two per partition (placement checked with src/core/routing/placement.ts;
// the leaders balanced 3/3/2, so their partitions are led by all three nodes), 100 each. Four
// clients run transfer scripts between random accounts: read both balances (pessimistic: each
// GET locks), refuse an overdraft ("insufficient", nothing written), else write both balances
// and one marker key in each account's bucket (same key space, so same partition: still two
// participants). A reader now and then holds new transfers back and runs read-all scripts
// (every balance in ONE script transaction, pessimistic or optimistic) whose total must be 1600.
//
// 1. The leader of the partitions under fire is SIGKILLed while transfers run through the other
//    nodes, restarted 2.5 s later; twice, two different nodes.
// 2. The coordinator (the node receiving every transfer) is SIGKILLed mid-commit: its prepared
//    participants must be settled by the resolvers (past the 5 s decision deadline) from the
//    anchor's decision record. Checked while it is down and again after its restart.
// Then, after quiescence: no key stays locked (within 12 s a fresh transaction on every account
// commits), the total is intact, no balance is negative, and the markers say exactly which
// transfers happened: both markers or neither (atomicity), every transfer answered Set has
// them, none answered Aborted (or "insufficient") has them, MustRetry and timeouts either way,
// and each final balance is 100 plus what the marked transfers moved.
// 3. A reproduction with proxies: the anchor partition's leader applies the anchor's commit but
//    its reply to the coordinator is lost; the prepared participant must not be rolled back.
// 4. Snapshot reads (BEGIN (snapshot = T)) at every millisecond of one committed transfer must
//    see it whole or not at all.
//
// The seed (HONU_TX_SEED overrides it) fixes the transfers and the timing of the kills; real
// processes make a replay approximate.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { PartitionMap } from '../../src/core/routing/placement.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';

/** Kahuna's numeric outcomes used here (src/core/api/codes.ts). */
const Kv = { Set: 0, Get: 3, Errored: 99, MustRetry: 101, Aborted: 102 } as const;
const partitions = 8;
const initialBalance = 100;
const callTimeoutMs = 8_000;
/** The decision deadline (5 s), a resolver round (1 s) and slack for elections. */
const settleMs = 12_000;
const seedBase = Number(process.env['HONU_TX_SEED'] ?? 8101);

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | null | undefined): string | null =>
  s === null || s === undefined ? null : Buffer.from(s, 'base64').toString('utf8');

// ---------------------------------------------------------------------------------------------
// Scripts

/** Overdrafts are refused with "insufficient" (a Get, nothing written); a transfer that
 *  happened answers Set (its last command). */
const transferScript = `LET a = GET @from
LET b = GET @to
LET amt = to_int(@amount)
IF to_int(a) < amt THEN
  RETURN "insufficient"
END
SET @from to_int(a) - amt
SET @fromMark @amount
SET @toMark @amount
SET @to to_int(b) + amt`;

/** Every balance in one transaction, as "b0,b1,...": pessimistic (the default: each GET locks
 *  its key) or optimistic (no read locks; the commit checks that nothing changed). */
function readAllScript(count: number, optimistic: boolean): string {
  const lets = Array.from({ length: count }, (_, i) => `LET a${i} = GET @k${i}`);
  const parts = Array.from({ length: count }, (_, i) => `to_str(a${i})`).join(', ",", ');
  const body = `${lets.join('\n')}\nRETURN concat(${parts})`;
  return optimistic ? `BEGIN (locking="optimistic")\n${lets.join('\n')}\nCOMMIT\n` +
    `RETURN concat(${parts})\nEND` : body;
}

/** A fresh transaction on one key (two statements: a coordinated transaction). */
const touchScript = 'LET v = GET @k\nSET @k v';

type CallResult =
  | { readonly kind: 'reply'; readonly json: any }
  | { readonly kind: 'error'; readonly message: string };

async function runScript(c: Cluster, node: number, script: string,
  params: Record<string, string>, timeoutMs = callTimeoutMs): Promise<CallResult> {
  const parameters = Object.entries(params).map(([key, value]) => ({ key, value }));
  try {
    const r = await c.rest(node, '/v1/kv/try-execute-tx-script',
      { script: b64(script), parameters }, { timeoutMs });
    if (r.status !== 200 || typeof r.json !== 'object' || r.json === null) {
      return { kind: 'error', message: `HTTP ${r.status} ${r.text.slice(0, 200)}` };
    }
    return { kind: 'reply', json: r.json };
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}

/** Repeats `op` until `done` says so, up to `ms`; returns the last answer and whether done. */
async function until<T>(ms: number, op: () => Promise<T>, done: (t: T) => boolean):
  Promise<{ last: T; ok: boolean; elapsedMs: number }> {
  const start = Date.now();
  for (;;) {
    const last = await op();
    if (done(last)) return { last, ok: true, elapsedMs: Date.now() - start };
    if (Date.now() - start > ms) return { last, ok: false, elapsedMs: Date.now() - start };
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Placement and leaders

interface Account {
  readonly key: string;
  readonly partition: number;
}

/** The first keys `acct-<i>` that land on each partition, `perPartition` on each. */
function accountsOnEveryPartition(perPartition: number): Account[] {
  const map = new PartitionMap(partitions);
  const byPartition = new Map<number, string[]>();
  let full = 0;
  for (let i = 0; full < partitions; i++) {
    const key = `acct-${i}`;
    const p = map.ofKey(key);
    const keys = byPartition.get(p) ?? [];
    if (keys.length === perPartition) continue;
    keys.push(key);
    byPartition.set(p, keys);
    if (keys.length === perPartition) full += 1;
    // The markers live in the account's bucket, so they are on its partition too.
    expect(map.ofKey(`${key}/in-0`)).toBe(p);
  }
  return [...byPartition].sort(([a], [b]) => a - b)
    .flatMap(([partition, keys]) => keys.map((key) => ({ key, partition })));
}

/** Partition -> leading node as node `id` reports it (GET /v1/cluster/routing). */
async function leadersSeenBy(c: Cluster, id: number): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  try {
    const r = await c.get(id, '/v1/cluster/routing', { timeoutMs: 2_000 });
    for (const l of (r.json?.leaders ?? []) as { partitionId: number; endpoint: string }[]) {
      // With proxies a node names the others by the proxy it dials them through.
      const node = c.nodes.find((n) => n.url === l.endpoint || (c.proxies !== null &&
        n.id !== id && l.endpoint === `http://127.0.0.1:${c.proxies.link(id, n.id).port}`));
      if (node !== undefined) out.set(l.partitionId, node.id);
    }
  } catch {
    // no answer: nothing known
  }
  return out;
}

/** Waits until every node sees the same leaders for all partitions, spread 3/3/2. */
async function balancedLeaders(c: Cluster): Promise<Map<number, number>> {
  const r = await until(30_000, async () => Promise.all(c.nodes.map((n) =>
    leadersSeenBy(c, n.id))), (views) => {
    const [first] = views;
    if (first === undefined || first.size !== partitions) return false;
    const same = views.every((v) => [...first].every(([p, l]) => v.get(p) === l));
    const counts = c.nodes.map((n) => [...first.values()].filter((l) => l === n.id).length);
    return same && Math.max(...counts) - Math.min(...counts) <= 1;
  });
  expect(r.ok, `leaders never balanced: ${JSON.stringify(r.last.map((m) => [...m]))}`)
    .toBe(true);
  return r.last[0]!;
}

async function setBalances(c: Cluster, accounts: readonly Account[]): Promise<void> {
  for (const a of accounts) {
    const r = await until(10_000, () => c.rest(1, '/v1/kv/try-set', { key: a.key,
      value: b64(String(initialBalance)), expiresMs: 0, flags: 0, durability: 1 }),
    (reply) => reply.json?.type === Kv.Set);
    expect(r.ok, `could not set ${a.key}: ${r.last.text}`).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------------
// The bank: transfer clients and a reader

type TransferOutcome = 'committed' | 'aborted' | 'insufficient' | 'unknown';

interface Transfer {
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly node: number;
  readonly startMs: number;
  endMs: number | null;
  outcome: TransferOutcome;
  /** The answer in short, for the report. */
  answer: string;
}

interface ReadAll {
  readonly node: number;
  readonly optimistic: boolean;
  readonly atMs: number;
  /** The balances read (in account order); null when the read did not answer Get. */
  readonly balances: readonly (number | null)[] | null;
}

interface BankOptions {
  /** The nodes clients may call now (read at every call). */
  readonly nodes: () => readonly number[];
  /** One side of a transfer is one of these 80% of the time (the partitions under fire). */
  readonly focus: () => readonly Account[];
}

class Bank {
  readonly transfers: Transfer[] = [];
  readonly reads: ReadAll[] = [];
  /** Answers no transfer should get (Errored, anything unexpected). */
  readonly weird: string[] = [];
  readonly #c: Cluster;
  readonly #accounts: readonly Account[];
  readonly #prng: SeededPrng;
  readonly #opts: BankOptions;
  readonly #t0 = Date.now();
  #running: Promise<void>[] = [];
  #stopped = false;
  /** The reader asks the transfer clients not to start new transfers for a moment. */
  #hold = false;

  constructor(c: Cluster, accounts: readonly Account[], prng: SeededPrng, opts: BankOptions) {
    this.#c = c;
    this.#accounts = accounts;
    this.#prng = prng;
    this.#opts = opts;
  }

  now(): number {
    return Date.now() - this.#t0;
  }

  start(clients: number): void {
    for (let i = 0; i < clients; i++) {
      this.#running.push(this.#transferLoop(this.#prng.fork(`t${i}`)));
    }
    this.#running.push(this.#readLoop(this.#prng.fork('reader')));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#running);
  }

  /** Waits (up to 5 s) until the reader holds nothing back and `count` transfers are in
   *  flight: the moment to kill a node mid-commit. */
  async busy(count: number): Promise<void> {
    const until = Date.now() + 5_000;
    const inFlight = (): number => this.transfers.filter((t) => t.endMs === null).length;
    while (Date.now() < until && (this.#hold || inFlight() < count)) await sleep(5);
  }

  #pick<T>(prng: SeededPrng, items: readonly T[]): T {
    return items[prng.nextInt(items.length)]!;
  }

  #pair(prng: SeededPrng): [Account, Account] {
    const all = this.#accounts;
    const focus = this.#opts.focus();
    const first = focus.length > 0 && prng.chance(0.8) ? this.#pick(prng, focus)
      : this.#pick(prng, all);
    let second = this.#pick(prng, all);
    while (second === first) second = this.#pick(prng, all);
    return prng.chance(0.5) ? [first, second] : [second, first];
  }

  async #transferLoop(prng: SeededPrng): Promise<void> {
    while (!this.#stopped) {
      if (this.#hold) {
        await sleep(10);
        continue;
      }
      const [from, to] = this.#pair(prng);
      const t: Transfer = { id: this.transfers.length, from: from.key, to: to.key,
        amount: 1 + prng.nextInt(30), node: this.#pick(prng, this.#opts.nodes()),
        startMs: this.now(), endMs: null, outcome: 'unknown', answer: '' };
      this.transfers.push(t);
      const r = await runScript(this.#c, t.node, transferScript, { '@from': t.from,
        '@to': t.to, '@amount': String(t.amount), '@fromMark': `${t.from}/out-${t.id}`,
        '@toMark': `${t.to}/in-${t.id}` });
      t.endMs = this.now();
      this.#classify(t, r);
      await sleep(t.outcome === 'unknown' ? 100 + prng.nextInt(100) : prng.nextInt(50));
    }
  }

  #classify(t: Transfer, r: CallResult): void {
    if (r.kind === 'error') {
      t.answer = r.message.slice(0, 80);
      return;
    }
    const type = r.json.type as number;
    t.answer = `type ${type}${r.json.reason ? ` (${String(r.json.reason)})` : ''}`;
    const value = unb64(r.json.values?.[0]?.value);
    if (type === Kv.Set) t.outcome = 'committed';
    else if (type === Kv.Aborted) t.outcome = 'aborted';
    else if (type === Kv.Get && value === 'insufficient') t.outcome = 'insufficient';
    else if (type !== Kv.MustRetry) {
      this.weird.push(`transfer ${t.id} ${t.from}->${t.to} on node ${t.node}: ` +
        `${JSON.stringify(r.json).slice(0, 300)}`);
    }
  }

  /**
   * Read-alls lock every account (or validate every one at commit), so with transfers always
   * in flight they nearly always abort. Now and then the reader holds new transfers back for
   * up to 600 ms and tries meanwhile: its first tries overlap the commits still in flight.
   */
  async #readLoop(prng: SeededPrng): Promise<void> {
    while (!this.#stopped) {
      await sleep(150 + prng.nextInt(250));
      this.#hold = true;
      const heldUntil = Date.now() + 600;
      let answered = false;
      while (!answered && !this.#stopped && Date.now() < heldUntil) {
        const node = this.#pick(prng, this.#opts.nodes());
        const atMs = this.now();
        const optimistic = prng.chance(0.5);
        const balances = await readAll(this.#c, node, this.#accounts, optimistic);
        this.reads.push({ node, atMs, optimistic, balances });
        answered = balances !== null;
        if (!answered) await sleep(20);
      }
      this.#hold = false;
    }
  }
}

/** The balances through one read-all script, or null when it did not answer Get. */
async function readAll(c: Cluster, node: number, accounts: readonly Account[],
  optimistic = false): Promise<(number | null)[] | null> {
  const params = Object.fromEntries(accounts.map((a, i) => [`@k${i}`, a.key]));
  const r = await runScript(c, node, readAllScript(accounts.length, optimistic), params);
  if (r.kind !== 'reply' || r.json.type !== Kv.Get) return null;
  const text = unb64(r.json.values?.[0]?.value) ?? '';
  return text.split(',').map((s) => (/^-?\d+$/.test(s) ? Number(s) : null));
}

// ---------------------------------------------------------------------------------------------
// After quiescence: locks, final state, the check

/** A fresh transaction on every account, through the given nodes, until each commits. */
async function unlockedWithin(c: Cluster, accounts: readonly Account[],
  nodes: readonly number[], ms: number): Promise<{ problems: string[]; slowest: string }> {
  const problems: string[] = [];
  const times: [string, number][] = [];
  await Promise.all(accounts.map(async (a, i) => {
    let turn = i;
    const r = await until(ms, () => runScript(c, nodes[turn++ % nodes.length]!, touchScript,
      { '@k': a.key }), (x) => x.kind === 'reply' && x.json.type === Kv.Set);
    times.push([a.key, r.elapsedMs]);
    if (!r.ok) {
      problems.push(`${a.key} (partition ${a.partition}) still locked after ${ms} ms: a fresh ` +
        `transaction answers ${JSON.stringify(r.last).slice(0, 300)}`);
    }
  }));
  times.sort((x, y) => y[1] - x[1]);
  return { problems, slowest: times.slice(0, 3).map(([k, t]) => `${k} ${t} ms`).join(', ') };
}

interface FinalState {
  readonly balances: ReadonlyMap<string, number | null>;
  /** Per account: its markers (`in-<id>`, `out-<id>`) with the amounts they hold. */
  readonly markers: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** Plain reads (retried past MustRetry) of every balance and every account's bucket. */
async function finalState(c: Cluster, node: number, accounts: readonly Account[]):
  Promise<FinalState> {
  const balances = new Map<string, number | null>();
  const markers = new Map<string, Map<string, number>>();
  for (const a of accounts) {
    const got = await until(10_000, () => c.rest(node, '/v1/kv/try-get',
      { key: a.key, revision: -1, durability: 1 }), (r) => r.json?.type === Kv.Get);
    expect(got.ok, `final read of ${a.key} on node ${node}: ${got.last.text}`).toBe(true);
    balances.set(a.key, Number(unb64(got.last.json.value)));
    const bucket = await until(10_000, () => c.rest(node, '/v1/kv/get-by-bucket',
      { prefixKey: a.key, durability: 1 }), (r) => r.json?.type === Kv.Get);
    expect(bucket.ok, `bucket ${a.key} on node ${node}: ${bucket.last.text}`).toBe(true);
    const mine = new Map<string, number>();
    for (const item of bucket.last.json.items as { key: string; value: string }[]) {
      mine.set(item.key.slice(a.key.length + 1), Number(unb64(item.value)));
    }
    markers.set(a.key, mine);
  }
  return { balances, markers };
}

const total = (xs: Iterable<number | null>): number => {
  let sum = 0;
  for (const x of xs) sum += x ?? Number.NaN;
  return sum;
};

function describeTransfer(t: Transfer): string {
  return `#${t.id} ${t.from}->${t.to} ${t.amount} via node ${t.node} ` +
    `[${t.startMs}..${t.endMs ?? '∞'} ms] ${t.outcome}: ${t.answer}`;
}

/** Every read-all during the run saw the initial total and no negative balance. */
function checkReads(reads: readonly ReadAll[], expected: number): string[] {
  const problems: string[] = [];
  for (const r of reads) {
    if (r.balances === null) continue;
    if (total(r.balances) !== expected || r.balances.some((b) => b === null || b < 0)) {
      problems.push(`read-all on node ${r.node} at ${r.atMs} ms saw ${r.balances.join(',')} ` +
        `(total ${total(r.balances)}, expected ${expected})`);
    }
  }
  return problems;
}

/** The markers against the answers, and the balances against the marked transfers. */
function checkTransfers(accounts: readonly Account[], transfers: readonly Transfer[],
  final: FinalState): string[] {
  const problems: string[] = [];
  const expected = new Map(accounts.map((a) => [a.key, initialBalance]));
  const known = new Set<string>();
  for (const t of transfers) {
    const out = final.markers.get(t.from)?.get(`out-${t.id}`);
    const into = final.markers.get(t.to)?.get(`in-${t.id}`);
    known.add(`${t.from}/out-${t.id}`).add(`${t.to}/in-${t.id}`);
    const applied = out !== undefined || into !== undefined;
    if ((out === undefined) !== (into === undefined)) {
      problems.push(`not atomic: only the ${out === undefined ? 'in' : 'out'} marker of ` +
        describeTransfer(t));
    }
    if (t.outcome === 'committed' && !applied) problems.push(`lost: ${describeTransfer(t)}`);
    if ((t.outcome === 'aborted' || t.outcome === 'insufficient') && applied) {
      problems.push(`applied although answered ${t.outcome}: ${describeTransfer(t)}`);
    }
    if (applied) {
      expected.set(t.from, expected.get(t.from)! - t.amount);
      expected.set(t.to, expected.get(t.to)! + t.amount);
    }
  }
  for (const [account, mine] of final.markers) {
    for (const name of mine.keys()) {
      if (!known.has(`${account}/${name}`)) {
        problems.push(`marker from nowhere: ${account}/${name}`);
      }
    }
  }
  for (const [key, balance] of final.balances) {
    if (balance !== expected.get(key)) {
      problems.push(`${key} holds ${balance}, but its marked transfers make ${expected.get(key)}`);
    }
  }
  return problems;
}

function outcomeCounts(transfers: readonly Transfer[]): string {
  const by = new Map<string, number>();
  for (const t of transfers) by.set(t.outcome, (by.get(t.outcome) ?? 0) + 1);
  const answers = new Map<string, number>();
  for (const t of transfers) {
    const a = t.answer.replace(/acct-\d+/g, 'acct-N');
    answers.set(a, (answers.get(a) ?? 0) + 1);
  }
  const top = [...answers].sort((a, b) => b[1] - a[1]).slice(0, 4)
    .map(([k, n]) => `${n}x ${k}`).join('; ');
  return `${[...by].sort().map(([k, n]) => `${k}=${n}`).join(' ')}; answers: ${top}`;
}

/** After the clients stopped: no stuck lock, then the whole check, read through `nodes`. */
async function settleAndCheck(c: Cluster, bank: Bank, accounts: readonly Account[],
  nodes: readonly number[]): Promise<{ problems: string[]; summary: string }> {
  const expectedTotal = initialBalance * accounts.length;
  const locks = await unlockedWithin(c, accounts, nodes, settleMs);
  const problems = [...locks.problems, ...checkReads(bank.reads, expectedTotal),
    ...bank.weird.slice(0, 10)];
  const node = nodes[0]!;
  const viaScript = await until(10_000, () => readAll(c, node, accounts), (b) => b !== null);
  const final = await finalState(c, node, accounts);
  const plain = accounts.map((a) => final.balances.get(a.key) ?? null);
  if (viaScript.last === null) problems.push(`no read-all answered on node ${node}`);
  else if (viaScript.last.join(',') !== plain.join(',')) {
    problems.push(`read-all ${viaScript.last.join(',')} != plain reads ${plain.join(',')}`);
  }
  if (total(plain) !== expectedTotal || plain.some((b) => b === null || b < 0)) {
    problems.push(`final balances ${plain.join(',')}: total ${total(plain)}, ` +
      `expected ${expectedTotal}`);
  }
  problems.push(...checkTransfers(accounts, bank.transfers, final));
  const answered = (optimistic: boolean): number =>
    bank.reads.filter((r) => r.optimistic === optimistic && r.balances !== null).length;
  const summary = `${bank.transfers.length} transfers (${outcomeCounts(bank.transfers)}), ` +
    `${bank.reads.length} read-alls (answered: ${answered(false)} pessimistic, ` +
    `${answered(true)} optimistic), final ${plain.join(',')}, ` +
    `slowest unlock ${locks.slowest}`;
  return { problems, summary };
}

function report(c: Cluster, seed: number, what: string, result: { problems: string[];
  summary: string }): string {
  const logs = c.nodes.flatMap((n) => [`--- node ${n.id} (last lines)`,
    ...c.logs(n.id).slice(-25)]);
  return [`seed ${seed} (HONU_TX_SEED=${seed} to replay): ${what}`, result.summary,
    ...result.problems.slice(0, 30), ...logs].join('\n');
}

/** As transferScript, with a pause between the writes and the commit (the locks are taken and
 *  the values read before it; the commit runs after it). */
const slowTransferScript = `LET a = GET @from
LET b = GET @to
LET amt = to_int(@amount)
SET @from to_int(a) - amt
SET @fromMark @amount
SET @toMark @amount
SET @to to_int(b) + amt
SLEEP 1500`;

/** Both accounts and their markers, read through `node` (plain reads, retried). */
async function pairState(c: Cluster, node: number, from: Account, to: Account, id: number):
  Promise<{ balances: number[]; out: boolean; into: boolean }> {
  const final = await finalState(c, node, [from, to]);
  return { balances: [final.balances.get(from.key)!, final.balances.get(to.key)!],
    out: final.markers.get(from.key)!.has(`out-${id}`),
    into: final.markers.get(to.key)!.has(`in-${id}`) };
}

// ---------------------------------------------------------------------------------------------
// The tests

describe('transactions across partitions on a three-node cluster', () => {
  it('stay atomic while the leaders of participant partitions are SIGKILLed mid-commit',
    async () => {
      const seed = seedBase;
      const prng = new SeededPrng(seed);
      const c = await startCluster({ nodes: 3 });
      const accounts = accountsOnEveryPartition(2);
      const leaders = await balancedLeaders(c);
      expect(new Set(accounts.map((a) => leaders.get(a.partition))).size).toBe(3);
      await setBalances(c, accounts);
      // Two rounds, two victims: each SIGKILLed while transfers touching the partitions it
      // leads are in flight (through the other nodes), restarted 2.5 s later.
      let victim = 0;
      let focus: Account[] = [];
      const bank = new Bank(c, accounts, prng.fork('bank'), { focus: () => focus,
        nodes: () => [1, 2, 3].filter((n) => n !== victim) });
      bank.start(4);
      const first = 1 + prng.nextInt(3);
      const kills: string[] = [];
      for (const round of [0, 1]) {
        const led = round === 0 ? leaders : await leadersSeenBy(c, first);
        victim = 1 + ((first - 1 + round) % 3);
        focus = accounts.filter((a) => led.get(a.partition) === victim);
        await sleep(1_000 + prng.nextInt(1_000));
        await bank.busy(3);
        kills.push(`node ${victim} (leading partitions ` +
          `${[...new Set(focus.map((a) => a.partition))].join(',')}) at ${bank.now()} ms`);
        await c.kill(victim, 'SIGKILL');
        await sleep(2_500);
        await c.restart(victim, { waitReady: false });
        await sleep(1_500);
        await c.waitReady(victim);
      }
      await bank.stop();
      const result = await settleAndCheck(c, bank, accounts, [1, 2, 3]);
      const what = `SIGKILLed ${kills.join(', then ')}`;
      console.log(`[tx participant kill] ${what}: ${result.summary}`);
      expect(result.problems, report(c, seed, what, result)).toEqual([]);
      expect(c.unexpectedExits().map((e) => `node ${e.id}: ${e.code} ${e.signal}`)).toEqual([]);
      expect(bank.transfers.filter((t) => t.outcome === 'committed').length).toBeGreaterThan(20);
    }, 180_000);

  it('settle the prepared participants of a SIGKILLed coordinator from the anchor record',
    async () => {
      const seed = seedBase + 1;
      const prng = new SeededPrng(seed);
      const c = await startCluster({ nodes: 3 });
      const accounts = accountsOnEveryPartition(2);
      const leaders = await balancedLeaders(c);
      await setBalances(c, accounts);
      const coordinator = 1 + prng.nextInt(3);
      const survivors = [1, 2, 3].filter((n) => n !== coordinator);
      // Participants led elsewhere: their intents outlive the coordinator.
      const focus = accounts.filter((a) => leaders.get(a.partition) !== coordinator);
      let callable: readonly number[] = [coordinator];
      const bank = new Bank(c, accounts, prng.fork('bank'), { nodes: () => callable,
        focus: () => focus });
      bank.start(4);
      await sleep(1_500 + prng.nextInt(1_000));
      await bank.busy(3);
      const killedAt = bank.now();
      await c.kill(coordinator, 'SIGKILL');
      callable = survivors; // the clients go on through the other nodes
      await sleep(2_000);
      await bank.stop();
      const down = await settleAndCheck(c, bank, accounts, survivors);
      const what = `coordinator node ${coordinator} SIGKILLed at ${killedAt} ms`;
      console.log(`[tx coordinator kill] ${what}, while down: ${down.summary}`);
      expect(down.problems, report(c, seed, `${what}; checked while it was down`, down))
        .toEqual([]);
      await c.restart(coordinator);
      const after = await settleAndCheck(c, bank, accounts, [coordinator, ...survivors]);
      console.log(`[tx coordinator kill] after the restart: ${after.summary}`);
      expect(after.problems, report(c, seed, `${what}; checked after its restart`, after))
        .toEqual([]);
      expect(c.unexpectedExits().map((e) => `node ${e.id}: ${e.code} ${e.signal}`)).toEqual([]);
      const viaCoordinator = bank.transfers.filter((t) => t.node === coordinator);
      expect(viaCoordinator.filter((t) => t.outcome === 'committed').length).toBeGreaterThan(10);
      expect(viaCoordinator.filter((t) => t.startMs < killedAt && (t.endMs ?? Infinity) >
        killedAt).length, 'transfers in flight at the kill').toBeGreaterThan(0);
    }, 180_000);
  // The reproduction of a lost commit: the coordinator C forwards the anchor's one-phase step to
  // the anchor partition's leader L, which applies it (the decision Commit recorded with the
  // anchor's writes), but L's reply never reaches C (the link L->C blackholed just before the
  // commit: C's requests still reach L, L's Raft traffic to the third node flows). C answers
  // MustRetry ("the commit decision is not known yet"), which is right, but the participant
  // prepared before the anchor must then wait for the resolver, which would find Commit in the
  // anchor's record and apply it. It must never be rolled back. Before 09b7b7e it was: the
  // script's rollback after the failed commit dropped the prepared intent, so 12 s later the
  // balances were 90 and 100 with only the out marker (the total 190 instead of 200).
  it('keep the prepared participant of a commit whose anchor reply was lost (no rollback)',
    async () => {
      const c = await startCluster({ nodes: 3, proxies: true });
      const coordinator = 1;
      const leaders = await balancedLeaders(c);
      const accounts = accountsOnEveryPartition(1);
      const from = accounts.find((a) => leaders.get(a.partition) !== coordinator)!;
      const anchorLeader = leaders.get(from.partition)!;
      const to = accounts.find((a) => a !== from && leaders.get(a.partition) !== anchorLeader)!;
      await setBalances(c, [from, to]);
      const id = 1;
      const call = runScript(c, coordinator, slowTransferScript, { '@from': from.key,
        '@to': to.key, '@amount': '10', '@fromMark': `${from.key}/out-${id}`,
        '@toMark': `${to.key}/in-${id}` }, 60_000);
      await sleep(1_400); // the locks are taken, the script sleeps; the commit comes at ~1.55 s
      c.proxies!.cut(anchorLeader, coordinator, 'blackhole');
      const answer = await call;
      c.proxies!.healAll();
      const setup = `coordinator node ${coordinator}; ${from.key} (partition ${from.partition}, ` +
        `the anchor, led by node ${anchorLeader}) -> ${to.key} (partition ${to.partition}, led ` +
        `by node ${leaders.get(to.partition)}); link ${anchorLeader}->${coordinator} ` +
        `blackholed 1.4 s into the script; the script answered ${JSON.stringify(answer)}`;
      // Committed or not, atomically: both markers or neither, the total intact. The resolver
      // may take the 5 s decision deadline and a round to settle it.
      const settled = await until(settleMs, () => pairState(c, 2, from, to, id),
        (st) => st.out === st.into && st.balances[0]! + st.balances[1]! === 200);
      const st = settled.last;
      const locks = await unlockedWithin(c, [from, to], [1, 2, 3], settleMs);
      const logs = c.nodes.flatMap((n) => [`--- node ${n.id}`, ...c.logs(n.id).slice(-15)]);
      const outcome = `${setup}; ${settled.elapsedMs} ms later: balances ` +
        `${st.balances.join(',')}, out marker ${st.out}, in marker ${st.into}`;
      console.log(`[tx lost anchor reply] ${outcome}`);
      const seen = `${outcome}\n${logs.join('\n')}`;
      const bothOrNeither = st.out === st.into;
      expect({ bothOrNeither, total: st.balances[0]! + st.balances[1]! }, seen)
        .toEqual({ bothOrNeither: true, total: 200 });
      expect(st.balances, seen).toEqual(st.out ? [90, 110] : [100, 100]);
      expect(locks.problems, seen).toEqual([]);
    }, 120_000);
  // Snapshot reads (BEGIN (snapshot = T), wire.md 4.5 / kahuna-reference 5.1: "snapshot
  // isolation through MVCC with an HLC read timestamp") of two accounts on two partitions, at
  // every millisecond of one transfer between them, after it committed: each must see the
  // transfer whole or not at all (total 200).
  it('show a transfer whole or not at all to snapshot reads at any past timestamp', async () => {
    const c = await startCluster({ nodes: 3 });
    await balancedLeaders(c);
    const [from, to] = accountsOnEveryPartition(1);
    await setBalances(c, [from!, to!]);
    await sleep(50);
    const startMs = Date.now();
    const r = await runScript(c, 1, transferScript, { '@from': from!.key, '@to': to!.key,
      '@amount': '10', '@fromMark': `${from!.key}/out-1`, '@toMark': `${to!.key}/in-1` });
    const endMs = Date.now();
    expect(r.kind === 'reply' && r.json.type, JSON.stringify(r)).toBe(Kv.Set);
    await sleep(100);
    const seen = new Map<string, number[]>(); // "a,b" -> the timestamps (ms after start)
    for (let t = startMs; t <= endMs + 5; t++) {
      const read = await runScript(c, 2, `BEGIN (snapshot = ${t})\nLET a = GET @a\n` +
        'LET b = GET @b\nCOMMIT\nRETURN concat(to_str(a), ",", to_str(b))\nEND',
      { '@a': from!.key, '@b': to!.key });
      expect(read.kind === 'reply' && read.json.type, JSON.stringify(read)).toBe(Kv.Get);
      const text = read.kind === 'reply' ? unb64(read.json.values[0].value) ?? '' : '';
      seen.set(text, [...(seen.get(text) ?? []), t - startMs]);
    }
    const summary = [...seen].map(([v, ts]) => `${v} at +${ts[0]}..+${ts.at(-1)} ms ` +
      `(${ts.length} reads)`).join('; ');
    console.log(`[tx snapshot reads] ${from!.key} -> ${to!.key} 10 over ${endMs - startMs} ` +
      `ms: ${summary}`);
    expect([...seen.keys()].filter((v) => v !== '100,100' && v !== '90,110'), summary)
      .toEqual([]);
  }, 60_000);
});
