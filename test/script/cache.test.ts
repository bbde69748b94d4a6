// The parsed-script cache: keyed by text, least recently used out first, bounded by entries and
// characters, and an entry unused for --script-cache-expiration is gone. Time is passed in.
import { describe, expect, it } from 'vitest';
import { parseScript, ScriptCache } from '../../src/core/script/parser.js';

const p1 = parseScript('RETURN 1');
const p2 = parseScript('RETURN 2');
const p3 = parseScript('RETURN 3');

describe('ScriptCache', () => {
  it('returns what was set, by text', () => {
    const cache = new ScriptCache();
    expect(cache.get('RETURN 1', 0)).toBeUndefined();
    cache.set('RETURN 1', p1, 0);
    expect(cache.get('RETURN 1', 10)).toBe(p1);
    expect(cache.get('RETURN  1', 10)).toBeUndefined();
  });

  it('evicts the least recently used past entriesMax', () => {
    const cache = new ScriptCache({ entriesMax: 2 });
    cache.set('a', p1, 0);
    cache.set('b', p2, 1);
    expect(cache.get('a', 2)).toBe(p1);
    cache.set('c', p3, 3);
    expect(cache.size).toBe(2);
    expect(cache.get('b', 4)).toBeUndefined();
    expect(cache.get('a', 4)).toBe(p1);
    expect(cache.get('c', 4)).toBe(p3);
  });

  it('evicts past charsMax and never keeps a text larger than it', () => {
    const cache = new ScriptCache({ charsMax: 10 });
    cache.set('x'.repeat(11), p1, 0);
    expect(cache.size).toBe(0);
    cache.set('a'.repeat(6), p1, 0);
    cache.set('b'.repeat(6), p2, 0);
    expect(cache.size).toBe(1);
    expect(cache.get('b'.repeat(6), 0)).toBe(p2);
  });

  it('expires an entry unused for expirationMs (600 s by default)', () => {
    const cache = new ScriptCache();
    cache.set('a', p1, 0);
    expect(cache.get('a', 600_000)).toBe(p1);
    expect(cache.get('a', 1_200_000)).toBe(p1);
    expect(cache.get('a', 1_800_001)).toBeUndefined();
    expect(cache.size).toBe(0);
    const short = new ScriptCache({ expirationMs: 5 });
    short.set('a', p1, 0);
    short.set('b', p2, 10);
    expect(short.size).toBe(1);
  });
});
