// One fault-injection run (issue 7), shared by the CLI (test/faults/cli.ts, `npm run jepsen`) and
// the short runs inside `npm test` (test/faults/jepsen.test.ts):
//   1. a cluster of real `honu server` processes with a TCP proxy on every directed peer link
//      (test/helpers/cluster.ts; runs the compiled dist/, so `npm run build` first);
//   2. the workload's setup, then its clients (test/faults/workloads.ts) and the nemesis
//      (test/faults/nemesis.ts) for `timeSec`; the nemesis stops `quietMs` before the end and
//      heals everything, the clients go on through the quiet period;
//   3. durability only: while its clients still write, every node SIGKILLed and restarted
//      (the full-cluster crash), then the quiet period, then one final read per key written
//      (bank: one final read of every account);
//   4. the cluster stopped, the history checked (test/faults/checkers/), and history.json,
//      verdict.json and nemesis.json written to `outDir` (node logs too when invalid).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { startCluster, type Cluster, type UnexpectedExit } from '../helpers/cluster.js';
import {
  checkBank, checkDurability, checkLock, checkRegister, checkSequencer,
} from './checkers/index.js';
import type {
  BankOp, DurabilityOp, LockOp, Op, RegisterOp, SequencerOp, Verdict,
} from './history.js';
import { Nemesis, type FaultName, type NemesisEvent } from './nemesis.js';
import { makeWorkload, type WorkloadName } from './workloads.js';

export interface RunOptions {
  readonly workload: WorkloadName;
  readonly faults: readonly FaultName[];
  /** Length of the workload phase (nemesis + quiet period), seconds. */
  readonly timeSec: number;
  readonly seed: number;
  /** Default 3. */
  readonly nodes?: number;
  /** Default ./data/jepsen/<workload>-<seed>; null: write nothing. */
  readonly outDir?: string | null;
  /** Default 5. */
  readonly clients?: number;
  /** Per-call timeout (an unanswered call is 'info'), default 3000 ms. */
  readonly callTimeoutMs?: number;
  /** Default: 20% of the time, within 2..10 s. */
  readonly quietMs?: number;
  /** Lock leases, default 2000 ms. */
  readonly leaseMs?: number;
  /** Slack the lock checker allows between the client's clock and the leader's. Default 250. */
  readonly clockSlackMs?: number;
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
}

export interface RunResult {
  readonly options: RunOptions;
  readonly verdict: Verdict;
  readonly history: readonly Op[];
  readonly events: readonly NemesisEvent[];
  /** Answers the workload could not interpret, client crashes: a run with any is not valid. */
  readonly unexpected: readonly string[];
  /** Node exits the harness did not cause (a crash is a finding too). */
  readonly crashes: readonly Omit<UnexpectedExit, 'log'>[];
  readonly outDir: string | null;
  readonly summary: string;
}

export function defaultOutDir(workload: WorkloadName, seed: number): string {
  return join(process.cwd(), 'data', 'jepsen', `${workload}-${seed}`);
}

export const defaultClockSlackMs = 250;

/** The workload's checker over a history. */
export function checkHistory(workload: WorkloadName, history: readonly Op[],
  clockSlackMs = defaultClockSlackMs): Verdict {
  switch (workload) {
    case 'register': return checkRegister(history as readonly RegisterOp[]);
    case 'lock': return checkLock(history as readonly LockOp[], { clockSlackMs });
    case 'sequencer': return checkSequencer(history as readonly SequencerOp[]);
    case 'durability': return checkDurability(history as readonly DurabilityOp[]);
    case 'bank': return checkBank(history as readonly BankOp[]);
  }
}

function counts(history: readonly Op[]): string {
  const by = new Map<string, number>();
  for (const op of history) {
    const k = `${op.f}:${op.outcome}`;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  return [...by].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}=${n}`).join(' ');
}

export async function runJepsen(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { workload: name, faults, seed } = options;
  const timeMs = Math.round(options.timeSec * 1000);
  const quietMs = options.quietMs ?? Math.min(10_000, Math.max(2_000, Math.round(timeMs * 0.2)));
  const outDir = options.outDir === undefined ? defaultOutDir(name, seed) : options.outDir;
  const prng = new SeededPrng(seed);
  log(`jepsen: workload ${name}, faults ${faults.join(',') || 'none'}, ` +
    `${options.timeSec} s, ${options.nodes ?? 3} nodes, seed ${seed}`);

  let t0 = performance.now();
  const clock = (): number => performance.now() - t0;
  let cluster: Cluster | null = null;
  let history: Op[] = [];
  let events: NemesisEvent[] = [];
  let unexpected: string[] = [];
  let crashes: UnexpectedExit[] = [];
  const logs = new Map<number, string[]>();
  try {
    cluster = await startCluster({ nodes: options.nodes ?? 3, proxies: true,
      logLinesKept: 2_000, readyTimeoutMs: 60_000 });
    const workload = makeWorkload(name, { cluster, prng: prng.fork('workload'), clock,
      clients: options.clients ?? 5, callTimeoutMs: options.callTimeoutMs ?? 3_000,
      leaseMs: options.leaseMs ?? 2_000, log });
    const nemesis = new Nemesis({ cluster, faults, prng: prng.fork('nemesis'), clock, log });
    history = workload.history;
    events = nemesis.events;
    unexpected = workload.unexpected as string[];
    await workload.setup();
    t0 = performance.now();
    workload.start();
    try {
      await nemesis.run(timeMs - quietMs);
      if (name === 'durability') await nemesis.crashAll();
      log(`jepsen: quiet for ${quietMs} ms`);
      await sleep(quietMs);
    } finally {
      await workload.stop();
    }
    await workload.finish();
    crashes = [...cluster.unexpectedExits()];
    for (const node of cluster.nodes) logs.set(node.id, cluster.logs(node.id));
  } finally {
    await cluster?.stop();
  }

  const checked = checkHistory(name, history, options.clockSlackMs);
  const problems = [...checked.problems];
  for (const line of unexpected) problems.push(`workload: ${line}`);
  for (const exit of crashes) {
    problems.push(`node ${exit.id} (pid ${exit.pid}) exited on its own: code ${exit.code}, ` +
      `signal ${exit.signal}`);
  }
  const valid = checked.valid && unexpected.length === 0 && crashes.length === 0;
  const verdict: Verdict = { ...checked, valid, problems };
  const summary = `${name} seed ${seed}: ${history.length} ops (${counts(history)}), ` +
    `${events.filter((e) => e.phase === 'start').length} faults`;
  log(`jepsen: ${summary}`);

  if (outDir !== null) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'history.json'), `${JSON.stringify(history, null, 1)}\n`);
    writeFileSync(join(outDir, 'verdict.json'), `${JSON.stringify({
      workload: name, faults, timeSec: options.timeSec, seed, nodes: options.nodes ?? 3,
      ...verdict,
    }, null, 1)}\n`);
    writeFileSync(join(outDir, 'nemesis.json'), `${JSON.stringify({ events,
      crashes: crashes.map(({ log: _log, ...exit }) => exit) }, null, 1)}\n`);
    if (!valid) {
      for (const [id, lines] of logs) {
        writeFileSync(join(outDir, `node-${id}.log`), `${lines.join('\n')}\n`);
      }
    }
    log(`jepsen: wrote ${outDir}`);
  }
  return { options, verdict, history, events, unexpected,
    crashes: crashes.map(({ log: _log, ...exit }) => exit), outDir, summary };
}
