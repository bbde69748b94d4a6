// The 3-node rows of the comparison (issue 5 item 1, issue 6's benchmark): a Honu 3-node cluster
// vs a 3-member etcd 3.4 cluster, both on loopback on this machine.
//   npm run bench:cluster   (= npm run build && node dist/bench/compare/cluster.js)
//   node dist/bench/compare/cluster.js --repeats 3 --duration-ms 3000 --warmup-ms 500 \
//     --concurrency 1,16,64 --value-bytes 64 --workloads writes,reads --balance-wait-ms 30000 \
//     --initial-warmup-ms 10000
// Starts three `honu server` processes (bench/macro/honu-server.ts, each with --node-id N and
// the same --initial-cluster over three free loopback ports, a temp data dir each, default
// --workers), waits until every node answers GET /v1/cluster/health ready and the partition
// leaders are spread over the nodes (GET /v1/cluster/routing on every node agreeing, leader
// counts differing by at most one; after --balance-wait-ms it goes on and says so), then starts
// three etcd members (bench/compare/etcd-cluster.ts). Before a workload's first row it runs
// that workload unmeasured for --initial-warmup-ms at 64 connections on both clusters
// (compare.ts warmUp: a fresh Honu node runs its first 10-30 s of load while V8 still compiles
// its hot paths). Workloads, at every --concurrency:
//   writes  Honu REST /v1/kv/try-set durability 1 vs etcd JSON gateway /v3/kv/put
//   reads   Honu REST /v1/kv/try-get revision -1 durability 1 vs etcd /v3/kv/range with
//           serializable false (linearizable), over 1024 keys preloaded through node 1
//   routed-writes, routed-reads  the same requests from clients that route, as Kahuna clients
//           with learned routing do: each Honu connection sends only keys whose partition its
//           node leads (learned before the rows from the `route` hint of a try-get through
//           node 1, wire.md 2.5), so nothing is forwarded; every etcd connection goes to the
//           etcd leader (one Raft group: the client that avoids forwarding sends all there)
// The request bodies, key patterns and answer checks are compare.ts's (honuTargets,
// etcdTargets): only the expected answer counts (Honu `type`, so MustRetry 101 is an error;
// etcd header without error, one kv for a range). Load: one autocannon instance per window on
// both sides, its HTTP/1.1 connections handed round-robin over the three nodes of the cluster
// (connection i to node list[i % 3]); the node list is rotated by one every repeat, so at
// concurrency 1 the three repeats hit node 1, 2 and 3 in turn, at 16 the nodes get 6/5/5
// connections and at 64 22/21/21. Each (workload, concurrency) alternates Honu, etcd, Honu,
// etcd ... --repeats times; a figure is the median of the repeats, throughput with min-max.
// Every process is stopped by pid at the end (SIGTERM, SIGKILL after 5 s), temp dirs removed.
// A missing etcd prints the install line and its rows are skipped. Prints a table and one JSON
// line; speed is never asserted.
import { rmSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import {
  cell, etcdTargets, warmUp, fmt, honuGetStep, honuSetStep, honuTargets, lat, preloadEtcd,
  runTarget, summarize, type HttpStep, type Measure, type Options, type Summary, type Target,
} from './compare.js';
import {
  etcdLeader, etcdLeaderMember, startEtcdCluster, type EtcdMember,
} from './etcd-cluster.js';
import {
  keysByLeader, startHonuCluster, waitBalanced, type Balance,
} from './honu-cluster.js';
import { installHint, stopPeer } from './peers.js';
import { benchValue, preloadKey, preloadKeyCount } from '../macro/kahuna-common.js';
import { live, preload, stopServer } from '../macro/honu-server.js';
import { bodiesPerConn } from './shared.js';
import type { Server } from '../macro/honu-server.js';

const workloads = ['writes', 'reads', 'routed-writes', 'routed-reads'] as const;
type Workload = (typeof workloads)[number];
const routedOf = { 'routed-writes': 'writes', 'routed-reads': 'reads' } as const;
const isRouted = (w: Workload): w is keyof typeof routedOf => w in routedOf;
const nodeCount = 3;
const targetRatio = 2; // issue 5 and issue 6: >= 2x etcd as 3-node clusters
const label: Record<Workload, string> = {
  writes: 'durable write', reads: 'linearizable read',
  'routed-writes': 'durable write, routed', 'routed-reads': 'linearizable read, routed',
};
const killGraceMs = 5_000;

interface ClusterOptions {
  readonly compare: Options;
  readonly workloads: readonly Workload[];
  readonly balanceWaitMs: number;
}

interface Row {
  readonly workload: Workload;
  readonly concurrency: number;
  readonly honu: Summary;
  readonly etcd: Summary | null;
  readonly ratio: number;
}

function parseOptions(): ClusterOptions {
  const { values } = parseArgs({
    options: {
      'repeats': { type: 'string', default: '3' },
      'duration-ms': { type: 'string', default: '3000' },
      'warmup-ms': { type: 'string', default: '500' },
      'concurrency': { type: 'string', default: '1,16,64' },
      'value-bytes': { type: 'string', default: '64' },
      'workloads': { type: 'string', default: workloads.join(',') },
      'balance-wait-ms': { type: 'string', default: '30000' },
      'initial-warmup-ms': { type: 'string', default: '10000' },
    },
  });
  const int = (text: string, what: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${what} must be an integer >= ${min}`);
    return n;
  };
  const chosen = values.workloads.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const w of chosen) {
    if (!(workloads as readonly string[]).includes(w)) {
      throw new Error(`unknown workload ${w} (known: ${workloads.join(', ')})`);
    }
  }
  const compare: Options = {
    repeats: int(values.repeats, 'repeats', 1),
    durationMs: int(values['duration-ms'], 'duration-ms', 100),
    warmupMs: int(values['warmup-ms'], 'warmup-ms', 0),
    concurrency: values.concurrency.split(',').map((s) => int(s, 'concurrency', 1)),
    valueBytes: int(values['value-bytes'], 'value-bytes', 1),
    workloads: [...new Set((chosen as Workload[]).map((w) => (isRouted(w) ? routedOf[w] : w)))],
    grpcProcs: 1, grpcWarmupMs: 0, smoke: false, // no gRPC rows here
    initialWarmupMs: int(values['initial-warmup-ms'], 'initial-warmup-ms', 0),
  };
  return { compare, workloads: chosen as Workload[],
    balanceWaitMs: int(values['balance-wait-ms'], 'balance-wait-ms', 0) };
}

function* candidateKeys(runId: string, count: number): Generator<string> {
  for (let k = 0; k < count; k++) yield `cluster-routed-${runId}-${k}`;
}

/** A routed Honu target for repeat `rep`: connection c talks to rotate(urls, rep)[c % 3], the
 *  node pools[(c % 3 + rep) % 3] is led by, and cycles over its own slice of that pool. */
function routedHonu(base: Target, urls: readonly string[], pools: readonly string[][],
  rep: number, step: (key: string) => HttpStep): Target {
  if (base.kind !== 'http') throw new Error('cluster rows are HTTP only');
  const n = urls.length;
  return { ...base, urls: rotate(urls, rep), steps: (conn) => {
    const pool = pools[(conn % n + rep) % n]!;
    const first = Math.floor(conn / n) * bodiesPerConn;
    return Array.from({ length: bodiesPerConn }, (_, i) => step(pool[(first + i) % pool.length]!));
  } };
}

const describeBalance = (b: Balance): string => (b.counts === null
  ? `unknown (nodes disagreed or did not answer after ${b.waitedMs} ms)`
  : `${b.counts.map((c, i) => `node ${i + 1}: ${c}`).join(', ')}` +
    `${b.balanced ? '' : ' (NOT balanced)'}`);

// ------------------------------------------------------------------ output

function printTable(rows: readonly Row[], options: ClusterOptions): void {
  const o = options.compare;
  console.log(`3-node cluster benchmark, node ${process.version}, ${availableParallelism()} ` +
    `cores (${cpus()[0]?.model ?? '?'}), Honu 3 nodes vs etcd 3 members on loopback, all 6 ` +
    `servers and the load generator on the same cores, ${o.repeats} repeat(s) x ` +
    `(${o.warmupMs} ms warm-up + ${o.durationMs} ms), A B alternating, medians (min-max), ` +
    `${o.valueBytes}-byte values, autocannon connections round-robin over the 3 nodes; ` +
    '"routed" rows: Honu connections send only keys their node leads (learned from route ' +
    'hints), etcd connections all go to the etcd leader; a routed row\'s Honu/etcd divides by ' +
    'the better of its etcd figure and the plain row\'s');
  console.log('| workload | conc | Honu ops/s (min-max) | Honu p50 / p99 ms | ' +
    'etcd ops/s (min-max) | etcd p50 / p99 ms | Honu/etcd | target | errors H/E |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const goal = r.etcd === null ? '-'
      : `>= ${targetRatio}x ${r.ratio >= targetRatio ? 'met' : 'not met'}`;
    console.log(`| ${label[r.workload]} | ${r.concurrency} | ${cell(r.honu)} | ${lat(r.honu)} | ` +
      `${r.etcd === null ? '-' : cell(r.etcd)} | ${r.etcd === null ? '-' : lat(r.etcd)} | ` +
      `${fmt(r.ratio, 2)} | ${goal} | ${r.honu.errors}/${r.etcd?.errors ?? '-'} |`);
  }
  for (const r of rows) {
    for (const s of [r.honu, r.etcd]) {
      if (s !== null && s.errors > 0) {
        console.log(`errors ${r.workload} c${r.concurrency} ${s.target}: ` +
          JSON.stringify(s.errorDetail));
      }
    }
  }
  console.log('targets (issue 5, issue 6), 3-node clusters:');
  for (const w of options.workloads) {
    const mine = rows.filter((r) => r.workload === w && r.etcd !== null);
    if (mine.length === 0) {
      console.log(`  ${label[w]} >= ${targetRatio}x etcd 3-node: not measured`);
      continue;
    }
    const met = mine.filter((r) => r.ratio >= targetRatio).map((r) => r.concurrency);
    const verdict = met.length === mine.length ? 'met'
      : met.length === 0 ? 'not met' : `met only at concurrency ${met.join(', ')}`;
    console.log(`  ${label[w]} >= ${targetRatio}x etcd 3-node: ${verdict} (` +
      mine.map((r) => `c${r.concurrency} ${fmt(r.ratio, 2)}x`).join(', ') + ')');
  }
}

// ------------------------------------------------------------------ main

const rotate = <T>(xs: readonly T[], by: number): T[] =>
  xs.map((_, i) => xs[(i + by) % xs.length]!);

/** Whatever is still alive in `live` (a start that failed half-way): SIGTERM, then SIGKILL. */
async function sweepLive(): Promise<number> {
  const left = [...live.children].filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of left) if (c.pid !== undefined) process.kill(c.pid, 'SIGTERM');
  const until = Date.now() + killGraceMs;
  while (left.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const c of left) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      process.kill(c.pid, 'SIGKILL');
    }
  }
  for (const dir of live.dataDirs) rmSync(dir, { recursive: true, force: true });
  live.dataDirs.clear();
  return left.length;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const o = options.compare;
  const runId = Date.now().toString(36);
  const startedAt = Date.now();
  const rows: Row[] = [];
  const stops: Record<string, string> = {};
  const problems: Record<string, string[]> = {};
  const notes: Record<string, string> = {};
  let nodes: Server[] = [];
  let etcd: EtcdMember[] | null = null;
  let failure: unknown = null;
  try {
    const honu = await startHonuCluster(nodeCount);
    nodes = honu.nodes;
    if (honu.error !== null) throw honu.error;
    const before = await waitBalanced(nodes, options.balanceWaitMs);
    notes['honu leaders before'] = `${describeBalance(before)}, waited ${before.waitedMs} ms ` +
      'after every node was ready';
    process.stderr.write(`honu leaders: ${notes['honu leaders before']}\n`);
    etcd = await startEtcdCluster(nodeCount);
    if (etcd === null) {
      console.log(`etcd is not installed: its rows are skipped (install: ${installHint})`);
    } else {
      notes['etcd leader before'] = await etcdLeader(etcd);
    }
    if (options.workloads.includes('reads') || options.workloads.includes('routed-reads')) {
      await preload(nodes[0]!, 1, o.valueBytes);
      if (etcd !== null) await preloadEtcd(etcd[0]!, o.valueBytes);
    }
    const honuT = honuTargets(nodes[0]!, o.valueBytes);
    const etcdT = etcd === null ? null : etcdTargets(etcd[0]!, o.valueBytes);
    const honuUrls = nodes.map((n) => `http://127.0.0.1:${n.port}`);
    const etcdUrls = (etcd ?? []).map((m) => `http://127.0.0.1:${m.port}`);
    const spread = (t: Target, urls: readonly string[], rep: number): Target => {
      if (t.kind !== 'http') throw new Error('cluster rows are HTTP only');
      return { ...t, urls: rotate(urls, rep) };
    };
    // Routed rows: Honu keys by partition leader, etcd all to its leader.
    const value = benchValue(o.valueBytes).toString('base64');
    let writePools: string[][] | null = null;
    let readPools: string[][] | null = null;
    if (options.workloads.includes('routed-writes')) {
      const want = Math.ceil(Math.max(...o.concurrency) / nodeCount) * bodiesPerConn;
      writePools = await keysByLeader(nodes, candidateKeys(runId, 50 * want), want);
      if (writePools.some((p) => p.length < want)) {
        throw new Error('routed-writes: too few keys for some node');
      }
    }
    if (options.workloads.includes('routed-reads')) {
      const preloaded = Array.from({ length: preloadKeyCount }, (_, i) => preloadKey(1, i));
      readPools = await keysByLeader(nodes, preloaded, preloadKeyCount);
      if (readPools.some((p) => p.length === 0)) {
        throw new Error('routed-reads: some node leads no preloaded key');
      }
    }
    // Looked up only for routed rows: a plain run tolerates an etcd that names no leader.
    const leaderMember = etcd === null || !options.workloads.some(isRouted) ? null
      : await etcdLeaderMember(etcd);
    const etcdLeaderUrl = `http://127.0.0.1:${leaderMember?.port ?? 0}`;
    const honuOf = (w: Workload, rep: number): Target => {
      if (!isRouted(w)) return spread(honuT[w], honuUrls, rep);
      return w === 'routed-writes'
        ? routedHonu(honuT.writes, honuUrls, writePools!, rep, (k) => honuSetStep(k, value))
        : routedHonu(honuT.reads, honuUrls, readPools!, rep, honuGetStep);
    };
    const etcdOf = (w: Workload, rep: number): Target | null => {
      if (etcdT === null) return null;
      if (!isRouted(w)) return spread(etcdT[w], etcdUrls, rep);
      return spread(etcdT[routedOf[w]], [etcdLeaderUrl], 0);
    };
    for (const w of options.workloads) {
      const e = etcdOf(w, 0);
      await warmUp([honuOf(w, 0), ...(e === null ? [] : [e])], o, `${runId}-${w}-w`);
    }
    for (const w of options.workloads) {
      for (const c of o.concurrency) {
        const honuRuns: Measure[] = [];
        const etcdRuns: Measure[] = [];
        for (let rep = 0; rep < o.repeats; rep += 1) {
          const gone = [...nodes, ...(etcd ?? [])].find((p) => p.exit !== null);
          if (gone !== undefined) throw new Error('a server process is gone; stopping');
          const tag = `${runId}-c${w}-${c}-${rep}`;
          honuRuns.push(await runTarget(honuOf(w, rep), c, o, tag));
          const e = etcdOf(w, rep);
          if (e !== null) etcdRuns.push(await runTarget(e, c, o, tag));
        }
        const h = summarize('Honu', honuRuns);
        const e = etcdT === null ? null : summarize('etcd', etcdRuns);
        // A routed row divides by the better of etcd's two ways (its leader, or spread) when
        // the plain row at this concurrency was measured too.
        const plain = isRouted(w) ? rows.find((r) => r.workload === routedOf[w] &&
          r.concurrency === c && r.etcd !== null) : undefined;
        const etcdBest = Math.max(e?.opsPerSec ?? Number.NaN, plain?.etcd?.opsPerSec ?? 0);
        rows.push({ workload: w, concurrency: c, honu: h, etcd: e,
          ratio: e === null ? Number.NaN : h.opsPerSec / etcdBest });
        process.stderr.write(`done ${w} c${c}: Honu ${fmt(h.opsPerSec)}/s` +
          `${e === null ? '' : `, etcd ${fmt(e.opsPerSec)}/s`}\n`);
      }
    }
    const after = await waitBalanced(nodes, 0);
    notes['honu leaders after'] = describeBalance(after);
    if (etcd !== null) notes['etcd leader after'] = await etcdLeader(etcd);
  } catch (e) {
    failure = e;
  } finally {
    for (const m of etcd ?? []) {
      stops[m.memberName] = await stopPeer(m);
      if (m.problems.length > 0) problems[m.memberName] = m.problems;
    }
    for (const [i, n] of nodes.entries()) {
      stops[`honu-${i + 1}`] = (await stopServer(n)).how;
      if (n.problemCount > 0) {
        problems[`honu-${i + 1}`] = [`${n.problemCount} line(s)`, ...n.problems.map((p) => p.text)];
      }
    }
    const swept = await sweepLive();
    if (swept > 0) stops['left over'] = `${swept} process(es) SIGTERM/SIGKILL`;
  }
  printTable(rows, options);
  for (const [k, v] of Object.entries(notes)) console.log(`${k}: ${v}`);
  console.log(`stopped: ${Object.entries(stops).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  for (const [name, lines] of Object.entries(problems)) {
    console.log(`${name}: ${lines.length} problem line(s): ${lines.slice(0, 5).join(' | ')}`);
  }
  console.log(`elapsed ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  console.log(JSON.stringify({ bench: 'compare-cluster', node: process.version,
    cores: availableParallelism(), options: { ...o, balanceWaitMs: options.balanceWaitMs },
    notes, stops, problems,
    rows: rows.map((r) => ({ ...r, honu: { ...r.honu, runs: r.honu.runs.length },
      etcd: r.etcd === null ? null : { ...r.etcd, runs: r.etcd.runs.length } })) }));
  if (failure !== null) throw failure;
}

process.once('SIGINT', () => {
  for (const child of live.children) {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }
  for (const dir of live.dataDirs) rmSync(dir, { recursive: true, force: true });
  process.exit(130);
});

try {
  await main();
} catch (e) {
  process.stderr.write(`cluster bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
