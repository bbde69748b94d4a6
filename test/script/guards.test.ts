// Runaway scripts (style.md rule 3): every resource a script can grow is capped and answers
// Errored (or a Syntax error) instead of hanging, exhausting memory or overflowing the stack.
import { describe, expect, it } from 'vitest';
import { KvType } from '../../src/core/api/codes.js';
import { tryParseScript } from '../../src/core/script/parser.js';
import {
  scriptArrayItemsMax, scriptExprDepthMax, scriptNestingMax, scriptStepsMax, scriptTextCharsMax,
} from '../../src/core/script/script-limits.js';
import { MemoryHost, run, texts } from './helpers.js';

function syntaxReason(src: string): string {
  const r = tryParseScript(src);
  if (r.ok) throw new Error('parsed');
  return r.reason;
}

describe('runtime caps', () => {
  it('steps: nested loops stop at scriptStepsMax, and yield to the host meanwhile', async () => {
    const host = new MemoryHost();
    const out = await run('LET n = 0\nFOR i IN 0..100000 DO\n FOR j IN 0..100000 DO\n'
      + '  LET n = n + 1\n END\nEND', [], host);
    expect(out.type).toBe(KvType.Errored);
    expect(out.reason).toMatch(new RegExp(`^Script exceeded ${scriptStepsMax} steps at line \\d$`));
    expect(host.calls.filter((c) => c === 'sleep 0').length).toBeGreaterThan(100);
  });

  it('ranges past scriptArrayItemsMax are refused before they are built', async () => {
    const out = await run('LET x = 0..1000000000 RETURN 1');
    expect(out.reason).toBe(`Range of 1000000000 items exceeds ${scriptArrayItemsMax} at line 1`);
    expect(texts(await run(`RETURN count(0..${scriptArrayItemsMax})`)))
      .toEqual([String(scriptArrayItemsMax)]);
  });

  it('strings cannot double forever', async () => {
    const out = await run("LET s = 'x'\nFOR i IN 0..64 DO\n  LET s = concat(s, s)\nEND");
    expect(out.type).toBe(KvType.Errored);
    expect(out.reason).toMatch(/String longer than \d+ characters in 'concat' at line 3/);
  });

  it('split() cannot make more than scriptArrayItemsMax items', async () => {
    const out = await run(`LET s = ','\nFOR i IN 0..18 DO LET s = concat(s, s) END\n`
      + "RETURN count(split(s, ','))");
    expect(out.reason).toMatch(/split\(\) gives more than/);
  });
});

describe('parser caps', () => {
  it('deep parentheses and unary chains are a Syntax error, not a stack overflow', () => {
    const deep = `RETURN ${'('.repeat(100_000)}1${')'.repeat(100_000)}`;
    expect(syntaxReason(deep)).toBe(`Syntax error: nesting deeper than ${scriptNestingMax} levels`
      + ' at line 1');
    expect(syntaxReason(`RETURN ${'not '.repeat(50_000)}true`)).toMatch(/nesting deeper/);
    expect(syntaxReason(`RETURN ${'-'.repeat(50_000)}1`)).toMatch(/nesting deeper/);
  });

  it('deep blocks are a Syntax error', () => {
    const n = 10_000;
    const src = `${'IF true THEN\n'.repeat(n)}RETURN 1\n${'END\n'.repeat(n)}`;
    expect(syntaxReason(src)).toMatch(/^Syntax error: nesting deeper than \d+ levels at line/);
  });

  it('long operator chains are a Syntax error past scriptExprDepthMax', () => {
    expect(syntaxReason(`RETURN 1${' + 1'.repeat(100_000)}`))
      .toBe(`Syntax error: expression deeper than ${scriptExprDepthMax} levels at line 1`);
  });

  it('within the caps, deep scripts run', async () => {
    // Blocks and parentheses share the nesting budget.
    const n = Math.floor(scriptNestingMax / 2) - 1;
    const src = `LET x = 0\n${'IF true THEN\n'.repeat(n)}LET x = ${'('.repeat(n)}1`
      + `${' + 1)'.repeat(n)}\n${'END\n'.repeat(n)}RETURN x`;
    expect(texts(await run(src))).toEqual([String(n + 1)]);
    expect(texts(await run(`RETURN 1${' + 1'.repeat(scriptExprDepthMax - 2)}`)))
      .toEqual([String(scriptExprDepthMax - 1)]);
  });

  it('a script longer than scriptTextCharsMax is refused', () => {
    expect(syntaxReason(`RETURN '${'x'.repeat(scriptTextCharsMax)}'`)).toMatch(/longer than/);
  });
});
