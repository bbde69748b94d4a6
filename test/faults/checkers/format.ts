// Shared by the checkers of issue 7: one-line descriptions of ops and the Verdict builder.
import type { Op, Verdict } from '../history.js';

/** A verdict lists at most this many problems, then a line saying how many more there were. */
export const maxProblems = 10;

/** "12.3 ms"; null (no answer) is "∞". */
export function ms(t: number | null): string {
  if (t === null || !Number.isFinite(t)) return '∞';
  return `${Math.round(t * 10) / 10} ms`;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** `process 3 cas("1","2") → true [12.0 ms–15.5 ms] on node 2`; info ops say `→ ?`. */
export function describeOp(op: Op): string {
  const value = Array.isArray(op.value) ? op.value.map(show).join(',') : show(op.value);
  const result = op.outcome === 'ok' && op.completeMs !== null ? show(op.result)
    : op.outcome === 'fail' ? 'fail' : '?';
  return `process ${op.process} ${op.f}(${value}) → ${result} [${ms(op.invokeMs)}–${ms(op.completeMs)}] ` +
    `on node ${op.node}`;
}

/** Ops in invocation order (stable), without duplicates. */
export function windowOf(ops: readonly Op[]): Op[] {
  return [...new Set(ops)].sort((a, b) => a.invokeMs - b.invokeMs);
}

export function verdict(checker: string, problems: readonly string[], window: readonly Op[]): Verdict {
  const shown = problems.length > maxProblems
    ? [...problems.slice(0, maxProblems), `… and ${problems.length - maxProblems} more problems`]
    : [...problems];
  return { valid: problems.length === 0, checker, problems: shown, window: problems.length === 0 ? [] : window };
}

/** Groups by key, keys in order of first appearance. */
export function byKey<T extends Op>(history: readonly T[]): Map<string, T[]> {
  const keys = new Map<string, T[]>();
  for (const op of history) {
    let ops = keys.get(op.key);
    if (ops === undefined) keys.set(op.key, (ops = []));
    ops.push(op);
  }
  return keys;
}

/** The op certainly completed (ok with an answer). Anything else either failed or is unknown. */
export function isOk(op: Op): boolean {
  return op.outcome === 'ok' && op.completeMs !== null;
}

/** Unknown whether it happened: 'info', or 'ok' without a completion time. */
export function isInfo(op: Op): boolean {
  return op.outcome === 'info' || (op.outcome === 'ok' && op.completeMs === null);
}
