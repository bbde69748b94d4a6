// The bank checker (issue 8): transfers between accounts, each one transaction script, neither
// create nor destroy money, and every read (all accounts in one transaction script) sees whole
// transactions. Over the history:
//   opening    exactly one 'init' op: the accounts and their opening balances, whose sum is the
//              total to keep;
//   reads      every ok read and final read shows every account (and no other), each with a
//              balance, none negative (transfers refuse overdrafts), summing to the total;
//   final      at least one ok final read (after the faults healed), else the end state went
//              unchecked;
//   transfers  each balance an ok read shows lies within what the transfers allow: an ok
//              transfer that moved money (applied) and completed before the read was invoked
//              is in it (acknowledged means visible to later transactions), one concurrent with
//              the read (ok applied, or info, invoked before the read completed) may or may not
//              be; 'fail' transfers (aborted) and refused ones (applied false) moved nothing. A
//              lost acknowledged transfer, or an aborted one that moved money, shows as a
//              balance out of these bounds unless concurrent transfers can explain it.
import type { BankBalances, BankOp, Op, Verdict } from '../history.js';
import { describeOp, isInfo, isOk, ms, verdict, windowOf } from './format.js';

type Init = Extract<BankOp, { f: 'init' }>;
type Transfer = Extract<BankOp, { f: 'transfer' }>;
type Read = Extract<BankOp, { f: 'read' | 'final' }>;

interface Problem {
  readonly at: number;
  readonly text: string;
  readonly ops: readonly Op[];
}

/** Ok transfers that moved money, and the unknown ones: the transfers that may have. */
function moving(transfers: readonly Transfer[]): Transfer[] {
  return transfers.filter((t) => (isOk(t) && t.result?.applied === true) || isInfo(t));
}

function show(balances: BankBalances): string {
  return Object.entries(balances).map(([k, v]) => `${k}=${v === null ? 'absent' : v}`)
    .join(' ');
}

/** The shape of one ok read: every opening account, balances present, not negative, the total
 *  kept. At most one problem per read. */
function checkShape(read: Read, opening: BankBalances, total: number): Problem | null {
  const balances = read.result!;
  const who = `the ${read.f} by process ${read.process} at ${ms(read.invokeMs)}`;
  const accounts = Object.keys(opening);
  const missing = accounts.filter((k) => !(k in balances));
  const extra = Object.keys(balances).filter((k) => !(k in opening));
  const bad = accounts.filter((k) => balances[k] === null || balances[k] === undefined ||
    balances[k]! < 0);
  let text: string | null = null;
  if (missing.length > 0 || extra.length > 0) {
    text = `${who} shows the wrong accounts (missing ${missing.join(',') || 'none'}, ` +
      `unknown ${extra.join(',') || 'none'}): ${show(balances)}`;
  } else if (bad.length > 0) {
    text = `${who} found ${bad.map((k) => `${k}=${balances[k] ?? 'absent'}`).join(', ')}: ` +
      `a balance absent or negative: ${show(balances)}`;
  } else {
    const sum = accounts.reduce((s, k) => s + balances[k]!, 0);
    if (sum !== total) {
      text = `${who} found a total of ${sum}, not ${total}: ${sum > total ? 'money created'
        : 'money destroyed'}: ${show(balances)}`;
    }
  }
  return text === null ? null : { at: read.invokeMs, text, ops: [read] };
}

/** Each account's balance in `read` against what the transfers allow (see the header). */
function checkBounds(read: Read, opening: BankBalances, transfers: readonly Transfer[]):
  Problem[] {
  const problems: Problem[] = [];
  for (const [account, start] of Object.entries(opening)) {
    const seen = read.result![account];
    if (start === null || seen === null || seen === undefined) continue; // checkShape's job
    let lo = start;
    let hi = start;
    const must: Transfer[] = [];
    const may: Transfer[] = [];
    for (const t of transfers) {
      if (t.value.from !== account && t.value.to !== account) continue;
      const sign = t.value.to === account ? 1 : -1;
      if (isOk(t) && t.completeMs! < read.invokeMs) {
        lo += sign * t.value.amount;
        hi += sign * t.value.amount;
        must.push(t);
      } else if (read.completeMs === null || t.invokeMs < read.completeMs) {
        if (sign > 0) hi += t.value.amount;
        else lo -= t.value.amount;
        may.push(t);
      }
    }
    if (seen >= lo && seen <= hi) continue;
    const last = must.at(-1);
    problems.push({
      at: read.invokeMs,
      text: `account ${account}: the ${read.f} by process ${read.process} at ` +
        `${ms(read.invokeMs)} found ${seen}, but the transfers allow only [${lo}, ${hi}] ` +
        `(opening ${start}, ${must.length} acknowledged before it, ${may.length} concurrent` +
        `${last === undefined ? '' : `; the last acknowledged: ${describeOp(last)}`})`,
      ops: [...must.slice(-5), ...may.slice(-10), read],
    });
  }
  return problems;
}

/** The one 'init' op, or a problem. */
function openingOf(history: readonly BankOp[]): { init: Init | null; problems: Problem[] } {
  const inits = history.filter((op): op is Init => op.f === 'init');
  if (inits.length === 1) return { init: inits[0]!, problems: [] };
  return {
    init: null,
    problems: [{ at: inits[1]?.invokeMs ?? 0,
      text: inits.length === 0 ? 'no init op: the opening balances are unknown'
        : `${inits.length} init ops: the opening balances are ambiguous`, ops: inits }],
  };
}

/** Checks the bank workload's history: totals kept, no negative balance, reads consistent with
 *  the acknowledged transfers, and a final read after healing. */
export function checkBank(history: readonly BankOp[]): Verdict {
  const { init, problems } = openingOf(history);
  if (init === null) return verdict('bank', problems.map((p) => p.text), windowOf([]));
  const opening = init.value;
  const total = Object.values(opening).reduce<number>((s, v) => s + (v ?? 0), 0);
  const transfers = moving(history.filter((op): op is Transfer => op.f === 'transfer'));
  const reads = history.filter((op): op is Read =>
    (op.f === 'read' || op.f === 'final') && isOk(op) && op.result !== null);
  for (const read of reads) {
    const shape = checkShape(read, opening, total);
    if (shape !== null) problems.push(shape);
    else problems.push(...checkBounds(read, opening, transfers));
  }
  if (!reads.some((r) => r.f === 'final')) {
    const finals = history.filter((op) => op.f === 'final');
    problems.push({ at: Infinity, text: `no ok final read (${finals.length} tried): the ` +
      'balances after the faults healed are unchecked', ops: finals });
  }
  problems.sort((a, b) => a.at - b.at);
  return verdict('bank', problems.map((p) => p.text), windowOf(problems[0]?.ops ?? []));
}
