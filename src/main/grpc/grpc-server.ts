// The grpc-js server of a node. It never binds a port itself: startListener() injects the
// connections that start with the HTTP/2 preface (or negotiate ALPN h2) through
// server.createConnectionInjector(). Messages over grpcMessageBytesMax get RESOURCE_EXHAUSTED
// from grpc-js (the length prefix is checked before the body is buffered); methods nobody
// registered get UNIMPLEMENTED (grpc-js default). Both are covered by test/main/listener.test.ts.
import * as grpc from '@grpc/grpc-js';
import { grpcMessageBytesMax } from '../../limits.js';

export const grpcServerOptions: grpc.ServerOptions = {
  'grpc.max_receive_message_length': grpcMessageBytesMax,
  'grpc.max_send_message_length': grpcMessageBytesMax,
};

export function createGrpcServer(): grpc.Server {
  return new grpc.Server(grpcServerOptions);
}
