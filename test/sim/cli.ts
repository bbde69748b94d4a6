// npm run sim -- --seed N [--steps M] [--nodes 3|5] [--groups G] [--count K]
// Replays seed N exactly (or seeds N..N+K-1) and exits 1 on the first violation, printing it
// with its seed. Without --seed, a fresh seed is drawn and printed first.
import { parseArgs } from 'node:util';
import { runSeed, type SimResult } from './simulator.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    steps: { type: 'string', default: '600' },
    nodes: { type: 'string' },
    groups: { type: 'string' },
    count: { type: 'string', default: '1' },
    quiet: { type: 'boolean', default: false },
  },
});

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`sim: --${name} must be a non-negative integer (got ${JSON.stringify(v)})`);
    process.exit(2);
  }
  return n;
}

const first = num('seed', values.seed) ?? Math.floor(Math.random() * 2 ** 31);
const count = num('count', values.count) ?? 1;
const steps = num('steps', values.steps) ?? 600;
const nodes = num('nodes', values.nodes);
const groups = num('groups', values.groups);
if (nodes !== undefined && nodes !== 3 && nodes !== 5) {
  console.error('sim: --nodes must be 3 or 5');
  process.exit(2);
}

function line(r: SimResult, ms: number): string {
  const s = r.scenario;
  return `SEED=${r.seed} ok nodes=${s.nodes} groups=${s.groups} preVote=${s.preVote} ` +
    `checkQuorum=${s.checkQuorum} quiesce=${s.quiesce} membership=${s.membership} lazyCommit=${s.lazyCommit} events=${r.events} ` +
    `proposals=${r.proposals} committedMax=${r.committedMax} applies=${r.checker.applies} ` +
    `crashes=${r.crashes} lostWrites=${r.lostWrites} partitions=${r.partitions} ` +
    `snapshots=${r.snapshotsSent} reads=${r.readsAnswered} transfers=${r.transfers} confChanges=${r.confChanges} ` +
    `leaders=${r.checker.leaders} quiesces=${r.quiesces} healedIn=${r.livenessTicks}t ${ms}ms`;
}

const started = Date.now();
for (let seed = first; seed < first + count; seed++) {
  const t0 = Date.now();
  try {
    const r = runSeed({ seed, steps, ...(nodes !== undefined ? { nodes } : {}),
      ...(groups !== undefined ? { groups } : {}) });
    if (!values.quiet) console.log(line(r, Date.now() - t0));
  } catch (error) {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    console.error(`FAILED SEED=${seed} (replay: npm run sim -- --seed ${seed} --steps ${steps})`);
    process.exit(1);
  }
}
console.log(`${count} seed(s) from ${first} clean in ${Date.now() - started} ms`);
