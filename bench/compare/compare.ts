// Honu side by side with etcd and Redis on this machine (issue 5), single node only.
//   npm run bench:compare   (= npm run build && node dist/bench/compare/compare.js)
//   npm run bench:smoke     (= the same with --smoke: 1 repeat, 500 ms windows, < 1 minute; only
//                           the first four workloads unless --workloads names others)
//   node dist/bench/compare/compare.js --repeats 3 --duration-ms 3000 --warmup-ms 500 \
//     --initial-warmup-ms 10000 --concurrency 1,16,64 --value-bytes 64 --grpc-procs 2 \
//     --grpc-warmup-ms 2000 \
//     --workloads writes,reads,locks,counters,grpc-writes,grpc-reads,persistent-locks,\
//     txn-counters,grpc-persistent-locks,grpc-counters
// Starts one fresh `honu server` (bench/macro/honu-server.ts), etcd 3.4 (one member), redis-server
// (no RDB/AOF), a bare node:http server answering a constant body and, for grpc-reads, a bare
// grpc-js server answering a constant reply, all on free loopback ports with data in temp dirs;
// stops each by pid at the end. A missing peer binary is reported with its install command and
// its rows are skipped. Workloads, each at every --concurrency:
//   writes    Honu REST persistent try-set vs etcd JSON gateway /v3/kv/put (both autocannon)
//   reads     Honu REST persistent try-get vs etcd /v3/kv/range (serializable=false, i.e.
//             linearizable), and vs the bare node:http ceiling (both autocannon)
//   locks     Honu REST ephemeral try-lock + try-unlock vs Redis SET NX PX + EVAL compare-and-
//             delete (pairs/s; Redis through bench/compare/resp.ts, one command in flight per
//             connection, no pipelining)
//   counters  Honu REST sequence reserve count 1 (persistent sequence) vs Redis INCR
//   grpc-writes  Honu gRPC KeyValuer TrySetKeyValue persistent vs etcd gRPC KV.Put
//   grpc-reads   Honu gRPC TryGetKeyValue persistent vs etcd gRPC KV.Range (linearizable), and
//                vs the bare grpc-js ceiling (bench/compare/bare-grpc.ts); gRPC rows: processes
//                of grpc-compare-load.ts, the same grpc-js + proto-loader client on both sides
//   persistent-locks  Honu REST try-lock + try-unlock durability 1 vs etcd JSON gateway
//                lease grant + txn (create if absent, on the lease) + lease revoke (pairs/s)
//   txn-counters Honu REST sequence reserve count 1 vs an etcd key incremented by JSON gateway
//                txn (mod_revision == last seen: put value+1, else range and retry)
//   grpc-persistent-locks  Honu gRPC Locker TryLock + Unlock durability 1 vs etcd gRPC
//                Lease.LeaseGrant + KV.Txn (create if absent, on the lease) + Lease.LeaseRevoke
//                (pairs/s)
//   grpc-counters  Honu gRPC Sequencer ReserveSequenceRange count 1 (persistent sequence) vs
//                etcd gRPC KV.Txn compare-and-increment of one key (as txn-counters)
// Concurrency = HTTP/1.1 connections (autocannon, no pipelining), RESP connections, each with
// one request outstanding, or gRPC unary calls in flight over --grpc-procs processes (one h2c
// channel each). Writes reuse 32 keys per connection or slot (rewritten every pass), reads
// cycle over 1024 preloaded keys. Before a workload's first row, each of its targets (Honu and
// the peers) runs that workload unmeasured for --initial-warmup-ms (default 10 s, 0 with
// --smoke) at 64 connections, so the rows compare warm services (warmUp below). Each
// (workload, concurrency) runs its targets alternately,
// A B A B, --repeats times; a figure is the median of the repeats, with min-max of the
// throughput. Only the expected answer counts (Honu `type`, etcd header without error / one kv /
// txn succeeded, Redis +OK / :1 / integer); anything else is listed as an error, except a lost
// etcd counter compare, which is retried and reported as retries. Latency is per call, over every
// reply of the measured window. The 3-node rows of issue 5 (writes and reads vs a 3-node etcd)
// are bench/compare/cluster.ts. Prints a table and one JSON line; speed is never asserted.
import { realpathSync, rmSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { Client, Request } from 'autocannon';
import {
  benchValue, countError, errorCount, LatencySamples, lockOwner, lockResource,
  mergedPercentiles, newTally, preloadKey, preloadKeyCount, sequenceName,
} from '../macro/kahuna-common.js';
import type { Tally } from '../macro/kahuna-common.js';
import {
  createSequence, live, preload, startServer, stopServer, txFieldsJson,
} from '../macro/honu-server.js';
import type { Server } from '../macro/honu-server.js';
import {
  installHint, startBareGrpc, startBareHttp, startEtcd, startRedis, stopPeer, type Peer,
} from './peers.js';
import { loadHonuKeyValuer, rawUnary } from './grpc-protos.js';
import { runGrpcWindow } from './grpc-run.js';
import { respCommand, RespClient, RespError, type RespValue } from './resp.js';
import { bodiesPerConn, getIndex, writeKey, type GrpcCompareScenario } from './shared.js';

const workloadNames = [
  'writes', 'reads', 'locks', 'counters',
  'grpc-writes', 'grpc-reads', 'persistent-locks', 'txn-counters',
  'grpc-persistent-locks', 'grpc-counters',
] as const;
type WorkloadName = (typeof workloadNames)[number];
/** What --smoke runs unless --workloads says otherwise (the rest would take it past a minute). */
const smokeWorkloads: readonly WorkloadName[] = ['writes', 'reads', 'locks', 'counters'];
const restTimeoutSec = 10;
const lockPx = 30_000;
const redisCounter = 'bench-counter';
const etcdCounter = 'bench-counter';
/** An HTTP step answer that is neither an error nor a counted op: a lost compare, tried again. */
const retry = 'retry';

export interface Options {
  readonly repeats: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly concurrency: readonly number[];
  readonly valueBytes: number;
  readonly workloads: readonly WorkloadName[];
  readonly grpcProcs: number;
  /** The warm-up of a gRPC window: its load processes are new, and a cold grpc-js client runs
   *  at about half speed for its first second or two. */
  readonly grpcWarmupMs: number;
  /** Before a workload's first row, each of its targets runs this long unmeasured at
   *  warmUpConnections (0: none). A fresh Honu node runs its first ~10-30 s of load while V8
   *  still compiles its hot paths (TurboFan was 10% of all CPU 17 s into a 3-node load, 3%
   *  after 47 s); the peers get the same load, so every row measures services already warm. */
  readonly initialWarmupMs: number;
  readonly smoke: boolean;
}

const warmUpConnections = 64;

/** The unmeasured initial load of Options.initialWarmupMs on each target in turn. */
export async function warmUp(targets: readonly Target[], options: Options, tag: string):
Promise<void> {
  if (options.initialWarmupMs === 0) return;
  const warm: Options = { ...options, warmupMs: 0, durationMs: options.initialWarmupMs };
  for (const t of targets) await runTarget(t, warmUpConnections, warm, tag);
  process.stderr.write(`warmed up: ${options.initialWarmupMs} ms of load on ` +
    `${targets.map((t) => t.name).join(', ')} at ${warmUpConnections} connections, ` +
    'not measured\n');
}

/** One measured window of one target. */
export interface Measure {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: Record<string, number>;
  /** Answers that asked for a retry (etcd txn counter: the compare lost to another writer). */
  readonly retries: number;
}

interface Phase {
  tally: Tally;
  latency: LatencySamples;
  retries: number;
}

/** One request of a connection's loop and how to tell its expected answer: null, an error
 *  label, or `retry`. `build`, when present, makes the body from what earlier answers of this
 *  pass left in `context` (autocannon's per-connection context, reset at step 0). */
export interface HttpStep {
  readonly path: string;
  readonly body: string;
  readonly build?: (context: Record<string, unknown>) => string;
  readonly ok: (status: number, body: string, context: Record<string, unknown>) => string | null;
}
interface RespStep {
  readonly command: Buffer;
  readonly ok: (reply: RespValue) => string | null;
}

/** A load against one target: HTTP via autocannon, RESP via resp.ts or gRPC via processes of
 *  grpc-compare-load.ts. `pair`: a connection's whole step list is one counted operation;
 *  `call`: every step is one. */
export type Target =
  | { readonly name: string; readonly kind: 'http'; readonly port: number;
    readonly unit: 'call' | 'pair'; readonly steps: (conn: number, tag: string) => HttpStep[];
    /** Several servers: autocannon gives connection i urls[i % n] (default: 127.0.0.1:port). */
    readonly urls?: readonly string[] }
  | { readonly name: string; readonly kind: 'resp'; readonly port: number;
    readonly unit: 'call' | 'pair'; readonly steps: (conn: number, tag: string) => RespStep[] }
  | { readonly name: string; readonly kind: 'grpc'; readonly port: number;
    readonly unit: 'call' | 'pair'; readonly scenario: GrpcCompareScenario };

// ------------------------------------------------------------------ load runners

const httpHeaders = { 'content-type': 'application/json', 'accept': 'application/json' };

async function httpWindow(target: Extract<Target, { kind: 'http' }>, connections: number,
  durationMs: number, tag: string, phase: Phase): Promise<number> {
  let conn = 0;
  const instance = autocannon({
    url: target.urls === undefined ? `http://127.0.0.1:${target.port}` : [...target.urls],
    connections, duration: durationMs / 1000,
    timeout: restTimeoutSec,
    setupClient: (client: Client) => {
      const steps = target.steps(conn, tag);
      conn += 1;
      const last = steps.length - 1;
      client.setRequests(steps.map((step, i): Request => ({
        method: 'POST', path: step.path, headers: httpHeaders, body: step.body,
        ...(step.build === undefined ? {} : {
          setupRequest: (request, context) => ({ ...request, body: step.build!(context) }),
        }),
        onResponse: (status, text, context) => {
          phase.tally.calls += 1;
          const error = step.ok(status, text, context);
          if (error === retry) {
            phase.retries += 1;
            return;
          }
          if (error !== null) countError(phase.tally, error);
          if (target.unit === 'call') {
            if (error === null) phase.tally.ops += 1;
            return;
          }
          // pair: the context lives for one pass over the steps (reset at entry 0)
          const passOk = (i === 0 || context['ok'] === true) && error === null;
          context['ok'] = passOk;
          if (i === last && passOk) phase.tally.ops += 1;
        },
      })));
    },
  });
  instance.on('response', (_c: unknown, _s: number, _b: number, ms: number) => {
    phase.latency.add(ms);
  });
  const result = await instance;
  if (result.errors > 0) {
    phase.tally.errors[`connection errors (${result.timeouts} timeouts)`] = result.errors;
  }
  return result.duration;
}

async function runHttp(target: Extract<Target, { kind: 'http' }>, connections: number,
  options: Options, tag: string): Promise<Measure> {
  if (options.warmupMs > 0) {
    await httpWindow(target, connections, options.warmupMs, `${tag}w`,
      { tally: newTally(), latency: new LatencySamples(1), retries: 0 });
  }
  const phase: Phase = { tally: newTally(), latency: new LatencySamples(), retries: 0 };
  const seconds = await httpWindow(target, connections, options.durationMs, tag, phase);
  const [p50, p99] = mergedPercentiles([phase.latency.toJSON()], [0.5, 0.99]);
  return { opsPerSec: phase.tally.ops / seconds, p50Ms: p50 ?? Number.NaN,
    p99Ms: p99 ?? Number.NaN, errors: phase.tally.errors, retries: phase.retries };
}

/** RESP load: `connections` clients each loop over their steps, one command in flight; a call
 *  counts when it completes inside the measured window (after the warm-up). */
async function runResp(target: Extract<Target, { kind: 'resp' }>, connections: number,
  options: Options, tag: string): Promise<Measure> {
  const clients = await Promise.all(
    Array.from({ length: connections }, () => RespClient.open(target.port)));
  const tally = newTally();
  const latency = new LatencySamples();
  const start = performance.now();
  const measureStart = start + options.warmupMs;
  const measureEnd = measureStart + options.durationMs;
  const loop = async (client: RespClient, conn: number): Promise<void> => {
    const steps = target.steps(conn, tag);
    let passOk = true;
    for (let i = 0; ; i = (i + 1) % steps.length) {
      const step = steps[i]!;
      const callStart = performance.now();
      if (callStart >= measureEnd) return;
      let error: string | null;
      try {
        error = step.ok(await client.call(step.command));
      } catch (e) {
        error = `error ${e instanceof Error ? e.message : String(e)}`;
      }
      const end = performance.now();
      if (i === 0) passOk = true;
      passOk &&= error === null;
      if (end < measureStart || end >= measureEnd) continue;
      tally.calls += 1;
      latency.add(end - callStart);
      if (error !== null) countError(tally, error);
      if (target.unit === 'call' ? error === null : i === steps.length - 1 && passOk) {
        tally.ops += 1;
      }
      if (error !== null && error.startsWith('error ')) return; // connection gone
    }
  };
  try {
    await Promise.all(clients.map((c, conn) => loop(c, conn)));
  } finally {
    for (const c of clients) c.close();
  }
  const [p50, p99] = mergedPercentiles([latency.toJSON()], [0.5, 0.99]);
  return { opsPerSec: tally.ops / (options.durationMs / 1000), p50Ms: p50 ?? Number.NaN,
    p99Ms: p99 ?? Number.NaN, errors: tally.errors, retries: 0 };
}

/** gRPC load: `connections` unary calls in flight, split over --grpc-procs processes (a pair
 *  scenario's unit is fixed by grpc-compare-load.ts, shared.ts grpcPairScenarios). */
async function runGrpc(target: Extract<Target, { kind: 'grpc' }>, connections: number,
  options: Options, tag: string): Promise<Measure> {
  const m = await runGrpcWindow({
    port: target.port, scenario: target.scenario, inFlight: connections,
    procs: options.grpcProcs, warmupMs: options.grpcWarmupMs, durationMs: options.durationMs,
    runTag: tag, valueBytes: options.valueBytes,
  });
  return { opsPerSec: m.opsPerSec, p50Ms: m.p50Ms, p99Ms: m.p99Ms, errors: m.errors,
    retries: m.retries };
}

export function runTarget(target: Target, connections: number, options: Options,
  tag: string): Promise<Measure> {
  switch (target.kind) {
    case 'http': return runHttp(target, connections, options, tag);
    case 'resp': return runResp(target, connections, options, tag);
    case 'grpc': return runGrpc(target, connections, options, tag);
  }
}

// ------------------------------------------------------------------ targets

const typeMember = /"type":(-?\d+)/;
function honuType(kind: string, expected: number) {
  return (status: number, body: string): string | null => {
    if (status !== 200) return `${kind} http ${status}`;
    const m = typeMember.exec(body);
    if (m === null) return `${kind} unparsable body`;
    return Number(m[1]) === expected ? null : `${kind} type ${m[1]}`;
  };
}
function etcdOk(kind: string, needKvs: boolean) {
  return (status: number, body: string): string | null => {
    if (status !== 200) return `${kind} http ${status}`;
    if (!body.includes('"header"') || body.includes('"error"')) return `${kind} error body`;
    if (needKvs && !body.includes('"kvs"')) return `${kind} no kvs`;
    return null;
  };
}
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** A persistent set of `key` to `value` (base64), expecting Set. */
export function honuSetStep(key: string, value: string): HttpStep {
  return { path: '/v1/kv/try-set', ok: honuType('set', 0),
    body: `{${txFieldsJson},"key":"${key}","value":"${value}","compareValue":null,` +
      '"compareRevision":0,"expiresMs":0,"flags":1,"durability":1}' };
}

/** A linearizable get of `key` (written before), expecting Get. */
export function honuGetStep(key: string): HttpStep {
  return { path: '/v1/kv/try-get', ok: honuType('get', 3),
    body: `{${txFieldsJson},"key":"${key}","revision":-1,` +
      '"readTimestamp":{"n":0,"l":0,"c":0},"durability":1}' };
}

export function honuTargets(server: Server, valueBytes: number): Record<WorkloadName, Target> {
  const value = benchValue(valueBytes).toString('base64');
  const writes: Target = { name: 'Honu', kind: 'http', port: server.port, unit: 'call',
    steps: (conn, tag) => Array.from({ length: bodiesPerConn },
      (_, i) => honuSetStep(writeKey(tag, conn, i), value)) };
  const reads: Target = { name: 'Honu', kind: 'http', port: server.port, unit: 'call',
    steps: (conn) => Array.from({ length: bodiesPerConn },
      (_, i) => honuGetStep(preloadKey(1, getIndex(conn, i)))) };
  const locks: Target = { name: 'Honu', kind: 'http', port: server.port, unit: 'pair',
    steps: (conn, tag) => {
      const resource = JSON.stringify(lockResource(`${tag}-honu`, conn));
      const owner = lockOwner(`${tag}-honu`, conn).toString('base64');
      return [
        { path: '/v1/locks/try-lock', ok: honuType('lock', 0),
          body: `{"resource":${resource},"owner":"${owner}","expiresMs":${lockPx},` +
            '"durability":0}' },
        { path: '/v1/locks/try-unlock', ok: honuType('unlock', 3),
          body: `{"resource":${resource},"owner":"${owner}","durability":0}` },
      ];
    } };
  const counters: Target = { name: 'Honu', kind: 'http', port: server.port, unit: 'call',
    steps: () => [{ path: '/v1/sequences/reserve', ok: honuType('reserve', 0),
      body: `{"name":"${sequenceName}","count":1,"idempotencyKey":null,"durability":1}` }] };
  const persistentLocks: Target = { name: 'Honu', kind: 'http', port: server.port, unit: 'pair',
    steps: (conn, tag) => {
      const resource = JSON.stringify(lockResource(`${tag}-honu`, conn));
      const owner = lockOwner(`${tag}-honu`, conn).toString('base64');
      return [
        { path: '/v1/locks/try-lock', ok: honuType('lock', 0),
          body: `{"resource":${resource},"owner":"${owner}","expiresMs":${lockPx},` +
            '"durability":1}' },
        { path: '/v1/locks/try-unlock', ok: honuType('unlock', 3),
          body: `{"resource":${resource},"owner":"${owner}","durability":1}` },
      ];
    } };
  const grpc = (scenario: GrpcCompareScenario, unit: 'call' | 'pair' = 'call'): Target =>
    ({ name: 'Honu', kind: 'grpc', port: server.port, unit, scenario });
  return { writes, reads, locks, counters, 'grpc-writes': grpc('honu-set'),
    'grpc-reads': grpc('honu-get'), 'persistent-locks': persistentLocks,
    'txn-counters': counters, 'grpc-persistent-locks': grpc('honu-lock', 'pair'),
    'grpc-counters': grpc('honu-reserve') };
}

export function etcdTargets(etcd: Peer, valueBytes: number) {
  const value = b64(benchValue(valueBytes));
  const writes: Target = { name: 'etcd', kind: 'http', port: etcd.port, unit: 'call',
    steps: (conn, tag) => Array.from({ length: bodiesPerConn }, (_, i) => ({
      path: '/v3/kv/put', ok: etcdOk('put', false),
      body: `{"key":"${b64(writeKey(tag, conn, i))}","value":"${value}"}`,
    })) };
  const reads: Target = { name: 'etcd', kind: 'http', port: etcd.port, unit: 'call',
    steps: (conn) => Array.from({ length: bodiesPerConn }, (_, i) => ({
      path: '/v3/kv/range', ok: etcdOk('range', true),
      body: `{"key":"${b64(preloadKey(1, getIndex(conn, i)))}","serializable":false}`,
    })) };
  const grpc = (scenario: GrpcCompareScenario, unit: 'call' | 'pair' = 'call'): Target =>
    ({ name: 'etcd', kind: 'grpc', port: etcd.port, unit, scenario });
  return { writes, reads, grpcWrites: grpc('etcd-put'), grpcReads: grpc('etcd-range'),
    locks: etcdLocks(etcd), counters: etcdTxnCounter(etcd),
    grpcLocks: grpc('etcd-lock', 'pair'), grpcCounters: grpc('etcd-txn-counter') };
}

// The etcd JSON gateway (etcd 3.4) writes int64 as strings and the proto field names as they are
// (snake_case); a false bool or an empty list is left out. Bodies are small: JSON.parse is fine.
interface EtcdHeader { readonly header?: { readonly revision?: string } }
interface EtcdKv { readonly mod_revision?: string; readonly value?: string }
interface EtcdTxnReply extends EtcdHeader {
  readonly succeeded?: boolean;
  readonly responses?: ReadonlyArray<{ readonly response_range?: { readonly kvs?: EtcdKv[] } }>;
}
function etcdJson<T>(kind: string, status: number, body: string): T | string {
  if (status !== 200) return `${kind} http ${status}`;
  try {
    const reply = JSON.parse(body) as T & EtcdHeader & { error?: unknown };
    if (reply.header === undefined || reply.error !== undefined) return `${kind} error body`;
    return reply;
  } catch {
    return `${kind} unparsable body`;
  }
}

/** etcd's lock with an expiry, the way a client builds it from the v3 primitives: a lease per
 *  lock (30 s TTL, Honu's expiresMs), a Txn that puts the key attached to the lease only if the
 *  key does not exist (create_revision == 0), and LeaseRevoke to release, which deletes the keys
 *  attached to the lease. Three calls per pair, all through Raft and fsynced. */
function etcdLocks(etcd: Peer): Target {
  const ttl = String(lockPx / 1000);
  return { name: 'etcd', kind: 'http', port: etcd.port, unit: 'pair',
    steps: (conn, tag) => {
      const key = b64(lockResource(`${tag}-etcd`, conn));
      const owner = b64(lockOwner(`${tag}-etcd`, conn));
      const lease = (context: Record<string, unknown>): string =>
        typeof context['lease'] === 'string' ? context['lease'] : '0';
      return [
        { path: '/v3/lease/grant', body: `{"TTL":"${ttl}"}`,
          ok: (status, body, context) => {
            const reply = etcdJson<{ ID?: string }>('grant', status, body);
            if (typeof reply === 'string') return reply;
            if (reply.ID === undefined) return 'grant no ID';
            context['lease'] = reply.ID;
            return null;
          } },
        { path: '/v3/kv/txn', body: '',
          build: (context) => '{"compare":[{"result":"EQUAL","target":"CREATE",' +
            `"key":"${key}","create_revision":"0"}],"success":[{"request_put":{"key":"${key}",` +
            `"value":"${owner}","lease":"${lease(context)}"}}]}`,
          ok: (status, body) => {
            const reply = etcdJson<EtcdTxnReply>('txn', status, body);
            if (typeof reply === 'string') return reply;
            return reply.succeeded === true ? null : 'txn lock held';
          } },
        { path: '/v3/lease/revoke', body: '',
          build: (context) => `{"ID":"${lease(context)}"}`,
          ok: (status, body) => {
            const reply = etcdJson<EtcdHeader>('revoke', status, body);
            return typeof reply === 'string' ? reply : null;
          } },
      ];
    } };
}

/** A counter in one etcd key, incremented the optimistic way: Txn(mod_revision == the revision
 *  this connection last saw) put value+1, else range the key; a lost compare is retried with what
 *  the failure branch read (counted under retries, not as an error). A connection starts knowing
 *  nothing, so its first attempt is a retry. One counted op = one increment that committed. */
function etcdTxnCounter(etcd: Peer): Target {
  const key = b64(etcdCounter);
  return { name: 'etcd', kind: 'http', port: etcd.port, unit: 'call',
    steps: () => {
      let modRevision = '-1';
      let value = 0;
      return [{ path: '/v3/kv/txn', body: '',
        build: () => '{"compare":[{"result":"EQUAL","target":"MOD",' +
          `"key":"${key}","mod_revision":"${modRevision}"}],"success":[{"request_put":` +
          `{"key":"${key}","value":"${b64(String(value + 1))}"}}],` +
          `"failure":[{"request_range":{"key":"${key}"}}]}`,
        ok: (status, body) => {
          const reply = etcdJson<EtcdTxnReply>('txn', status, body);
          if (typeof reply === 'string') return reply;
          if (reply.succeeded === true) {
            const revision = reply.header?.revision;
            if (revision === undefined) return 'txn no revision';
            modRevision = revision;
            value += 1;
            return null;
          }
          const kv = reply.responses?.[0]?.response_range?.kvs?.[0];
          modRevision = kv?.mod_revision ?? '0'; // no key yet: mod_revision 0 matches
          value = kv?.value === undefined ? 0 : Number(Buffer.from(kv.value, 'base64').toString());
          return Number.isInteger(value) ? retry : 'txn counter not a number';
        } }];
    } };
}

export async function preloadEtcd(etcd: Peer, valueBytes: number): Promise<void> {
  const value = b64(benchValue(valueBytes));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < preloadKeyCount) {
      const key = preloadKey(1, next);
      next += 1;
      const res = await fetch(`http://127.0.0.1:${etcd.port}/v3/kv/put`, {
        method: 'POST', body: JSON.stringify({ key: b64(key), value }),
      });
      if (res.status !== 200) throw new Error(`etcd preload ${key}: HTTP ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

const compareAndDelete = "if redis.call('get', KEYS[1]) == ARGV[1] then " +
  "return redis.call('del', KEYS[1]) else return 0 end";

function redisTargets(redis: Peer) {
  const locks: Target = { name: 'Redis', kind: 'resp', port: redis.port, unit: 'pair',
    steps: (conn, tag) => {
      const resource = lockResource(`${tag}-redis`, conn);
      const owner = lockOwner(`${tag}-redis`, conn);
      return [
        { command: respCommand('SET', resource, owner, 'NX', 'PX', String(lockPx)),
          ok: (r) => (r === 'OK' ? null : `SET NX ${describe(r)}`) },
        { command: respCommand('EVAL', compareAndDelete, '1', resource, owner),
          ok: (r) => (r === 1 ? null : `EVAL release ${describe(r)}`) },
      ];
    } };
  const counters: Target = { name: 'Redis', kind: 'resp', port: redis.port, unit: 'call',
    steps: () => [{ command: respCommand('INCR', redisCounter),
      ok: (r) => (typeof r === 'number' ? null : `INCR ${describe(r)}`) }] };
  return { locks, counters };
}

function describe(r: RespValue): string {
  if (r instanceof RespError) return `error ${r.message.slice(0, 40)}`;
  if (r === null) return 'nil';
  if (Buffer.isBuffer(r)) return 'bulk';
  return Array.isArray(r) ? 'array' : String(r);
}

// ------------------------------------------------------------------ statistics and output

export interface Summary {
  readonly target: string;
  readonly opsPerSec: number;
  readonly opsMin: number;
  readonly opsMax: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly errorDetail: Record<string, number>;
  /** Retried answers over all runs (etcd txn counter), not counted as ops or errors. */
  readonly retries: number;
  readonly runs: readonly Measure[];
}

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(target: string, runs: readonly Measure[]): Summary {
  const ops = runs.map((r) => r.opsPerSec);
  const errorDetail: Record<string, number> = {};
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.errors)) errorDetail[k] = (errorDetail[k] ?? 0) + v;
  }
  return {
    target, opsPerSec: median(ops), opsMin: Math.min(...ops), opsMax: Math.max(...ops),
    p50Ms: median(runs.map((r) => r.p50Ms)), p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: errorCount(errorDetail), errorDetail,
    retries: runs.reduce((n, r) => n + r.retries, 0), runs,
  };
}

interface Row {
  readonly workload: string;
  readonly unit: 'call' | 'pair';
  readonly concurrency: number;
  readonly honu: Summary;
  readonly peer: Summary;
  readonly ratio: number;
  readonly target: number;
}

const workloadLabel: Record<string, string> = {
  'writes': 'durable write', 'reads': 'linearizable read', 'ceiling': 'REST ceiling',
  'locks': 'ephemeral lock+unlock', 'counters': 'counter',
  'grpc-writes': 'gRPC durable write', 'grpc-reads': 'gRPC linearizable read',
  'grpc-ceiling': 'gRPC ceiling', 'persistent-locks': 'persistent lock+unlock',
  'txn-counters': 'counter (etcd txn)',
  'grpc-persistent-locks': 'gRPC persistent lock+unlock',
  'grpc-counters': 'gRPC counter (etcd txn)',
};
/** Issue 5's goals as Honu/peer; NaN: no goal, the ratio is only reported. */
const targetRatio: Record<string, number> = {
  'writes': 2, 'reads': 2, 'ceiling': 0.6, 'locks': 0.5, 'counters': Number.NaN,
  'grpc-writes': 2, 'grpc-reads': 2, 'grpc-ceiling': Number.NaN,
  'persistent-locks': Number.NaN, 'txn-counters': Number.NaN,
  'grpc-persistent-locks': Number.NaN, 'grpc-counters': Number.NaN,
};

export function fmt(n: number, digits = 0): string {
  return Number.isNaN(n) ? '-' : n.toLocaleString('en-US', {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
}
export const cell = (s: Summary): string =>
  `${fmt(s.opsPerSec)} (${fmt(s.opsMin)}-${fmt(s.opsMax)})`;
export const lat = (s: Summary): string => `${fmt(s.p50Ms, 2)} / ${fmt(s.p99Ms, 2)}`;

function printTable(rows: readonly Row[], options: Options): void {
  console.log(`compare benchmark, node ${process.version}, ${availableParallelism()} cores ` +
    `(${cpus()[0]?.model ?? '?'}), single node only (3-node rows: npm run bench:cluster), ` +
    `${options.repeats} repeat(s) x (${options.warmupMs} ms warm-up + ` +
    `${options.durationMs} ms), A B alternating, medians (min-max), ${options.valueBytes}-byte ` +
    `values; gRPC rows: ${options.grpcProcs} load processes per window, ` +
    `${options.grpcWarmupMs} ms warm-up`);
  console.log('| workload | conc | Honu ops/s (min-max) | Honu p50 / p99 ms | peer | ' +
    'peer ops/s (min-max) | peer p50 / p99 ms | Honu/peer | target | errors H/P |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const goal = Number.isNaN(r.target) ? '-'
      : `>= ${r.target}x ${r.ratio >= r.target ? 'met' : 'not met'}`;
    const unit = r.unit === 'pair' ? ' (pairs)' : '';
    console.log(`| ${workloadLabel[r.workload] ?? r.workload}${unit} | ${r.concurrency} | ` +
      `${cell(r.honu)} | ${lat(r.honu)} | ${r.peer.target} | ${cell(r.peer)} | ${lat(r.peer)} | ` +
      `${fmt(r.ratio, 2)} | ${goal} | ${r.honu.errors}/${r.peer.errors} |`);
  }
  for (const r of rows) {
    for (const s of [r.honu, r.peer]) {
      if (s.errors > 0) {
        console.log(`errors ${r.workload} c${r.concurrency} ${s.target}: ` +
          JSON.stringify(s.errorDetail));
      }
      if (s.retries > 0) {
        const ops = s.runs.reduce((n, m) => n + m.opsPerSec * options.durationMs / 1000, 0);
        console.log(`retries ${r.workload} c${r.concurrency} ${s.target}: ${s.retries} lost ` +
          `compares over ${options.repeats} window(s), ${fmt(s.retries / Math.max(1, ops), 2)} ` +
          'per committed increment');
      }
    }
  }
  console.log('targets (issue 5):');
  for (const w of ['writes', 'reads', 'ceiling', 'locks', 'grpc-writes', 'grpc-reads'] as const) {
    const mine = rows.filter((r) => r.workload === w);
    if (mine.length === 0) {
      if (options.workloads.includes(w === 'ceiling' ? 'reads' : w)) {
        console.log(`  ${workloadLabel[w]}: not measured`);
      }
      continue;
    }
    const goal = targetRatio[w]!;
    const met = mine.filter((r) => r.ratio >= goal).map((r) => r.concurrency);
    const verdict = met.length === mine.length ? 'met'
      : met.length === 0 ? 'not met' : `met only at concurrency ${met.join(', ')}`;
    console.log(`  ${workloadLabel[w]} >= ${goal}x ${mine[0]!.peer.target}: ${verdict} (` +
      mine.map((r) => `c${r.concurrency} ${fmt(r.ratio, 2)}x`).join(', ') + ')');
  }
  const grpcCeiling = rows.filter((r) => r.workload === 'grpc-ceiling');
  if (grpcCeiling.length > 0) {
    console.log(`  ${workloadLabel['grpc-ceiling']} (no target, ratio of bare grpc-js): ` +
      grpcCeiling.map((r) => `c${r.concurrency} ${fmt(r.ratio, 2)}x`).join(', '));
  }
  console.log('  durable writes and reads vs a 3-node etcd cluster: npm run bench:cluster');
}

// ------------------------------------------------------------------ main

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      'repeats': { type: 'string' },
      'duration-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      'concurrency': { type: 'string', default: '1,16,64' },
      'value-bytes': { type: 'string', default: '64' },
      'workloads': { type: 'string' },
      'grpc-procs': { type: 'string', default: '2' },
      'grpc-warmup-ms': { type: 'string' },
      'initial-warmup-ms': { type: 'string' },
      'smoke': { type: 'boolean', default: false },
    },
  });
  const smoke = values.smoke;
  const int = (text: string | undefined, fallback: number, what: string, min: number): number => {
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${what} must be an integer >= ${min}`);
    return n;
  };
  const workloads = (values.workloads ?? (smoke ? smokeWorkloads : workloadNames).join(','))
    .split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const w of workloads) {
    if (!(workloadNames as readonly string[]).includes(w)) {
      throw new Error(`unknown workload ${w} (known: ${workloadNames.join(', ')})`);
    }
  }
  const warmupMs = int(values['warmup-ms'], smoke ? 100 : 500, 'warmup-ms', 0);
  return {
    repeats: int(values.repeats, smoke ? 1 : 3, 'repeats', 1),
    durationMs: int(values['duration-ms'], smoke ? 500 : 3000, 'duration-ms', 100),
    warmupMs,
    concurrency: values.concurrency.split(',').map((s) => int(s, 0, 'concurrency', 1)),
    valueBytes: int(values['value-bytes'], 64, 'value-bytes', 1),
    workloads: workloads as WorkloadName[],
    grpcProcs: int(values['grpc-procs'], 2, 'grpc-procs', 1),
    grpcWarmupMs: int(values['grpc-warmup-ms'], smoke ? warmupMs : 2000, 'grpc-warmup-ms', 0),
    initialWarmupMs: int(values['initial-warmup-ms'], smoke ? 0 : 10_000, 'initial-warmup-ms', 0),
    smoke,
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const runId = Date.now().toString(36);
  const rows: Row[] = [];
  const stops: Record<string, string> = {};
  const problems: Record<string, string[]> = {};
  let server: Server | null = null;
  const peers: Peer[] = [];
  let failure: unknown = null;
  try {
    server = await startServer();
    const etcd = await startEtcd();
    if (etcd === null) {
      console.log(`etcd is not installed: its rows are skipped (install: ${installHint})`);
    } else peers.push(etcd);
    const redis = await startRedis();
    if (redis === null) {
      console.log(`redis-server is not installed: its rows are skipped (install: ${installHint})`);
    } else peers.push(redis);
    const honu = honuTargets(server, options.valueBytes);
    const wants = (...names: WorkloadName[]): boolean =>
      names.some((n) => options.workloads.includes(n));
    if (wants('reads', 'grpc-reads')) {
      await preload(server, 1, options.valueBytes);
      if (etcd !== null) await preloadEtcd(etcd, options.valueBytes);
    }
    if (wants('counters', 'txn-counters', 'grpc-counters')) await createSequence(server);
    // The ceiling server answers what a Honu get answers.
    const sample = await fetch(`http://127.0.0.1:${server.port}/v1/kv/try-get`, {
      method: 'POST', headers: httpHeaders, body: honuGetStep(preloadKey(1, 0)).body,
    });
    const bare = await startBareHttp(await sample.text());
    peers.push(bare);
    const bareTarget: Target = { name: 'node:http', kind: 'http', port: bare.port, unit: 'call',
      steps: (conn) => Array.from({ length: bodiesPerConn },
        (_, i) => honuGetStep(preloadKey(1, getIndex(conn, i)))) };
    // The gRPC ceiling server answers the bytes a Honu gRPC get answers.
    let bareGrpcTarget: Target | null = null;
    if (wants('grpc-reads')) {
      const service = loadHonuKeyValuer()['KeyValuer'] as Record<string,
        { requestSerialize: (req: object) => Buffer }>;
      const method = service['TryGetKeyValue']!;
      const reply = await rawUnary(`127.0.0.1:${server.port}`, '/KeyValuer/TryGetKeyValue',
        method.requestSerialize({ Key: preloadKey(1, 0), Revision: -1, Durability: 1 }));
      const bareGrpc = await startBareGrpc(reply);
      peers.push(bareGrpc);
      bareGrpcTarget = { name: 'grpc-js', kind: 'grpc', port: bareGrpc.port, unit: 'call',
        scenario: 'honu-get' };
    }
    const etcdT = etcd === null ? null : etcdTargets(etcd, options.valueBytes);
    const redisT = redis === null ? null : redisTargets(redis);
    for (const w of options.workloads) {
      // [row workload, peer target] pairs compared against the Honu target of `w`
      const against: Array<[string, Target]> = [];
      if (w === 'writes' && etcdT !== null) against.push(['writes', etcdT.writes]);
      if (w === 'reads') {
        if (etcdT !== null) against.push(['reads', etcdT.reads]);
        against.push(['ceiling', bareTarget]);
      }
      if (w === 'locks' && redisT !== null) against.push(['locks', redisT.locks]);
      if (w === 'counters' && redisT !== null) against.push(['counters', redisT.counters]);
      if (w === 'grpc-writes' && etcdT !== null) against.push(['grpc-writes', etcdT.grpcWrites]);
      if (w === 'grpc-reads') {
        if (etcdT !== null) against.push(['grpc-reads', etcdT.grpcReads]);
        if (bareGrpcTarget !== null) against.push(['grpc-ceiling', bareGrpcTarget]);
      }
      if (w === 'persistent-locks' && etcdT !== null) {
        against.push(['persistent-locks', etcdT.locks]);
      }
      if (w === 'txn-counters' && etcdT !== null) against.push(['txn-counters', etcdT.counters]);
      if (w === 'grpc-persistent-locks' && etcdT !== null) {
        against.push(['grpc-persistent-locks', etcdT.grpcLocks]);
      }
      if (w === 'grpc-counters' && etcdT !== null) {
        against.push(['grpc-counters', etcdT.grpcCounters]);
      }
      if (against.length === 0) continue;
      await warmUp([honu[w], ...against.map(([, t]) => t)], options, `${runId}-${w}-w`);
      for (const c of options.concurrency) {
        const honuRuns: Measure[] = [];
        const peerRuns: Measure[][] = against.map(() => []);
        for (let rep = 0; rep < options.repeats; rep += 1) {
          if (server.exit !== null) throw new Error('the honu server is gone; stopping');
          const tag = `${runId}-${w}-${c}-${rep}`;
          honuRuns.push(await runTarget(honu[w], c, options, tag));
          for (const [i, [, t]] of against.entries()) {
            peerRuns[i]!.push(await runTarget(t, c, options, tag));
          }
        }
        const h = summarize('Honu', honuRuns);
        for (const [i, [rowName, t]] of against.entries()) {
          const p = summarize(t.name, peerRuns[i]!);
          rows.push({ workload: rowName, unit: t.unit, concurrency: c, honu: h, peer: p,
            ratio: h.opsPerSec / p.opsPerSec, target: targetRatio[rowName] ?? Number.NaN });
          process.stderr.write(`done ${rowName} c${c}: Honu ${fmt(h.opsPerSec)}/s, ` +
            `${t.name} ${fmt(p.opsPerSec)}/s\n`);
        }
      }
    }
  } catch (e) {
    failure = e;
  } finally {
    for (const p of peers) {
      stops[p.name] = await stopPeer(p);
      if (p.problems.length > 0) problems[p.name] = p.problems;
    }
    if (server !== null) {
      stops['honu'] = (await stopServer(server)).how;
      if (server.problemCount > 0) problems['honu'] = server.problems.map((p) => p.text);
    }
  }
  printTable(rows, options);
  console.log(`stopped: ${Object.entries(stops).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  for (const [name, lines] of Object.entries(problems)) {
    console.log(`${name}: ${lines.length} problem line(s): ${lines.slice(0, 5).join(' | ')}`);
  }
  console.log(JSON.stringify({ bench: 'compare', node: process.version,
    cores: availableParallelism(), options, stops, problems,
    rows: rows.map((r) => ({ ...r, honu: { ...r.honu, runs: r.honu.runs.length },
      peer: { ...r.peer, runs: r.peer.runs.length } })) }));
  if (failure !== null) throw failure;
}

// Run only as the entry point: bench/compare/cluster.ts imports the helpers above.
if (process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
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
    process.stderr.write(`compare bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
