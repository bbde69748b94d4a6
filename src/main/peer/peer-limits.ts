// Limits of the peer transport (peer-transport.ts), named with the unit last (style.md rule 3).
// They live here rather than in src/limits.ts so the transport's tuning stays in one file;
// the relationships between them, and with the gRPC message limit, are asserted at load.
import { assert } from '../../assert.js';
import { grpcMessageBytesMax } from '../../limits.js';

/** Bytes queued for one peer (item bytes plus peerItemOverheadBytes each); over it, new raft
 *  items and replies are dropped and new requests failed. */
export const peerQueueBytesMax = 64 * 1024 * 1024;
/** An item larger than this (a Raft snapshot, a big forwarded payload) travels as fragments
 *  of at most this many bytes, one per stream message per kind, reassembled by the receiver. */
export const peerChunkBytesMax = 1024 * 1024;
/** Soft size of one stream message: a flush stops adding items once the next would pass it
 *  (a message always takes at least one item or fragment, and none is larger than a chunk). */
export const peerMessageBytesMax = 2 * 1024 * 1024;
/** Bytes counted per queued item besides its payload (protobuf tags, ids, bookkeeping). */
export const peerItemOverheadBytes = 32;
/** A reply's detail longer than this (UTF-16 code units) is cut to it before it is queued. */
export const peerReplyDetailCharsMax = 4096;
/** The largest item a receiver reassembles from fragments; a longer one ends the stream. */
export const peerReassemblyBytesMax = peerQueueBytesMax;
/** First redial delay after a failed or ended stream; doubles per failure. */
export const peerBackoffMsMin = 50;
/** Largest redial delay. */
export const peerBackoffMsMax = 2_000;
/** Each delay is drawn uniformly from [delay * (1 - jitter), delay]. */
export const peerBackoffJitterRatio = 0.5;
/** A dialed stream whose hello is not accepted within this time is cancelled and redialed. */
export const peerHelloTimeoutMs = 2_000;
/** HTTP/2 keepalive ping interval on dialed connections: a stopped peer is noticed. */
export const peerKeepaliveMs = 1_000;
/** A keepalive ping unanswered for this long closes the connection (then it is redialed). */
export const peerKeepaliveTimeoutMs = 1_000;
/** HTTP/2 flow-control window of peer connections and streams, both directions: two full
 *  messages, so a message never waits for a WINDOW_UPDATE round trip halfway. */
export const peerWindowBytes = 4 * 1024 * 1024;
/** close() waits this long for dialed streams to finish after ending them, then cancels. */
export const peerCloseTimeoutMs = 1_000;

assert(peerChunkBytesMax <= peerMessageBytesMax, 'a chunk must fit in one peer message');
assert(peerMessageBytesMax * 2 <= grpcMessageBytesMax, 'peer messages near the gRPC limit');
// grpc-js servers default to a 4 MiB receive limit; staying under it keeps a peer message
// deliverable even to a server built without grpcServerOptions.
assert(peerMessageBytesMax + 64 * 1024 <= 4 * 1024 * 1024, 'peer message over grpc-js default');
assert(peerWindowBytes >= 2 * peerMessageBytesMax, 'a peer window must hold two messages');
assert(peerMessageBytesMax <= peerQueueBytesMax, 'a queue must hold one full message');
assert(peerReassemblyBytesMax >= peerQueueBytesMax, 'a queued item must be reassemblable');
assert(peerReplyDetailCharsMax * 3 + peerItemOverheadBytes < peerChunkBytesMax,
  'a reply detail must fit in its first fragment');
assert(peerBackoffMsMin > 0 && peerBackoffMsMin <= peerBackoffMsMax, 'backoff range is empty');
assert(peerBackoffJitterRatio >= 0 && peerBackoffJitterRatio < 1, 'jitter ratio not in [0, 1)');
