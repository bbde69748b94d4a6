// A real grpc-js server (createGrpcServer over a FakeBackend, bound on 127.0.0.1:0) and real
// grpc-js clients loaded from our .proto files the way kahuna-ts loads its copies
// (@grpc/proto-loader with keepCase, longs: Number, defaults: false, oneofs: true): what the
// tests see is what a Kahuna client sees.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createGrpcServer } from '../../src/main/grpc/grpc-server.js';
import type { KahunaBackend } from '../../src/core/api/types.js';
import type { TxBackend } from '../../src/core/api/tx-types.js';
import { FakeBackend } from '../helpers/fake-backend.js';

const protoDir = join(import.meta.dirname, '..', '..', 'proto');
const protoFiles = ['locks.proto', 'keyvalues.proto', 'sequences.proto', 'cluster.proto'];

// proto-loader does not check C++ enum scoping, so TYPE_NONE in two files loads (wire.md 1.2).
const definition = protoLoader.loadSync(protoFiles.map((f) => join(protoDir, f)), {
  keepCase: true, longs: Number, defaults: false, oneofs: true, includeDirs: [protoDir],
});
const loaded = grpc.loadPackageDefinition(definition);

// kahuna-ts sets 64 MiB as the client's max send and receive (wire.md 1.1).
const clientOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

export type Msg = Record<string, any>;
export type ServiceName = 'Locker' | 'KeyValuer' | 'Sequencer' | 'Cluster';

/** A client of one Kahuna service at `target` (host:port, plaintext h2c). */
export function kahunaClient(service: ServiceName, target: string): grpc.Client {
  const ctor = loaded[service] as grpc.ServiceClientConstructor;
  return new ctor(target, grpc.credentials.createInsecure(), clientOptions);
}

/** Calls a unary RPC by its proto name. */
export function unaryCall(client: grpc.Client, rpc: string, req: Msg): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const c = client as unknown as Record<string, Function>;
    c[rpc]!.call(c, req, (error: grpc.ServiceError | null, res: Msg) =>
      (error === null ? resolve(res) : reject(error)));
  });
}

export interface Harness {
  /** The backend of the current test; reset() swaps in a fresh one. */
  readonly fake: FakeBackend;
  reset(fake?: FakeBackend): void;
  client(service: ServiceName): grpc.Client;
  /** Calls a unary RPC by its proto name, e.g. call('Locker', 'TryLock', {...}). */
  call(service: ServiceName, rpc: string, req: Msg): Promise<Msg>;
  close(): Promise<void>;
}

/** `tx` serves scripts, sessions and exclusive locks (default: createGrpcServer's). */
export async function startHarness(first: FakeBackend = new FakeBackend(),
  tx?: TxBackend): Promise<Harness> {
  let fake = first;
  // The server keeps one backend for its life; this one forwards to the current fake.
  const forward = new Proxy({} as KahunaBackend, {
    get: (_target, method: keyof KahunaBackend) =>
      (req: never) => (fake[method] as (r: never) => unknown).call(fake, req),
  });
  const server = createGrpcServer(forward, undefined, undefined, tx);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  const clients = new Map<ServiceName, grpc.Client>();
  const client = (service: ServiceName): grpc.Client => {
    let c = clients.get(service);
    if (c === undefined) {
      c = kahunaClient(service, `127.0.0.1:${port}`);
      clients.set(service, c);
    }
    return c;
  };
  const call = (service: ServiceName, rpc: string, req: Msg): Promise<Msg> =>
    unaryCall(client(service), rpc, req);
  const close = async (): Promise<void> => {
    for (const c of clients.values()) c.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  };
  return {
    get fake() {
      return fake;
    },
    reset: (next = new FakeBackend()) => {
      fake = next;
    },
    client, call, close,
  };
}

/** Opens a bidi stream, writes `requests`, ends it, and collects every response. */
export function bidi(client: grpc.Client, rpc: string, requests: readonly Msg[]): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const stream = (client as unknown as Record<string, Function>)[rpc]!.call(
      client) as grpc.ClientDuplexStream<Msg, Msg>;
    const responses: Msg[] = [];
    stream.on('data', (m: Msg) => responses.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(responses));
    for (const r of requests) stream.write(r);
    stream.end();
  });
}

/** Reads a server stream to its end. */
export function serverStream(client: grpc.Client, rpc: string, req: Msg): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const stream = (client as unknown as Record<string, Function>)[rpc]!.call(
      client, req) as grpc.ClientReadableStream<Msg>;
    const responses: Msg[] = [];
    stream.on('data', (m: Msg) => responses.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(responses));
  });
}

export const hlc = (n: number, l: number, c: number) => ({ n, l, c });
