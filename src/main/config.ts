// `honu server` flags -> NodeConfig. Every flag also reads an environment variable; a flag wins
// over its variable, and an empty variable counts as unset. Every problem becomes ONE line
// (`honu: <what is wrong>`) in a ConfigError: cli.ts prints it and exits with code 2.
// docs/configuration.md documents each flag; keep the two in step.
import { statSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { Command, CommanderError, Option } from 'commander';
import { assert } from '../assert.js';
import { defaultReadMode, readModes, type ReadMode } from '../core/partition/raft-config.js';
import {
  checkpointEntriesMax, clusterMembersMax, partitionCheckpointEntries, partitionsMax, workersMax,
} from '../limits.js';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface ClusterMember {
  readonly id: number;
  readonly host: string; // a hostname, an IPv4 address, or an IPv6 address without brackets
  readonly port: number;
}

export interface TlsConfig {
  readonly certPath: string; // absolute
  readonly keyPath: string; // absolute
  readonly cert: Buffer; // PEM, checked to pair with key
  readonly key: Buffer;
}

/** Every resolved setting of one node. */
export interface NodeConfig {
  readonly host: string;
  readonly port: number; // 0 = any free port (tests)
  readonly dataDir: string; // absolute
  readonly nodeId: number;
  readonly initialCluster: readonly ClusterMember[]; // sorted by id; includes this node
  /** --join: a member of the running cluster to ask for admission (null: none). */
  readonly join: { readonly host: string; readonly port: number } | null;
  readonly partitions: number; // partition ids are 1..partitions
  readonly workers: number; // partition worker threads, 0..partitions (0: on the main thread)
  readonly checkpointEntries: number; // applied entries between checkpoints
  readonly reads: ReadMode; // how leaders confirm linearizable reads
  readonly logLevel: LogLevel;
  readonly tls: TlsConfig | null;
}

export class ConfigError extends Error {
  constructor(what: string) {
    super('honu: ' + what.replace(/\s*\n\s*/g, ' ').trim());
    this.name = 'ConfigError';
  }
}

export const defaultPort = 2070;
export const defaultHost = '0.0.0.0';
export const defaultDataDir = './data';
export const defaultPartitions = 8;
const portMax = 65_535;
const nodeIdMax = 2 ** 31 - 1;

/** The flags of `honu server`: commander attribute, flag text, environment variable, help. */
const serverFlags = [
  ['port', '--port <port>', 'HONU_PORT', `port for gRPC and REST (default ${defaultPort})`],
  ['host', '--host <host>', 'HONU_HOST', `address to listen on (default ${defaultHost})`],
  ['dataDir', '--data-dir <dir>', 'HONU_DATA_DIR', `data directory (default ${defaultDataDir})`],
  ['nodeId', '--node-id <id>', 'HONU_NODE_ID', 'this node\'s id, a positive integer (default 1)'],
  ['initialCluster', '--initial-cluster <members>', 'HONU_INITIAL_CLUSTER',
    'id=host:port,... of every node (default: this node alone)'],
  ['join', '--join <host:port>', 'HONU_JOIN',
    'join a running cluster through this member (first start only; not with --initial-cluster)'],
  ['partitions', '--partitions <n>', 'HONU_PARTITIONS',
    `number of partitions, 1..${partitionsMax} (default ${defaultPartitions})`],
  ['workers', '--workers <n>', 'HONU_WORKERS',
    'partition worker threads, 0 for the partitions on the main thread (default: 0 on 2 ' +
    'cores or fewer, else cores - 1, at most --partitions)'],
  ['checkpointEntries', '--checkpoint-entries <n>', 'HONU_CHECKPOINT_ENTRIES',
    `checkpoint a partition (and compact its log) every n applied entries, ` +
    `1..${checkpointEntriesMax} (default ${partitionCheckpointEntries})`],
  ['reads', '--reads <mode>', 'HONU_READS',
    'lease (a leader answers under its lease: clocks within ~20% rate of each other) or ' +
    'read-index (a heartbeat round per read batch; no clock assumption) (default lease)'],
  ['logLevel', '--log-level <level>', 'HONU_LOG_LEVEL', `${logLevels.join('|')} (default info)`],
  ['tlsCert', '--tls-cert <file>', 'HONU_TLS_CERT', 'PEM certificate; serve TLS (with --tls-key)'],
  ['tlsKey', '--tls-key <file>', 'HONU_TLS_KEY', 'PEM private key (with --tls-cert)'],
] as const;

type FlagKey = (typeof serverFlags)[number][0];

/** The `server` command, for parsing and for --help. Never exits the process by itself. */
export function createServerCommand(): Command {
  const command = new Command('server')
    .description('start a Honu node (gRPC and REST on one port)')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const [, flags, envName, help] of serverFlags) {
    command.addOption(new Option(flags, `${help} [env ${envName}]`));
  }
  return command;
}

/** A raw setting and where it came from (the flag or the variable), for error messages. */
interface RawValue {
  readonly text: string;
  readonly source: string;
}

type RawValues = Record<FlagKey, RawValue | null>;

function readRawValues(argv: string[], env: NodeJS.ProcessEnv): RawValues {
  const command = createServerCommand();
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.excessArguments') {
      throw new ConfigError(`server takes flags only (got ${quote(command.args.join(' '))})`);
    }
    throw new ConfigError(error.message.replace(/^error: /, ''));
  }
  const opts = command.opts<Partial<Record<FlagKey, string>>>();
  const raw = {} as RawValues;
  for (const [key, flags, envName] of serverFlags) {
    const flagText = opts[key];
    const envText = env[envName];
    if (flagText !== undefined) {
      raw[key] = { text: flagText, source: flags.split(' ')[0] ?? flags };
    } else if (envText !== undefined && envText !== '') {
      raw[key] = { text: envText, source: envName };
    } else {
      raw[key] = null;
    }
  }
  return raw;
}

function quote(text: string): string {
  return JSON.stringify(text); // escapes newlines: the message stays on one line
}

/** A decimal integer in min..max (no sign, exponent, hex or spaces). */
function parseIntIn(value: RawValue, min: number, max: number, what = 'an integer'): number {
  const ok = /^[0-9]{1,10}$/.test(value.text);
  const n = ok ? Number(value.text) : NaN;
  if (!ok || n < min || n > max) {
    throw new ConfigError(
      `${value.source} must be ${what} in ${min}..${max} (got ${quote(value.text)})`);
  }
  return n;
}

function parseHost(text: string, source: string): string {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIP(bare) !== 0) return bare;
  if (/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(bare)) return bare;
  throw new ConfigError(`${source} is not a valid host (got ${quote(text)})`);
}

function parseDataDir(value: RawValue | null): string {
  const text = value === null ? defaultDataDir : value.text;
  const dataDir = resolve(text);
  const stat = statSync(dataDir, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isDirectory()) {
    const source = value === null ? 'the default data directory' : value.source;
    throw new ConfigError(`${source}: ${dataDir} exists and is not a directory`);
  }
  return dataDir;
}

/** One of `choices`, or `fallback` when unset. */
function parseChoice<T extends string>(value: RawValue | null, choices: readonly T[],
  fallback: T): T {
  if (value === null) return fallback;
  const choice = choices.find((c) => c === value.text);
  if (choice === undefined) {
    throw new ConfigError(`${value.source} must be one of ${choices.join('|')} ` +
      `(got ${quote(value.text)})`);
  }
  return choice;
}

/** `id=host:port`; an IPv6 host is written in brackets: `2=[::1]:2071`. */
function parseClusterMember(entry: string, source: string): ClusterMember {
  const match = /^([^=]*)=(\[[^\]]*\]|[^:]*):([^:]*)$/.exec(entry.trim());
  if (match === null) {
    throw new ConfigError(`${source}: member ${quote(entry)} is not id=host:port`);
  }
  const [, idText = '', hostText = '', portText = ''] = match;
  const what = `${source} member ${quote(entry)}`;
  const id = parseIntIn({ text: idText, source: `${what}: id` }, 1, nodeIdMax);
  const port = parseIntIn({ text: portText, source: `${what}: port` }, 1, portMax);
  const host = parseHost(hostText, `${what}: host`);
  return { id, host, port };
}

function parseJoin(value: RawValue | null, withInitialCluster: boolean):
  { host: string; port: number } | null {
  if (value === null) return null;
  if (withInitialCluster) {
    throw new ConfigError(`${value.source} and --initial-cluster exclude each other`);
  }
  const match = /^(.+):(\d+)$/.exec(value.text.trim());
  if (match === null) throw new ConfigError(`${value.source} must be host:port`);
  const port = parseIntIn({ text: match[2]!, source: `${value.source}: port` }, 1, portMax);
  return { host: parseHost(match[1]!, `${value.source}: host`), port };
}

function parseInitialCluster(value: RawValue): ClusterMember[] {
  const entries = value.text.split(',').filter((entry) => entry.trim() !== '');
  if (entries.length === 0) throw new ConfigError(`${value.source} lists no member`);
  if (entries.length > clusterMembersMax) {
    throw new ConfigError(`${value.source} lists ${entries.length} members; ` +
      `at most ${clusterMembersMax} are allowed`);
  }
  const members = entries.map((entry) => parseClusterMember(entry, value.source));
  const ids = new Set<number>();
  const addresses = new Set<string>();
  for (const member of members) {
    if (ids.has(member.id)) throw new ConfigError(`${value.source}: node id ${member.id} twice`);
    const address = `${member.host}:${member.port}`;
    if (addresses.has(address)) throw new ConfigError(`${value.source}: address ${address} twice`);
    ids.add(member.id);
    addresses.add(address);
  }
  return members.sort((a, b) => a.id - b.id);
}

/** The address peers and clients are told when the node listens on every interface. */
function advertisedHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

function readPem(value: RawValue): { path: string; pem: Buffer } {
  const path = resolve(value.text);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined || !stat.isFile()) {
    throw new ConfigError(`${value.source}: no such file ${quote(path)}`);
  }
  try {
    return { path, pem: readFileSync(path) };
  } catch (error) {
    throw new ConfigError(`${value.source}: cannot read ${quote(path)}: ${String(error)}`);
  }
}

function parseTls(certValue: RawValue | null, keyValue: RawValue | null): TlsConfig | null {
  if (certValue === null && keyValue === null) return null;
  if (certValue === null || keyValue === null) {
    throw new ConfigError('--tls-cert and --tls-key (HONU_TLS_CERT, HONU_TLS_KEY) go together: ' +
      'give both or neither');
  }
  const cert = readPem(certValue);
  const key = readPem(keyValue);
  try {
    createSecureContext({ cert: cert.pem, key: key.pem }); // parses both and checks they pair
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const sources = `${certValue.source}/${keyValue.source}`;
    throw new ConfigError(`${sources}: unusable TLS material: ${reason}`);
  }
  return { certPath: cert.path, keyPath: key.path, cert: cert.pem, key: key.pem };
}

/** 2 cores or fewer: the partitions on the main thread (0), whose saved thread wake-ups are
 *  worth more there than a second thread's CPU (docs/ARCHITECTURE.md); else cores - 1 threads. */
export function defaultWorkers(cores: number, partitions: number): number {
  return cores <= 2 ? 0 : Math.min(partitions, cores - 1);
}

function parseWorkers(value: RawValue | null, partitions: number): number {
  if (value === null) return defaultWorkers(availableParallelism(), partitions);
  const workers = parseIntIn(value, 0, workersMax);
  if (workers > partitions) {
    throw new ConfigError(`${value.source} (${workers}) must not exceed the partition count ` +
      `(${partitions}): each worker owns at least one partition`);
  }
  return workers;
}

/**
 * Resolves `honu server` flags (argv without the `server` word) and environment variables.
 * Throws ConfigError (one-line message) on any bad flag or value.
 */
export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv): NodeConfig {
  const raw = readRawValues(argv, env);
  const host = raw.host === null ? defaultHost : parseHost(raw.host.text, raw.host.source);
  const nodeId = raw.nodeId === null ? 1 : parseIntIn(raw.nodeId, 1, nodeIdMax);
  const portGiven = raw.port === null ? null : parseIntIn(raw.port, 0, portMax);
  let initialCluster: ClusterMember[];
  let port: number;
  if (raw.initialCluster === null) {
    port = portGiven ?? defaultPort;
    initialCluster = [{ id: nodeId, host: advertisedHost(host), port }];
  } else {
    initialCluster = parseInitialCluster(raw.initialCluster);
    const self = initialCluster.find((member) => member.id === nodeId);
    if (self === undefined) {
      throw new ConfigError(`${raw.initialCluster.source} does not list this node's id ${nodeId} ` +
        '(--node-id)');
    }
    port = portGiven ?? self.port; // the own entry is where the node listens, unless --port says
  }
  const partitions = raw.partitions === null
    ? defaultPartitions : parseIntIn(raw.partitions, 1, partitionsMax);
  const config: NodeConfig = {
    host, port, nodeId, initialCluster, partitions, join: parseJoin(raw.join,
      raw.initialCluster !== null),
    dataDir: parseDataDir(raw.dataDir),
    workers: parseWorkers(raw.workers, partitions),
    checkpointEntries: raw.checkpointEntries === null ? partitionCheckpointEntries
      : parseIntIn(raw.checkpointEntries, 1, checkpointEntriesMax),
    reads: parseChoice(raw.reads, readModes, defaultReadMode),
    logLevel: parseChoice(raw.logLevel, logLevels, 'info'),
    tls: parseTls(raw.tlsCert, raw.tlsKey),
  };
  assert(config.initialCluster.some((m) => m.id === config.nodeId), 'own node missing');
  assert(config.workers >= 0 && config.workers <= config.partitions, 'workers out of range');
  return config;
}
