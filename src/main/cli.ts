// The `honu` command line: `honu server [flags]`, `honu --help`, `honu --version`.
// Usage errors print ONE line on stderr and exit with code 2; a node that fails to start exits 1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { repoRoot } from '../env/paths.js';
import { ConfigError, createServerCommand, parseServerArgs } from './config.js';
import type { NodeConfig } from './config.js';
import type { RunningNode } from './server.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

/** The exit code to set, or the running node (the process then lives until it is closed). */
export type CliOutcome = { readonly exitCode: number } | { readonly node: RunningNode };

const usageExitCode = 2;
const startFailedExitCode = 1;

export function honuVersion(): string {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? '0.0.0';
}

function createProgram(): Command {
  return new Command('honu')
    .description('Honu: distributed locks, key/value store and sequences (Kahuna-compatible)')
    .version(honuVersion())
    .addCommand(createServerCommand());
}

/** `honu server --help` text, with the full usage line (`honu server [options]`). */
function serverHelp(): string {
  const server = createProgram().commands.find((command) => command.name() === 'server');
  return (server ?? createServerCommand()).helpInformation();
}

async function runServer(argv: string[], io: CliIo): Promise<CliOutcome> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.out(serverHelp());
    return { exitCode: 0 };
  }
  let config: NodeConfig;
  try {
    config = parseServerArgs(argv, io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message + '\n');
    return { exitCode: usageExitCode };
  }
  try {
    // Loaded only here: --help and usage errors never start threads or open RocksDB.
    const { startNode } = await import('./server.js');
    return { node: await startNode(config) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    io.err(`honu: cannot start the node: ${reason.replace(/\s*\n\s*/g, ' ')}\n`);
    return { exitCode: startFailedExitCode };
  }
}

/** Runs the command line; never calls process.exit (testable). */
export async function runCli(argv: string[], io: CliIo): Promise<CliOutcome> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return runServer(rest, io);
    case '-h': case '--help': case 'help':
      io.out(rest[0] === 'server' ? serverHelp() : createProgram().helpInformation());
      return { exitCode: 0 };
    case '-V': case '--version':
      io.out(honuVersion() + '\n');
      return { exitCode: 0 };
    case undefined:
      io.err('honu: missing command: try `honu server` or `honu --help`\n');
      return { exitCode: usageExitCode };
    default:
      io.err(`honu: unknown command ${JSON.stringify(command)} (commands: server)\n`);
      return { exitCode: usageExitCode };
  }
}

/** Entry point of bin/honu.mjs. */
export async function main(argv: string[]): Promise<void> {
  const outcome = await runCli(argv, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
  });
  if ('exitCode' in outcome) process.exitCode = outcome.exitCode;
}
