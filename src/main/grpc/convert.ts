// Field conversions shared by the gRPC services: generated messages (ts-proto, forceLong=bigint)
// <-> the plain data of src/core/api/types.ts. The wire carries int64/uint64 as bigint, absent
// `optional` fields as undefined and HLC timestamps as <P>Node/<P>Physical/<P>Counter triples
// (wire.md 1.3); the plain types carry JS numbers (wire.md 1.5), null and {n, l, c}.
import { performance } from 'node:perf_hooks';
import type { Hlc, TxFields } from '../../core/api/types.js';

/** An int64/uint64 off the wire. Clients keep these below 2^53 (wire.md 1.5). */
export function num(value: bigint): number {
  return Number(value);
}

/** An int64 onto the wire. BigInt() throws on a fraction: a backend bug surfaces, not a
 *  silently rounded revision. */
export function long(value: number): bigint {
  return BigInt(value);
}

export function optNum(value: bigint | undefined): number | null {
  return value === undefined ? null : Number(value);
}

export function optLong(value: number | null): bigint | undefined {
  return value === null ? undefined : BigInt(value);
}

/** The three fields of one HLC timestamp named with prefix P (wire.md 1.3). */
export type HlcFields<P extends string> =
  { [K in `${P}Node` | `${P}Counter`]: number } & { [K in `${P}Physical`]: bigint };

export function hlcFrom<P extends string>(message: HlcFields<P>, prefix: P): Hlc {
  // TS cannot index a mapped type by a generic template key; the type above guarantees them.
  const fields = message as unknown as Readonly<Record<string, number | bigint>>;
  return {
    n: Number(fields[`${prefix}Node`]),
    l: Number(fields[`${prefix}Physical`]),
    c: Number(fields[`${prefix}Counter`]),
  };
}

export function hlcTo<P extends string>(prefix: P, hlc: Hlc): HlcFields<P> {
  const fields = {
    [`${prefix}Node`]: hlc.n,
    [`${prefix}Physical`]: BigInt(hlc.l),
    [`${prefix}Counter`]: hlc.c,
  };
  return fields as unknown as HlcFields<P>;
}

/** The session fields of a transactional-capable request (wire.md 1.3). */
export type TxMessage = HlcFields<'TransactionId'> & {
  CoordinatorKey: string;
  OperationIdHigh: bigint;
  OperationIdLow: bigint;
};

export function txFrom(message: TxMessage): TxFields {
  return {
    txId: hlcFrom(message, 'TransactionId'),
    coordinatorKey: message.CoordinatorKey,
    operationIdHigh: Number(message.OperationIdHigh),
    operationIdLow: Number(message.OperationIdLow),
  };
}

/** For messages that carry a transaction id but no registration group (batch items). */
export function txIdOnly(message: HlcFields<'TransactionId'>): TxFields {
  return {
    txId: hlcFrom(message, 'TransactionId'), coordinatorKey: '', operationIdHigh: 0,
    operationIdLow: 0,
  };
}

/** Absent (undefined) is null: "no value" is not the same as empty bytes (wire.md 1.2).
 *  ts-proto (env=node) decodes bytes with Buffer.from(view), a copy: a value the backend keeps
 *  does not pin the received message (up to 64 MiB). */
export function bytesFrom(value: Buffer | undefined): Uint8Array | null {
  return value ?? null;
}

/** ts-proto (env=node) types bytes as Buffer; this wraps without copying. */
export function bytesTo(value: Uint8Array | null): Buffer | undefined {
  return value === null ? undefined : asBuffer(value);
}

export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset,
    value.byteLength);
}

/** TimeElapsedMs of a response (informational, wire.md 2.2). */
export function elapsedMsSince(startedMs: number): number {
  return Math.round(performance.now() - startedMs);
}

export function nowMs(): number {
  return performance.now();
}
