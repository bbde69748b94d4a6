// What bench/macro/kahuna.ts (the parent, REST load) and bench/macro/grpc-load.ts (the gRPC load
// processes) share: the scenarios, key names, the outcome each call must have, and latency
// samples that several processes can merge.

export const scenarioNames = [
  'set', 'get', 'mixed', 'lock-unlock', 'sequence-next', 'ephemeral-set', 'ephemeral-get',
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export type ScenarioKind = 'set' | 'get' | 'mixed' | 'lock-unlock' | 'sequence-next';

export interface Scenario {
  readonly name: ScenarioName;
  readonly kind: ScenarioKind;
  /** 0 = ephemeral, 1 = persistent (wire.md 1.3). */
  readonly durability: 0 | 1;
  /** What one counted operation is: a call, or a lock+unlock pair. */
  readonly unit: 'call' | 'pair';
}

export const scenarios: Readonly<Record<ScenarioName, Scenario>> = {
  'set': { name: 'set', kind: 'set', durability: 1, unit: 'call' },
  'get': { name: 'get', kind: 'get', durability: 1, unit: 'call' },
  'mixed': { name: 'mixed', kind: 'mixed', durability: 1, unit: 'call' },
  'lock-unlock': { name: 'lock-unlock', kind: 'lock-unlock', durability: 1, unit: 'pair' },
  'sequence-next': { name: 'sequence-next', kind: 'sequence-next', durability: 1, unit: 'call' },
  'ephemeral-set': { name: 'ephemeral-set', kind: 'set', durability: 0, unit: 'call' },
  'ephemeral-get': { name: 'ephemeral-get', kind: 'get', durability: 0, unit: 'call' },
};

export function isScenarioName(name: string): name is ScenarioName {
  return (scenarioNames as readonly string[]).includes(name);
}

/** Keys written before the get scenarios (one set per durability), read round-robin. */
export const preloadKeyCount = 1024;
export const sequenceName = 'bench-sequence';
export const lockExpiresMs = 30_000;

export function preloadKey(durability: 0 | 1, i: number): string {
  return `bench-preload-${durability}-${i % preloadKeyCount}`;
}

/** A key no other call of this run writes: `tag` names the transport, scenario and process. */
export function uniqueKey(tag: string, n: number): string {
  return `bench-${tag}-${n}`;
}

export function lockResource(tag: string, slot: number): string {
  return `bench-lock-${tag}-${slot}`;
}

/** kahuna-ts sends 32 ASCII hex characters as the owner (wire.md 3.3). */
export function lockOwner(tag: string, slot: number): Buffer {
  const hex = Buffer.from(`${tag}/${slot}`).toString('hex').padEnd(32, '0').slice(-32);
  return Buffer.from(hex, 'ascii');
}

export function benchValue(valueBytes: number): Buffer {
  return Buffer.alloc(valueBytes, 0x5a);
}

/** The `Type` a call must answer to count (wire.md 2.6 / 4.x): anything else is an error. */
export const expectedType = {
  set: 0, // KV Set
  get: 3, // KV Get
  lock: 0, // Locked
  unlock: 3, // Unlocked
  reserve: 0, // sequence Success
} as const;
export type CallKind = keyof typeof expectedType;

/** Counted outcomes of one measured window. */
export interface Tally {
  /** Calls (or lock+unlock pairs) that got the expected outcome. */
  ops: number;
  /** Every call that completed in the window, whatever its outcome. */
  calls: number;
  /** Outcome label ("set type 101", "http 500", "grpc UNAVAILABLE", ...) -> count. */
  errors: Record<string, number>;
}

export function newTally(): Tally {
  return { ops: 0, calls: 0, errors: {} };
}

export function countError(tally: Tally, label: string): void {
  tally.errors[label] = (tally.errors[label] ?? 0) + 1;
}

export function errorCount(errors: Readonly<Record<string, number>>): number {
  return Object.values(errors).reduce((n, c) => n + c, 0);
}

export function mergeErrors(into: Record<string, number>,
  from: Readonly<Record<string, number>>): void {
  for (const [label, count] of Object.entries(from)) into[label] = (into[label] ?? 0) + count;
}

const samplesMaxDefault = 1 << 19;

/** Latency samples in ms: every sample up to `max`, then a uniform reservoir (algorithm R), so
 *  `seen / samples.length` is each sample's weight when several processes are merged. */
export class LatencySamples {
  readonly samples: number[] = [];
  seen = 0;
  private rngState = 0x9e3779b9;

  constructor(private readonly max = samplesMaxDefault) {}

  add(ms: number): void {
    this.seen += 1;
    if (this.samples.length < this.max) {
      this.samples.push(ms);
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.max) this.samples[j] = ms;
  }

  toJSON(): LatencyReport {
    return { seen: this.seen, samples: this.samples.map((ms) => Math.round(ms * 1000) / 1000) };
  }

  private random(): number {
    // xorshift32: cheap and deterministic, good enough for picking reservoir slots.
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return this.rngState / 0x1_0000_0000;
  }
}

export interface LatencyReport {
  readonly seen: number;
  readonly samples: readonly number[];
}

/** Percentiles of several processes' samples, each sample weighted by seen / kept. */
export function mergedPercentiles(reports: readonly LatencyReport[],
  quantiles: readonly number[]): number[] {
  const weighted: Array<[number, number]> = [];
  let total = 0;
  for (const r of reports) {
    if (r.samples.length === 0) continue;
    const weight = r.seen / r.samples.length;
    for (const ms of r.samples) weighted.push([ms, weight]);
    total += r.seen;
  }
  if (total === 0) return quantiles.map(() => Number.NaN);
  weighted.sort((a, b) => a[0] - b[0]);
  return quantiles.map((q) => {
    const target = q * total;
    let acc = 0;
    for (const [ms, weight] of weighted) {
      acc += weight;
      if (acc >= target) return ms;
    }
    return weighted[weighted.length - 1]?.[0] ?? Number.NaN;
  });
}

/** The one JSON line a gRPC load process prints when it is done. */
export interface GrpcLoadResult {
  readonly type: 'result';
  readonly proc: number;
  readonly inFlight: number;
  readonly windowMs: number;
  readonly tally: Tally;
  /** Calls still without a reply when the process gave up waiting after the window. */
  readonly unfinished: number;
  readonly latency: LatencyReport;
}
