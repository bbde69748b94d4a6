// PeerQueue (cutting envelopes, fragments, the byte bound) and PeerReassembler (joining them)
// without sockets: every envelope goes through the real protobuf encoding in between.
import { describe, expect, test } from 'vitest';
import { HonuPeerEnvelope } from '../../src/main/grpc/generated/peer.js';
import {
  peerChunkBytesMax, peerItemOverheadBytes, peerMessageBytesMax, peerQueueBytesMax,
  peerReplyDetailCharsMax,
} from '../../src/main/peer/peer-limits.js';
import { PeerQueue } from '../../src/main/peer/peer-queue.js';
import { PeerProtocolError, PeerReassembler } from '../../src/main/peer/peer-reassembler.js';
import type {
  ForwardedReply, ForwardedRequest, PeerInbound,
} from '../../src/main/peer/peer-transport.js';
import { emptyEnvelope } from '../../src/main/peer/peer-wire.js';

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** 6 MiB of pseudo-random bytes; items are views into it, so big items cost no memory. */
const pool = new Uint8Array(6 * 1024 * 1024);
{
  const random = prng(1);
  for (let i = 0; i < pool.length; i += 4) {
    new DataView(pool.buffer).setUint32(i, Math.floor(random() * 2 ** 32));
  }
}

/** Moves everything queued through the wire encoding and the reassembler. */
function drain(queue: PeerQueue): { inbound: PeerInbound[]; sizes: number[] } {
  const reassembler = new PeerReassembler();
  const inbound: PeerInbound[] = [];
  const sizes: number[] = [];
  for (let env = queue.take(); env !== null; env = queue.take()) {
    const encoded = HonuPeerEnvelope.encode(env).finish();
    sizes.push(encoded.byteLength);
    const got = reassembler.accept(HonuPeerEnvelope.decode(encoded));
    if (got !== null) inbound.push(got);
  }
  return { inbound, sizes };
}

const plain = (b: Uint8Array): number[] => [...b.subarray(0, 16), b.byteLength];

describe('PeerQueue and PeerReassembler', () => {
  test('mixed items of every size come out whole, in order per kind, messages bounded', () => {
    for (const seed of [1, 2, 3, 4]) {
      const random = prng(seed);
      const size = (): number => {
        const r = random();
        if (r < 0.05) return peerChunkBytesMax + Math.floor(random() * 3 * peerChunkBytesMax);
        if (r < 0.1) return peerChunkBytesMax - 1 + Math.floor(random() * 3);
        return Math.floor(random() * 3000);
      };
      const view = (): Uint8Array => {
        const n = size();
        const start = Math.floor(random() * (pool.length - n));
        return pool.subarray(start, start + n);
      };
      const raft: Uint8Array[] = [];
      const requests: ForwardedRequest[] = [];
      const replies: ForwardedReply[] = [];
      const queue = new PeerQueue();
      for (let i = 0; i < 300; i++) {
        const kind = Math.floor(random() * 3);
        if (kind === 0) raft.push(view());
        if (kind === 1) requests.push({ id: i, partition: i % 8, op: i % 5, payload: view() });
        if (kind === 2) replies.push({ id: i, code: i % 3, detail: `d${i}`, payload: view() });
      }
      for (const r of raft) expect(queue.pushRaft(r)).toBe(true);
      for (const r of requests) expect(queue.pushRequest(r)).toBe(true);
      for (const r of replies) expect(queue.pushReply(r)).toBe(true);
      const { inbound, sizes } = drain(queue);
      expect(queue.isEmpty).toBe(true);
      expect(queue.bytes).toBe(0);
      for (const bytes of sizes) expect(bytes).toBeLessThanOrEqual(peerMessageBytesMax + 1024);
      const got = {
        raft: inbound.flatMap((i) => i.raft).map(plain),
        requests: inbound.flatMap((i) => i.requests)
          .map((r) => ({ ...r, payload: plain(r.payload) })),
        replies: inbound.flatMap((i) => i.replies)
          .map((r) => ({ ...r, payload: plain(r.payload) })),
      };
      expect(got.raft).toEqual(raft.map(plain));
      expect(got.requests).toEqual(requests.map((r) => ({ ...r, payload: plain(r.payload) })));
      expect(got.replies).toEqual(replies.map((r) => ({ ...r, payload: plain(r.payload) })));
      // Spot-check whole contents of the big ones (plain() compares a prefix and the length).
      const bigIn = inbound.flatMap((i) => i.raft).filter((r) => r.byteLength > peerChunkBytesMax);
      const bigOut = raft.filter((r) => r.byteLength > peerChunkBytesMax);
      expect(bigIn.length).toBe(bigOut.length);
      bigIn.forEach((r, i) => expect(Buffer.compare(r, bigOut[i]!)).toBe(0));
    }
  });

  test('what is queued in one go fits one envelope up to the message bound', () => {
    const queue = new PeerQueue();
    for (let i = 0; i < 1000; i++) queue.pushRaft(pool.subarray(i, i + 1000));
    const { sizes, inbound } = drain(queue);
    expect(sizes).toHaveLength(1);
    expect(inbound[0]!.raft).toHaveLength(1000);
  });

  test('no kind starves: a request queued behind 10 MiB of raft leaves in the first messages',
    () => {
      const queue = new PeerQueue();
      for (let i = 0; i < 10 * 1024; i++) queue.pushRaft(pool.subarray(0, 1024));
      queue.pushRequest({ id: 1, partition: 1, op: 1, payload: pool.subarray(0, 10) });
      const reassembler = new PeerReassembler();
      const firstTwo = [queue.take(), queue.take()].map((env) => reassembler.accept(env!));
      expect(firstTwo.flatMap((i) => i?.requests ?? []).map((r) => r.id)).toEqual([1]);
    });

  test('the queue holds at most peerQueueBytesMax; clear() hands back what it held', () => {
    const queue = new PeerQueue();
    const item = pool.subarray(0, 1024 * 1024);
    const fit = Math.floor(peerQueueBytesMax / (item.byteLength + peerItemOverheadBytes));
    for (let i = 0; i < fit; i++) expect(queue.pushRaft(item)).toBe(true);
    expect(queue.pushRaft(item)).toBe(false);
    expect(queue.pushRequest({ id: 1, partition: 1, op: 1, payload: item })).toBe(false);
    expect(queue.pushReply({ id: 1, code: 0, detail: '', payload: item })).toBe(false);
    expect(queue.pushRequest({ id: 2, partition: 1, op: 1, payload: pool.subarray(0, 8) }))
      .toBe(true);
    const env = queue.take(); // one whole raft item (1 MiB is not over the chunk bound), id 2
    expect(env!.Raft).toHaveLength(1);
    expect(env!.Requests.map((r) => r.Id)).toEqual([2n]);
    expect(queue.pushRequest({ id: 3, partition: 1, op: 1, payload: pool.subarray(0, 8) }))
      .toBe(true);
    const cleared = queue.clear();
    expect(cleared.requestIds).toEqual([3]);
    expect(cleared.raftCount).toBe(fit - 1);
    expect(queue.bytes).toBe(0);
    expect(queue.take()).toBeNull();
  });

  test('a reply detail is cut to peerReplyDetailCharsMax', () => {
    const queue = new PeerQueue();
    queue.pushReply({ id: 1, code: 2, detail: 'x'.repeat(peerReplyDetailCharsMax + 10),
      payload: new Uint8Array(0) });
    const { inbound } = drain(queue);
    expect(inbound[0]!.replies[0]!.detail).toBe('x'.repeat(peerReplyDetailCharsMax));
  });

  test('the reassembler refuses a fragment that continues another item', () => {
    const reassembler = new PeerReassembler();
    const first = emptyEnvelope();
    first.Requests = [{ Id: 1n, Partition: 1, Op: 1, Payload: Buffer.from([1]) }];
    first.RequestsMore = true;
    expect(reassembler.accept(first)).toBeNull();
    const next = emptyEnvelope();
    next.Requests = [{ Id: 2n, Partition: 1, Op: 1, Payload: Buffer.from([2]) }];
    expect(() => reassembler.accept(next)).toThrow(PeerProtocolError);
  });

  test('the reassembler refuses an id that is not a safe integer', () => {
    const env = emptyEnvelope();
    env.Replies = [{ Id: 2n ** 60n, Code: 0, Detail: '', Payload: Buffer.alloc(0) }];
    expect(() => new PeerReassembler().accept(env)).toThrow(PeerProtocolError);
  });
});
