// The durability checker of issue 7: after the full-cluster crash, each key's `final` reads must
// show an acknowledged write that nothing certainly overwrote. Per key:
//   - with ok writes, a final read may return the data of an ok write that no other ok write
//     certainly followed (invoked after it completed): the last one, or one of several
//     concurrent last ones; or the data of any info write (it may have been applied at any time
//     after its invocation, so after the last ok write too);
//   - with no ok write, it may return null (absent) or an info write's data;
//   - null where an ok write exists is a lost acknowledged write; an ok write's data that a later
//     ok write certainly overwrote is a lost later write; data no ok or info write wrote (a
//     failed write's, or anything else) came from nowhere;
//   - a key with ok writes but no ok final read is reported too: its durability is unchecked.
import type { DurabilityOp, Op, Verdict } from '../history.js';
import { byKey, describeOp, isInfo, isOk, ms, verdict, windowOf } from './format.js';

type Write = Extract<DurabilityOp, { f: 'write' }>;

interface Problem {
  readonly at: number;
  readonly text: string;
  readonly ops: readonly Op[];
}

function checkKey(key: string, ops: readonly DurabilityOp[]): Problem[] {
  const k = JSON.stringify(key);
  const writes = ops.filter((op): op is Write => op.f === 'write');
  const acked = writes.filter(isOk);
  const unknown = writes.filter(isInfo);
  const finals = ops.filter((op) => op.f === 'final' && isOk(op));
  // Ok writes no other ok write certainly followed (none was invoked after they completed).
  const lastInvoke = Math.max(...acked.map((w) => w.invokeMs));
  const lastAcked = acked.filter((w) => w.completeMs! >= lastInvoke);
  const allowed = new Set<string | null>([...lastAcked, ...unknown].map((w) => w.value));
  if (acked.length === 0) allowed.add(null);
  const latest = [...lastAcked].sort((a, b) => b.completeMs! - a.completeMs!)[0];
  const problems: Problem[] = [];
  if (acked.length > 0 && finals.length === 0) {
    problems.push({
      at: latest!.completeMs!,
      text: `key ${k}: ${acked.length} acknowledged writes but no ok final read, durability unchecked ` +
        `(last: ${describeOp(latest!)})`,
      ops: [latest!, ...ops.filter((op) => op.f === 'final')],
    });
  }
  for (const read of finals) {
    const data = read.result as string | null;
    if (allowed.has(data)) continue;
    if (data === null) {
      problems.push({
        at: read.invokeMs,
        text: `key ${k}: acknowledged write lost: the final read by process ${read.process} at ` +
          `${ms(read.invokeMs)} found nothing, after ${describeOp(latest!)}`,
        ops: [...lastAcked, read],
      });
      continue;
    }
    const overwritten = acked.find((w) => w.value === data);
    if (overwritten !== undefined) {
      const later = acked.find((w) => w.invokeMs > overwritten.completeMs!)!;
      problems.push({
        at: read.invokeMs,
        text: `key ${k}: acknowledged write lost: the final read by process ${read.process} found ` +
          `${JSON.stringify(data)}, which ${describeOp(later)} had overwritten after ` +
          `${describeOp(overwritten)}`,
        ops: [overwritten, later, ...lastAcked, read],
      });
      continue;
    }
    const failed = writes.find((w) => w.value === data);
    problems.push({
      at: read.invokeMs,
      text: `key ${k}: the final read by process ${read.process} at ${ms(read.invokeMs)} found ` +
        `${JSON.stringify(data)}, which ${failed === undefined ? 'no write wrote'
          : `only a failed write wrote (${describeOp(failed)})`}`,
      ops: [...(failed === undefined ? [] : [failed]), ...lastAcked, read],
    });
  }
  return problems;
}

/** Checks that every acknowledged write survived, key by key. */
export function checkDurability(history: readonly DurabilityOp[]): Verdict {
  const problems: Problem[] = [];
  for (const [key, ops] of byKey(history)) problems.push(...checkKey(key, ops));
  problems.sort((a, b) => a.at - b.at);
  return verdict('durability', problems.map((p) => p.text), windowOf(problems[0]?.ops ?? []));
}
