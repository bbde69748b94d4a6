// gRPC length-prefixed framing as the peer stream speaks it on node:http2 (grpc-framing.ts).
import * as grpc from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import {
  decodeGrpcMessage, encodeGrpcMessage, grpcFrame, GrpcFramingError, GrpcMessageReader,
} from '../../src/main/peer/grpc-framing.js';
import { SeededPrng } from '../../src/core/raft/prng.js';

const collect = (reader: GrpcMessageReader, chunks: Buffer[]): Buffer[] => {
  const out: Buffer[] = [];
  for (const chunk of chunks) reader.push(chunk, (m) => out.push(Buffer.from(m)));
  return out;
};

describe('GrpcMessageReader', () => {
  test('a frame is the flag byte, the big-endian length, the message', () => {
    expect([...grpcFrame(Buffer.from('abc'))]).toEqual([0, 0, 0, 0, 3, 97, 98, 99]);
    expect([...grpcFrame(new Uint8Array(0))]).toEqual([0, 0, 0, 0, 0]);
  });

  test('messages cut at every possible place come out whole and in order', () => {
    const seed = 20261208;
    const prng = new SeededPrng(seed);
    for (let round = 0; round < 200; round++) {
      const messages = Array.from({ length: 1 + prng.nextInt(6) }, () =>
        Buffer.from(Array.from({ length: prng.nextInt(3) === 0 ? 0 : prng.nextInt(300) },
          () => prng.nextInt(256))));
      const stream = Buffer.concat(messages.map(grpcFrame));
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length;) {
        const n = 1 + prng.nextInt(Math.min(40, stream.length - at));
        chunks.push(stream.subarray(at, at + n));
        at += n;
      }
      const reader = new GrpcMessageReader(1024);
      expect(collect(reader, chunks), `seed ${seed} round ${round}`).toEqual(messages);
      expect(reader.pendingBytes).toBe(0);
    }
  });

  test('a message inside one chunk is a view of it, not a copy', () => {
    const chunk = grpcFrame(Buffer.from('hello'));
    const seen: Buffer[] = [];
    new GrpcMessageReader(64).push(chunk, (m) => seen.push(m));
    expect(seen[0]?.buffer).toBe(chunk.buffer);
  });

  test('a truncated message stays pending', () => {
    const reader = new GrpcMessageReader(64);
    expect(collect(reader, [grpcFrame(Buffer.from('hello')).subarray(0, 7)])).toEqual([]);
    expect(reader.pendingBytes).toBe(7);
  });

  test('an oversized or compressed message is refused as soon as its prefix is seen', () => {
    const big = Buffer.from([0, 0, 0, 1, 0]); // 256 bytes announced, limit 255
    let error: unknown;
    try {
      new GrpcMessageReader(255).push(big, () => undefined);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GrpcFramingError);
    expect((error as GrpcFramingError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const compressed = Buffer.from([1, 0, 0, 0, 1, 7]);
    expect(() => new GrpcMessageReader(64).push(compressed, () => undefined))
      .toThrow(/compressed/);
    // Split prefix: refused once the prefix is whole.
    const reader = new GrpcMessageReader(255);
    reader.push(big.subarray(0, 3), () => undefined);
    expect(() => reader.push(big.subarray(3), () => undefined)).toThrow(/over the limit/);
  });
});

describe('grpc-message percent-encoding', () => {
  test('printable ASCII passes, the rest is %XX of its UTF-8 bytes, and it round-trips', () => {
    expect(encodeGrpcMessage('node 3: ok')).toBe('node 3: ok');
    expect(encodeGrpcMessage('50%\n')).toBe('50%25%0A');
    expect(encodeGrpcMessage('é')).toBe('%C3%A9');
    for (const text of ['', 'plain', '50% done\r\n', 'ünïcödé ✓', '%zz']) {
      expect(decodeGrpcMessage(encodeGrpcMessage(text))).toBe(text);
    }
    expect(decodeGrpcMessage('bad %zz escape')).toBe('bad %zz escape');
  });
});
