// The `honu` command: in-process for dispatch, and as a real child process (bin/honu.mjs loads
// the compiled dist/, which `npm test` builds first) for exit codes and stderr.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../../src/env/paths.js';
import { honuVersion, runCli } from '../../src/main/cli.js';
import type { CliIo } from '../../src/main/cli.js';

interface Captured {
  io: CliIo;
  out: string[];
  err: string[];
}

function capture(env: NodeJS.ProcessEnv = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t), env }, out, err };
}

describe('runCli (in process)', () => {
  test('--version and --help print to stdout and exit 0', async () => {
    const version = capture();
    expect(await runCli(['--version'], version.io)).toEqual({ exitCode: 0 });
    expect(version.out.join('')).toBe(honuVersion() + '\n');
    const help = capture();
    expect(await runCli(['--help'], help.io)).toEqual({ exitCode: 0 });
    expect(help.out.join('')).toMatch(/Usage: honu .*\n[\s\S]*server/);
    const serverHelp = capture();
    expect(await runCli(['server', '--help'], serverHelp.io)).toEqual({ exitCode: 0 });
    const text = serverHelp.out.join('');
    expect(text).toMatch(/Usage: honu server/);
    for (const flag of ['--port', '--host', '--data-dir', '--node-id', '--initial-cluster',
      '--partitions', '--workers', '--log-level', '--tls-cert', '--tls-key']) {
      expect(text).toContain(flag);
    }
    expect(text).toContain('HONU_INITIAL_CLUSTER');
  });

  test('usage errors: one stderr line, exit code 2', async () => {
    for (const argv of [[], ['serve'], ['server', '--port', 'nope'], ['server', '--bogus']]) {
      const run = capture();
      expect(await runCli(argv, run.io)).toEqual({ exitCode: 2 });
      expect(run.out).toEqual([]);
      expect(run.err).toHaveLength(1);
      expect(run.err[0]).toMatch(/^honu: [^\n]+\n$/);
    }
  });

  test('bad environment values are usage errors too', async () => {
    const run = capture({ HONU_WORKERS: 'many' });
    expect(await runCli(['server'], run.io)).toEqual({ exitCode: 2 });
    expect(run.err).toEqual(['honu: HONU_WORKERS must be an integer in 0..256 (got "many")\n']);
  });
});

describe('bin/honu.mjs (child process)', () => {
  const bin = join(repoRoot, 'bin', 'honu.mjs');
  beforeAll(() => {
    if (existsSync(join(repoRoot, 'dist', 'src', 'main', 'cli.js'))) return;
    const build = spawnSync('npx', ['tsc', '-p', '.'], { cwd: repoRoot, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
  });

  function honu(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const run = spawnSync(process.execPath, [bin, ...args],
      { cwd: repoRoot, encoding: 'utf8', timeout: 20_000, env: { PATH: process.env['PATH'] } });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  test('server --port nope exits 2 with one stderr line', () => {
    const run = honu(['server', '--port', 'nope']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('honu: --port must be an integer in 0..65535 (got "nope")\n');
  });

  test('an unknown command and an unknown flag exit 2', () => {
    for (const args of [['launch'], ['server', '--no-such-flag']]) {
      const run = honu(args);
      expect(run.status).toBe(2);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  test('--version exits 0', () => {
    const run = honu(['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(honuVersion());
  });
});
