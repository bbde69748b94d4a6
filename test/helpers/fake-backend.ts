// A KahunaBackend that records every call and answers from a table of canned responses, for
// testing the gRPC and REST adapters on their own (the real backend is the node itself).
import type { KahunaBackend } from '../../src/core/api/types.js';
import { hlcZero, type RouteDomain, type RouteHint } from '../../src/core/api/types.js';

type Method = Exclude<keyof KahunaBackend, 'routeHint'>;
type Req<M extends Method> = Parameters<KahunaBackend[M]>[0];
type Res<M extends Method> = Awaited<ReturnType<KahunaBackend[M]>>;

export interface Call {
  readonly method: Method;
  readonly req: unknown;
}

const read = { type: 3, value: null, revision: 0, expires: hlcZero, lastUsed: hlcZero,
  lastModified: hlcZero, state: 1 };
const write = { type: 0, revision: 0, lastModified: hlcZero };

/** Defaults: a plausible success for every method. */
const defaults: { [M in Method]: Res<M> } = {
  tryLock: { type: 0, fencingToken: 0 },
  extendLock: { type: 2, fencingToken: 0 },
  unlock: { type: 3, fencingToken: 0 },
  getLock: { type: 4, owner: null, expires: hlcZero, fencingToken: 0 },
  kvSet: write,
  kvExtend: { ...write, type: 2 },
  kvDelete: { ...write, type: 4 },
  kvGet: read,
  kvExists: { ...read, type: 10 },
  kvSetMany: { type: 0, items: [] },
  kvDeleteMany: { type: 4, items: [] },
  kvGetMany: { type: 3, items: [] },
  kvExistsMany: { type: 3, items: [] },
  kvGetByBucket: { type: 3, items: [] },
  kvScanAllByPrefix: { type: 3, items: [] },
  kvScanByPrefix: { type: 3, items: [] },
  kvGetByRange: { type: 3, items: [], nextCursor: null, hasMore: false },
  seqCreate: { type: 0, sequence: null, revision: 0 },
  seqUpdate: { type: 0, sequence: null, revision: 0 },
  seqGet: { type: 1, sequence: null, revision: -1 },
  seqDelete: { type: 0, sequence: null, revision: 0 },
  seqReserve: { type: 0, allocation: null },
  membership: { membershipVersion: 1, members: [], localRole: 1, initialized: true },
  leave: { left: false, outcome: 2, membershipVersion: 1, retryable: false,
    reason: 'only voter', drained: false },
  placement: { replicationFactor: 0, rebalancerEnabled: false, initialized: true,
    localEndpoint: 'https://127.0.0.1:8082', hostedPartitionCount: 1,
    partitions: [{ partitionId: 1, state: 'Active', generation: 0,
      effectiveReplicationFactor: 0, hostedLocally: true, replicas: [] }] },
  setReplicationFactor: { success: false, status: 'Refused', generation: 0,
    reason: 'single node' },
  routingMetadata: { initialized: true, schemaVersion: 1,
    hashAlgorithm: 'kahuna.placement-group-jump-xxh32-v1', prefixSeparator: '/',
    groupSeparator: '|', hashPoolSize: 1, hashPartitionOffset: 1,
    sequenceStorageKeyFormat: '__kahuna:sequences:{0}', reservedKeyPrefix: '__kahuna:',
    localEndpoint: 'https://127.0.0.1:8082', snapshotVersion: 1, coherent: true,
    keySpaces: [], leaders: [{ partitionId: 1, endpoint: 'https://127.0.0.1:8082' }] },
};

export class FakeBackend implements KahunaBackend {
  readonly calls: Call[] = [];
  private readonly answers = new Map<Method, (req: unknown) => unknown>();

  /** Answers `method` with `fn(req)` from now on. */
  answer<M extends Method>(method: M, fn: (req: Req<M>) => Res<M>): void {
    this.answers.set(method, fn as (req: unknown) => unknown);
  }

  lastCall<M extends Method>(method: M): Req<M> {
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const c = this.calls[i]!;
      if (c.method === method) return c.req as Req<M>;
    }
    throw new Error(`no call to ${method}`);
  }

  private call<M extends Method>(method: M, req: unknown): Promise<Res<M>> {
    this.calls.push({ method, req });
    const fn = this.answers.get(method);
    return Promise.resolve((fn === undefined ? defaults[method] : fn(req)) as Res<M>);
  }

  tryLock(r: Req<'tryLock'>) { return this.call('tryLock', r); }
  extendLock(r: Req<'extendLock'>) { return this.call('extendLock', r); }
  unlock(r: Req<'unlock'>) { return this.call('unlock', r); }
  getLock(r: Req<'getLock'>) { return this.call('getLock', r); }
  kvSet(r: Req<'kvSet'>) { return this.call('kvSet', r); }
  kvExtend(r: Req<'kvExtend'>) { return this.call('kvExtend', r); }
  kvDelete(r: Req<'kvDelete'>) { return this.call('kvDelete', r); }
  kvGet(r: Req<'kvGet'>) { return this.call('kvGet', r); }
  kvExists(r: Req<'kvExists'>) { return this.call('kvExists', r); }
  kvSetMany(r: Req<'kvSetMany'>) { return this.call('kvSetMany', r); }
  kvDeleteMany(r: Req<'kvDeleteMany'>) { return this.call('kvDeleteMany', r); }
  kvGetMany(r: Req<'kvGetMany'>) { return this.call('kvGetMany', r); }
  kvExistsMany(r: Req<'kvExistsMany'>) { return this.call('kvExistsMany', r); }
  kvGetByBucket(r: Req<'kvGetByBucket'>) { return this.call('kvGetByBucket', r); }
  kvScanAllByPrefix(r: Req<'kvScanAllByPrefix'>) { return this.call('kvScanAllByPrefix', r); }
  kvScanByPrefix(r: Req<'kvScanByPrefix'>) { return this.call('kvScanByPrefix', r); }
  kvGetByRange(r: Req<'kvGetByRange'>) { return this.call('kvGetByRange', r); }
  seqCreate(r: Req<'seqCreate'>) { return this.call('seqCreate', r); }
  seqUpdate(r: Req<'seqUpdate'>) { return this.call('seqUpdate', r); }
  seqGet(r: Req<'seqGet'>) { return this.call('seqGet', r); }
  seqDelete(r: Req<'seqDelete'>) { return this.call('seqDelete', r); }
  seqReserve(r: Req<'seqReserve'>) { return this.call('seqReserve', r); }
  membership() { return this.call('membership', undefined); }
  /** No hints unless a test sets one: adapters then send no route members at all. */
  hint: RouteHint | null = null;
  routeHint(_domain: RouteDomain, _key: string): RouteHint | null { return this.hint; }
  leave() { return this.call('leave', undefined); }
  placement() { return this.call('placement', undefined); }
  setReplicationFactor(r: Req<'setReplicationFactor'>) {
    return this.call('setReplicationFactor', r);
  }
  routingMetadata(r: Req<'routingMetadata'>) { return this.call('routingMetadata', r); }
}
