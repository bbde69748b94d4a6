// The server's node flags: every way of starting a server passes them, and the server notices
// when a process was started without them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingServerNodeFlags, serverNodeFlags } from '../../src/env/node-flags.js';
import { repoRoot } from '../../src/env/paths.js';

describe('missingServerNodeFlags', () => {
  it('names the flags a process was started without', () => {
    expect(serverNodeFlags.length).toBeGreaterThan(0);
    expect(missingServerNodeFlags([], '')).toEqual([...serverNodeFlags]);
    expect(missingServerNodeFlags(['--inspect'], '--trace-gc')).toEqual([...serverNodeFlags]);
  });

  it('counts a flag given on the command line or in NODE_OPTIONS', () => {
    expect(missingServerNodeFlags([...serverNodeFlags], '')).toEqual([]);
    expect(missingServerNodeFlags([], `--inspect ${serverNodeFlags.join(' ')}`)).toEqual([]);
  });

  it("takes another value, or V8's underscore spelling, as the operator's choice", () => {
    expect(missingServerNodeFlags(['--max-semi-space-size=16'], '')).toEqual([]);
    expect(missingServerNodeFlags([], '--max_semi_space_size=32')).toEqual([]);
  });
});

describe('the commands that start a server pass the flags', () => {
  it('npm start', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as
      { scripts: Record<string, string> };
    const words = manifest.scripts['start']!.split(/\s+/);
    for (const flag of serverNodeFlags) expect(words).toContain(flag);
    expect(words.indexOf(serverNodeFlags[0]!)).toBeLessThan(words.indexOf('bin/honu.mjs'));
  });

  it("the bin's shebang", () => {
    const shebang = readFileSync(join(repoRoot, 'bin', 'honu.mjs'), 'utf8').split('\n')[0]!;
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    for (const flag of serverNodeFlags) expect(shebang.split(' ')).toContain(flag);
  });
});
