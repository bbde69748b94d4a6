// One gRPC load process of the Kahuna macro benchmark (bench/macro/kahuna.ts starts several:
// a grpc-js client costs about twice the server's CPU per call, so one process cannot load it).
//   node dist/bench/macro/grpc-load.js --target 127.0.0.1:2070 --scenario set --in-flight 32 \
//     --warmup-ms 2000 --duration-ms 10000 --proc 0 --run-tag r1 --value-bytes 64
// Protocol on stdio, one JSON object a line: it prints {"type":"ready"} once its h2c channel is
// connected, starts its warm-up when a line "go" arrives on stdin, and prints one GrpcLoadResult
// when done. It keeps --in-flight unary calls outstanding with the generated grpc-js clients;
// a call counts when it completes inside the measured window, and only with the expected Type.
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { credentials, type ServiceError, status as grpcStatus } from '@grpc/grpc-js';
import {
  GrpcKeyValueDurability, GrpcKeyValueFlags, GrpcTryGetKeyValueRequest,
  GrpcTrySetKeyValueRequest, KeyValuerClient,
} from '../../src/main/grpc/generated/keyvalues.js';
import {
  GrpcLockDurability, GrpcTryLockRequest, GrpcUnlockRequest, LockerClient,
} from '../../src/main/grpc/generated/locks.js';
import {
  GrpcReserveSequenceRangeRequest, GrpcSequenceDurability, SequencerClient,
} from '../../src/main/grpc/generated/sequences.js';
import {
  benchValue, countError, expectedType, isScenarioName, LatencySamples, lockExpiresMs, lockOwner,
  lockResource, newTally, preloadKey, scenarios, sequenceName, uniqueKey,
} from './kahuna-common.js';
import type { CallKind, GrpcLoadResult, Scenario } from './kahuna-common.js';

/** After the window, wait this long for calls still in flight, then report them unfinished. */
const drainWaitMs = 10_000;
const connectWaitMs = 10_000;
const grpcMessageBytesMax = 64 * 1024 * 1024;

interface LoadOptions {
  readonly target: string;
  readonly scenario: Scenario;
  readonly inFlight: number;
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
      'warmup-ms': { type: 'string', default: '2000' },
      'duration-ms': { type: 'string', default: '10000' },
      'proc': { type: 'string', default: '0' },
      'run-tag': { type: 'string', default: 'g' },
      'value-bytes': { type: 'string', default: '64' },
    },
  });
  const scenario = values.scenario ?? '';
  if (values.target === undefined || !isScenarioName(scenario)) {
    throw new Error('grpc-load: need --target host:port and --scenario <name>');
  }
  return {
    target: values.target, scenario: scenarios[scenario], inFlight: Number(values['in-flight']),
    warmupMs: Number(values['warmup-ms']), durationMs: Number(values['duration-ms']),
    proc: Number(values.proc), runTag: values['run-tag'], valueBytes: Number(values['value-bytes']),
  };
}

/** One unary call: resolves with the outcome's Type, or rejects with the grpc-js error. */
type Call = () => Promise<number>;

function unary<Req, Res extends { Type: number }>(
  method: (req: Req, cb: (e: ServiceError | null, res: Res) => void) => unknown, req: Req,
): Promise<number> {
  return new Promise((resolve, reject) => {
    method(req, (e, res) => (e === null ? resolve(res.Type) : reject(e)));
  });
}

interface Clients {
  kv: KeyValuerClient | null;
  locker: LockerClient | null;
  sequencer: SequencerClient | null;
}

function openClients(options: LoadOptions): Clients {
  const channelOptions = {
    'grpc.max_receive_message_length': grpcMessageBytesMax,
    'grpc.max_send_message_length': grpcMessageBytesMax,
  };
  const creds = credentials.createInsecure(); // h2c: HTTP/2 prior knowledge, no TLS
  const kind = options.scenario.kind;
  return {
    kv: kind === 'set' || kind === 'get' || kind === 'mixed'
      ? new KeyValuerClient(options.target, creds, channelOptions) : null,
    locker: kind === 'lock-unlock' ? new LockerClient(options.target, creds, channelOptions) : null,
    sequencer: kind === 'sequence-next'
      ? new SequencerClient(options.target, creds, channelOptions) : null,
  };
}

/** The calls one in-flight slot makes, in a loop: one call, or [set, get], or [lock, unlock]. */
function slotCalls(options: LoadOptions, clients: Clients, slot: number,
  nextKey: () => string): Array<[CallKind, Call]> {
  const durability = options.scenario.durability;
  const kvDurability = durability === 1
    ? GrpcKeyValueDurability.PERSISTENT : GrpcKeyValueDurability.EPHEMERAL;
  const value = benchValue(options.valueBytes);
  const setBase = GrpcTrySetKeyValueRequest.fromPartial({
    Value: value, Flags: GrpcKeyValueFlags.SET, ExpiresMs: 0, Durability: kvDurability,
  });
  const getBase = GrpcTryGetKeyValueRequest.fromPartial({
    Revision: -1n, Durability: kvDurability,
  });
  let getIndex = options.proc * 7919 + slot * 131;
  const set: [CallKind, Call] = ['set', () => {
    const kv = clients.kv!;
    return unary(kv.trySetKeyValue.bind(kv), { ...setBase, Key: nextKey() });
  }];
  const get: [CallKind, Call] = ['get', () => {
    const kv = clients.kv!;
    getIndex += 1;
    return unary(kv.tryGetKeyValue.bind(kv), { ...getBase, Key: preloadKey(durability, getIndex) });
  }];
  switch (options.scenario.kind) {
    case 'set': return [set];
    case 'get': return [get];
    case 'mixed': return [set, get];
    case 'lock-unlock': {
      const locker = clients.locker!;
      const tag = `${options.runTag}-${options.proc}`;
      const resource = lockResource(tag, slot);
      const owner = lockOwner(tag, slot);
      const lockDurability = GrpcLockDurability.LOCK_DURABILITY_PERSISTENT;
      const lockReq = GrpcTryLockRequest.fromPartial({
        Resource: resource, Owner: owner, ExpiresMs: lockExpiresMs, Durability: lockDurability,
      });
      const unlockReq = GrpcUnlockRequest.fromPartial({
        Resource: resource, Owner: owner, Durability: lockDurability,
      });
      return [
        ['lock', () => unary(locker.tryLock.bind(locker), lockReq)],
        ['unlock', () => unary(locker.unlock.bind(locker), unlockReq)],
      ];
    }
    case 'sequence-next': {
      const sequencer = clients.sequencer!;
      const req = GrpcReserveSequenceRangeRequest.fromPartial({
        Name: sequenceName, Count: 1, Durability: GrpcSequenceDurability.SEQUENCE_PERSISTENT,
      });
      return [['reserve', () => unary(sequencer.reserveSequenceRange.bind(sequencer), req)]];
    }
  }
}

function waitReady(clients: Clients): Promise<void> {
  const client = clients.kv ?? clients.locker ?? clients.sequencer;
  if (client === null) return Promise.reject(new Error('no client'));
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + connectWaitMs, (e) => (e ? reject(e) : resolve()));
  });
}

function grpcErrorLabel(e: unknown): string {
  const code = (e as Partial<ServiceError>).code;
  if (typeof code === 'number') return `grpc ${grpcStatus[code] ?? code}`;
  return `error ${e instanceof Error ? e.message : String(e)}`;
}

async function runLoad(options: LoadOptions, clients: Clients): Promise<GrpcLoadResult> {
  const tally = newTally();
  const latency = new LatencySamples();
  let keyCount = 0;
  const keyTag = `${options.runTag}-${options.proc}`;
  const nextKey = (): string => uniqueKey(keyTag, (keyCount += 1));
  const start = performance.now();
  const measureStart = start + options.warmupMs;
  const measureEnd = measureStart + options.durationMs;
  let inFlight = 0;
  let stopped = false;

  const runSlot = async (slot: number): Promise<void> => {
    const calls = slotCalls(options, clients, slot, nextKey);
    let step = 0;
    let pairOk = true; // lock-unlock: both halves of the current pair answered as expected
    while (!stopped) {
      const entry = calls[step];
      if (entry === undefined) throw new Error('no call');
      const [kind, call] = entry;
      const callStart = performance.now();
      if (callStart >= measureEnd) break;
      inFlight += 1;
      let label: string | null = null;
      try {
        const type = await call();
        if (type !== expectedType[kind]) label = `${kind} type ${type}`;
      } catch (e) {
        label = `${kind} ${grpcErrorLabel(e)}`;
      }
      inFlight -= 1;
      const end = performance.now();
      const counted = end >= measureStart && end < measureEnd;
      if (counted) {
        tally.calls += 1;
        latency.add(end - callStart);
        if (label !== null) countError(tally, label);
      }
      if (options.scenario.unit === 'pair') {
        pairOk = step === 0 ? label === null : pairOk && label === null;
        if (step === 1 && pairOk && counted) tally.ops += 1;
      } else if (label === null && counted) {
        tally.ops += 1;
      }
      step = (step + 1) % calls.length;
    }
  };

  const slots = Array.from({ length: options.inFlight }, (_, slot) => runSlot(slot));
  const windowEnd = new Promise<void>((resolve) => {
    setTimeout(resolve, Math.max(0, measureEnd - performance.now()));
  });
  await windowEnd;
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
  throw new Error('grpc-load: stdin closed before "go"');
}

async function main(): Promise<void> {
  const options = parseLoadOptions();
  const clients = openClients(options);
  await waitReady(clients);
  process.stdout.write(JSON.stringify({ type: 'ready', proc: options.proc }) + '\n');
  await waitForGo();
  const result = await runLoad(options, clients);
  for (const client of [clients.kv, clients.locker, clients.sequencer]) client?.close();
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

await main();
