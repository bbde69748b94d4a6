// The parent side of the gRPC rows of bench/compare/compare.ts: one measured window of one target
// is `procs` processes of dist/bench/compare/grpc-compare-load.js, each keeping its share of the
// calls in flight (the way bench/macro/kahuna.ts drives bench/macro/grpc-load.js). All connect,
// then all get "go" at once; their ops/s and retries are summed, errors merged, latency samples
// merged.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { errorCount, mergedPercentiles, mergeErrors } from '../macro/kahuna-common.js';
import type { LatencyReport } from '../macro/kahuna-common.js';
import { live } from '../macro/honu-server.js';
import type { GrpcCompareResult, GrpcCompareScenario } from './shared.js';

const readyWaitMs = 15_000;
/** grpc-compare-load waits up to 10 s for calls in flight after its window; allow for more. */
const resultSlackMs = 20_000;

export interface GrpcWindow {
  readonly port: number;
  readonly scenario: GrpcCompareScenario;
  readonly inFlight: number;
  readonly procs: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly runTag: string;
  readonly valueBytes: number;
}

export interface GrpcMeasure {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: Record<string, number>;
  readonly errorCount: number;
  /** Answers that asked for a retry (etcd txn counter: a lost compare), summed over processes. */
  readonly retries: number;
}

interface LoadProc {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly result: Promise<GrpcCompareResult>;
}

function startLoadProc(w: GrpcWindow, proc: number, inFlight: number,
  slotBase: number): LoadProc {
  const script = fileURLToPath(new URL('./grpc-compare-load.js', import.meta.url));
  const child = spawn(process.execPath, [script,
    '--target', `127.0.0.1:${w.port}`, '--scenario', w.scenario,
    '--in-flight', String(inFlight), '--slot-base', String(slotBase),
    '--warmup-ms', String(w.warmupMs), '--duration-ms', String(w.durationMs),
    '--proc', String(proc), '--run-tag', w.runTag, '--value-bytes', String(w.valueBytes)],
  { stdio: ['pipe', 'pipe', 'pipe'] });
  live.children.add(child);
  child.once('exit', () => live.children.delete(child));
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    process.stderr.write(`grpc-compare-load ${proc}: ${line}\n`);
  });
  let onReady: () => void = () => {};
  let onResult: (r: GrpcCompareResult) => void = () => {};
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  const result = new Promise<GrpcCompareResult>((resolve, reject) => {
    onResult = resolve;
    child.once('exit', (code, signal) => reject(new Error(
      `grpc-compare-load ${proc} exited (code ${code}, signal ${signal}) without a result: ` +
      stderr.slice(-5).join(' | '))));
  });
  result.catch(() => {});
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { type?: string };
    if (message.type === 'ready') onReady();
    else if (message.type === 'result') onResult(message as GrpcCompareResult);
  });
  return { proc: child, ready, result };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function runGrpcWindow(w: GrpcWindow): Promise<GrpcMeasure> {
  const procs = Math.max(1, Math.min(w.procs, w.inFlight));
  const loads: LoadProc[] = [];
  let slotBase = 0;
  for (let p = 0; p < procs; p += 1) {
    const inFlight = Math.floor(w.inFlight / procs) + (p < w.inFlight % procs ? 1 : 0);
    loads.push(startLoadProc(w, p, inFlight, slotBase));
    slotBase += inFlight;
  }
  try {
    await withTimeout(Promise.race([
      Promise.all(loads.map((l) => l.ready)),
      Promise.all(loads.map((l) => l.result)), // rejects if a process exits before ready
    ]), readyWaitMs, 'grpc-compare-load ready');
    for (const l of loads) l.proc.stdin!.write('go\n');
    const results = await withTimeout(Promise.all(loads.map((l) => l.result)),
      w.warmupMs + w.durationMs + resultSlackMs, 'grpc-compare-load result');
    const errors: Record<string, number> = {};
    let opsPerSec = 0;
    let retries = 0;
    const reports: LatencyReport[] = [];
    for (const r of results) {
      mergeErrors(errors, r.tally.errors);
      if (r.unfinished > 0) {
        errors['no reply after the window'] = (errors['no reply after the window'] ?? 0) +
          r.unfinished;
      }
      opsPerSec += r.tally.ops / (r.windowMs / 1000);
      retries += r.retries;
      reports.push(r.latency);
    }
    const [p50, p99] = mergedPercentiles(reports, [0.5, 0.99]);
    return { opsPerSec, p50Ms: p50 ?? Number.NaN, p99Ms: p99 ?? Number.NaN, errors,
      errorCount: errorCount(errors), retries };
  } finally {
    for (const l of loads) {
      if (l.proc.exitCode === null && l.proc.signalCode === null && l.proc.pid !== undefined) {
        process.kill(l.proc.pid, 'SIGKILL');
      }
    }
  }
}
