// The PeerBatch binary codec (src/core/raft/multi/batch-codec.ts): exact round trips of every
// field, split by owner without decoding bodies, and malformed input that throws, never hangs.
import { describe, expect, it } from 'vitest';
import {
  decodePeerBatch, encodePeerBatch, PeerBatchCodecError, peerBatchGroups, peerBatchVersion,
  splitPeerBatch,
} from '../../src/core/raft/multi/batch-codec.js';
import type {
  CoalescedHeartbeat, PeerBatch, QuiesceHeartbeat,
} from '../../src/core/raft/multi/peer-batch.js';
import { SeededPrng } from '../../src/core/raft/prng.js';
import {
  EntryKind, MsgKind, type Entry, type EntryKindValue, type Message, type MsgKindValue,
  type Snapshot,
} from '../../src/core/raft/types.js';

const safeMax = Number.MAX_SAFE_INTEGER;
const u32Max = 0xffffffff;

function msg(kind: MsgKindValue, group: number, extra: Partial<Message> = {}): Message {
  return {
    kind, group, from: 1, to: 2, term: 0, logTerm: 0, index: 0, entries: [], commit: 0,
    reject: false, rejectHint: 0, rejectHintTerm: 0, snapshot: null, context: null, ...extra,
  };
}

function batch(extra: Partial<PeerBatch> = {}): PeerBatch {
  return {
    from: 1, to: 2, epoch: 3, tick: 4, messages: [], heartbeats: [], heartbeatResps: [],
    quiesce: [], wakes: [], ...extra,
  };
}

function bytesOf(...xs: number[]): Uint8Array {
  return Uint8Array.from(xs);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function roundTrip(b: PeerBatch): PeerBatch {
  return decodePeerBatch(encodePeerBatch(b));
}

/** Minimal LEB128, for hand-built malformed inputs. */
function v(n: number): number[] {
  const out: number[] = [];
  let x = n;
  while (x >= 0x80) {
    out.push((x % 0x80) | 0x80);
    x = Math.floor(x / 0x80);
  }
  out.push(x);
  return out;
}

const header = [peerBatchVersion, ...v(1), ...v(2), ...v(3), ...v(4)];

/** An item frame: tag, group, body length, body. */
function item(tag: number, group: number, body: number[]): number[] {
  return [tag, ...v(group), ...v(body.length), ...body];
}

/** A batch of `header` and these items. */
function frame(...items: number[][]): Uint8Array {
  return Uint8Array.from([...header, ...v(items.length), ...items.flat()]);
}

const msgFlags = { reject: 1, snapshot: 2, context: 4 };

/** A Message body: kind, flags, from 1, to 2, term, logTerm and index 0, then `rest` (entry
 *  count, entries, commit, rejectHint, rejectHintTerm, [snapshot], [context]). */
function msgBody(kind: number, flags: number, rest: number[]): number[] {
  return [kind, flags, 1, 2, 0, 0, 0, ...rest];
}

function expectMalformed(bytes: Uint8Array, pattern?: RegExp): void {
  expect(() => decodePeerBatch(bytes)).toThrow(PeerBatchCodecError);
  if (pattern !== undefined) expect(() => decodePeerBatch(bytes)).toThrow(pattern);
}

const snapshot: Snapshot = {
  meta: {
    index: 1000, term: 7,
    conf: {
      voters: [1, 2, 3], learners: [4], votersOutgoing: [1, 2, 5], learnersNext: [5],
      autoLeave: true,
    },
  },
  data: bytesOf(9, 8, 7, 6),
};

/** One message of every MsgKind, every field set to something distinct. */
function everyKind(): Message[] {
  const kinds = Object.values(MsgKind);
  expect(kinds).toHaveLength(19);
  return kinds.map((kind, i) => msg(kind, 100 + i, {
    from: 3 + i, to: 40 + i, term: 1000 + i, logTerm: 900 + i, index: 5000 + i,
    entries: [
      { term: 900 + i, index: 5001 + i, kind: EntryKind.Normal, data: bytesOf(i, 1, 2) },
      { term: 1000 + i, index: 5002 + i, kind: EntryKind.ConfChange, data: bytesOf(255) },
    ],
    commit: 4000 + i, reject: i % 2 === 0, rejectHint: 77 + i, rejectHintTerm: 66 + i,
    snapshot: i % 3 === 0 ? snapshot : null,
    context: i % 4 === 0 ? null : bytesOf(0x43, 0x54, i),
  }));
}

describe('round trip', () => {
  it('carries every field of every MsgKind and every item kind', () => {
    const b = batch({
      messages: everyKind(),
      heartbeats: [{ group: 1, term: 5, commit: 6, context: null },
        { group: 2, term: 5, commit: 7, context: bytesOf(1, 2) }],
      heartbeatResps: [{ group: 3, term: 8, commit: 9, context: bytesOf(3) }],
      quiesce: [{ group: 4, term: 10, commit: 11, lastIndex: 11, lastTerm: 10 }],
      wakes: [5, 6, 7],
    });
    const out = roundTrip(b);
    expect(out).toStrictEqual(b);
    expect(out.messages.map((m) => m.kind)).toEqual(Object.values(MsgKind));
  });

  it('round-trips an item-less batch (a liveness beacon)', () => {
    const b = batch({ epoch: 0, tick: 0 });
    expect(roundTrip(b)).toStrictEqual(b);
    expect(encodePeerBatch(b)).toHaveLength(6);
  });

  it('keeps null apart from empty bytes and empty snapshots', () => {
    const emptySnap: Snapshot = {
      meta: { index: 0, term: 0,
        conf: { voters: [], learners: [], votersOutgoing: [], learnersNext: [],
          autoLeave: false } },
      data: new Uint8Array(0),
    };
    const b = batch({
      messages: [
        msg(MsgKind.ReadIndex, 1, { context: null }),
        msg(MsgKind.ReadIndex, 1, { context: new Uint8Array(0) }),
        msg(MsgKind.Snap, 2, { snapshot: null }),
        msg(MsgKind.Snap, 2, { snapshot: emptySnap }),
        msg(MsgKind.App, 3, { entries: [{ term: 1, index: 1, kind: 0, data: new Uint8Array(0) }] }),
      ],
      heartbeats: [{ group: 1, term: 1, commit: 0, context: null },
        { group: 1, term: 1, commit: 0, context: new Uint8Array(0) }],
      heartbeatResps: [{ group: 1, term: 1, commit: 0, context: new Uint8Array(0) },
        { group: 1, term: 1, commit: 0, context: null }],
    });
    const out = roundTrip(b);
    expect(out).toStrictEqual(b);
    expect(out.messages[0]!.context).toBeNull();
    expect(out.messages[1]!.context).toEqual(new Uint8Array(0));
    expect(out.messages[2]!.snapshot).toBeNull();
    expect(out.messages[3]!.snapshot).toEqual(emptySnap);
    expect(out.heartbeats.map((h) => h.context)).toEqual([null, new Uint8Array(0)]);
    expect(out.heartbeatResps.map((h) => h.context)).toEqual([new Uint8Array(0), null]);
  });

  it('is exact for terms and indexes up to 2^53-1 and ids up to 2^32-1', () => {
    // Every varint length boundary, and the values around 2^31 and 2^32 where bit ops stop.
    const edges = [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 31 - 1, 2 ** 31,
      2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 42, 2 ** 49 - 1, 2 ** 49, 2 ** 52 + 1, safeMax - 1,
      safeMax];
    const messages = edges.map((n, i) => msg(MsgKind.App, i, {
      term: n, logTerm: safeMax - n, index: n, commit: n, rejectHint: n, rejectHintTerm: n,
      entries: [{ term: n, index: safeMax - n, kind: EntryKind.Normal, data: bytesOf(1) }],
      snapshot: { ...snapshot, meta: { ...snapshot.meta, index: n, term: safeMax - n } },
    }));
    const b = batch({
      from: u32Max, to: u32Max - 1, epoch: safeMax, tick: safeMax - 1, messages,
      heartbeats: edges.map((n) => ({ group: u32Max, term: n, commit: safeMax - n,
        context: null })),
      quiesce: edges.map((n) => ({ group: n % 2 ** 32, term: n, commit: n, lastIndex: safeMax,
        lastTerm: n })),
      wakes: [0, u32Max],
    });
    expect(roundTrip(b)).toStrictEqual(b);
  });

  it('carries 1 MiB entries and copies byte fields out of the input', () => {
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const entries: Entry[] = [1, 2, 3].map((i) => ({
      term: 9, index: 2 ** 40 + i, kind: EntryKind.Normal, data: big.subarray(i),
    }));
    const b = batch({ messages: [msg(MsgKind.App, 1, { entries, context: bytesOf(1) })] });
    const bytes = encodePeerBatch(b);
    expect(bytes.length).toBeGreaterThan(3 * (1 << 20) - 10);
    const out = decodePeerBatch(bytes);
    bytes.fill(0); // a ring reusing its memory must not change what was decoded
    // vitest's deep equality walks typed arrays slowly (seconds per MiB): compare data by hand.
    const got = out.messages[0]!.entries;
    expect(got.map((e, i) => sameBytes(e.data, entries[i]!.data))).toEqual([true, true, true]);
    const noData = (es: readonly Entry[]): Entry[] => es.map((e) => ({ ...e, data: bytesOf() }));
    expect({ ...out.messages[0]!, entries: noData(got) }).toStrictEqual(
      { ...b.messages[0]!, entries: noData(entries) });
    expect({ ...out, messages: [] }).toStrictEqual({ ...b, messages: [] });
  });

  it('decodes from SharedArrayBuffer memory at an offset, into plain copies', () => {
    const b = batch({ messages: everyKind(), wakes: [1] });
    const bytes = encodePeerBatch(b);
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length + 16), 8, bytes.length);
    shared.set(bytes);
    const out = decodePeerBatch(shared);
    expect(out).toStrictEqual(b);
    expect(out.messages[1]!.context!.buffer).toBeInstanceOf(ArrayBuffer);
    const parts = splitPeerBatch(shared, () => 0, []);
    expect(decodePeerBatch(parts.get(0)!)).toStrictEqual(b);
  });

  it('refuses (asserts) numbers the format cannot carry', () => {
    const bad: Partial<Message>[] = [
      { term: -1 }, { index: 1.5 }, { commit: 2 ** 53 }, { logTerm: Number.NaN },
      { from: 2 ** 32 }, { group: -1 }, { kind: 19 as number as MsgKindValue },
      { entries: [{ term: 1, index: 1, kind: 2 as number as EntryKindValue, data: bytesOf() }] },
    ];
    for (const extra of bad) {
      expect(() => encodePeerBatch(batch({ messages: [msg(MsgKind.App, 1, extra)] }))).toThrow();
    }
    expect(() => encodePeerBatch(batch({ epoch: -1 }))).toThrow();
    expect(() => encodePeerBatch(batch({ wakes: [2 ** 32] }))).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Seeded random batches

function randomNumber(p: SeededPrng): number {
  switch (p.nextInt(5)) {
    case 0: return 0;
    case 1: return p.nextInt(200);
    case 2: return p.nextUint32();
    case 3: return p.nextInt(2 ** 21) * 2 ** 32 + p.nextUint32(); // anywhere below 2^53
    default: return safeMax - p.nextInt(3);
  }
}

function randomId(p: SeededPrng): number {
  return p.chance(0.9) ? p.nextInt(8) : p.nextUint32();
}

function randomBytes(p: SeededPrng, lengthMax: number): Uint8Array {
  const b = new Uint8Array(p.nextInt(lengthMax + 1));
  for (let i = 0; i < b.length; i++) b[i] = p.nextInt(256);
  return b;
}

function randomContext(p: SeededPrng): Uint8Array | null {
  return p.chance(0.4) ? null : randomBytes(p, 12);
}

function randomSnapshot(p: SeededPrng): Snapshot | null {
  if (p.chance(0.8)) return null;
  const ids = (): number[] => Array.from({ length: p.nextInt(5) }, () => randomId(p));
  return {
    meta: { index: randomNumber(p), term: randomNumber(p),
      conf: { voters: ids(), learners: ids(), votersOutgoing: ids(), learnersNext: ids(),
        autoLeave: p.chance(0.5) } },
    data: randomBytes(p, 64),
  };
}

function randomMessage(p: SeededPrng, groups: number): Message {
  const kinds = Object.values(MsgKind);
  const entries: Entry[] = Array.from({ length: p.chance(0.5) ? 0 : p.nextInt(5) }, () => ({
    term: randomNumber(p), index: randomNumber(p),
    kind: p.chance(0.9) ? EntryKind.Normal : EntryKind.ConfChange, data: randomBytes(p, 40),
  }));
  return {
    kind: kinds[p.nextInt(kinds.length)]!, group: p.nextInt(groups), from: randomId(p),
    to: randomId(p), term: randomNumber(p), logTerm: randomNumber(p), index: randomNumber(p),
    entries, commit: randomNumber(p), reject: p.chance(0.3), rejectHint: randomNumber(p),
    rejectHintTerm: randomNumber(p), snapshot: randomSnapshot(p), context: randomContext(p),
  };
}

function randomHeartbeat(p: SeededPrng, groups: number): CoalescedHeartbeat {
  return { group: p.nextInt(groups), term: randomNumber(p), commit: randomNumber(p),
    context: randomContext(p) };
}

function randomQuiesce(p: SeededPrng, groups: number): QuiesceHeartbeat {
  return { group: p.nextInt(groups), term: randomNumber(p), commit: randomNumber(p),
    lastIndex: randomNumber(p), lastTerm: randomNumber(p) };
}

function randomBatch(p: SeededPrng): PeerBatch {
  const groups = 1 + p.nextInt(p.chance(0.5) ? 8 : 5000);
  const n = (): number => (p.chance(0.3) ? 0 : p.nextInt(12));
  return {
    from: randomId(p), to: randomId(p), epoch: randomNumber(p), tick: randomNumber(p),
    messages: Array.from({ length: n() }, () => randomMessage(p, groups)),
    heartbeats: Array.from({ length: n() }, () => randomHeartbeat(p, groups)),
    heartbeatResps: Array.from({ length: n() }, () => randomHeartbeat(p, groups)),
    quiesce: Array.from({ length: n() }, () => randomQuiesce(p, groups)),
    wakes: Array.from({ length: n() }, () => p.nextInt(groups)),
  };
}

function itemGroups(b: PeerBatch): number[] {
  return [...b.messages.map((m) => m.group), ...b.heartbeats.map((h) => h.group),
    ...b.heartbeatResps.map((h) => h.group), ...b.quiesce.map((q) => q.group), ...b.wakes];
}

function filterByOwner(b: PeerBatch, keep: (group: number) => boolean): PeerBatch {
  return {
    from: b.from, to: b.to, epoch: b.epoch, tick: b.tick,
    messages: b.messages.filter((m) => keep(m.group)),
    heartbeats: b.heartbeats.filter((h) => keep(h.group)),
    heartbeatResps: b.heartbeatResps.filter((h) => keep(h.group)),
    quiesce: b.quiesce.filter((q) => keep(q.group)),
    wakes: b.wakes.filter((g) => keep(g)),
  };
}

const randomSeed = 0x5eed_ba7c;

describe('random batches (seeded)', () => {
  it('decode(encode(b)) equals b for 500 batches, and the encoding is canonical', () => {
    const p = new SeededPrng(randomSeed).fork('round-trip');
    for (let i = 0; i < 500; i++) {
      const b = randomBatch(p);
      const bytes = encodePeerBatch(b);
      const out = decodePeerBatch(bytes);
      expect(out, `SEED=${randomSeed} batch ${i}`).toStrictEqual(b);
      expect(encodePeerBatch(out)).toEqual(bytes);
      expect(peerBatchGroups(bytes)).toEqual(itemGroups(b));
    }
  });

  it('split parts decode to the batch filtered by owner, order kept, header equal', () => {
    const p = new SeededPrng(randomSeed).fork('split');
    for (let i = 0; i < 500; i++) {
      const b = randomBatch(p);
      const owners = 1 + p.nextInt(5);
      const salt = p.nextUint32();
      const ownerOf = (g: number): number => ((Math.imul(g, 0x9e3779b1) ^ salt) >>> 0) % owners;
      const always = Array.from({ length: p.nextInt(owners + 2) }, () => p.nextInt(owners + 1));
      const bytes = encodePeerBatch(b);
      const parts = splitPeerBatch(bytes, ownerOf, always);
      const withItems = new Set(itemGroups(b).map(ownerOf));
      expect([...parts.keys()].sort(), `SEED=${randomSeed} batch ${i}`)
        .toEqual([...new Set([...withItems, ...always])].sort());
      for (const [owner, part] of parts) {
        const out = decodePeerBatch(part);
        expect(out, `SEED=${randomSeed} batch ${i} owner ${owner}`)
          .toStrictEqual(filterByOwner(b, (g) => ownerOf(g) === owner));
        expect(part.buffer).not.toBe(bytes.buffer);
        if (!withItems.has(owner)) expect(itemGroups(out)).toEqual([]);
      }
    }
  });

  it('header-only parts for alwaysOwners that got nothing; nothing for the rest', () => {
    const b = batch({ from: 7, to: 9, epoch: 2 ** 40, tick: 12, wakes: [1, 2, 3, 1],
      heartbeats: [{ group: 2, term: 1, commit: 1, context: null }] });
    const parts = splitPeerBatch(encodePeerBatch(b), (g) => g % 2, [0, 1, 5, 5]);
    expect([...parts.keys()]).toEqual([0, 1, 5]); // first seen: heartbeats precede wakes
    const header = { from: 7, to: 9, epoch: 2 ** 40, tick: 12 };
    expect(decodePeerBatch(parts.get(5)!)).toStrictEqual(batch(header));
    expect(decodePeerBatch(parts.get(1)!)).toStrictEqual(batch({ ...header, wakes: [1, 3, 1] }));
    expect(decodePeerBatch(parts.get(0)!)).toStrictEqual(
      batch({ ...header, wakes: [2], heartbeats: b.heartbeats }));
    expect(splitPeerBatch(encodePeerBatch(batch()), () => 0, [])).toEqual(new Map());
  });

  it('never throws anything but PeerBatchCodecError on randomly corrupted bytes', () => {
    const p = new SeededPrng(randomSeed).fork('corrupt');
    let rejected = 0;
    for (let i = 0; i < 500; i++) {
      const bytes = encodePeerBatch(randomBatch(p)).slice();
      for (let k = 1 + p.nextInt(3); k > 0; k--) {
        bytes[p.nextInt(bytes.length)] = p.chance(0.5) ? 0xff : p.nextInt(256);
      }
      for (const f of [decodePeerBatch, peerBatchGroups,
        (x: Uint8Array): unknown => splitPeerBatch(x, (g) => g % 3, [0])]) {
        try {
          f(bytes);
        } catch (e) {
          expect(e, `SEED=${randomSeed} batch ${i}`).toBeInstanceOf(PeerBatchCodecError);
          rejected += 1;
        }
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed input

describe('malformed input', () => {
  const small = encodePeerBatch(batch({
    messages: [msg(MsgKind.App, 3, { term: 300, index: 2 ** 40, context: bytesOf(5),
      entries: [{ term: 300, index: 2 ** 40 + 1, kind: 0, data: bytesOf(1, 2) }],
      snapshot })],
    heartbeats: [{ group: 4, term: 300, commit: 2, context: bytesOf(6) }],
    heartbeatResps: [{ group: 5, term: 300, commit: 2, context: null }],
    quiesce: [{ group: 6, term: 300, commit: 2, lastIndex: 2, lastTerm: 300 }],
    wakes: [7],
  }));

  it('throws when truncated at every byte (decode, split and groups)', () => {
    for (let n = 0; n < small.length; n++) {
      const cut = small.subarray(0, n);
      expect(() => decodePeerBatch(cut), `cut at ${n}`).toThrow(PeerBatchCodecError);
      expect(() => splitPeerBatch(cut, () => 0, [0]), `cut at ${n}`)
        .toThrow(PeerBatchCodecError);
      expect(() => peerBatchGroups(cut), `cut at ${n}`).toThrow(PeerBatchCodecError);
    }
    expect(() => decodePeerBatch(small)).not.toThrow();
    expectMalformed(new Uint8Array(0), /truncated at byte 0/);
  });

  it('throws on trailing bytes', () => {
    const longer = new Uint8Array(small.length + 1);
    longer.set(small);
    expectMalformed(longer, /1 trailing bytes/);
    expect(() => peerBatchGroups(longer)).toThrow(PeerBatchCodecError);
  });

  it('throws on a wrong version', () => {
    for (const version of [0, 2, 255]) {
      const bytes = small.slice();
      bytes[0] = version;
      expectMalformed(bytes, new RegExp(`unsupported version ${version}`));
      expect(() => splitPeerBatch(bytes, () => 0, [])).toThrow(/version/);
    }
  });

  it('throws on absurd counts and lengths without allocating them', () => {
    const cases: [Uint8Array, RegExp][] = [
      [Uint8Array.from([...header, ...v(2 ** 50)]), /count \d+ exceeds/], // item count
      [Uint8Array.from([...header, 1, 5, 1, ...v(2 ** 40)]), /item length \d+ exceeds/],
      [Uint8Array.from([...header, 1, 5, 1, 200, 1]), /item length 200 exceeds/],
      // A message whose entry count, entry data length or context length lies.
      [frame(item(1, 1, msgBody(3, 0, [...v(2 ** 45), 0, 0, 0]))), /count \d+ exceeds/],
      [frame(item(1, 1, msgBody(3, 0, [1, 0, 0, 0, ...v(2 ** 30), 0, 0, 0]))),
        /length \d+ exceeds/],
      [frame(item(1, 1, msgBody(3, msgFlags.context, [0, 0, 0, 0, ...v(2 ** 20)]))),
        /length \d+ exceeds/],
      // A heartbeat context length, and a snapshot voter count.
      [frame(item(2, 1, [1, 1, 1, 99])), /length 99 exceeds/],
      [frame(item(1, 1, msgBody(3, msgFlags.snapshot, [0, 0, 0, 0, 0, 0, ...v(2 ** 33)]))),
        /count \d+ exceeds/],
    ];
    for (const [bytes, pattern] of cases) expectMalformed(bytes, pattern);
  });

  it('throws on bad varints: too long, non-minimal, above 2^53-1, ids above 2^32-1', () => {
    expectMalformed(bytesOf(1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), /8 bytes/);
    expectMalformed(bytesOf(...header.slice(0, 3), 0x80, 0x00, 0, 0), /non-minimal/);
    expectMalformed(Uint8Array.from([...header.slice(0, 3), ...v(2 ** 53), 0, 0]), /2\^53-1/);
    expect(decodePeerBatch(Uint8Array.from([...header.slice(0, 3), ...v(safeMax), 0, 0])).epoch)
      .toBe(safeMax);
    expectMalformed(Uint8Array.from([1, ...v(2 ** 32), 2, 0, 0, 0]), /above uint32/);
    expectMalformed(frame(item(5, 2 ** 32, [])), /above uint32/);
  });

  it('throws on unknown tags, kinds, flags and booleans', () => {
    expectMalformed(frame(item(6, 1, [])), /unknown item tag 6/);
    expect(() => peerBatchGroups(frame(item(0, 1, [])))).toThrow(/unknown item tag 0/);
    expectMalformed(frame(item(2, 1, [2, 1, 1])), /unknown heartbeat flags 2/);
    expect(decodePeerBatch(frame(item(2, 1, [0, 1, 1]))).heartbeats).toHaveLength(1);
    const m = (kind: number, flags: number): Uint8Array =>
      frame(item(1, 1, msgBody(kind, flags, [0, 0, 0, 0])));
    expect(decodePeerBatch(m(18, 0)).messages[0]!.kind).toBe(18);
    expect(decodePeerBatch(m(3, msgFlags.reject)).messages[0]!.reject).toBe(true);
    expectMalformed(m(19, 0), /unknown message kind 19/);
    expectMalformed(m(3, 8), /unknown message flags 8/);
    // An entry of kind 2, and a snapshot whose autoLeave byte is 2.
    expectMalformed(frame(item(1, 1, msgBody(3, 0, [1, 0, 0, 2, 0, 0, 0, 0]))),
      /unknown entry kind 2/);
    expectMalformed(frame(item(1, 1, msgBody(3, msgFlags.snapshot,
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0]))), /bad boolean 2/);
    expect(decodePeerBatch(frame(item(1, 1, msgBody(3, msgFlags.snapshot,
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0])))).messages[0]!.snapshot!.meta.conf.autoLeave)
      .toBe(true);
  });

  it('throws when an item body is shorter or longer than its length', () => {
    // A wake with a 1-byte body, and a quiesce notice whose body runs past its length.
    expectMalformed(frame(item(5, 1, [0])), /body ends 1 bytes before its length/);
    expectMalformed(frame(item(4, 1, [1, 1, 1]), item(5, 1, [])), /truncated/);
    // Frame-level walkers do not read bodies, so they accept what decode refuses.
    expect(peerBatchGroups(frame(item(5, 1, [0])))).toEqual([1]);
  });
});
