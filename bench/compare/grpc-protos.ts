// The gRPC definitions bench/compare loads with @grpc/proto-loader, the same way on both sides of
// a row: Honu's KeyValuer, Locker and Sequencer from proto/keyvalues.proto, locks.proto and
// sequences.proto (as kahuna-ts loads its copies) and etcd's KV
// and Lease from bench/compare/etcd-rpc.proto (a subset written for this benchmark). Options as
// test/grpc/harness.ts: keepCase, longs as numbers (etcd: strings), no defaults filled in (a
// proto3 zero value, e.g. Type 0, decodes as absent), oneofs named. The .proto files are read
// from the source tree (tsc does not copy them to dist/).
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoRoot } from '../../src/env/paths.js';

const loaderOptions: protoLoader.Options = {
  keepCase: true, longs: Number, defaults: false, oneofs: true,
};

/** kahuna-ts sets 64 MiB as the client's max send and receive (wire.md 1.1); the same for etcd. */
export const grpcChannelOptions: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

export const honuKeyValuesProto = join(repoRoot, 'proto', 'keyvalues.proto');
export const honuLocksProto = join(repoRoot, 'proto', 'locks.proto');
export const honuSequencesProto = join(repoRoot, 'proto', 'sequences.proto');
export const etcdRpcProto = join(repoRoot, 'bench', 'compare', 'etcd-rpc.proto');

function loadHonu(file: string): protoLoader.PackageDefinition {
  return protoLoader.loadSync(file, { ...loaderOptions, includeDirs: [join(repoRoot, 'proto')] });
}

export function loadHonuKeyValuer(): protoLoader.PackageDefinition {
  return loadHonu(honuKeyValuesProto);
}

/** Locker (proto/locks.proto). */
export function loadHonuLocker(): protoLoader.PackageDefinition {
  return loadHonu(honuLocksProto);
}

/** Sequencer (proto/sequences.proto). */
export function loadHonuSequencer(): protoLoader.PackageDefinition {
  return loadHonu(honuSequencesProto);
}

/** etcd's int64 lease IDs do not fit a double: its longs decode as decimal strings. */
export function loadEtcd(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(etcdRpcProto, { ...loaderOptions, longs: String });
}

export type Msg = Record<string, any>;

/** A client of `service` (a fully qualified name: "KeyValuer", "etcdserverpb.KV") at `target`
 *  (host:port, plaintext h2c); with `shareWith`, over that client's channel (one h2c connection
 *  for two services, as etcd's KV and Lease in the lock scenario). */
export function serviceClient(definition: protoLoader.PackageDefinition, service: string,
  target: string, shareWith?: grpc.Client): grpc.Client {
  const loaded = grpc.loadPackageDefinition(definition);
  let node: unknown = loaded;
  for (const part of service.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function') throw new Error(`no service ${service} in the definition`);
  const ctor = node as grpc.ServiceClientConstructor;
  return new ctor(target, grpc.credentials.createInsecure(), shareWith === undefined
    ? grpcChannelOptions : { ...grpcChannelOptions, channelOverride: shareWith.getChannel() });
}

/** The unary method `rpc` of a loaded client as a function returning the decoded reply. */
export function unaryMethod(client: grpc.Client, rpc: string): (req: Msg) => Promise<Msg> {
  const c = client as unknown as Record<string, Function>;
  const method = c[rpc];
  if (typeof method !== 'function') throw new Error(`no method ${rpc}`);
  return (req) => new Promise((resolve, reject) => {
    method.call(c, req, (error: grpc.ServiceError | null, res: Msg) =>
      (error === null ? resolve(res) : reject(error)));
  });
}

/** One unary call with the request and reply left as encoded bytes. */
export function rawUnary(target: string, path: string, request: Buffer): Promise<Buffer> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), grpcChannelOptions);
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, request,
      (error: grpc.ServiceError | null, reply?: Buffer) => {
        client.close();
        if (error !== null || reply === undefined) reject(error ?? new Error('no reply'));
        else resolve(reply);
      });
  });
}
