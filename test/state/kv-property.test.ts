// Property tests (style.md pyramid level 2), bounded by interruptAfterTimeLimit:
// - the key/value store against a naive model (a Map of full revision histories) under random
//   sets (all flags, TTLs, null values), deletes, extends, gets (latest, by revision, as of a
//   time), exists and range pages;
// - persistence: load(takeDirty()) at random points rebuilds the same hash and answers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvFlags, KvState, KvType } from '../../src/core/api/codes.js';
import type { Hlc } from '../../src/core/api/types.js';
import { kvRevisionsRetainedMax } from '../../src/core/state/state-limits.js';
import {
  at, createReq, dec, delReq, enc, extReq, getReq, lockReq, newState, rangeReq, reserveReq,
  seqName, setReq, t0,
} from './helpers.js';

const runMs = 4_000;
const keys = ['a', 'b', 'b/x', 'b/y', 'c'];

interface ModelRev {
  revision: number;
  value: string | null;
  deleted: boolean;
  expiresL: number; // 0: never
  modifiedL: number;
  archived: boolean;
}

/** The naive model: every revision ever written, per key; the rules of wire.md 4.2 spelled out
 *  on plain numbers (time is the physical ms; node and counter are fixed in these runs). */
class Model {
  readonly revs = new Map<string, ModelRev[]>();

  cur(key: string): ModelRev | undefined {
    const list = this.revs.get(key);
    return list?.[list.length - 1];
  }

  static live(rev: ModelRev | undefined, t: number): boolean {
    return rev !== undefined && !rev.deleted && (rev.expiresL === 0 || t < rev.expiresL);
  }

  push(key: string, rev: ModelRev): void {
    const list = this.revs.get(key) ?? [];
    list.push(rev);
    this.revs.set(key, list);
  }

  set(key: string, value: string | null, flags: number, cmpValue: string | null, cmpRev: number,
    ttl: number, t: number): [number, number] {
    const cur = this.cur(key);
    const live = Model.live(cur, t);
    let ok = true;
    if (flags === KvFlags.SetIfExists) ok = live;
    if (flags === KvFlags.SetIfNotExists) ok = !live;
    if (flags === KvFlags.SetIfEqualToValue) ok = live && cur?.value === cmpValue;
    if (flags === KvFlags.SetIfEqualToRevision) ok = live && cur?.revision === cmpRev;
    if (!ok) return [KvType.NotSet, cur?.revision ?? -1];
    const revision = cur === undefined ? 0 : cur.revision + 1;
    this.push(key, { revision, value, deleted: false, expiresL: ttl === 0 ? 0 : t + ttl,
      modifiedL: t, archived: flags !== KvFlags.SetNoRevision });
    return [KvType.Set, revision];
  }

  delete(key: string, t: number): [number, number] {
    const cur = this.cur(key);
    if (cur === undefined) return [KvType.DoesNotExist, 0];
    if (cur.deleted) return [KvType.DoesNotExist, cur.revision];
    this.push(key, { revision: cur.revision + 1, value: null, deleted: true, expiresL: 0,
      modifiedL: t, archived: true });
    return [KvType.Deleted, cur.revision + 1];
  }

  extend(key: string, ttl: number, t: number): [number, number] {
    const cur = this.cur(key);
    if (cur === undefined) return [KvType.DoesNotExist, 0];
    if (!Model.live(cur, t)) return [KvType.DoesNotExist, cur.revision];
    cur.expiresL = ttl === 0 ? 0 : t + ttl;
    return [KvType.Extended, cur.revision];
  }

  /** [type, revision, value] of a get: latest (-1), a revision, or as of `asOf`. */
  get(key: string, revision: number, asOf: number, t: number): [number, number, string | null] {
    const list = this.revs.get(key) ?? [];
    const retained = list.slice(-kvRevisionsRetainedMax);
    let rev: ModelRev | undefined;
    let when = t;
    if (revision >= 0) {
      rev = retained.find((r) => r.revision === revision && r.archived);
    } else if (asOf > 0) {
      const idx = retained.findLastIndex((r) => r.modifiedL <= asOf);
      const found = retained[idx];
      rev = found !== undefined && (idx === retained.length - 1 || found.archived) ? found :
        undefined;
      when = asOf;
    } else {
      rev = retained[retained.length - 1];
    }
    if (rev === undefined || !Model.live(rev, when)) return [KvType.DoesNotExist, 0, null];
    return [KvType.Get, rev.revision, rev.value];
  }

  liveKeys(prefix: string, t: number): string[] {
    return [...this.revs.keys()].filter((k) => k.startsWith(prefix) && Model.live(this.cur(k), t))
      .sort();
  }
}

const flagsArb = fc.constantFrom(KvFlags.Set, KvFlags.SetNoRevision, KvFlags.SetIfExists,
  KvFlags.SetIfNotExists, KvFlags.SetIfEqualToValue, KvFlags.SetIfEqualToRevision);
const valueArb = fc.option(fc.constantFrom<string>('', 'x', 'y', 'zz'), { nil: null });

const opArb = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...keys), value: valueArb,
    flags: flagsArb, cmpValue: valueArb, cmpRev: fc.integer({ min: -1, max: 6 }),
    ttl: fc.constantFrom(0, 0, 5, 30) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
  fc.record({ kind: fc.constant('extend' as const), key: fc.constantFrom(...keys),
    ttl: fc.constantFrom(0, 10, 50) }),
  fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom(...keys),
    revision: fc.oneof({ arbitrary: fc.constant(-1), weight: 3 },
      { arbitrary: fc.integer({ min: 0, max: 8 }), weight: 2 }),
    back: fc.integer({ min: 0, max: 60 }),
    snapshot: fc.boolean() }),
  fc.record({ kind: fc.constant('range' as const), limit: fc.integer({ min: 1, max: 4 }) }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

const stepArb = fc.tuple(opArb, fc.integer({ min: 0, max: 12 }));

function toBytes(v: string | null): Uint8Array | null {
  return v === null ? null : enc(v);
}

/** Applies one op to both; asserts the answers agree. */
function check(s: ReturnType<typeof newState>, model: Model, op: Op, t: number): void {
  const now: Hlc = at(t);
  switch (op.kind) {
    case 'set': {
      const r = s.kvSet(setReq(op.key, op.value, { flags: op.flags, expiresMs: op.ttl,
        compareValue: toBytes(op.cmpValue), compareRevision: op.cmpRev }), now);
      expect([r.type, r.revision]).toEqual(model.set(op.key, op.value, op.flags, op.cmpValue,
        op.cmpRev, op.ttl, t));
      return;
    }
    case 'delete': {
      const r = s.kvDelete(delReq(op.key), now);
      expect([r.type, r.revision]).toEqual(model.delete(op.key, t));
      return;
    }
    case 'extend': {
      const r = s.kvExtend(extReq(op.key, op.ttl), now);
      expect([r.type, r.revision]).toEqual(model.extend(op.key, op.ttl, t));
      return;
    }
    case 'get': {
      const asOf = op.snapshot && op.revision < 0 ? Math.max(1, t - op.back) : 0;
      const r = s.kvGet(getReq(op.key, { revision: op.revision,
        readTimestamp: asOf > 0 ? at(asOf) : { n: 0, l: 0, c: 0 } }), now);
      expect([r.type, r.revision, dec(r.value)]).toEqual(model.get(op.key, op.revision, asOf, t));
      if (r.type === KvType.Get) expect(r.state).toBe(KvState.Set);
      const e = s.kvExists(getReq(op.key), now);
      expect(e.type === KvType.Exists).toBe(Model.live(model.cur(op.key), t));
      return;
    }
    case 'range': {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < keys.length + 1; page += 1) {
        const r = s.kvGetByRange(rangeReq('b', { limit: op.limit, cursor }), now);
        seen.push(...r.items.map((i) => i.key));
        if (!r.hasMore) break;
        cursor = r.nextCursor;
      }
      expect(seen).toEqual(model.liveKeys('b', t));
    }
  }
}

describe('property: KV store vs a naive model', () => {
  it('random sets / deletes / extends / gets / range pages agree with the model', () => {
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 80 }), (steps) => {
      const s = newState();
      const model = new Model();
      let t = t0;
      for (const [op, dt] of steps) {
        t += dt;
        check(s, model, op, t);
      }
    }), { numRuns: 1000, interruptAfterTimeLimit: runMs });
  });

  it('history past the retention cap: only the last revisions read back', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 * kvRevisionsRetainedMax }), (writes) => {
      const s = newState();
      const model = new Model();
      for (let i = 0; i < writes; i += 1) {
        check(s, model, { kind: 'set', key: 'a', value: `v${i}`, flags: KvFlags.Set,
          cmpValue: null, cmpRev: 0, ttl: 0 }, t0 + i);
      }
      for (let r = 0; r < writes; r += 1) {
        check(s, model, { kind: 'get', key: 'a', revision: r, back: 0, snapshot: false },
          t0 + writes);
      }
    }), { numRuns: 50, interruptAfterTimeLimit: runMs });
  });
});

// ------------------------------------------------------------------ persistence round trip

const anyOpArb = fc.oneof(
  opArb.map((op) => ({ area: 'kv' as const, op })),
  fc.record({ area: fc.constant('lock' as const), kind: fc.constantFrom('lock', 'extend',
    'unlock'), resource: fc.constantFrom('L1', 'L2'), owner: fc.constantFrom('A', 'B'),
  ms: fc.constantFrom(5, 50) }),
  fc.record({ area: fc.constant('seq' as const), kind: fc.constantFrom('create', 'reserve',
    'delete'), name: fc.constantFrom('s1', 's2'), count: fc.integer({ min: 1, max: 3 }),
  key: fc.option(fc.constantFrom('k1', 'k2'), { nil: null }) }),
  fc.constant({ area: 'checkpoint' as const }),
);
type AnyOp = typeof anyOpArb extends fc.Arbitrary<infer T> ? T : never;

function applyAny(s: ReturnType<typeof newState>, op: AnyOp, t: number): void {
  const now = at(t);
  if (op.area === 'kv') {
    if (op.op.kind === 'set') {
      s.kvSet(setReq(op.op.key, op.op.value, { flags: op.op.flags, expiresMs: op.op.ttl }), now);
    } else if (op.op.kind === 'delete') s.kvDelete(delReq(op.op.key), now);
    else if (op.op.kind === 'extend') s.kvExtend(extReq(op.op.key, op.op.ttl), now);
  } else if (op.area === 'lock') {
    const req = lockReq(op.resource, op.owner, op.ms);
    if (op.kind === 'lock') s.tryLock(req, now);
    else if (op.kind === 'extend') s.extendLock(req, now);
    else s.unlock({ resource: op.resource, owner: req.owner, durability: 0 }, now);
  } else if (op.area === 'seq') {
    if (op.kind === 'create') s.seqCreate(createReq(op.name), now);
    else if (op.kind === 'reserve') s.seqReserve(reserveReq(op.name, op.count, op.key), now);
    else s.seqDelete(seqName(op.name), now);
  }
}

function snapshotAnswers(s: ReturnType<typeof newState>, t: number) {
  const now = at(t);
  return {
    kv: keys.map((key) => [s.kvGet(getReq(key), now), s.kvGet(getReq(key, { revision: 1 }),
      now)]),
    locks: ['L1', 'L2'].map((resource) => s.getLock({ resource, durability: 0 }, now)),
    seqs: ['s1', 's2'].map((name) => s.seqGet(seqName(name), now)),
    range: s.kvGetByRange(rangeReq('b', { limit: 2 }), now),
  };
}

describe('property: persistence round trip', () => {
  it('loading every takeDirty batch into a fresh state preserves hash and reads', () => {
    fc.assert(fc.property(fc.array(fc.tuple(anyOpArb, fc.integer({ min: 0, max: 20 })),
      { maxLength: 60 }), (steps) => {
      const a = newState();
      const b = newState();
      let t = t0;
      for (const [op, dt] of steps) {
        t += dt;
        if (op.area === 'checkpoint') {
          for (const r of a.takeDirty()) b.load(r);
          expect(b.hash()).toBe(a.hash());
        } else {
          applyAny(a, op, t);
        }
      }
      for (const r of a.takeDirty()) b.load(r);
      expect(b.hash()).toBe(a.hash());
      expect(snapshotAnswers(b, t)).toEqual(snapshotAnswers(a, t));
      // And the two keep agreeing on new writes.
      applyAny(a, { area: 'seq', kind: 'reserve', name: 's1', count: 2, key: 'k1' }, t + 1);
      applyAny(b, { area: 'seq', kind: 'reserve', name: 's1', count: 2, key: 'k1' }, t + 1);
      expect(b.hash()).toBe(a.hash());
    }), { numRuns: 300, interruptAfterTimeLimit: runMs });
  });
});
