// Limits of the Kahuna state machine (style.md rule 3: every limit named). They live beside the
// state code for now; src/limits.ts is the project's single table and should absorb them.
import { assert } from '../../assert.js';
import { idempotencyKeyBytesMax, scanItemsMax, sequenceNameCharsMax } from '../api/codes.js';

/** Revisions one key keeps in memory (the current one included) for revision and snapshot
 *  reads (wire.md 4.7: "at least the last few"). Older ones are pruned. */
export const kvRevisionsRetainedMax = 32;
/** Value bytes of one key's archived (non-current) revisions; older ones are pruned first. */
export const kvArchiveBytesMax = 4 * 1024 * 1024;
/** Rows of one GetByBucket / ScanByPrefix answer, and of one GetByRange page. */
export const kvScanRowsMax = scanItemsMax;
/** Idempotency keys one sequence remembers; the oldest is forgotten first. */
export const seqIdempotencyKeysRetainedMax = 1024;
/** Sequence values must stay exact JS numbers (wire.md 1.5): Number.MAX_SAFE_INTEGER is the
 *  practical int64 cap; an allocation past it is MaxValueExceeded. */
export const seqValueMax = Number.MAX_SAFE_INTEGER;
export const seqValueMin = -Number.MAX_SAFE_INTEGER;
/** Count of one reservation and BlockSize are int32 on the wire. */
export const seqReserveCountMax = 2 ** 31 - 1;
export const seqBlockSizeMax = 2 ** 31 - 1;
/** Lease and TTL lengths are int32 milliseconds on the wire. */
export const expiresMsMax = 2 ** 31 - 1;
export const seqNameCharsMax = sequenceNameCharsMax;
export const seqIdempotencyKeyBytesMax = idempotencyKeyBytesMax;
/** A GetByRange cursor longer than this is malformed (a key plus a few header bytes). */
export const rangeCursorCharsMax = 64 * 1024;
/** How long a transaction's decision record outlives its recording (HLC ms): long past every
 *  decision deadline (at most a minute) and resolver pass, after which it is collected. */
export const txDecisionRetentionMs = 60 * 60 * 1000;
/** Expired locks and retired decision records one transactional write looks at (and drops):
 *  collection is lazy and bounded, so no entry pays for a backlog. */
export const txSweepPerWriteMax = 32;
/** Mutations plus read checks of one prepare. */
export const txPrepareKeysMax = 65_536;
/** Items of one TxPending answer (a larger or non-positive limit is this). */
export const txPendingItemsMax = 1024;
/** decisionTimeoutMs of a prepare, like a lease: int32 milliseconds. */
export const txDecisionTimeoutMsMax = 2 ** 31 - 1;

assert(kvRevisionsRetainedMax >= 2, 'history must keep at least one revision before the last');
assert(kvScanRowsMax >= 1, 'scans must return rows');
assert(seqIdempotencyKeysRetainedMax >= 1, 'idempotency must remember a key');
assert(Number.isSafeInteger(seqValueMax) && seqValueMin === -seqValueMax, 'sequence bounds');
assert(txSweepPerWriteMax >= 1, 'a transactional write collects something');
assert(txDecisionRetentionMs >= 60_000, 'decision records outlive Kahuna\'s 60 s deadline cap');
