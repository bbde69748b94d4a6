// The writer's control messages and its template-patching ack encoder
// (src/ipc/writer-protocol.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Body, decodeFrameData, encodePersistAck } from '../../src/ipc/frames.js';
import { createDoorbell } from '../../src/ipc/ring.js';
import { createWriterLink } from '../../src/ipc/writer-client.js';
import {
  isWriterControl, isWriterEvent, PersistAckEncoder,
} from '../../src/ipc/writer-protocol.js';

describe('writer protocol', () => {
  it('PersistAckEncoder produces the same frame as the FlatBuffers builder', () => {
    const encoder = new PersistAckEncoder();
    const partitionArb = fc.integer({ min: 0, max: 0xffff_ffff });
    const sequenceArb = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    fc.assert(fc.property(partitionArb, sequenceArb, (partition, sequence) => {
      const patched = encoder.encode(partition, sequence);
      expect(decodeFrameData(patched)).toEqual({
        kind: Body.PersistAck, partition, sequence, code: 0, detail: '',
      });
      const built = encodePersistAck({ partition, sequence, code: 0, detail: '' });
      expect(decodeFrameData(patched)).toEqual(decodeFrameData(built));
    }), { numRuns: 1000 });
  });

  it('accepts well-formed control messages and events, and nothing else', () => {
    const link = createWriterLink(2, createDoorbell(), 1024);
    expect(isWriterControl({ type: 'link', link })).toBe(true);
    expect(isWriterControl({ type: 'shutdown' })).toBe(true);
    expect(isWriterControl({ type: 'link', link: { ...link, worker: -1 } })).toBe(false);
    expect(isWriterControl({ type: 'link', link: { ...link, inbound: new ArrayBuffer(8) } }))
      .toBe(false);
    expect(isWriterControl({ type: 'reboot' })).toBe(false);
    expect(isWriterControl(null)).toBe(false);
    expect(isWriterEvent({ type: 'ready' })).toBe(true);
    expect(isWriterEvent({ type: 'closed' })).toBe(true);
    expect(isWriterEvent({ type: 'stats' })).toBe(true);
    expect(isWriterEvent({ type: 'other' })).toBe(false);
    expect(isWriterEvent('ready')).toBe(false);
  });
});
