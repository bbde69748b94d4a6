// Kahuna Script and transaction benchmark (issue 8): one fresh `honu server` child process,
// REST /v1/kv/try-execute-tx-script over loopback, autocannon in this process.
//   npm run bench:scripts   (= npm run build && node dist/bench/macro/scripts.js)
//   node dist/bench/macro/scripts.js --duration-ms 10000 --warmup-ms 2000 --connections 64 \
//     --accounts 16 --scenarios set-script,rmw-script,transfer
// Scenarios:
//   set-script   `SET @k @v` (one statement: a plain persistent set), a unique key per request
//   rmw-script   a two-key read-modify-write across partitions, a transaction per request:
//                `LET a = GET @a  LET b = GET @b  SET @a to_int(a) + 1  SET @b to_int(b) + 1`
//                on a per-connection pair of keys in different buckets (no contention)
//   transfer     contended transfers between --accounts accounts (keys in different buckets):
//                read both balances, move 1 if the source has it; pessimistic locking, so
//                conflicting transfers abort (Aborted, 102) and are counted, not retried
// A request counts as committed when the script answered Set (0) or Get (3); Aborted counts as
// an abort; anything else is an error. After `transfer`, one script reads every account and the
// total must equal accounts x initial balance (printed as "total ok"). Prints a table and one
// JSON line; figures go to bench/RESULTS.md. Speed is never asserted.
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { Client } from 'autocannon';
import { postJson, startServer, stopServer, type Server } from './honu-server.js';
import { LatencySamples, mergedPercentiles } from './kahuna-common.js';

const scenarioList = ['set-script', 'rmw-script', 'transfer'] as const;
type ScenarioName = (typeof scenarioList)[number];

interface Options {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly connections: number;
  readonly accounts: number;
  readonly scenarios: readonly ScenarioName[];
}

const initialBalance = 1000;
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

const rmwScript = b64('LET a = GET @a LET b = GET @b SET @a to_int(a) + 1 SET @b to_int(b) + 1');
const transferScript = b64([
  'LET f = GET @from', 'LET t = GET @to',
  'IF to_int(f) >= 1 THEN', '  SET @from to_int(f) - 1', '  SET @to to_int(t) + 1', 'END',
].join('\n'));
const setScript = b64('SET @k @v');

function account(i: number): string {
  return `bank${i}/balance`;
}

function scriptBody(script: string, params: Record<string, string>): string {
  return JSON.stringify({ script, hash: null, priority: 0,
    parameters: Object.entries(params).map(([key, value]) => ({ key, value })) });
}

interface Tally { committed: number; aborted: number; errors: Record<string, number> }

function body(scenario: ScenarioName, conn: number, n: number, o: Options): string {
  switch (scenario) {
    case 'set-script':
      return scriptBody(setScript, { '@k': `s${conn}/k${n}`, '@v': 'x'.repeat(64) });
    case 'rmw-script':
      return scriptBody(rmwScript, { '@a': `rmwa${conn}/k`, '@b': `rmwb${conn}/k` });
    case 'transfer': {
      const from = (conn * 7 + n * 13) % o.accounts;
      let to = (from + 1 + ((n * 5 + conn) % (o.accounts - 1))) % o.accounts;
      if (to === from) to = (to + 1) % o.accounts;
      return scriptBody(transferScript, { '@from': account(from), '@to': account(to) });
    }
  }
}

async function run(server: Server, scenario: ScenarioName, o: Options, durationMs: number):
  Promise<{ tally: Tally; latency: LatencySamples; seconds: number }> {
  const tally: Tally = { committed: 0, aborted: 0, errors: {} };
  const latency = new LatencySamples();
  let conn = 0;
  const instance = autocannon({
    url: `http://127.0.0.1:${server.port}`, connections: o.connections,
    duration: durationMs / 1000, timeout: 10,
    setupClient: (client: Client) => {
      const me = conn++;
      let n = 0;
      client.setRequests([{
        method: 'POST', path: '/v1/kv/try-execute-tx-script',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: body(scenario, me, n++, o) }),
        onResponse: (status: number, resBody: string) => {
          const type = status === 200 ? (JSON.parse(resBody) as { type: number }).type : -status;
          if (type === 0 || type === 3) tally.committed += 1;
          else if (type === 102) tally.aborted += 1;
          else tally.errors[`type ${type}`] = (tally.errors[`type ${type}`] ?? 0) + 1;
        },
      }]);
    },
  });
  instance.on('response', (_c: unknown, _s: number, _b: number, ms: number) => latency.add(ms));
  const result = await instance;
  if (result.errors > 0) tally.errors['connection errors'] = result.errors;
  return { tally, latency, seconds: result.duration };
}

async function seedAccounts(server: Server, o: Options): Promise<void> {
  for (let i = 0; i < o.accounts; i += 1) {
    const r = await postJson(server, '/v1/kv/try-execute-tx-script', JSON.parse(scriptBody(
      setScript, { '@k': account(i), '@v': String(initialBalance) })) as unknown);
    if (r.type !== 0) throw new Error(`seeding ${account(i)} answered ${r.type}`);
  }
  for (let c = 0; c < o.connections; c += 1) {
    for (const k of [`rmwa${c}/k`, `rmwb${c}/k`]) {
      await postJson(server, '/v1/kv/try-execute-tx-script',
        JSON.parse(scriptBody(setScript, { '@k': k, '@v': '0' })) as unknown);
    }
  }
}

async function total(server: Server, o: Options): Promise<number> {
  const lines = Array.from({ length: o.accounts }, (_, i) => `LET a${i} = GET @a${i}`);
  const sum = Array.from({ length: o.accounts }, (_, i) => `to_int(a${i})`).join(' + ');
  const params: Record<string, string> = {};
  for (let i = 0; i < o.accounts; i += 1) params[`@a${i}`] = account(i);
  const r = await postJson(server, '/v1/kv/try-execute-tx-script', JSON.parse(scriptBody(
    b64(`${lines.join(' ')} RETURN ${sum}`), params)) as unknown) as
    { type?: number; values?: { value: string }[] };
  if (r.type !== 3 || r.values?.[0] === undefined) throw new Error(`total read: ${r.type}`);
  return Number(Buffer.from(r.values[0].value, 'base64').toString('utf8'));
}

interface Row {
  readonly scenario: ScenarioName;
  readonly connections: number;
  readonly committedPerSec: number;
  readonly abortRate: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly errors: Record<string, number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    'duration-ms': { type: 'string', default: '10000' },
    'warmup-ms': { type: 'string', default: '2000' },
    connections: { type: 'string', default: '64' },
    accounts: { type: 'string', default: '16' },
    scenarios: { type: 'string', default: scenarioList.join(',') },
  } });
  const o: Options = {
    durationMs: Number(values['duration-ms']), warmupMs: Number(values['warmup-ms']),
    connections: Number(values.connections), accounts: Math.max(2, Number(values.accounts)),
    scenarios: values.scenarios.split(',').filter((s): s is ScenarioName =>
      (scenarioList as readonly string[]).includes(s)),
  };
  const server = await startServer();
  const rows: Row[] = [];
  try {
    await seedAccounts(server, o);
    for (const scenario of o.scenarios) {
      if (o.warmupMs > 0) await run(server, scenario, o, o.warmupMs);
      const { tally, latency, seconds } = await run(server, scenario, o, o.durationMs);
      const [p50, p99] = mergedPercentiles([latency.toJSON()], [0.5, 0.99]);
      const attempts = tally.committed + tally.aborted;
      rows.push({ scenario, connections: o.connections,
        committedPerSec: Math.round(tally.committed / seconds),
        abortRate: attempts === 0 ? 0 : Number((tally.aborted / attempts).toFixed(4)),
        p50Ms: p50, p99Ms: p99, errors: tally.errors });
    }
    const sum = o.scenarios.includes('transfer') ? await total(server, o) : null;
    const expected = o.accounts * initialBalance;
    console.log('scenario      conns  committed/s  abort rate  p50 ms  p99 ms  errors');
    for (const r of rows) {
      console.log(`${String(r.scenario).padEnd(13)} ${String(r.connections).padStart(5)}  ` +
        `${String(r.committedPerSec).padStart(11)}  ${String(r.abortRate).padStart(10)}  ` +
        `${Number(r.p50Ms).toFixed(2).padStart(6)}  ${Number(r.p99Ms).toFixed(2).padStart(6)}  ` +
        `${JSON.stringify(r.errors)}`);
    }
    if (sum !== null) console.log(`transfer total ${sum} (expected ${expected}): ` +
      `${sum === expected ? 'total ok' : 'TOTAL CHANGED'}`);
    console.log(JSON.stringify({ date: new Date().toISOString(), rows, total: sum, expected }));
  } finally {
    await stopServer(server);
  }
}

await main();
