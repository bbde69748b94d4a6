// Kahuna's sequence routes (wire.md 3.5): POST /v1/sequences/create, get, next, reserve,
// delete and update. Always HTTP 200; the outcome is `type` (SeqType). Every reply has the one
// shape {servedFrom, type, sequence, allocation, revision}, with a zeroed allocation when there
// is none, because Kahuna serializes one response class for all six routes.
import type {
  KahunaBackend, SequenceAllocation, SequenceAllocationResponse, SequenceEntry,
  SequenceResponse,
} from '../../core/api/types.js';
import { SeqType } from '../../core/api/codes.js';
import type { RestReply, RestRouter } from './router.js';
import { addJsonPost, hlcJson, sharedReply, type JsonFields } from './json-fields.js';
import { routed } from './route-hints.js';

function hinted(backend: KahunaBackend, h: Parameters<typeof routed>[3]):
  Parameters<typeof routed>[3] {
  return routed(backend, 'sequence', 'name', h);
}

export interface SequenceRouteDeps {
  readonly backend: KahunaBackend;
}

const noAllocation = { name: null, start: 0, end: 0, count: 0, revision: 0 };

function entryJson(entry: SequenceEntry): object {
  return {
    name: entry.name, currentValue: entry.currentValue, initialValue: entry.initialValue,
    increment: entry.increment, maxValue: entry.maxValue, revision: entry.revision,
    durability: entry.durability, createdAt: hlcJson(entry.createdAt),
    updatedAt: hlcJson(entry.updatedAt), blockSize: entry.blockSize,
    incarnation: entry.incarnation,
  };
}

function allocationJson(allocation: SequenceAllocation): object {
  return { name: allocation.name, start: allocation.start, end: allocation.end,
    count: allocation.count, revision: allocation.revision };
}

function sequenceReply(res: SequenceResponse): RestReply {
  return { json: { servedFrom: '', type: res.type,
    sequence: res.sequence === null ? null : entryJson(res.sequence),
    allocation: noAllocation, revision: res.revision } };
}

/** Next and reserve: the revision is the allocation's (0 when nothing was allocated). */
function allocationReply(res: SequenceAllocationResponse): RestReply {
  const allocation = res.allocation;
  return { json: { servedFrom: '', type: res.type, sequence: null,
    allocation: allocation === null ? noAllocation : allocationJson(allocation),
    revision: allocation?.revision ?? 0 } };
}

const invalidReply = sharedReply(sequenceReply({ type: SeqType.InvalidInput, sequence: null,
  revision: 0 }));

/**
 * The name and durability every sequence body carries, or null for InvalidInput: an absent
 * durability is refused here (wire.md 3.5), a wrong one by the backend (wire.md 4.6).
 */
function nameOf(f: JsonFields): { name: string; durability: number } | null {
  if (!f.has('durability')) return null;
  const named = { name: f.string('name'), durability: f.int32('durability') };
  return f.problem === null ? named : null;
}

function registerReadRoutes(router: RestRouter, backend: KahunaBackend): void {
  const must = SeqType.MustRetry;
  addJsonPost(router, '/v1/sequences/get', must, hinted(backend, async (f) => {
    const req = nameOf(f);
    return req === null ? invalidReply : sequenceReply(await backend.seqGet(req));
  }));
  addJsonPost(router, '/v1/sequences/next', must, hinted(backend, async (f) => {
    const named = nameOf(f);
    const idempotencyKey = f.stringOrNull('idempotencyKey');
    if (named === null || f.problem !== null) return invalidReply;
    return allocationReply(await backend.seqReserve({ name: named.name,
      durability: named.durability, count: 1, idempotencyKey }));
  }));
  addJsonPost(router, '/v1/sequences/reserve', must, hinted(backend, async (f) => {
    const named = nameOf(f);
    const count = f.int32('count');
    const idempotencyKey = f.stringOrNull('idempotencyKey');
    if (named === null || f.problem !== null) return invalidReply;
    return allocationReply(await backend.seqReserve({ name: named.name,
      durability: named.durability, count, idempotencyKey }));
  }));
}

function registerWriteRoutes(router: RestRouter, backend: KahunaBackend): void {
  const must = SeqType.MustRetry;
  addJsonPost(router, '/v1/sequences/create', must, hinted(backend, async (f) => {
    const named = nameOf(f);
    const req = { initialValue: f.int64('initialValue'), increment: f.int64('increment'),
      maxValue: f.int64WideOrNull('maxValue'), blockSize: f.int32OrNull('blockSize') };
    if (named === null || f.problem !== null) return invalidReply;
    return sequenceReply(await backend.seqCreate({ ...named, ...req }));
  }));
  addJsonPost(router, '/v1/sequences/update', must, hinted(backend, async (f) => {
    const named = nameOf(f);
    // null members leave the value unchanged (wire.md 4.6); the Remove* flags clear it.
    const req = { currentValue: f.int64OrNull('currentValue'),
      increment: f.int64OrNull('increment'), initialValue: f.int64OrNull('initialValue'),
      maxValue: f.int64WideOrNull('maxValue'), removeMaxValue: f.bool('removeMaxValue'),
      blockSize: f.int32OrNull('blockSize'), removeBlockSize: f.bool('removeBlockSize') };
    if (named === null || f.problem !== null) return invalidReply;
    return sequenceReply(await backend.seqUpdate({ ...named, ...req }));
  }));
  addJsonPost(router, '/v1/sequences/delete', must, hinted(backend, async (f) => {
    const req = nameOf(f);
    return req === null ? invalidReply : sequenceReply(await backend.seqDelete(req));
  }));
}

export function registerSequenceRoutes(router: RestRouter, deps: SequenceRouteDeps): void {
  registerReadRoutes(router, deps.backend);
  registerWriteRoutes(router, deps.backend);
}
