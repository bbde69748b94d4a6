// A TxBackend that records every call and answers from a table of canned responses, for
// testing the gRPC and REST adapters of scripts, sessions and exclusive locks on their own (the
// real one is the coordinator of src/main/tx/).
import { hlcZero } from '../../src/core/api/types.js';
import type { TxBackend } from '../../src/core/api/tx-types.js';

type Method = keyof TxBackend;
type Req<M extends Method> = Parameters<TxBackend[M]>[0];
type Res<M extends Method> = Awaited<ReturnType<TxBackend[M]>>;

export interface TxCall {
  readonly method: Method;
  readonly req: unknown;
}

const lock = { type: 5, holder: hlcZero };

/** Defaults: a plausible success for every method. */
const defaults: { [M in Method]: (req: Req<M>) => Res<M> } = {
  executeScript: () => ({ type: 0, reason: null, values: [], timeElapsedMs: 0 }),
  startTransaction: () => ({ type: 0, transactionId: { n: 1, l: 1, c: 1 } }),
  commitTransaction: () => ({ type: 8, recordAnchorKey: null }),
  rollbackTransaction: () => ({ type: 9, recordAnchorKey: null }),
  acquireExclusiveLock: () => lock,
  acquireManyExclusiveLocks: (r) => ({ items: r.items.map((i) => ({ type: 5, key: i.key,
    durability: i.durability, holder: hlcZero })) }),
  releaseExclusiveLock: () => ({ ...lock, type: 6 }),
  releaseManyExclusiveLocks: (r) => ({ items: r.items.map((i) => ({ type: 6, key: i.key,
    durability: i.durability, holder: hlcZero })) }),
  acquireExclusivePrefixLock: () => lock,
  releaseExclusivePrefixLock: () => ({ ...lock, type: 6 }),
};

export class FakeTxBackend implements TxBackend {
  readonly calls: TxCall[] = [];
  private readonly answers = new Map<Method, (req: unknown) => unknown>();

  /** Answers `method` with `fn(req)` from now on; `fn` may throw (a backend bug). */
  answer<M extends Method>(method: M, fn: (req: Req<M>) => Res<M>): void {
    this.answers.set(method, fn as (req: unknown) => unknown);
  }

  /** Forgets the calls and the canned answers. */
  reset(): void {
    this.calls.length = 0;
    this.answers.clear();
  }

  lastCall<M extends Method>(method: M): Req<M> {
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const c = this.calls[i]!;
      if (c.method === method) return c.req as Req<M>;
    }
    throw new Error(`no call to ${method}`);
  }

  private call<M extends Method>(method: M, req: Req<M>): Promise<Res<M>> {
    this.calls.push({ method, req });
    const fn = this.answers.get(method) ?? (defaults[method] as (req: unknown) => unknown);
    return Promise.resolve(fn(req) as Res<M>);
  }

  executeScript(r: Req<'executeScript'>) { return this.call('executeScript', r); }
  startTransaction(r: Req<'startTransaction'>) { return this.call('startTransaction', r); }
  commitTransaction(r: Req<'commitTransaction'>) { return this.call('commitTransaction', r); }
  rollbackTransaction(r: Req<'rollbackTransaction'>) {
    return this.call('rollbackTransaction', r);
  }
  acquireExclusiveLock(r: Req<'acquireExclusiveLock'>) {
    return this.call('acquireExclusiveLock', r);
  }
  acquireManyExclusiveLocks(r: Req<'acquireManyExclusiveLocks'>) {
    return this.call('acquireManyExclusiveLocks', r);
  }
  releaseExclusiveLock(r: Req<'releaseExclusiveLock'>) {
    return this.call('releaseExclusiveLock', r);
  }
  releaseManyExclusiveLocks(r: Req<'releaseManyExclusiveLocks'>) {
    return this.call('releaseManyExclusiveLocks', r);
  }
  acquireExclusivePrefixLock(r: Req<'acquireExclusivePrefixLock'>) {
    return this.call('acquireExclusivePrefixLock', r);
  }
  releaseExclusivePrefixLock(r: Req<'releaseExclusivePrefixLock'>) {
    return this.call('releaseExclusivePrefixLock', r);
  }
}
