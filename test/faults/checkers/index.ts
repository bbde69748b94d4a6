// The checkers of issue 7's workloads (and issue 8's bank), each a pure function from a
// history to a Verdict.
export { checkRegister, type RegisterCheckOptions } from './linearizable.js';
export { checkLock, type LockCheckOptions } from './lock.js';
export { checkSequencer } from './sequencer.js';
export { checkDurability } from './durability.js';
export { checkBank } from './bank.js';
