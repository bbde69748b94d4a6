// grpc-js handler plumbing shared by the four services. Kahuna always answers status OK with
// the outcome in the message's Type (wire.md 1.2): a non-OK status is a transport failure to
// every client and kahuna-ts marks the endpoint failed. So a backend call that throws (the
// KahunaBackend contract says it never rejects: this is a bug or an infrastructure failure)
// answers the family's MustRetry, like Kahuna's REST mapping (wire.md 1.4) and its batch
// streams (wire.md 2.7). Only RPCs Honu does not have answer a non-OK status: UNIMPLEMENTED.
import * as grpc from '@grpc/grpc-js';
import { grpcBatchInflightMax } from '../../limits.js';
import type { Logger } from '../log.js';

export interface HandlerContext {
  readonly log?: Logger | undefined;
}

/** A unary handler: `run` maps and calls the backend; if it throws, `failed(req)` answers. */
export function unary<Req, Res>(
  ctx: HandlerContext, rpc: string, run: (req: Req) => Promise<Res>, failed: (req: Req) => Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    answerOrFail(ctx, rpc, () => run(call.request), () => failed(call.request)).then(
      (res) => callback(null, res),
      (error: unknown) => callback({ code: grpc.status.INTERNAL, details: String(error) }),
    );
  };
}

/** Runs `run`; on a throw logs it and resolves with `failed()` instead. */
export async function answerOrFail<Res>(
  ctx: HandlerContext, rpc: string, run: () => Promise<Res>, failed: () => Res,
): Promise<Res> {
  try {
    return await run();
  } catch (error) {
    ctx.log?.error({ err: error, rpc }, 'gRPC handler failed; answered MustRetry');
    return failed();
  }
}

function unimplementedStatus(rpc: string): Partial<grpc.StatusObject> {
  return { code: grpc.status.UNIMPLEMENTED, details: `${rpc} is not served by Honu` };
}

export function unimplementedUnary<Req, Res>(rpc: string): grpc.handleUnaryCall<Req, Res> {
  return (_call, callback) => callback(unimplementedStatus(rpc));
}

/** grpc-js turns an 'error' emitted on a server stream into the call's status. */
export function unimplementedBidi<Req, Res>(rpc: string): grpc.handleBidiStreamingCall<Req, Res> {
  return (call) => {
    call.emit('error', unimplementedStatus(rpc));
  };
}

type ResponseStream<Res> =
  grpc.ServerWritableStream<unknown, Res> | grpc.ServerDuplexStream<unknown, Res>;

/** Writes one message and waits for 'drain' when grpc-js asks the writer to back off. */
export function writeMessage<Res>(call: ResponseStream<Res>, message: Res): Promise<void> {
  if (call.write(message)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      call.removeListener('drain', done);
      call.removeListener('close', done);
      resolve();
    };
    call.once('drain', done);
    call.once('close', done); // a cancelled call never drains
  });
}

export interface BatchServing<Req, Res> {
  /** Answers one request; may throw (then `failed` answers it). */
  readonly answer: (req: Req) => Promise<Res>;
  /** The MustRetry response of `req`: same RequestId and Type. Must not throw. */
  readonly failed: (req: Req) => Res;
  /** Splits a frame into the requests it carries; a plain request is itself. */
  readonly unpack?: (req: Req) => readonly Req[];
}

/**
 * One bidirectional batch stream (wire.md 2.7): every request gets exactly one response with
 * its RequestId, in any order; requests run concurrently. Reading pauses while
 * grpcBatchInflightMax requests are unanswered, which pushes back on the client through HTTP/2
 * flow control instead of queueing without bound. The server ends its side once the client
 * has ended its side and every answer is written (the .NET client keeps both streams open for
 * the life of the process).
 */
export function serveBatch<Req, Res>(ctx: HandlerContext, rpc: string,
  call: grpc.ServerDuplexStream<Req, Res>, serving: BatchServing<Req, Res>): void {
  let inflight = 0;
  let clientEnded = false;
  const settle = (): void => {
    inflight--;
    if (inflight < grpcBatchInflightMax && call.isPaused()) call.resume();
    if (clientEnded && inflight === 0) call.end();
  };
  const start = (req: Req): void => {
    inflight++;
    void answerOrFail(ctx, rpc, () => serving.answer(req), () => serving.failed(req))
      .then((res) => (call.cancelled ? undefined : writeMessage(call, res)))
      .finally(settle);
  };
  call.on('data', (req: Req) => {
    for (const one of serving.unpack?.(req) ?? [req]) start(one);
    if (inflight >= grpcBatchInflightMax) call.pause();
  });
  call.on('end', () => {
    clientEnded = true;
    if (inflight === 0) call.end();
  });
  call.on('error', (error) => ctx.log?.debug({ err: error, rpc }, 'batch stream error'));
}
