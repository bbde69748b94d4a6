// The HonuPeer service as grpc-js sees it: the generated messages of proto/peer.proto with
// serializers that hand grpc-js the encoded bytes without the extra copy the generated
// `Buffer.from(...)` makes (a peer message is up to peerMessageBytesMax), and the conversions
// between the wire messages and the plain items of peer-transport.ts.
import type * as grpc from '@grpc/grpc-js';
import { assert } from '../../assert.js';
import {
  HonuPeerAccept, HonuPeerEnvelope, HonuPeerService, type HonuPeerReply, type HonuPeerRequest,
} from '../grpc/generated/peer.js';

/** The version a hello carries; a receiver refuses any other. */
export const peerProtocolVersion = 1;

/** A view of `bytes` as a Buffer, sharing its memory. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset,
    bytes.byteLength);
}

export const peerExchange = {
  ...HonuPeerService.exchange,
  requestSerialize: (value: HonuPeerEnvelope): Buffer =>
    asBuffer(HonuPeerEnvelope.encode(value).finish()),
  responseSerialize: (value: HonuPeerAccept): Buffer =>
    asBuffer(HonuPeerAccept.encode(value).finish()),
} as const;

export const peerServiceDefinition: grpc.ServiceDefinition = { exchange: peerExchange };

/** An envelope with nothing in it. */
export function emptyEnvelope(): HonuPeerEnvelope {
  return {
    Hello: undefined, Raft: [], Requests: [], Replies: [],
    RaftMore: false, RequestsMore: false, RepliesMore: false,
  };
}

/** Ids travel as uint64; the transport's ids are safe non-negative integers. */
export function wireId(id: number): bigint {
  assert(Number.isSafeInteger(id), 'peer item id is not a safe integer');
  assert(id >= 0, 'peer item id is negative');
  return BigInt(id);
}

/** The id of a received item, or -1 when it is not a safe integer (a protocol error). */
export function itemId(item: HonuPeerRequest | HonuPeerReply): number {
  return item.Id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(item.Id) : -1;
}

/** host:port for grpc-js, with an IPv6 literal in brackets. */
export function dialTarget(host: string, port: number): string {
  assert(Number.isInteger(port) && port > 0 && port < 65_536, 'peer port out of range');
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
