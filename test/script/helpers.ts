// Shared helpers of the script tests: run a script text on a MemoryHost and read its answer.
import { scriptTimeoutMsDefault } from '../../src/core/script/script-limits.js';
import {
  runScriptText, type ScriptOutcome, type ScriptParams,
} from '../../src/core/script/interpreter.js';
import { MemoryHost } from './memory-host.js';

const utf8 = new TextDecoder();

export async function run(script: string, params: ScriptParams = [], host = new MemoryHost()):
  Promise<ScriptOutcome> {
  return runScriptText(script, params, host, { timeoutMs: scriptTimeoutMsDefault });
}

/** The text of the first row's value ('' for empty, null when absent). */
export function firstText(out: ScriptOutcome): string | null {
  const v = out.values[0]?.value;
  if (v === undefined) throw new Error(`no rows in ${JSON.stringify(out)}`);
  return v === null ? null : utf8.decode(v);
}

export function texts(out: ScriptOutcome): Array<string | null> {
  return out.values.map((r) => (r.value === null ? null : utf8.decode(r.value)));
}

/** RETURN of an expression, as text. */
export async function value(expr: string): Promise<string | null> {
  const out = await run(`RETURN ${expr}`);
  if (out.type !== 3) throw new Error(`${expr}: ${out.type} ${out.reason ?? ''}`);
  return firstText(out);
}

export { MemoryHost };
