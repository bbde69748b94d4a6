// The sequencer checker of issue 7, per sequence, over ok reserves (each handed out the values
// start..end-1):
//   ranges intact   end − start === count;
//   replays         reserves with the same idempotency key all returned exactly the same range
//                   (they are one allocation);
//   no reuse        no value is in two allocations: their ranges do not overlap;
//   real time       an allocation that started after another had completed has a higher start.
//                   An allocation took effect during one of its reserves: no earlier than the
//                   first invocation among its ok and info reserves, no later than the first
//                   completion among its ok ones.
// Info reserves may or may not have taken values: gaps are fine, and they only count as the
// possible first attempt of an idempotency key.
import type { Op, SequencerOp, Verdict } from '../history.js';
import { byKey, describeOp, isInfo, isOk, verdict, windowOf } from './format.js';

interface Allocation {
  readonly start: number;
  readonly end: number;
  readonly invokeMs: number;
  readonly completeMs: number;
  /** The ok reserves that returned it. */
  readonly ops: SequencerOp[];
}

interface Problem {
  readonly at: number;
  readonly text: string;
  readonly ops: readonly Op[];
}

function range(op: SequencerOp): string {
  return `[${op.result!.start}, ${op.result!.end})`;
}

function checkSequence(name: string, ops: readonly SequencerOp[]): Problem[] {
  const problems: Problem[] = [];
  const seq = JSON.stringify(name);
  const reserves = ops.filter((op) => isOk(op) && op.result !== null);

  for (const op of reserves) {
    const { start, end } = op.result!;
    if (end - start !== op.value.count) {
      problems.push({
        at: op.completeMs!,
        text: `sequence ${seq}: process ${op.process} asked for ${op.value.count} values and got ` +
          `${end - start}, ${range(op)}: ${describeOp(op)}`,
        ops: [op],
      });
    }
  }

  // One allocation per idempotency key (per distinct range, when replays disagree) and per
  // reserve without one.
  const allocations: Allocation[] = [];
  const groups = new Map<string, SequencerOp[]>();
  for (const op of ops) {
    const key = op.value.idempotencyKey;
    if (key === null || !(isOk(op) || isInfo(op))) continue;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(op);
  }
  for (const op of reserves) {
    if (op.value.idempotencyKey !== null) continue;
    allocations.push({ ...op.result!, invokeMs: op.invokeMs, completeMs: op.completeMs!, ops: [op] });
  }
  for (const [key, group] of groups) {
    const answered = group.filter((op) => isOk(op) && op.result !== null);
    if (answered.length === 0) continue;
    const invokeMs = Math.min(...group.map((op) => op.invokeMs));
    const ranges = new Map<string, SequencerOp[]>();
    for (const op of answered) {
      const r = range(op);
      ranges.set(r, [...(ranges.get(r) ?? []), op]);
    }
    const distinct = [...ranges.values()];
    for (const same of distinct) {
      allocations.push({ ...same[0]!.result!, invokeMs,
        completeMs: Math.min(...same.map((op) => op.completeMs!)), ops: same });
    }
    if (distinct.length > 1) {
      const [a, b] = [distinct[0]![0]!, distinct[1]![0]!];
      problems.push({
        at: Math.max(a.completeMs!, b.completeMs!),
        text: `sequence ${seq}: replays of idempotency key ${JSON.stringify(key)} returned ` +
          `${distinct.map((s) => range(s[0]!)).join(' and ')}: ${describeOp(a)}; ${describeOp(b)}`,
        ops: distinct.flat(),
      });
    }
  }

  // No value twice: sweep by start, against the allocation reaching furthest so far.
  const byStart = allocations.filter((a) => a.end > a.start).sort((a, b) => a.start - b.start || a.end - b.end);
  let reach: Allocation | null = null;
  for (const a of byStart) {
    if (reach !== null && a.start < reach.end) {
      const [x, y] = [reach.ops[0]!, a.ops[0]!];
      problems.push({
        at: Math.max(reach.completeMs, a.completeMs),
        text: `sequence ${seq}: values [${a.start}, ${Math.min(a.end, reach.end)}) handed out twice: ` +
          `${range(x)} to process ${x.process} and ${range(y)} to process ${y.process}: ` +
          `${describeOp(x)}; ${describeOp(y)}`,
        ops: [x, y],
      });
    }
    if (reach === null || a.end > reach.end) reach = a;
  }

  // Real time: against the highest start among the allocations completed before this one began.
  const byComplete = [...allocations].sort((a, b) => a.completeMs - b.completeMs);
  const byInvoke = [...allocations].sort((a, b) => a.invokeMs - b.invokeMs);
  let k = 0;
  let max: Allocation | null = null;
  for (const later of byInvoke) {
    while (k < byComplete.length && byComplete[k]!.completeMs < later.invokeMs) {
      const c = byComplete[k++]!;
      if (max === null || c.start > max.start) max = c;
    }
    if (max !== null && max.start > later.start) {
      const [x, y] = [max.ops[0]!, later.ops[0]!];
      problems.push({
        at: later.completeMs,
        text: `sequence ${seq}: process ${y.process} got ${range(y)}, lower than ${range(x)} that ` +
          `process ${x.process} had already got: ${describeOp(x)}; ${describeOp(y)}`,
        ops: [x, y],
      });
    }
  }
  return problems;
}

/** Checks the sequencer's allocations on every sequence of the history. */
export function checkSequencer(history: readonly SequencerOp[]): Verdict {
  const problems: Problem[] = [];
  for (const [name, ops] of byKey(history)) problems.push(...checkSequence(name, ops));
  problems.sort((a, b) => a.at - b.at);
  return verdict('sequencer', problems.map((p) => p.text), windowOf(problems[0]?.ops ?? []));
}
