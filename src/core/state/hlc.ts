// Hybrid logical clock helpers (wire.md 1.3). Order: physical, then counter, then node. The
// all-zero value means "none" (no expiry) or "latest" (a read timestamp). Pure.
import { assert } from '../../assert.js';
import { hlcZero, type Hlc } from '../api/types.js';

export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.l !== b.l) return a.l < b.l ? -1 : 1;
  if (a.c !== b.c) return a.c < b.c ? -1 : 1;
  if (a.n !== b.n) return a.n < b.n ? -1 : 1;
  return 0;
}

export function hlcIsZero(h: Hlc): boolean {
  return h.l === 0 && h.c === 0 && h.n === 0;
}

export function hlcEquals(a: Hlc, b: Hlc): boolean {
  return compareHlc(a, b) === 0;
}

export function maxHlc(a: Hlc, b: Hlc): Hlc {
  return compareHlc(a, b) >= 0 ? a : b;
}

/** A plain copy, so stored stamps never alias a caller's object. */
export function copyHlc(h: Hlc): Hlc {
  return { n: h.n, l: h.l, c: h.c };
}

/** The expiry `ms` after `now` (same node and counter); 0 ms means "never" (zero). */
export function expiryAfter(now: Hlc, ms: number): Hlc {
  assert(Number.isSafeInteger(ms) && ms >= 0, 'expiry length must be a non-negative integer');
  if (ms === 0) return hlcZero;
  const l = now.l + ms;
  assert(Number.isSafeInteger(l), 'expiry beyond 2^53 ms');
  return { n: now.n, l, c: now.c };
}

/** True when `expires` is set and `at` has reached it. */
export function isExpired(expires: Hlc, at: Hlc): boolean {
  return !hlcIsZero(expires) && compareHlc(at, expires) >= 0;
}
