// One gRPC load process of bench/compare/compare.ts, in the style of bench/macro/grpc-load.ts
// (the parent starts several: a grpc-js client costs more CPU per call than the server, so one
// process cannot load it), for the gRPC vs gRPC rows:
//   honu-set    Honu KeyValuer TrySetKeyValue, persistent (durability 1), flags SET
//   honu-get    Honu KeyValuer TryGetKeyValue, persistent, revision -1 (latest); also the request
//               sent to the bare grpc-js ceiling server (bare-grpc.ts), which answers the same path
//   etcd-put    etcd KV.Put
//   etcd-range  etcd KV.Range of one key, serializable false (linearizable)
//   honu-lock   Honu Locker TryLock + Unlock, persistent (durability 1), 30 s expiry: one pair
//   etcd-lock   etcd Lease.LeaseGrant (30 s TTL) + KV.Txn (create_revision == 0: put the key on
//               the lease) + Lease.LeaseRevoke: one pair, as the REST persistent-locks row
//   honu-reserve  Honu Sequencer ReserveSequenceRange count 1 of the persistent bench sequence
//   etcd-txn-counter  etcd KV.Txn mod_revision == last seen: put value+1, else range; a lost
//               compare is retried with what the range read (a retry, not an op nor an error)
//   node dist/bench/compare/grpc-compare-load.js --target 127.0.0.1:2379 --scenario etcd-put \
//     --in-flight 32 --slot-base 0 --warmup-ms 500 --duration-ms 3000 --proc 0 --run-tag r1
// Both sides use the same client stack: grpc-js with message classes from @grpc/proto-loader
// (grpc-protos.ts). Keys as the REST rows (shared.ts): each slot rewrites its 32 keys, or cycles
// over 32 of the 1024 preloaded keys. Protocol on stdio, one JSON object a line, as grpc-load.ts:
// {"type":"ready"} once the h2c channel is connected, the warm-up starts on a line "go", then one
// GrpcCompareResult. --in-flight unary calls stay outstanding; a call counts when it completes
// inside the measured window, and only with the expected answer (Honu Type Set 0 / Got 3 /
// Locked 0 then Unlocked 3 / sequence Success 0, etcd a header / exactly one kv / txn succeeded /
// a lease ID); anything else is an error label. A pair scenario counts one op when its last call
// completes inside the window and every call of that pass answered as expected.
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type Client, type ServiceError, status as grpcStatus } from '@grpc/grpc-js';
import {
  benchValue, countError, expectedType, LatencySamples, lockExpiresMs, lockOwner, lockResource,
  newTally, preloadKey, sequenceName,
} from '../macro/kahuna-common.js';
import {
  loadEtcd, loadHonuKeyValuer, loadHonuLocker, loadHonuSequencer, serviceClient, unaryMethod,
  type Msg,
} from './grpc-protos.js';
import {
  bodiesPerConn, getIndex, grpcCompareScenarios, grpcPairScenarios, writeKey,
  type GrpcCompareResult, type GrpcCompareScenario,
} from './shared.js';

const drainWaitMs = 10_000;
const connectWaitMs = 10_000;
const honuPersistent = 1; // GrpcKeyValueDurability.PERSISTENT
const honuFlagSet = 1; // GrpcKeyValueFlags.SET
const honuLockPersistent = 1; // GrpcLockDurability.LOCK_DURABILITY_PERSISTENT
const honuSequencePersistent = 1; // GrpcSequenceDurability.SEQUENCE_PERSISTENT
const etcdCounter = 'bench-counter'; // the key of the REST txn-counters row (compare.ts)
/** A call's answer that is neither an op nor an error: a lost compare, tried again. */
const retry = 'retry';

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

/** One unary call of a slot: resolves with null (expected answer), `retry` or an error label. */
type Call = () => Promise<string | null>;

/** The clients of a process: `client` for the scenario's service and, for etcd-lock, `lease`
 *  (etcd's Lease service over the same channel). */
interface Clients {
  readonly client: Client;
  readonly lease: Client | null;
}

function openClients(options: LoadOptions): Clients {
  switch (options.scenario) {
    case 'honu-set': case 'honu-get':
      return { client: serviceClient(loadHonuKeyValuer(), 'KeyValuer', options.target),
        lease: null };
    case 'honu-lock':
      return { client: serviceClient(loadHonuLocker(), 'Locker', options.target), lease: null };
    case 'honu-reserve':
      return { client: serviceClient(loadHonuSequencer(), 'Sequencer', options.target),
        lease: null };
    case 'etcd-lock': {
      const etcd = loadEtcd();
      const client = serviceClient(etcd, 'etcdserverpb.KV', options.target);
      return { client, lease: serviceClient(etcd, 'etcdserverpb.Lease', options.target, client) };
    }
    case 'etcd-put': case 'etcd-range': case 'etcd-txn-counter':
      return { client: serviceClient(loadEtcd(), 'etcdserverpb.KV', options.target), lease: null };
  }
}

/** The calls slot `slot` (global index) loops over. */
function slotCalls(options: LoadOptions, clients: Clients, slot: number): Call[] {
  const { client } = clients;
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
    case 'honu-lock': {
      const tryLock = unaryMethod(client, 'TryLock');
      const unlock = unaryMethod(client, 'Unlock');
      const resource = lockResource(`${options.runTag}-honu`, slot);
      const owner = lockOwner(`${options.runTag}-honu`, slot);
      const lockReq = { Resource: resource, Owner: owner, ExpiresMs: lockExpiresMs,
        Durability: honuLockPersistent };
      const unlockReq = { Resource: resource, Owner: owner, Durability: honuLockPersistent };
      return [
        async () => honuType('lock', await tryLock(lockReq), expectedType.lock),
        async () => honuType('unlock', await unlock(unlockReq), expectedType.unlock),
      ];
    }
    case 'etcd-lock': {
      const grant = unaryMethod(clients.lease!, 'LeaseGrant');
      const txn = unaryMethod(client, 'Txn');
      const revoke = unaryMethod(clients.lease!, 'LeaseRevoke');
      const key = Buffer.from(lockResource(`${options.runTag}-etcd`, slot));
      const owner = lockOwner(`${options.runTag}-etcd`, slot);
      let lease = '0'; // int64 as a decimal string (longs: String)
      return [
        async () => {
          lease = '0';
          const res = await grant({ TTL: lockExpiresMs / 1000 });
          if (res['header'] === undefined || typeof res['error'] === 'string') {
            return 'grant error';
          }
          if (res['ID'] === undefined) return 'grant no ID';
          lease = String(res['ID']);
          return null;
        },
        async () => {
          const res = await txn({
            compare: [{ result: 'EQUAL', target: 'CREATE', key, create_revision: 0 }],
            success: [{ request_put: { key, value: owner, lease } }],
          });
          if (res['header'] === undefined) return 'txn no header';
          return res['succeeded'] === true ? null : 'txn lock held';
        },
        async () => ((await revoke({ ID: lease }))['header'] === undefined
          ? 'revoke no header' : null),
      ];
    }
    case 'honu-reserve': {
      const reserve = unaryMethod(client, 'ReserveSequenceRange');
      const req = { Name: sequenceName, Count: 1, Durability: honuSequencePersistent };
      return [async () => honuType('reserve', await reserve(req), expectedType.reserve)];
    }
    case 'etcd-txn-counter': {
      // As the REST txn-counters row: Txn(mod_revision == the revision this slot last saw) put
      // value+1, else range the key; a slot starts knowing nothing, so its first try is a retry.
      const txn = unaryMethod(client, 'Txn');
      const key = Buffer.from(etcdCounter);
      let modRevision = '-1';
      let value = 0;
      return [async () => {
        const res = await txn({
          compare: [{ result: 'EQUAL', target: 'MOD', key, mod_revision: modRevision }],
          success: [{ request_put: { key, value: Buffer.from(String(value + 1)) } }],
          failure: [{ request_range: { key } }],
        });
        const header = res['header'] as Msg | undefined;
        if (header === undefined) return 'txn no header';
        if (res['succeeded'] === true) {
          if (header['revision'] === undefined) return 'txn no revision';
          modRevision = String(header['revision']);
          value += 1;
          return null;
        }
        const responses = res['responses'] as Msg[] | undefined;
        const kv = (responses?.[0]?.['response_range']?.['kvs'] as Msg[] | undefined)?.[0];
        modRevision = kv?.['mod_revision'] === undefined ? '0' : String(kv['mod_revision']);
        value = kv?.['value'] === undefined ? 0 : Number((kv['value'] as Buffer).toString());
        return Number.isInteger(value) ? retry : 'txn counter not a number';
      }];
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

async function runLoad(options: LoadOptions, clients: Clients): Promise<GrpcCompareResult> {
  const pair = grpcPairScenarios.includes(options.scenario);
  const tally = newTally();
  let retries = 0;
  const latency = new LatencySamples();
  const start = performance.now();
  const measureStart = start + options.warmupMs;
  const measureEnd = measureStart + options.durationMs;
  let inFlight = 0;
  let stopped = false;

  const runSlot = async (slot: number): Promise<void> => {
    const calls = slotCalls(options, clients, slot);
    let passOk = true; // pair: every call of the current pass answered as expected
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
      const counted = end >= measureStart && end < measureEnd;
      if (counted) {
        tally.calls += 1;
        latency.add(end - callStart);
        if (label === retry) retries += 1;
        else if (label !== null) countError(tally, label);
      }
      if (pair) {
        passOk = (step === 0 || passOk) && label === null;
        if (step === calls.length - 1 && passOk && counted) tally.ops += 1;
      } else if (label === null && counted) {
        tally.ops += 1;
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
    windowMs: options.durationMs, tally, unfinished: inFlight, latency: latency.toJSON(), retries,
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
  const clients = openClients(options);
  const { client } = clients;
  await new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + connectWaitMs, (e) => (e ? reject(e) : resolve()));
  });
  process.stdout.write(JSON.stringify({ type: 'ready', proc: options.proc }) + '\n');
  await waitForGo();
  const result = await runLoad(options, clients);
  clients.lease?.close();
  client.close();
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

await main();
