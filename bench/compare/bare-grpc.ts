// The gRPC ceiling server of bench/compare/compare.ts: a bare grpc-js server on a free loopback
// port serving one unary method, /KeyValuer/TryGetKeyValue, that answers every call with the same
// encoded reply (BARE_GRPC_REPLY, base64: the bytes a Honu get answered, sampled by the parent).
// Like bare-http.ts it does no work per request: the request bytes are not decoded and the reply
// is encoded once. Server options as Honu's grpc-js server (64 MiB message limits). Prints
// {"port":N} when listening; SIGTERM shuts it down and exits 0.
import * as grpc from '@grpc/grpc-js';

const reply = Buffer.from(process.env['BARE_GRPC_REPLY'] ?? '', 'base64');
const path = '/KeyValuer/TryGetKeyValue';

const service: grpc.ServiceDefinition = {
  TryGetKeyValue: {
    path, requestStream: false, responseStream: false,
    requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
  },
};

const server = new grpc.Server({
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
});
server.addService(service, {
  TryGetKeyValue: (_call: grpc.ServerUnaryCall<Buffer, Buffer>,
    callback: grpc.sendUnaryData<Buffer>) => callback(null, reply),
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error !== null) {
    process.stderr.write(`bare grpc server: ${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
