// src/core/ is pure (style.md rule 1): no node:* imports, no clock, no Math.random, no timers,
// no await, no I/O globals. Everything under it must be deterministic and synchronous.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/env/paths.js';

const forbidden: ReadonlyArray<[RegExp, string]> = [
  [/from\s+['"]node:/, 'node:* import'],
  [/require\(/, 'require()'],
  [/\bDate\b/, 'Date'],
  [/\bperformance\b/, 'performance'],
  [/Math\.random/, 'Math.random'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/, 'timer'],
  [/\bawait\b/, 'await'],
  [/\bprocess\./, 'process'],
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Drops comments so prose may mention what code may not use. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

describe('tidy', () => {
  it('keeps src/core pure', () => {
    const files = tsFiles(join(repoRoot, 'src', 'core'));
    expect(files.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const file of files) {
      const text = code(readFileSync(file, 'utf8'));
      for (const [pattern, what] of forbidden) {
        if (pattern.test(text)) violations.push(`${relative(repoRoot, file)}: ${what}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
