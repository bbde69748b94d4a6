#!/usr/bin/env node
// `npm run cluster`: N local Honu nodes (default 3) in the foreground, for trying a cluster by
// hand. Node i (1..N) listens on 127.0.0.1:<base-port + i - 1> with its data in
// <data-dir>/node-i, and every node gets the same --initial-cluster listing all of them.
// Each output line of a node is prefixed `[node-i] `; pino's JSON lines are shown compactly
// (time, level, message, fields) unless --json is given.
//
// SIGINT/SIGTERM are forwarded once to every node (each drains and exits 0 within 5 s; a node
// still alive 10 s later gets SIGKILL). Nothing is restarted: a node that dies is reported and
// the others keep running (kill -9 one to watch the rest carry on). The script exits when every
// node has stopped: 0 when all of them stopped because of the forwarded signal, 1 otherwise.
//
// Like `npm start`, it runs the compiled dist/ through bin/honu.mjs: build first (`npm ci` does,
// or `npm run build` after a change).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'honu.mjs');
const host = '127.0.0.1';
const stopGraceMs = 10_000;
const nodesMax = 64; // src/limits.ts clusterMembersMax

const usage = `usage: npm run cluster -- [--nodes N] [--base-port P] [--data-dir DIR] [--json]
                       [--partitions N] [--workers N] [--log-level LEVEL]
  --nodes N        nodes 1..N (default 3)
  --base-port P    node i listens on P + i - 1 (default 2070)
  --data-dir DIR   node i keeps its data in DIR/node-i (default ./data)
  --json           print the nodes' JSON log lines as they are
  --partitions, --workers, --log-level are passed to every node (see honu server --help)`;

function fail(message) {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { nodes: 3, basePort: 2070, dataDir: './data', json: false, passed: [] };
  const integer = (flag, text, min, max) => {
    const n = /^[0-9]{1,6}$/.test(text ?? '') ? Number(text) : NaN;
    if (!(n >= min && n <= max)) fail(`${flag} must be an integer in ${min}..${max} (got ${text})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) fail(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--nodes': options.nodes = integer(flag, value(), 1, nodesMax); break;
      case '--base-port': options.basePort = integer(flag, value(), 1, 65_535); break;
      case '--data-dir': options.dataDir = value(); break;
      case '--json': options.json = true; break;
      case '--partitions': case '--workers': case '--log-level':
        options.passed.push(flag, value());
        break;
      case '-h': case '--help':
        process.stdout.write(usage + '\n');
        process.exit(0);
        break;
      default:
        fail(`unknown argument ${JSON.stringify(arg)}\n${usage}`);
    }
  }
  if (options.basePort + options.nodes - 1 > 65_535) {
    fail(`--base-port ${options.basePort} leaves no room for ${options.nodes} nodes`);
  }
  return options;
}

const colors = [36, 33, 35, 32, 34, 31];
const levelNames = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One pino JSON line as `hh:mm:ss.mmm LEVEL msg key=value ...`; other lines unchanged. */
function compact(line) {
  if (!line.startsWith('{')) return line;
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (entry === null || typeof entry !== 'object' || !('level' in entry)) return line;
  const { level, time, pid: _pid, hostname: _hostname, msg, err, ...fields } = entry;
  const clock = typeof time === 'string' ? time.slice(11, 23)
    : typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const parts = [clock, (levelNames[level] ?? String(level)).padEnd(5), msg ?? ''];
  for (const [key, value] of Object.entries(fields)) {
    parts.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  let text = parts.filter((p) => p !== '').join(' ');
  if (err !== undefined) {
    text += '\n' + (typeof err === 'object' && err !== null && typeof err.stack === 'string'
      ? err.stack : JSON.stringify(err));
  }
  return text;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!existsSync(join(root, 'dist', 'src', 'main', 'cli.js'))) {
    process.stderr.write('cluster: dist/ is missing; run `npm run build` first\n');
    process.exit(1);
  }
  // The node flags npm start passes (src/env/node-flags.ts).
  const flagsUrl = new URL('../dist/src/env/node-flags.js', import.meta.url);
  const { serverNodeFlags } = await import(flagsUrl.href);
  const tty = process.stdout.isTTY === true;
  const members = Array.from({ length: options.nodes }, (_, i) => ({
    id: i + 1, port: options.basePort + i,
    dataDir: join(resolve(options.dataDir), `node-${i + 1}`),
  }));
  const initialCluster = members.map((m) => `${m.id}=${host}:${m.port}`).join(',');
  const write = (prefix, text) => {
    for (const line of text.split('\n')) process.stdout.write(`${prefix}${line}\n`);
  };
  const say = (text) => write(tty ? '\x1b[1m[cluster]\x1b[0m ' : '[cluster] ', text);

  let stopping = false; // a signal was forwarded: exits from now on are expected
  let unexpected = 0;
  const running = new Map(); // id -> ChildProcess

  for (const member of members) {
    mkdirSync(member.dataDir, { recursive: true });
    const child = spawn(process.execPath, [...serverNodeFlags, bin, 'server',
      '--node-id', String(member.id),
      '--initial-cluster', initialCluster, '--host', host, '--port', String(member.port),
      '--data-dir', member.dataDir, ...options.passed], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C in the terminal reaches this script only, which forwards
      // one signal (honu handles the first SIGINT gracefully; a second one would kill it).
      detached: true,
    });
    const label = `[node-${member.id}] `;
    const color = colors[(member.id - 1) % colors.length];
    const prefix = tty ? `\x1b[${color}m${label}\x1b[0m` : label;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity })
        .on('line', (line) => write(prefix, options.json ? line : compact(line)));
    }
    running.set(member.id, child);
    say(`node-${member.id} pid ${child.pid} http://${host}:${member.port} ` +
      `data ${member.dataDir}`);
    child.on('error', (error) => {
      say(`node-${member.id} could not be started: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      running.delete(member.id);
      const how = signal === null ? `with code ${code}` : `by signal ${signal}`;
      const expected = stopping && code === 0;
      if (!expected) unexpected++;
      say(`node-${member.id} exited ${how}${expected ? '' : ' (unexpected)'}`);
      if (running.size === 0) {
        say(unexpected === 0 ? 'all nodes stopped' : `all nodes stopped; ${unexpected} ` +
          'exited unexpectedly');
        process.exit(unexpected === 0 ? 0 : 1);
      }
    });
  }
  say(`initial cluster ${initialCluster}; Ctrl-C stops every node`);

  const forward = (signal) => {
    if (stopping) {
      say(`${signal}: already stopping, waiting for ${running.size} node(s)`);
      return;
    }
    stopping = true;
    say(`${signal}: stopping ${running.size} node(s)`);
    for (const child of running.values()) {
      child.kill(signal);
      child.kill('SIGCONT'); // a node paused with SIGSTOP would never see the signal
    }
    setTimeout(() => {
      for (const [id, child] of running) {
        say(`node-${id} still running after ${stopGraceMs} ms: SIGKILL`);
        child.kill('SIGKILL');
      }
    }, stopGraceMs).unref();
  };
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  // The nodes live in their own process groups: never leave them behind when this script ends
  // some other way (an uncaught exception, process.exit above is after they are gone anyway).
  process.on('exit', () => {
    for (const child of running.values()) child.kill('SIGKILL');
  });
}

await main();
