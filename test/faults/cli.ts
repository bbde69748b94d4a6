// npm run jepsen -- --workload register|lock|sequencer|durability|bank|all
//                   [--faults kill,pause,partition,slow,lossy|none] [--time SECONDS] [--seed N]
//                   [--nodes 3] [--out DIR] [--clients 5]
// npm run jepsen -- --check DIR [--workload W]
//
// One fault-injection run (test/faults/runner.ts) on real `honu server` processes: it runs the
// compiled dist/, so `npm run build` first. Writes history.json, verdict.json and nemesis.json
// to --out (default ./data/jepsen/<workload>-<seed>/), prints the verdict and, last,
// `valid: true` or `valid: false`; exits 1 when invalid (2 on bad flags). An invalid run prints
// its seed and the checker's failing window. Without --seed a seed is drawn and printed.
// `--workload all` runs every workload one after another (seeds N, N+1, ...).
// `--check DIR` re-checks DIR/history.json (the workload from DIR/verdict.json) without a run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stopAllClusters } from '../helpers/cluster.js';
import type { Op, Verdict } from './history.js';
import { faultNames, type FaultName } from './nemesis.js';
import { checkHistory, defaultOutDir, runJepsen } from './runner.js';
import { workloadNames, type WorkloadName } from './workloads.js';

const usage = 'usage: npm run jepsen -- --workload register|lock|sequencer|durability|bank|all ' +
  '[--faults kill,pause,partition,slow,lossy|none] [--time SECONDS] [--seed N] [--nodes 3] ' +
  '[--out DIR] [--clients 5]\n       npm run jepsen -- --check DIR [--workload W]';

const windowLinesMax = 80;

function bad(message: string): never {
  console.error(`jepsen: ${message}\n${usage}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      workload: { type: 'string' },
      faults: { type: 'string', default: 'kill,pause,partition,slow,lossy' },
      time: { type: 'string', default: '60' },
      seed: { type: 'string' },
      nodes: { type: 'string', default: '3' },
      out: { type: 'string' },
      clients: { type: 'string', default: '5' },
      check: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
} catch (error) {
  bad(error instanceof Error ? error.message : String(error));
}
const { values } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) bad(`--${name} must be an integer >= ${min} (got ${v})`);
  return n;
}

function workloadOf(v: string | undefined): WorkloadName | 'all' {
  if (v === undefined) bad('--workload is required');
  if (v !== 'all' && !(workloadNames as readonly string[]).includes(v)) {
    bad(`unknown workload ${JSON.stringify(v)}`);
  }
  return v as WorkloadName | 'all';
}

function faultsOf(v: string): FaultName[] {
  if (v === 'none' || v === '') return [];
  const out = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const f of out) {
    if (!(faultNames as readonly string[]).includes(f)) bad(`unknown fault ${JSON.stringify(f)}`);
  }
  return out as FaultName[];
}

function printVerdict(verdict: Verdict, seed: number | null, replay: string | null,
  saved: string | null): void {
  console.log(`checker: ${verdict.checker}`);
  if (verdict.valid) return;
  if (seed !== null) console.log(`seed: ${seed}${replay === null ? '' : ` (replay: ${replay})`}`);
  console.log('problems:');
  for (const p of verdict.problems) console.log(`  ${p}`);
  if (verdict.window.length > 0) {
    // The checkers put the op that breaks the history last; the whole window is in verdict.json.
    const shown = verdict.window.slice(-windowLinesMax);
    const hidden = verdict.window.length - shown.length;
    const rest = saved === null ? '' : `; all in ${saved}`;
    console.log(`failing window (${verdict.window.length} ops` +
      `${hidden > 0 ? `, the last ${shown.length} shown${rest}` : ''}):`);
    for (const op of shown) console.log(`  ${describe(op)}`);
  }
}

function describe(op: Op): string {
  const t = (ms: number | null): string => (ms === null ? '∞' : (ms / 1000).toFixed(3));
  const result = op.outcome === 'ok' ? JSON.stringify(op.result) : op.outcome;
  return `[${t(op.invokeMs)}s..${t(op.completeMs)}s] process ${op.process} node ${op.node} ` +
    `${op.f} ${op.key} ${JSON.stringify(op.value)} -> ${result}`;
}

async function main(): Promise<boolean> {
  if (values.check !== undefined) {
    const dir = values.check;
    const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as Op[];
    let workload = values.workload;
    let seed: number | null = null;
    try {
      const saved = JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as
        { workload?: string; seed?: number };
      workload ??= saved.workload;
      seed = saved.seed ?? null;
    } catch {
      // no verdict.json: --workload says
    }
    const name = workloadOf(workload);
    if (name === 'all') bad('--check needs one workload');
    const verdict = checkHistory(name, history);
    console.log(`${name}: ${history.length} ops from ${dir}`);
    printVerdict(verdict, seed, null, null);
    console.log(`valid: ${verdict.valid}`);
    return verdict.valid;
  }
  const which = workloadOf(values.workload);
  const faults = faultsOf(values.faults);
  const timeSec = int('time', values.time, 1);
  const nodes = int('nodes', values.nodes, 1);
  const clients = int('clients', values.clients, 1);
  const first = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) :
    int('seed', values.seed, 0);
  const workloads = which === 'all' ? [...workloadNames] : [which];
  if (values.out !== undefined && workloads.length > 1) bad('--out needs one workload');
  console.log(`seed: ${first}`);
  let allValid = true;
  for (const [i, workload] of workloads.entries()) {
    const seed = first + i;
    const outDir = values.out ?? defaultOutDir(workload, seed);
    const result = await runJepsen({ workload, faults, timeSec, seed, nodes, clients, outDir });
    const replay = `npm run jepsen -- --workload ${workload} --faults ${values.faults} ` +
      `--time ${timeSec} --seed ${seed} --nodes ${nodes}`;
    console.log(`${workload}: ${result.summary}; output in ${outDir}`);
    printVerdict(result.verdict, seed, replay, join(outDir, 'verdict.json'));
    console.log(`${workload}: valid: ${result.verdict.valid}`);
    allValid &&= result.verdict.valid;
  }
  console.log(`valid: ${allValid}`);
  return allValid;
}

// 0 valid, 1 invalid, 3 the run itself failed (no verdict: the cluster did not start, ...).
let code = 3;
try {
  code = (await main()) ? 0 : 1;
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  console.error('jepsen: the run failed before a verdict');
  console.log('valid: false');
} finally {
  await stopAllClusters();
}
process.exit(code);
