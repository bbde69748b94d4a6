// Limits of Kahuna Script (style.md rule 3: every limit named). A script is client input run on
// the node, so each resource it can grow (time, steps, memory, stack) has a cap, and passing one
// answers Errored with a reason instead of hanging the node or exhausting its memory. They live
// beside the script code; src/limits.ts is the project's single table and should absorb them.
import { assert } from '../../assert.js';

/** Characters of one script's text; a longer script is refused before it is lexed. */
export const scriptTextCharsMax = 1024 * 1024;
/** Nested blocks, parentheses and unary operators the parser follows (each costs stack). */
export const scriptNestingMax = 96;
/** Depth of one expression tree, left-leaning operator chains included (`1 + 1 + ... + 1`):
 *  the evaluator recurses once per level. */
export const scriptExprDepthMax = 512;
/** Statements and loop iterations one run may execute. */
export const scriptStepsMax = 1_000_000;
/** Items of one array value: a range `a..b`, a split(), a bucket read kept in a variable. */
export const scriptArrayItemsMax = 100_000;
/** UTF-16 code units of one string value (concat, to_json, a value read from the store). */
export const scriptStringCharsMax = 16 * 1024 * 1024;
/** Parsed scripts the cache keeps, and the characters of their texts. */
export const scriptCacheEntriesMax = 1024;
export const scriptCacheCharsMax = 64 * 1024 * 1024;
/** Kahuna's --script-cache-expiration default (kahuna-reference.md 4). */
export const scriptCacheExpirationMsDefault = 600_000;
/** Kahuna's --default-transaction-timeout (kahuna-reference.md 5.1). */
export const scriptTimeoutMsDefault = 5000;

assert(scriptNestingMax * 4 < scriptExprDepthMax, 'nesting fits in the expression depth');
assert(scriptArrayItemsMax <= scriptStepsMax, 'an array can be iterated within the step cap');
assert(scriptCacheCharsMax >= scriptTextCharsMax, 'the largest script fits in the cache');
