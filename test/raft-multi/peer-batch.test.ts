// Batching and heartbeat coalescing (issue 3 deliverable 3): one PeerBatch per peer per turn;
// plain heartbeats become coalesced entries and fan back out to the very same Message.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchMessageCount, coalesce, fanOut, isCoalescible, PeerOutbox,
} from '../../src/core/raft/multi/peer-batch.js';
import { PeerChange, PeerLiveness } from '../../src/core/raft/multi/peer-liveness.js';
import { EntryKind, MsgKind, type Message, type MsgKindValue } from '../../src/core/raft/types.js';

function msg(kind: MsgKindValue, group: number, to: number, extra: Partial<Message> = {}): Message {
  return {
    kind, group, from: 1, to, term: 5, logTerm: 0, index: 0, entries: [], commit: 7,
    reject: false, rejectHint: 0, rejectHintTerm: 0, snapshot: null, context: null, ...extra,
  };
}

describe('heartbeat coalescing', () => {
  it('round-trips every plain heartbeat and response exactly', () => {
    const arb = fc.record({
      kind: fc.constantFrom(MsgKind.Heartbeat, MsgKind.HeartbeatResp),
      group: fc.integer({ min: 1, max: 4096 }),
      term: fc.nat({ max: 1e9 }),
      commit: fc.nat({ max: 1e9 }),
      context: fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null }),
    });
    fc.assert(fc.property(arb, (r) => {
      const m = msg(r.kind, r.group, 2, { term: r.term, commit: r.commit, context: r.context });
      expect(isCoalescible(m)).toBe(true);
      expect(fanOut(coalesce(m), m.kind, 1, 2)).toEqual(m);
    }));
  });

  it('leaves anything else whole (a heartbeat with extra fields, appends)', () => {
    expect(isCoalescible(msg(MsgKind.Heartbeat, 1, 2, { index: 3 }))).toBe(false);
    expect(isCoalescible(msg(MsgKind.HeartbeatResp, 1, 2, { reject: true }))).toBe(false);
    expect(isCoalescible(msg(MsgKind.App, 1, 2))).toBe(false);
    expect(() => coalesce(msg(MsgKind.App, 1, 2))).toThrow();
  });
});

describe('PeerOutbox', () => {
  it('puts all groups\' messages to a peer in one batch, heartbeats coalesced', () => {
    const out = new PeerOutbox(1);
    const entry = { index: 4, term: 5, kind: EntryKind.Normal, data: new Uint8Array([1]) };
    for (let g = 1; g <= 64; g++) {
      out.add(msg(MsgKind.Heartbeat, g, 2));
      out.add(msg(MsgKind.Heartbeat, g, 3));
    }
    out.add(msg(MsgKind.App, 9, 2, { entries: [entry], index: 3, logTerm: 5 }));
    out.add(msg(MsgKind.HeartbeatResp, 9, 3));
    out.addWake(2, 9);
    out.addWake(2, 9);
    const batches = out.take(3, 10, []);
    expect(batches.map((b) => b.to).sort()).toEqual([2, 3]);
    const to2 = batches.find((b) => b.to === 2)!;
    expect(to2.heartbeats).toHaveLength(64);
    expect(to2.messages.map((m) => m.kind)).toEqual([MsgKind.App]);
    expect(to2.wakes).toEqual([9]);
    expect(to2.epoch).toBe(3);
    const to3 = batches.find((b) => b.to === 3)!;
    expect(to3.heartbeatResps).toHaveLength(1);
    expect(batchMessageCount(to3)).toBe(65);
    expect(out.take(3, 11, [])).toEqual([]);
  });

  it('sends an empty batch as a beacon when asked', () => {
    const out = new PeerOutbox(1);
    const [b] = out.take(0, 1, [4]);
    expect(b?.to).toBe(4);
    expect(b !== undefined && batchMessageCount(b)).toBe(0);
  });

  it('refuses messages to its own node or from another node', () => {
    const out = new PeerOutbox(1);
    expect(() => out.add(msg(MsgKind.App, 1, 1))).toThrow();
    expect(() => out.add({ ...msg(MsgKind.App, 1, 2), from: 3 })).toThrow();
  });
});

describe('PeerLiveness', () => {
  it('declares a silent peer down once, and reports its return and restarts', () => {
    const l = new PeerLiveness(10, 2);
    l.addPeer(2, 0);
    expect(l.expire(9)).toEqual([]);
    expect(l.heard(2, 1, 9)).toBe(PeerChange.None);
    expect(l.expire(18)).toEqual([]);
    expect(l.expire(19)).toEqual([2]);
    expect(l.expire(30)).toEqual([]);
    expect(l.isDown(2)).toBe(true);
    expect(l.heard(2, 1, 31)).toBe(PeerChange.CameUp);
    expect(l.heard(2, 2, 32)).toBe(PeerChange.Restarted);
    expect(l.heard(2, 1, 33)).toBe(PeerChange.None); // a delayed batch of the old incarnation
    expect(l.expire(41)).toEqual([]);
    expect(l.expire(42)).toEqual([2]);
  });

  it('owes a beacon to peers not sent to for the interval', () => {
    const l = new PeerLiveness(10, 3);
    l.addPeer(2, 0);
    l.addPeer(3, 0);
    expect(l.beaconsDue(0).sort()).toEqual([2, 3]);
    l.sent(2, 5);
    l.sent(3, 6);
    expect(l.beaconsDue(8)).toEqual([2]);
    expect(l.markDown(3)).toBe(true);
    expect(l.markDown(3)).toBe(false);
    expect(() => new PeerLiveness(3, 3)).toThrow();
  });
});
