// Reading Kahuna's REST request bodies the way its server does (wire.md 1.4): ASP.NET web
// defaults, so member names are case-insensitive, numbers may arrive as strings, unknown members
// are ignored and missing members take defaults (0, false, null, the zero HLC). Where Kahuna
// would fail model binding (a string where a number belongs, bad base64) Honu answers the
// family's InvalidInput code instead, so one reader records the first wrong-typed member and
// the route replies with it rather than throwing. Also the shared encoders of the replies.
import { Buffer } from 'node:buffer';
import { HonuError, errors } from '../../errors.js';
import type { Hlc } from '../../core/api/types.js';
import { hlcZero } from '../../core/api/types.js';
import type { RestReply, RestRouter } from './router.js';

type JsonObject = Readonly<Record<string, unknown>>;

const int32Min = -(2 ** 31);
const int32Max = 2 ** 31 - 1;
const uint32Max = 2 ** 32 - 1;
// AllowReadingFromString accepts an optional minus and digits, nothing else.
const integerText = /^-?\d+$/;
// Standard base64 with padding (what .NET's Convert reads); anything else is not bytes.
const base64Text = /^[A-Za-z0-9+/]*={0,2}$/;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Lower-cased member names asked for, cached (they are the routes' constants). */
const lowerNames = new Map<string, string>();
function lowerName(name: string): string {
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerNames.size < 4096) lowerNames.set(name, lower);
  }
  return lower;
}

/** The members of one JSON object, read leniently; `problem` is the first wrong-typed one. */
export class JsonFields {
  problem: string | null = null;
  /** Lower-cased member name -> value (the first of a case-folded pair), built on a miss. */
  #folded: Map<string, unknown> | null = null;

  constructor(private readonly obj: JsonObject) {}

  /** The member, matched exactly first and then case-insensitively (ASP.NET does both). */
  raw(name: string): unknown {
    const obj = this.obj;
    const exact = obj[name];
    if (exact !== undefined && Object.hasOwn(obj, name)) return exact;
    // Most misses are members the client left out: one Map lookup each, once the object's
    // names are folded (one pass over its members, on the first miss).
    let folded = this.#folded;
    if (folded === null) {
      folded = new Map();
      for (const key in obj) {
        if (!Object.hasOwn(obj, key)) continue;
        const lower = key.toLowerCase();
        if (!folded.has(lower)) folded.set(lower, obj[key]);
      }
      this.#folded = folded;
    }
    return folded.get(lowerName(name));
  }

  /** Present and not null. */
  has(name: string): boolean {
    const value = this.raw(name);
    return value !== undefined && value !== null;
  }

  #bad(name: string, want: string): void {
    this.problem ??= `${name} must be ${want}`;
  }

  /** A string; missing or null reads as "" (a C# string member left null). */
  string(name: string): string {
    return this.stringOrNull(name) ?? '';
  }

  stringOrNull(name: string): string | null {
    const value = this.raw(name);
    if (value === undefined || value === null) return null;
    if (typeof value === 'string') return value;
    this.#bad(name, 'a string');
    return null;
  }

  bool(name: string): boolean {
    const value = this.raw(name);
    if (value === undefined || value === null) return false;
    if (typeof value === 'boolean') return value;
    this.#bad(name, 'a boolean');
    return false;
  }

  int32(name: string, fallback = 0): number {
    return this.#integer(name, int32Min, int32Max, 'an int32') ?? fallback;
  }

  int32OrNull(name: string): number | null {
    return this.#integer(name, int32Min, int32Max, 'an int32');
  }

  /** int64 members are JS numbers in the plain API (types.ts), so only safe integers pass. */
  int64(name: string, fallback = 0): number {
    return this.int64OrNull(name) ?? fallback;
  }

  int64OrNull(name: string): number | null {
    return this.#integer(name, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'an int64');
  }

  /** An int64 that may exceed 2^53 (a sequence's maxValue: .NET clients send long.MaxValue):
   *  read as the nearest double. */
  int64WideOrNull(name: string): number | null {
    return this.#integer(name, -(2 ** 63), 2 ** 63, 'an int64');
  }

  uint64(name: string): number {
    return this.#integer(name, 0, Number.MAX_SAFE_INTEGER, 'a uint64') ?? 0;
  }

  uint64OrNull(name: string): number | null {
    return this.#integer(name, 0, Number.MAX_SAFE_INTEGER, 'a uint64');
  }

  /** null when missing or null (the value is then the caller's default). */
  #integer(name: string, min: number, max: number, want: string): number | null {
    const value = this.raw(name);
    if (value === undefined || value === null) return null;
    const n = typeof value === 'string' && integerText.test(value) ? Number(value) : value;
    if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
    this.#bad(name, want);
    return null;
  }

  /** Base64 bytes: missing or null is null ("no value"), "" is zero bytes; they differ. */
  bytes(name: string): Uint8Array | null {
    const value = this.raw(name);
    if (value === undefined || value === null) return null;
    if (typeof value === 'string' && value.length % 4 === 0 && base64Text.test(value)) {
      // Copied out of Buffer's shared pool so a small stored value pins no 8 KiB slab.
      return new Uint8Array(Buffer.from(value, 'base64'));
    }
    this.#bad(name, 'base64 or null');
    return null;
  }

  /** An HLC object {n, l, c}; missing or null is the zero HLC (what kahuna-ts sends too). */
  hlc(name: string): Hlc {
    const value = this.raw(name);
    if (value === undefined || value === null) return hlcZero;
    if (!isJsonObject(value)) {
      this.#bad(name, 'an HLC object {n,l,c}');
      return hlcZero;
    }
    const parts = new JsonFields(value);
    const hlc = {
      n: parts.#integer('n', int32Min, int32Max, 'an int32') ?? 0,
      l: parts.int64('l'),
      c: parts.#integer('c', 0, uint32Max, 'a uint32') ?? 0,
    };
    if (parts.problem !== null) this.#bad(name, `an HLC object (${parts.problem})`);
    return hlc;
  }

  /** The members of each element of an array of objects; null when missing or null. */
  objects(name: string): JsonFields[] | null {
    const value = this.raw(name);
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || !value.every(isJsonObject)) {
      this.#bad(name, 'an array of objects');
      return null;
    }
    return value.map((item: JsonObject) => new JsonFields(item));
  }

  /** Pulls a nested reader's problem into this one (for batch items). */
  absorb(items: readonly JsonFields[]): void {
    for (const item of items) if (item.problem !== null) this.problem ??= `item: ${item.problem}`;
  }
}

/** Kahuna (ASP.NET) refuses a body that is JSON but not an object, as it does malformed JSON. */
export function notAnObjectReply(): RestReply {
  const code = 'HONU_ERR_BAD_JSON';
  return { status: errors[code].httpStatus,
    json: { error: code, message: 'the request body must be a JSON object' } };
}

/** The request's members; an absent body reads as {} (every member takes its default). */
export function fieldsOf(body: unknown): JsonFields | null {
  if (body === undefined) return new JsonFields({});
  return isJsonObject(body) ? new JsonFields(body) : null;
}

/**
 * Runs a handler's backend call. The backend resolves every outcome, so a rejection is a bug or
 * infrastructure trouble: retryable trouble becomes the family's MustRetry body, as Kahuna maps
 * retryable exceptions (wire.md 1.4); anything else goes on to the router's 500.
 */
export async function guarded(mustRetryType: number, run: () => Promise<RestReply>):
  Promise<RestReply> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof HonuError && errors[error.code].retryable) {
      return { json: { type: mustRetryType } };
    }
    throw error;
  }
}

/**
 * Registers a Kahuna POST route: the body must be a JSON object (else 400), and the handler
 * reads it through JsonFields; backend trouble is mapped by guarded().
 */
export function addJsonPost(router: RestRouter, path: string, mustRetryType: number,
  handler: (fields: JsonFields) => Promise<RestReply>): void {
  router.add('POST', path, ({ body }) => {
    const fields = fieldsOf(body);
    if (fields === null) return notAnObjectReply();
    return guarded(mustRetryType, () => handler(fields));
  });
}

/**
 * A reply kept in a constant and returned by many requests: frozen, so code that adds to
 * replies in place (route hints) copies it instead of changing it for everyone.
 */
export function sharedReply(reply: RestReply): RestReply {
  const json = reply.json;
  if (typeof json === 'object' && json !== null) {
    for (const value of Object.values(json)) {
      if (typeof value === 'object' && value !== null) Object.freeze(value);
    }
    Object.freeze(json);
  }
  return Object.freeze(reply);
}

/** Base64 of bytes, or null for "no value". */
export function base64OrNull(bytes: Uint8Array | null): string | null {
  if (bytes === null) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Kahuna always writes the HLC object, never null. */
export function hlcJson(hlc: Hlc): { n: number; l: number; c: number } {
  return { n: hlc.n, l: hlc.l, c: hlc.c };
}
