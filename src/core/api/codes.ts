// Kahuna's outcome codes (wire.md 2.6, 4): the numeric `Type` of every response. Values
// below 99 are outcomes, 99 and above errors. Pure.

export const LockType = {
  Locked: 0,
  Busy: 1,
  Extended: 2,
  Unlocked: 3,
  Got: 4,
  Errored: 99,
  InvalidInput: 100,
  MustRetry: 101,
  LockDoesNotExist: 102,
  InvalidOwner: 103,
  Aborted: 104,
} as const;

export const KvType = {
  Set: 0,
  NotSet: 1,
  Extended: 2,
  Get: 3,
  Deleted: 4,
  Locked: 5,
  Unlocked: 6,
  Prepared: 7,
  Committed: 8,
  RolledBack: 9,
  Exists: 10,
  Errored: 99,
  InvalidInput: 100,
  MustRetry: 101,
  Aborted: 102,
  DoesNotExist: 103,
  AlreadyLocked: 104,
  PrefixLockUnsupportedOnRangedSpace: 105,
  AdmissionRefused: 108,
} as const;

/** GrpcKeyValueFlags: exactly one condition bit is checked (wire.md 4.2). */
export const KvFlags = {
  None: 0,
  Set: 1,
  SetNoRevision: 2,
  SetIfExists: 4,
  SetIfNotExists: 8,
  SetIfEqualToValue: 16,
  SetIfEqualToRevision: 32,
} as const;

export const KvState = { Undefined: 0, Set: 1, Deleted: 2 } as const;

export const SeqType = {
  Success: 0,
  NotFound: 1,
  AlreadyExists: 2,
  InvalidInput: 3,
  MaxValueExceeded: 4,
  MustRetry: 5,
  Aborted: 6,
  Error: 99,
} as const;

export const MemberRole = { Learner: 0, Voter: 1, Leaving: 2, NotMember: 3 } as const;

/** Keys (and, with the sequences suffix, sequence names) starting with this are reserved. */
export const reservedKeyPrefix = '__kahuna:';
export const reservedSequencePrefix = '__kahuna:sequences:';

/** Caps of the scans (wire.md 4.3). */
export const scanItemsMax = 4096;
export const sequenceNameCharsMax = 1024;
export const idempotencyKeyBytesMax = 1024;
