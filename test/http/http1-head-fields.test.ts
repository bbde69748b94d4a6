// The head parser's field loop (a hand-written scan since stop 23) against the regular
// expressions it replaced, on seeded random heads: same headers, same problem, every time.
import { describe, expect, test } from 'vitest';
import { SeededPrng } from '../../src/core/raft/prng.js';
import { isHeadProblem, parseRequestHead } from '../../src/main/http/http1-head.js';

// The replaced code, kept here as the reference (field section only).
const fieldName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const badValueChar = /[\x00-\x08\x0a-\x1f\x7f]/;
const digits = /^\d{1,15}$/;

function referenceFields(section: string): Record<string, string> | string {
  const headers: Record<string, string> = {};
  let contentLength: string | undefined;
  for (const field of section.split('\r\n')) {
    const colon = field.indexOf(':');
    if (colon <= 0) return 'malformed header field';
    const name = field.slice(0, colon);
    if (!fieldName.test(name)) return 'malformed header field name';
    const value = field.slice(colon + 1).trim();
    if (badValueChar.test(value)) return 'bad character in a header field';
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      if (!digits.test(value)) return 'malformed Content-Length';
      if (contentLength !== undefined && contentLength !== value) {
        return 'conflicting Content-Length fields';
      }
      contentLength = value;
      headers[lower] = value;
      continue;
    }
    const earlier = headers[lower];
    headers[lower] = earlier === undefined ? value : `${earlier}, ${value}`;
  }
  return headers;
}

// Characters that matter to the scan: token and separator characters, both cases, the colon,
// whitespace that trim strips (HTAB, VT, FF, SP, NBSP), bare CR and LF, controls, DEL,
// obs-text, and the digits of a Content-Length.
const alphabet = [
  'a', 'Z', 'x', '-', '!', '~', ':', ' ', '\t', '\v', '\f', '\u00a0', '\r', '\n', '\x00', '\x08',
  '\x1f', '\x7f', '\u0085', '\u00ff', '"', '(', '@', '1', '9', ',',
];
const names = ['Host', 'content-length', 'Content-Length', 'X-A', 'x-a', 'connection', 'expect',
  'a b', '', 'Tr\u00e4ce', 'ETag'];

function randomSection(rng: SeededPrng): string {
  const fields: string[] = [];
  const count = 1 + rng.nextInt(4);
  for (let f = 0; f < count; f++) {
    let field = rng.nextInt(3) === 0 ? '' : names[rng.nextInt(names.length)]!;
    if (rng.nextInt(8) !== 0) field += ':';
    const length = rng.nextInt(8);
    for (let i = 0; i < length; i++) {
      field += rng.nextInt(3) === 0 ? String(rng.nextInt(100))
        : alphabet[rng.nextInt(alphabet.length)]!;
    }
    fields.push(field);
  }
  return fields.join('\r\n');
}

describe('header fields: the scan matches the regular expressions it replaced', () => {
  test('20,000 seeded random field sections', () => {
    const seed = 2312;
    const rng = new SeededPrng(seed);
    let accepted = 0;
    for (let n = 0; n < 20_000; n++) {
      const section = randomSection(rng);
      const expected = referenceFields(section);
      const parsed = parseRequestHead(`GET / HTTP/1.1\r\n${section}`);
      const context = `seed ${seed}, case ${n}: ${JSON.stringify(section)}`;
      if (typeof expected === 'string') {
        expect(isHeadProblem(parsed) ? parsed.reason : 'accepted', context).toBe(expected);
        continue;
      }
      // Accepted fields may still be refused later on what they say (Transfer-Encoding,
      // Expect): then the reference has to have produced the field that was refused.
      if (isHeadProblem(parsed)) {
        expect('transfer-encoding' in expected || 'expect' in expected, context).toBe(true);
        continue;
      }
      accepted += 1;
      expect(parsed.headers, context).toEqual(expected);
    }
    expect(accepted).toBeGreaterThan(1000); // the generator reaches the accepting paths
  });

  test('a head without fields, and an empty field section', () => {
    expect(isHeadProblem(parseRequestHead('GET / HTTP/1.1'))).toBe(false);
    const empty = parseRequestHead('GET / HTTP/1.1\r\n');
    expect(isHeadProblem(empty) ? empty.reason : 'accepted').toBe('malformed header field');
  });
});
