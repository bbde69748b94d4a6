// One gRPC load process of bench/compare/compare.ts, in the style of bench/macro/grpc-load.ts
// (the parent starts several: a grpc-js client costs more CPU per call than the server, so one
// process cannot load it), for the gRPC vs gRPC rows:
//   honu-set    Honu KeyValuer TrySetKeyValue, persistent (durability 1), flags SET
//   honu-get    Honu KeyValuer TryGetKeyValue, persistent, revision -1 (latest); also the request
//               sent to the bare grpc-js ceiling server (bare-grpc.ts), which answers the same path
//   etcd-put    etcd KV.Put
//   etcd-range  etcd KV.Range of one key, serializable false (linearizable)
//   node dist/bench/compare/grpc-compare-load.js --target 127.0.0.1:2379 --scenario etcd-put \
//     --in-flight 32 --slot-base 0 --warmup-ms 500 --duration-ms 3000 --proc 0 --run-tag r1
// Both sides use the same client stack: grpc-js with message classes from @grpc/proto-loader
// (grpc-protos.ts). Keys as the REST rows (shared.ts): each slot rewrites its 32 keys, or cycles
// over 32 of the 1024 preloaded keys. Protocol on stdio, one JSON object a line, as grpc-load.ts:
// {"type":"ready"} once the h2c channel is connected, the warm-up starts on a line "go", then one
// GrpcLoadResult. --in-flight unary calls stay outstanding; a call counts when it completes inside
// the measured window, and only with the expected answer (Honu Type Set 0 / Got 3, etcd a header /
// exactly one kv); anything else is an error label.
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type Client, type ServiceError, status as grpcStatus } from '@grpc/grpc-js';
import {
  benchValue, countError, expectedType, LatencySamples, newTally, preloadKey,
} from '../macro/kahuna-common.js';
import type { GrpcLoadResult } from '../macro/kahuna-common.js';
import {
  loadEtcd, loadHonuKeyValuer, serviceClient, unaryMethod, type Msg,
} from './grpc-protos.js';
import {
  bodiesPerConn, getIndex, grpcCompareScenarios, writeKey, type GrpcCompareScenario,
} from './shared.js';

const drainWaitMs = 10_000;
const connectWaitMs = 10_000;
const honuPersistent = 1; // GrpcKeyValueDurability.PERSISTENT
const honuFlagSet = 1; // GrpcKeyValueFlags.SET

interface LoadOptions {
  readonly target: string;
  readonly scenario: GrpcCompareScenario;
  readonly inFlight: number;
  readonly slotBase: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly proc: number;
  readonly runTag: string;
  readonly valueBytes: number;
}

function parseLoadOptions(): LoadOptions {
  const { values } = parseArgs({
    options: {
      'target': { type: 'string' },
      'scenario': { type: 'string' },
      'in-flight': { type: 'string', default: '32' },
      'slot-base': { type: 'string', default: '0' },
      'warmup-ms': { type: 'string', default: '500' },
      'duration-ms': { type: 'string', default: '3000' },
      'proc': { type: 'string', default: '0' },
      'run-tag': { type: 'string', default: 'g' },
      'value-bytes': { type: 'string', default: '64' },
    },
  });
  const scenario = values.scenario ?? '';
  if (values.target === undefined ||
    !(grpcCompareScenarios as readonly string[]).includes(scenario)) {
    throw new Error('grpc-compare-load: need --target host:port and --scenario ' +
      grpcCompareScenarios.join('|'));
  }
  return {
    target: values.target, scenario: scenario as GrpcCompareScenario,
    inFlight: Number(values['in-flight']), slotBase: Number(values['slot-base']),
    warmupMs: Number(values['warmup-ms']), durationMs: Number(values['duration-ms']),
    proc: Number(values.proc), runTag: values['run-tag'], valueBytes: Number(values['value-bytes']),
  };
}

/** One unary call of a slot: resolves with null (expected answer) or an error label. */
type Call = () => Promise<string | null>;

function openClient(options: LoadOptions): Client {
  return options.scenario.startsWith('honu-')
    ? serviceClient(loadHonuKeyValuer(), 'KeyValuer', options.target)
    : serviceClient(loadEtcd(), 'etcdserverpb.KV', options.target);
}

/** The calls slot `slot` (global index) loops over. */
function slotCalls(options: LoadOptions, client: Client, slot: number): Call[] {
  const value = benchValue(options.valueBytes);
  const steps = Array.from({ length: bodiesPerConn }, (_, i) => i);
  switch (options.scenario) {
    case 'honu-set': {
      const trySet = unaryMethod(client, 'TrySetKeyValue');
      return steps.map((i) => {
        const req = { Key: writeKey(options.runTag, slot, i), Value: value, Flags: honuFlagSet,
          ExpiresMs: 0, Durability: honuPersistent };
        return async () => honuType('set', await trySet(req), expectedType.set);
      });
    }
    case 'honu-get': {
      const tryGet = unaryMethod(client, 'TryGetKeyValue');
      return steps.map((i) => {
        const req = { Key: preloadKey(1, getIndex(slot, i)), Revision: -1,
          Durability: honuPersistent };
        return async () => honuType('get', await tryGet(req), expectedType.get);
      });
    }
    case 'etcd-put': {
      const put = unaryMethod(client, 'Put');
      return steps.map((i) => {
        const req = { key: Buffer.from(writeKey(options.runTag, slot, i)), value };
        return async () => ((await put(req))['header'] === undefined ? 'put no header' : null);
      });
    }
    case 'etcd-range': {
      const range = unaryMethod(client, 'Range');
      return steps.map((i) => {
        const req = { key: Buffer.from(preloadKey(1, getIndex(slot, i))), serializable: false };
        return async () => {
          const res = await range(req);
          const kvs = res['kvs'] as unknown[] | undefined;
          return res['header'] !== undefined && kvs?.length === 1
            ? null : `range ${kvs?.length ?? 0} kvs`;
        };
      });
    }
  }
}

function honuType(kind: string, res: Msg, expected: number): string | null {
  const type = (res['Type'] as number | undefined) ?? 0; // proto3: 0 decodes as absent
  return type === expected ? null : `${kind} type ${type}`;
}

function grpcErrorLabel(e: unknown): string {
  const code = (e as Partial<ServiceError>).code;
  if (typeof code === 'number') return `grpc ${grpcStatus[code] ?? code}`;
  return `error ${e instanceof Error ? e.message : String(e)}`;
}

async function runLoad(options: LoadOptions, client: Client): Promise<GrpcLoadResult> {
  const tally = newTally();
  const latency = new LatencySamples();
  const start = performance.now();
  const measureStart = start + options.warmupMs;
  const measureEnd = measureStart + options.durationMs;
  let inFlight = 0;
  let stopped = false;

  const runSlot = async (slot: number): Promise<void> => {
    const calls = slotCalls(options, client, slot);
    for (let step = 0; !stopped; step = (step + 1) % calls.length) {
      const callStart = performance.now();
      if (callStart >= measureEnd) break;
      inFlight += 1;
      let label: string | null;
      try {
        label = await calls[step]!();
      } catch (e) {
        label = grpcErrorLabel(e);
      }
      inFlight -= 1;
      const end = performance.now();
      if (end >= measureStart && end < measureEnd) {
        tally.calls += 1;
        latency.add(end - callStart);
        if (label === null) tally.ops += 1;
        else countError(tally, label);
      }
    }
  };

  const slots = Array.from({ length: options.inFlight },
    (_, i) => runSlot(options.slotBase + i));
  await new Promise<void>((resolve) => {
    setTimeout(resolve, Math.max(0, measureEnd - performance.now()));
  });
  stopped = true;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, drainWaitMs);
  });
  await Promise.race([Promise.all(slots).then(() => undefined), gaveUp]);
  clearTimeout(timer);
  return {
    type: 'result', proc: options.proc, inFlight: options.inFlight,
    windowMs: options.durationMs, tally, unfinished: inFlight, latency: latency.toJSON(),
  };
}

async function waitForGo(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'go') {
      lines.close();
      return;
    }
  }
  throw new Error('grpc-compare-load: stdin closed before "go"');
}

async function main(): Promise<void> {
  const options = parseLoadOptions();
  const client = openClient(options);
  await new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + connectWaitMs, (e) => (e ? reject(e) : resolve()));
  });
  process.stdout.write(JSON.stringify({ type: 'ready', proc: options.proc }) + '\n');
  await waitForGo();
  const result = await runLoad(options, client);
  client.close();
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

await main();
