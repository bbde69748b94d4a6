// Parsed scripts by text (Kahuna caches ASTs by hash for --script-cache-expiration, default
// 600 s). Keyed by the text itself, not by the client's hash: a hash is the client's claim, and a
// wrong one must not run another script's program. LRU, bounded by entries and by total text
// characters; an entry unused for expirationMs is dropped. Time is passed in (nowMs), never
// read here. Pure.
import { assert } from '../../assert.js';
import type { Program } from './ast.js';
import {
  scriptCacheCharsMax, scriptCacheEntriesMax, scriptCacheExpirationMsDefault,
} from './script-limits.js';

export interface ScriptCacheOptions {
  readonly entriesMax?: number;
  readonly charsMax?: number;
  /** --script-cache-expiration in ms. */
  readonly expirationMs?: number;
}

interface Entry {
  readonly program: Program;
  lastUsedMs: number;
}

export class ScriptCache {
  /** Insertion order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private chars = 0;
  private readonly entriesMax: number;
  private readonly charsMax: number;
  private readonly expirationMs: number;

  constructor(options: ScriptCacheOptions = {}) {
    this.entriesMax = options.entriesMax ?? scriptCacheEntriesMax;
    this.charsMax = options.charsMax ?? scriptCacheCharsMax;
    this.expirationMs = options.expirationMs ?? scriptCacheExpirationMsDefault;
    assert(this.entriesMax >= 1, 'the script cache holds at least one entry');
    assert(this.expirationMs >= 0, 'expiration is not negative');
  }

  get size(): number {
    return this.entries.size;
  }

  get(text: string, nowMs: number): Program | undefined {
    const entry = this.entries.get(text);
    if (entry === undefined) return undefined;
    this.entries.delete(text);
    if (nowMs - entry.lastUsedMs > this.expirationMs) {
      this.chars -= text.length;
      return undefined;
    }
    entry.lastUsedMs = nowMs;
    this.entries.set(text, entry);
    return entry.program;
  }

  set(text: string, program: Program, nowMs: number): void {
    if (text.length > this.charsMax) return;
    this.remove(text);
    this.entries.set(text, { program, lastUsedMs: nowMs });
    this.chars += text.length;
    this.evict(nowMs);
    assert(this.entries.size <= this.entriesMax, 'the cache stays within its entry cap');
    assert(this.chars <= this.charsMax, 'the cache stays within its character cap');
  }

  private remove(text: string): void {
    if (this.entries.delete(text)) this.chars -= text.length;
  }

  /** Drops the least recently used entries past a cap, and expired ones from the old end. */
  private evict(nowMs: number): void {
    for (const [text, entry] of this.entries) {
      const over = this.entries.size > this.entriesMax || this.chars > this.charsMax;
      if (!over && nowMs - entry.lastUsedMs <= this.expirationMs) return;
      this.remove(text);
    }
  }
}
