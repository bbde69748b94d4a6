// Kahuna macro benchmark (issue 4): one fresh `honu server` child process, Kahuna REST and gRPC
// calls end to end over loopback.
//   npm run bench:kahuna   (= npm run build && node dist/bench/macro/kahuna.js)
//   node dist/bench/macro/kahuna.js --duration-ms 10000 --warmup-ms 2000 --connections 64 \
//     --grpc-procs 2 --transports rest,grpc --scenarios set,get,mixed,lock-unlock,sequence-next,\
//     ephemeral-set,ephemeral-get
// The server runs from bin/honu.mjs with a temp --data-dir and default partitions and workers;
// it is stopped by pid (SIGTERM, SIGKILL after 5 s) and its dir removed at the end.
// Scenarios (each: --warmup-ms, then --duration-ms measured; --connections in flight):
//   set            persistent TrySetKeyValue, a unique key per request, 64-byte values
//   get            persistent TryGetKeyValue of 1024 keys written before the first get scenario
//   mixed          50/50: every connection alternates a persistent set (unique key) and a get
//   lock-unlock    every connection TryLock then Unlock its own persistent resource; the req/s
//                  column counts pairs (both halves answered as expected), latency is per call
//   sequence-next  ReserveSequenceRange count 1 (kahuna-ts's next) on one sequence created first
//   ephemeral-set, ephemeral-get   as set and get with durability 0
// REST: autocannon 9 in this process (--connections HTTP/1.1 connections, no pipelining).
// gRPC: --grpc-procs processes of dist/bench/macro/grpc-load.js over h2c, each keeping its share
// of --connections unary calls in flight with the generated grpc-js clients; req/s are summed and
// latency samples merged. Only the expected Type counts (Set 0, Get 3, Locked 0, Unlocked 3,
// sequence Success 0); any other Type, HTTP status, gRPC status or connection error is listed
// under errors. Latency is per call, request written -> reply read, over every reply.
// Prints a table and one JSON line. Figures go to bench/RESULTS.md; speed is never asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { Client, Request, Result } from 'autocannon';
import {
  createSequence, live, preload, startServer, stopServer, txFieldsJson,
} from './honu-server.js';
import type { Server } from './honu-server.js';
import {
  benchValue, countError, errorCount, expectedType, isScenarioName, LatencySamples,
  lockExpiresMs, lockOwner, lockResource, mergedPercentiles, mergeErrors, newTally, preloadKey,
  scenarioNames, scenarios, sequenceName, uniqueKey,
} from './kahuna-common.js';
import type {
  CallKind, GrpcLoadResult, LatencyReport, Scenario, ScenarioName, Tally,
} from './kahuna-common.js';

const transports = ['rest', 'grpc'] as const;
type Transport = (typeof transports)[number];

const grpcReadyWaitMs = 15_000;
/** grpc-load waits up to 10 s for calls in flight after its window; allow for that and more. */
const grpcResultSlackMs = 20_000;
const restTimeoutSec = 10;

const liveChildren = live.children;

interface Options {
  readonly scenarios: readonly ScenarioName[];
  readonly transports: readonly Transport[];
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly connections: number;
  readonly grpcProcs: number;
  readonly valueBytes: number;
}

interface Row {
  readonly scenario: ScenarioName;
  readonly transport: Transport;
  readonly unit: 'call' | 'pair';
  /** Expected outcomes (calls, or lock+unlock pairs) per second of the measured window. */
  readonly reqPerSec: number;
  /** Every completed call per second, whatever its outcome. */
  readonly callsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errorCount: number;
  readonly errors: Record<string, number>;
  readonly loadProcs: number;
}

/** Writes what a scenario reads, once per server. */
async function prepare(server: Server, scenario: Scenario, options: Options,
  done: Set<string>): Promise<void> {
  const needs: string[] = [];
  if (scenario.kind === 'get' || scenario.kind === 'mixed') {
    needs.push(`keys-${scenario.durability}`);
  }
  if (scenario.kind === 'sequence-next') needs.push('sequence');
  for (const need of needs) {
    if (done.has(need)) continue;
    if (need === 'sequence') await createSequence(server);
    else await preload(server, scenario.durability, options.valueBytes);
    done.add(need);
  }
}

// ------------------------------------------------------------------ REST load (autocannon)

const restHeaders = { 'content-type': 'application/json', 'accept': 'application/json' };

const typeMember = /"type":(-?\d+)/;
/** Prebuilt requests each REST connection cycles over. */
const restBodiesPerConn = 32;

interface RestPhase {
  tally: Tally;
  latency: LatencySamples;
}

/** The requests one connection loops over. `phase` is swapped between warm-up and measurement. */
function restRequests(scenario: Scenario, options: Options, conn: number, runTag: string,
  phase: () => RestPhase, nextKey: () => string, nextGet: () => number): Request[] {
  const d = scenario.durability;
  const value = benchValue(options.valueBytes).toString('base64');
  const check = (kind: CallKind, status: number, body: string): boolean => {
    const { tally } = phase();
    tally.calls += 1;
    if (status !== 200) {
      countError(tally, `${kind} http ${status}`);
      return false;
    }
    // Honu writes compact JSON with `type` as the first numeric member: a regex reads it at a
    // fraction of JSON.parse's cost (the load generator shares the 2 cores with the server).
    const match = typeMember.exec(body);
    if (match === null) {
      countError(tally, `${kind} unparsable body`);
      return false;
    }
    const type = Number(match[1]);
    if (type !== expectedType[kind]) {
      countError(tally, `${kind} type ${String(type)}`);
      return false;
    }
    return true;
  };
  // Bodies are built before the run: a connection cycles over restBodiesPerConn of them, so
  // the load generator does no per-request JS (sets: distinct keys per connection and slot,
  // rewritten every pass; gets: preloaded keys).
  const single = (kind: CallKind, path: string, body: string): Request => ({
    method: 'POST', path, headers: restHeaders, body,
    onResponse: (status, text) => {
      if (check(kind, status, text)) phase().tally.ops += 1;
    },
  });
  const setBody = (): string => `{${txFieldsJson},"key":"${nextKey()}",` +
    `"value":"${value}","compareValue":null,"compareRevision":0,"expiresMs":0,"flags":1,` +
    `"durability":${d}}`;
  const getBody = (): string => `{${txFieldsJson},` +
    `"key":"${preloadKey(d, nextGet())}","revision":-1,"readTimestamp":{"n":0,"l":0,"c":0},` +
    `"durability":${d}}`;
  const many = (make: () => Request): Request[] =>
    Array.from({ length: restBodiesPerConn }, make);
  const set = (): Request => single('set', '/v1/kv/try-set', setBody());
  const get = (): Request => single('get', '/v1/kv/try-get', getBody());
  switch (scenario.kind) {
    case 'set': return many(set);
    case 'get': return many(get);
    case 'mixed': return many(set).flatMap((s) => [s, get()]);
    case 'sequence-next':
      return [single('reserve', '/v1/sequences/reserve',
        `{"name":"${sequenceName}","count":1,"idempotencyKey":null,"durability":1}`)];
    case 'lock-unlock': {
      const tag = `${runTag}-rest`;
      const resource = JSON.stringify(lockResource(tag, conn));
      const owner = lockOwner(tag, conn).toString('base64');
      const lockBody = `{"resource":${resource},"owner":"${owner}","expiresMs":${lockExpiresMs},` +
        '"durability":1}';
      const unlockBody = `{"resource":${resource},"owner":"${owner}","durability":1}`;
      // The context lives for one pass over the two requests (autocannon resets it at entry 0).
      return [
        { method: 'POST', path: '/v1/locks/try-lock', headers: restHeaders, body: lockBody,
          onResponse: (status, text, context) => {
            context['locked'] = check('lock', status, text);
          } },
        { method: 'POST', path: '/v1/locks/try-unlock', headers: restHeaders, body: unlockBody,
          onResponse: (status, text, context) => {
            if (check('unlock', status, text) && context['locked'] === true) phase().tally.ops += 1;
          } },
      ];
    }
  }
}

async function runAutocannon(server: Server, scenario: Scenario, options: Options,
  runTag: string, durationMs: number, phaseState: RestPhase): Promise<Result> {
  let conn = 0;
  let keyCount = 0;
  let getCount = 0;
  const phase = (): RestPhase => phaseState;
  const instance = autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: options.connections,
    duration: durationMs / 1000,
    timeout: restTimeoutSec,
    setupClient: (client: Client) => {
      client.setRequests(restRequests(scenario, options, conn, runTag, phase,
        () => uniqueKey(runTag, (keyCount += 1)), () => (getCount += 1)));
      conn += 1;
    },
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    phaseState.latency.add(ms);
  });
  return await instance;
}

async function runRest(server: Server, scenario: Scenario, options: Options,
  runTag: string): Promise<Row> {
  if (options.warmupMs > 0) {
    await runAutocannon(server, scenario, options, `${runTag}w`, options.warmupMs,
      { tally: newTally(), latency: new LatencySamples(1) });
  }
  const measured: RestPhase = { tally: newTally(), latency: new LatencySamples() };
  const result = await runAutocannon(server, scenario, options, runTag, options.durationMs,
    measured);
  const { tally } = measured;
  if (result.errors > 0) {
    // connection errors and timeouts (autocannon counts timeouts in errors too)
    tally.errors[`connection errors (${result.timeouts} timeouts)`] = result.errors;
  }
  const seconds = result.duration;
  const [p50, p99] = mergedPercentiles([measured.latency.toJSON()], [0.5, 0.99]);
  return {
    scenario: scenario.name, transport: 'rest', unit: scenario.unit,
    reqPerSec: tally.ops / seconds, callsPerSec: tally.calls / seconds,
    p50Ms: p50 ?? Number.NaN, p99Ms: p99 ?? Number.NaN,
    errorCount: errorCount(tally.errors), errors: tally.errors, loadProcs: 1,
  };
}

// ------------------------------------------------------------------ gRPC load (child processes)

interface LoadProc {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly result: Promise<GrpcLoadResult>;
  readonly stderr: string[];
}

function startLoadProc(server: Server, scenario: Scenario, options: Options, runTag: string,
  proc: number, inFlight: number): LoadProc {
  const script = fileURLToPath(new URL('./grpc-load.js', import.meta.url));
  const child = spawn(process.execPath, [script,
    '--target', `127.0.0.1:${server.port}`, '--scenario', scenario.name,
    '--in-flight', String(inFlight), '--warmup-ms', String(options.warmupMs),
    '--duration-ms', String(options.durationMs), '--proc', String(proc), '--run-tag', runTag,
    '--value-bytes', String(options.valueBytes)], { stdio: ['pipe', 'pipe', 'pipe'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    process.stderr.write(`grpc-load ${proc}: ${line}\n`);
  });
  let onReady: () => void = () => {};
  let onResult: (r: GrpcLoadResult) => void = () => {};
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  const result = new Promise<GrpcLoadResult>((resolve, reject) => {
    onResult = resolve;
    child.once('exit', (code, signal) => reject(new Error(
      `grpc-load ${proc} exited (code ${code}, signal ${signal}) without a result: ` +
      stderr.slice(-5).join(' | '))));
  });
  ready.catch(() => {});
  result.catch(() => {});
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { type?: string };
    if (message.type === 'ready') onReady();
    else if (message.type === 'result') onResult(message as GrpcLoadResult);
  });
  return { proc: child, ready, result, stderr };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runGrpc(server: Server, scenario: Scenario, options: Options,
  runTag: string): Promise<Row> {
  const procs = Math.max(1, Math.min(options.grpcProcs, options.connections));
  const loads: LoadProc[] = [];
  for (let p = 0; p < procs; p += 1) {
    const inFlight = Math.floor(options.connections / procs) +
      (p < options.connections % procs ? 1 : 0);
    loads.push(startLoadProc(server, scenario, options, runTag, p, inFlight));
  }
  try {
    await withTimeout(Promise.all(loads.map((l) => l.ready)), grpcReadyWaitMs, 'grpc-load ready');
    for (const l of loads) l.proc.stdin!.write('go\n');
    const results = await withTimeout(Promise.all(loads.map((l) => l.result)),
      options.warmupMs + options.durationMs + grpcResultSlackMs, 'grpc-load result');
    const errors: Record<string, number> = {};
    let opsPerSec = 0;
    let callsPerSec = 0;
    const reports: LatencyReport[] = [];
    for (const r of results) {
      mergeErrors(errors, r.tally.errors);
      if (r.unfinished > 0) {
        errors['no reply after the window'] = (errors['no reply after the window'] ?? 0) +
          r.unfinished;
      }
      opsPerSec += r.tally.ops / (r.windowMs / 1000);
      callsPerSec += r.tally.calls / (r.windowMs / 1000);
      reports.push(r.latency);
    }
    const [p50, p99] = mergedPercentiles(reports, [0.5, 0.99]);
    return {
      scenario: scenario.name, transport: 'grpc', unit: scenario.unit,
      reqPerSec: opsPerSec, callsPerSec, p50Ms: p50 ?? Number.NaN, p99Ms: p99 ?? Number.NaN,
      errorCount: errorCount(errors), errors, loadProcs: procs,
    };
  } finally {
    for (const l of loads) {
      if (l.proc.exitCode === null && l.proc.signalCode === null && l.proc.pid !== undefined) {
        process.kill(l.proc.pid, 'SIGKILL');
      }
    }
  }
}

// ------------------------------------------------------------------ main

function parseList<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new Error(`unknown ${what} ${JSON.stringify(item)} (known: ${allowed.join(', ')})`);
    }
  }
  return items as T[];
}

function positiveInt(text: string | undefined, what: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${what} must be an integer >= ${min}`);
  return n;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      'scenarios': { type: 'string', default: scenarioNames.join(',') },
      'transports': { type: 'string', default: transports.join(',') },
      'duration-ms': { type: 'string', default: '10000' },
      'warmup-ms': { type: 'string', default: '2000' },
      'connections': { type: 'string', default: '64' },
      'grpc-procs': { type: 'string', default: '2' },
      'value-bytes': { type: 'string', default: '64' },
    },
  });
  const names = parseList(values.scenarios, scenarioNames, 'scenario');
  if (!names.every(isScenarioName)) throw new Error('bad --scenarios');
  return {
    scenarios: names,
    transports: parseList(values.transports, transports, 'transport'),
    durationMs: positiveInt(values['duration-ms'], 'duration-ms'),
    warmupMs: positiveInt(values['warmup-ms'], 'warmup-ms', 0),
    connections: positiveInt(values.connections, 'connections'),
    grpcProcs: positiveInt(values['grpc-procs'], 'grpc-procs'),
    valueBytes: positiveInt(values['value-bytes'], 'value-bytes', 0),
  };
}

function fmt(n: number, digits = 0): string {
  return Number.isNaN(n) ? '-' : n.toLocaleString('en-US', {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
}

function errorSummary(errors: Readonly<Record<string, number>>): string {
  return Object.entries(errors).sort((a, b) => b[1] - a[1]).slice(0, 3)
    .map(([label, count]) => `${label}: ${count}`).join('; ');
}

function printTable(rows: readonly Row[], options: Options,
  stop: { how: string; elapsedMs: number } | null,
  server: Server): void {
  console.log(`kahuna benchmark, node ${process.version}, ${availableParallelism()} cores, ` +
    `one honu node (default partitions/workers), ${options.connections} connections/calls in ` +
    `flight, ${options.warmupMs} ms warm-up + ${options.durationMs} ms per row, ` +
    `gRPC from ${options.grpcProcs} processes`);
  console.log('scenario       transport      req/s    p50 ms   p99 ms   errors  error detail');
  for (const r of rows) {
    const rate = fmt(r.reqPerSec) + (r.unit === 'pair' ? ' pairs' : '');
    console.log(`${r.scenario.padEnd(14)} ${r.transport.padEnd(9)} ${rate.padStart(10)}  ` +
      `${fmt(r.p50Ms, 2).padStart(8)} ${fmt(r.p99Ms, 2).padStart(8)} ` +
      `${String(r.errorCount).padStart(8)}  ${errorSummary(r.errors)}`);
  }
  const stopText = stop === null
    ? 'not stopped' : `stopped: ${stop.how} after ${stop.elapsedMs} ms`;
  console.log(`server: ${server.problemCount} problem line(s) (warn/error log, stderr, exit); ` +
    stopText);
  for (const p of server.problems) console.log(`  ${p.stream}: ${p.text}`);
}

async function main(): Promise<void> {
  const options = parseOptions();
  const runId = Date.now().toString(36);
  const server = await startServer();
  const rows: Row[] = [];
  const prepared = new Set<string>();
  let stop: { how: string; elapsedMs: number } | null = null;
  let failure: unknown = null;
  try {
    for (const name of options.scenarios) {
      const scenario = scenarios[name];
      for (const transport of options.transports) {
        if (server.exit !== null) throw new Error('the honu server is gone; stopping');
        await prepare(server, scenario, options, prepared);
        const runTag = `${runId}-${name}-${transport}`;
        const row = transport === 'rest'
          ? await runRest(server, scenario, options, runTag)
          : await runGrpc(server, scenario, options, runTag);
        rows.push(row);
        process.stderr.write(`done ${name} ${transport}: ${fmt(row.reqPerSec)}/s, ` +
          `${row.errorCount} errors\n`);
      }
    }
  } catch (e) {
    failure = e;
  } finally {
    stop = await stopServer(server);
  }
  printTable(rows, options, stop, server);
  console.log(JSON.stringify({
    bench: 'kahuna', node: process.version, cores: availableParallelism(), options,
    server: { stop, problemCount: server.problemCount, problems: server.problems,
      exit: server.exit },
    rows,
  }));
  if (failure !== null) throw failure;
}

process.once('SIGINT', () => {
  for (const child of liveChildren) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  for (const dir of live.dataDirs) rmSync(dir, { recursive: true, force: true });
  process.exit(130);
});

try {
  await main();
} catch (e) {
  process.stderr.write(`kahuna bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
