// The bytes of a ConfChange entry (src/core/raft/conf-change.ts): every field round-trips, the
// optional context (Honu: an added node's address) travels after the changes, and data
// written before contexts existed still decodes.
import { describe, expect, it } from 'vitest';
import { decodeConfChange, encodeConfChange } from '../../src/core/raft/conf-change.js';
import { ConfChangeKind, type ConfChange } from '../../src/core/raft/types.js';

describe('ConfChange entry codec', () => {
  it('round-trips changes, flags and a context', () => {
    const cases: ConfChange[] = [
      { changes: [{ kind: ConfChangeKind.AddLearner, node: 4 }], leaveJoint: false,
        context: new TextEncoder().encode('127.0.0.1:2074') },
      { changes: [{ kind: ConfChangeKind.Remove, node: 2 },
        { kind: ConfChangeKind.AddVoter, node: 2 ** 31 - 1 }], leaveJoint: false,
      autoLeave: false },
      { changes: [], leaveJoint: true },
      { changes: [{ kind: ConfChangeKind.AddVoter, node: 5 }], leaveJoint: false,
        context: new Uint8Array(0) },
    ];
    for (const cc of cases) expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });

  it('reads data without a context as before, and refuses a bad length', () => {
    const plain = encodeConfChange({ changes: [{ kind: 1, node: 3 }], leaveJoint: false });
    expect(plain.length).toBe(6 + 9);
    expect(decodeConfChange(plain).context).toBeUndefined();
    const withContext = encodeConfChange({ changes: [{ kind: 1, node: 3 }], leaveJoint: false,
      context: Uint8Array.of(1, 2, 3) });
    expect(() => decodeConfChange(withContext.subarray(0, withContext.length - 1))).toThrow();
    expect(() => decodeConfChange(Uint8Array.of(...plain, 9))).toThrow();
  });
});
