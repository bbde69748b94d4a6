// Where the CPU goes: CPU per request of every thread of every Honu node and of the load
// generator, with the node's batching counters, under a steady REST load.
//   npm run bench:threads   (= npm run build && node dist/bench/macro/threads.js)
//   node dist/bench/macro/threads.js --nodes 3 --workload set --connections 64 \
//     --warmup-ms 12000 --duration-ms 5000 --value-bytes 64
// Starts --nodes `honu server` processes (one: a single node; more: a cluster on loopback,
// started together, measured once its partition leaders are spread), or with --server etcd
// that many etcd members (bench/compare/etcd-cluster.ts; the same load as etcd JSON-gateway
// puts and linearizable ranges, so the two CPU costs per request compare), then one autocannon
// instance whose connections are handed round-robin over the nodes. Workloads: `set`
// (persistent /v1/kv/try-set) and `get` (linearizable /v1/kv/try-get over keys written
// first), keys without a bucket so they spread over every partition (with --routed, each
// connection's keys are led by the node it talks to, learned from route hints, so nothing is
// forwarded; for etcd, --routed sends every connection to the leader). After --warmup-ms (long
// enough for V8 to finish compiling: about 10 s on 2 cores), it reads each thread's CPU time
// (/proc/<pid>/task/<tid>/stat, utime + stime; .../status, context switches) and each node's
// /metrics, waits --duration-ms, reads both again, and prints per thread its share of a core,
// its microseconds of CPU and its context switches (voluntary + involuntary) per request, and
// per process its minor page faults per request (a fault costs a VM far more than a tick),
// plus per Honu node per second: doorbell wake-ups, peer envelopes and items, group commits,
// entries per commit and mean commit + fsync time. Linux only. Speed is never asserted.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon, { type Client } from 'autocannon';
import {
  etcdLeaderMember, startEtcdCluster, type EtcdMember,
} from '../compare/etcd-cluster.js';
import { keysByLeader, startHonuCluster, waitBalanced } from '../compare/honu-cluster.js';
import { installHint, stopPeer } from '../compare/peers.js';
import {
  live, postJson, startServer, stopServer, txFieldsJson, type Server,
} from './honu-server.js';

const clockTicksPerSec = 100; // USER_HZ on Linux
const keysPerConnection = 8;
const balanceWaitMs = 30_000;

interface Options {
  readonly server: 'honu' | 'etcd';
  readonly nodes: number; readonly workload: 'set' | 'get'; readonly connections: number;
  readonly warmupMs: number; readonly durationMs: number; readonly valueBytes: number;
  readonly routed: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({ options: {
    'server': { type: 'string', default: 'honu' },
    'nodes': { type: 'string', default: '3' },
    'workload': { type: 'string', default: 'set' },
    'connections': { type: 'string', default: '64' },
    'warmup-ms': { type: 'string', default: '12000' },
    'duration-ms': { type: 'string', default: '5000' },
    'value-bytes': { type: 'string', default: '64' },
    'routed': { type: 'boolean', default: false },
  } });
  const int = (name: keyof typeof values, min: number): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const workload = values.workload;
  if (workload !== 'set' && workload !== 'get') throw new Error('--workload must be set or get');
  const server = values.server;
  if (server !== 'honu' && server !== 'etcd') throw new Error('--server must be honu or etcd');
  return { server, nodes: int('nodes', 1), workload, connections: int('connections', 1),
    warmupMs: int('warmup-ms', 0), durationMs: int('duration-ms', 100),
    valueBytes: int('value-bytes', 1), routed: values.routed === true };
}

let routedKeys: string[][] | null = null;
const keyOf = (conn: number, i: number): string =>
  routedKeys?.[conn]?.[i] ?? `threads-${conn}-${i}`;

/** --routed: each connection's keys are led by the node it talks to (autocannon hands
 *  connection c to node c % nodes), as a Kahuna client with learned routing sends them. */
async function learnRoutedKeys(options: Options, nodes: readonly Server[]): Promise<void> {
  const want = Math.ceil(options.connections / nodes.length) * keysPerConnection;
  const candidates = function* (): Generator<string> {
    for (let k = 0; k < 100 * want * nodes.length; k++) yield `threads-routed-${k}`;
  };
  const pools = await keysByLeader(nodes, candidates(), want);
  if (pools.some((p) => p.length < want)) throw new Error('--routed: too few keys for a node');
  routedKeys = Array.from({ length: options.connections }, (_, c) => {
    const first = Math.floor(c / nodes.length) * keysPerConnection;
    return pools[c % nodes.length]!.slice(first, first + keysPerConnection);
  });
}

function setBody(key: string, value: string): string {
  return `{${txFieldsJson},"key":"${key}","value":"${value}","compareValue":null,` +
    '"compareRevision":0,"expiresMs":0,"flags":1,"durability":1}';
}

interface ThreadSample {
  readonly ticks: number; readonly switches: number; readonly faults: number;
}

/** tid -> CPU ticks, context switches (voluntary + involuntary) and minor page faults of every
 *  thread of `pid`. */
function threadTicks(pid: number): Map<string, ThreadSample> {
  const out = new Map<string, ThreadSample>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      let switches = 0;
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) {
        switches += Number(m[1]);
      }
      out.set(tid, {
        ticks: Number(fields[11]) + Number(fields[12]), switches, faults: Number(fields[7]),
      });
    } catch {
      // the thread ended
    }
  }
  return out;
}

const counterLine = new RegExp('^(honu_thread_wakeups_total\\{thread="(\\w+)"\\}|' +
  'honu_peer_events_total\\{event="(\\w+)"\\}|honu_writer_(batch_entries|fsync_seconds)_' +
  '(count|sum)) (\\S+)$');

/** The counters this report uses, from one scrape of /metrics. */
async function counters(server: Server): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = counterLine.exec(line);
    if (m === null) continue;
    const name = m[2] !== undefined ? `wakeups ${m[2]}` : m[3] !== undefined ? m[3] :
      `${m[4]}_${m[5]}`;
    out.set(name, Number(m[6]));
  }
  return out;
}

/** One loaded request of `workload` for connection `c`, key `i`, on `server`. */
function request(options: Options, c: number, i: number, value: string):
  { path: string; body: string; want: string } {
  if (options.server === 'etcd') {
    const key = Buffer.from(keyOf(c, i)).toString('base64');
    return options.workload === 'set'
      ? { path: '/v3/kv/put', body: `{"key":"${key}","value":"${value}"}`, want: '"header"' }
      : { path: '/v3/kv/range', body: `{"key":"${key}","serializable":false}`, want: '"kvs"' };
  }
  return options.workload === 'set'
    ? { path: '/v1/kv/try-set', body: setBody(keyOf(c, i), value), want: '"type":0' }
    : { path: '/v1/kv/try-get', want: '"type":3',
      body: `{${txFieldsJson},"key":"${keyOf(c, i)}","revision":-1,"durability":1}` };
}

async function startNodes(options: Options): Promise<void> {
  if (options.server === 'etcd') {
    const members = await startEtcdCluster(options.nodes);
    if (members === null) throw new Error(`etcd is not installed: ${installHint}`);
    etcdMembers = members;
    return;
  }
  if (options.nodes === 1) {
    honuNodes = [await startServer([])];
    return;
  }
  const started = await startHonuCluster(options.nodes);
  honuNodes = started.nodes;
  if (started.error !== null) throw started.error;
  const balance = await waitBalanced(honuNodes, balanceWaitMs);
  console.log(`leaders: ${balance.counts?.join('/') ?? 'unknown'}` +
    `${balance.balanced ? '' : ' (not balanced)'}`);
}

let honuNodes: Server[] = [];
let etcdMembers: EtcdMember[] = [];

async function main(): Promise<void> {
  const options = parseOptions();
  try {
    await startNodes(options);
    const nodes: ReadonlyArray<{ readonly pid: number; readonly port: number }> =
      options.server === 'etcd' ? etcdMembers : honuNodes;
    const value = Buffer.alloc(options.valueBytes, 7).toString('base64');
    let targets = nodes;
    if (options.routed && options.server === 'honu') await learnRoutedKeys(options, honuNodes);
    if (options.routed && options.server === 'etcd') {
      // One Raft group: the client that avoids forwarding sends everything to its leader.
      targets = [await etcdLeaderMember(etcdMembers)];
    }
    if (options.workload === 'get') {
      for (let c = 0; c < options.connections; c++) {
        for (let i = 0; i < keysPerConnection; i++) {
          if (options.server === 'etcd') {
            const key = Buffer.from(keyOf(c, i)).toString('base64');
            const res = await fetch(`http://127.0.0.1:${nodes[0]!.port}/v3/kv/put`, {
              method: 'POST', body: `{"key":"${key}","value":"${value}"}` });
            if (res.status !== 200) throw new Error(`etcd preload: http ${res.status}`);
            await res.arrayBuffer();
          } else {
            await postJson(honuNodes[0]!, '/v1/kv/try-set',
              JSON.parse(setBody(keyOf(c, i), value)));
          }
        }
      }
    }
    let conn = 0;
    let bad = 0;
    const totalMs = options.warmupMs + options.durationMs + 1000;
    const load = autocannon({
      url: targets.map((n) => `http://127.0.0.1:${n.port}`), connections: options.connections,
      duration: totalMs / 1000,
      setupClient: (client: Client) => {
        const c = conn++;
        client.setRequests(Array.from({ length: keysPerConnection }, (_, i) => {
          const { path, body, want } = request(options, c, i, value);
          return {
            method: 'POST', headers: { 'content-type': 'application/json' }, path, body,
            onResponse: (status: number, text: string) => {
              if (status !== 200 || !text.includes(want)) bad += 1;
            },
          };
        }));
      },
    });
    let done = 0;
    load.on('response', () => { done += 1; });
    await new Promise((r) => setTimeout(r, options.warmupMs));
    const pids = [...nodes.map((n) => n.pid), process.pid];
    const c0 = await Promise.all(honuNodes.map(counters));
    const t0 = pids.map(threadTicks);
    const d0 = done;
    const started = performance.now();
    await new Promise((r) => setTimeout(r, options.durationMs));
    const t1 = pids.map(threadTicks);
    const d1 = done;
    const seconds = (performance.now() - started) / 1000;
    const c1 = await Promise.all(honuNodes.map(counters));
    await load;
    const perSec = (d1 - d0) / seconds;
    console.log(`threads benchmark, node ${process.version}, ${availableParallelism()} cores, ` +
      `${options.nodes} ${options.server} node(s), ${options.workload}, ` +
      `${options.connections} connections, ` +
      `${options.warmupMs} ms warm-up, ${options.durationMs} ms window`);
    console.log(`${options.workload}: ${perSec.toFixed(0)} requests/s, ` +
      `${bad} unexpected answers over the whole run`);
    let all = 0;
    let allSwitches = 0;
    let allFaults = 0;
    pids.forEach((pid, j) => {
      const shares: string[] = [];
      let total = 0;
      let switches = 0;
      let faults = 0;
      for (const [tid, now] of t1[j]!) {
        const before = t0[j]!.get(tid) ?? { ticks: 0, switches: 0, faults: 0 };
        const core = (now.ticks - before.ticks) / clockTicksPerSec / seconds;
        const perRequest = (now.switches - before.switches) / (d1 - d0);
        total += core;
        switches += perRequest;
        faults += (now.faults - before.faults) / (d1 - d0);
        const thread = tid === String(pid) ? 'main' : tid;
        if (core >= 0.005) {
          shares.push(`${thread} ${(core * 100).toFixed(0)}% ${perRequest.toFixed(2)} cs/req`);
        }
      }
      all += total;
      allSwitches += switches;
      allFaults += faults;
      const name = j < nodes.length ? `node ${j + 1}` : 'load';
      console.log(`${name.padEnd(7)} ${(total * 100).toFixed(0).padStart(4)}% of a core, ` +
        `${(total * 1e6 / perSec).toFixed(0).padStart(4)} us/request, ` +
        `${switches.toFixed(2)} context switches/request, ${faults.toFixed(2)} page ` +
        `faults/request  [${shares.join(', ')}]`);
    });
    console.log(`all     ${(all * 100).toFixed(0).padStart(4)}%, ` +
      `${(all * 1e6 / perSec).toFixed(0)} us of CPU, ${allSwitches.toFixed(2)} context ` +
      `switches and ${allFaults.toFixed(2)} page faults per request`);
    honuNodes.forEach((_, j) => {
      const rate = (k: string): number => ((c1[j]!.get(k) ?? 0) - (c0[j]!.get(k) ?? 0)) / seconds;
      const commits = rate('batch_entries_count');
      const parts = [...c1[j]!.keys()].filter((k) => k.startsWith('wakeups '))
        .map((k) => `${k} ${rate(k).toFixed(0)}`);
      parts.push(`group commits ${commits.toFixed(0)}`,
        `entries/commit ${(rate('batch_entries_sum') / commits).toFixed(1)}`,
        `commit+fsync ms ${(1000 * rate('fsync_seconds_sum') / commits).toFixed(2)}`);
      if (options.nodes > 1) {
        for (const k of ['envelopesSent', 'envelopesReceived', 'raftItemsSent', 'requestsSent',
          'repliesSent']) parts.push(`${k} ${rate(k).toFixed(0)}`);
      }
      console.log(`node ${j + 1} per s: ${parts.join(', ')}`);
    });
  } finally {
    await Promise.all(honuNodes.map((n) => stopServer(n)));
    await Promise.all(etcdMembers.map((m) => stopPeer(m)));
    for (const child of live.children) child.kill('SIGKILL');
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
