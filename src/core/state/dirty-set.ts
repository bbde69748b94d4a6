// The keys one part of KahunaState changed since its last takeDirty(), and how they become
// records: one per key, its current encoding, or null when the key is gone. Shared by the
// key/value store, the lock table and the sequences. An ephemeral store tracks nothing.
import { compareKeys, utf8 } from './codec.js';

export interface DirtyRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

export class DirtySet {
  private readonly keys = new Set<string>();
  /** False for an ephemeral store: nothing is ever persisted, so nothing is tracked. */
  tracking = true;

  mark(key: string): void {
    if (this.tracking) this.keys.add(key);
  }

  /** The changed keys in key order, encoded by `encode` (null: deleted), then forgets them. */
  take<V>(lookup: (key: string) => V | undefined, encode: (value: V) => Uint8Array):
    DirtyRecord[] {
    const keys = [...this.keys].sort(compareKeys);
    this.keys.clear();
    return keys.map((key) => {
      const value = lookup(key);
      return { key: utf8(key), value: value === undefined ? null : encode(value) };
    });
  }
}
