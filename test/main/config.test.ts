// `honu server` flags and environment variables -> NodeConfig, and every kind of bad input.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { partitionsMax } from '../../src/limits.js';
import { ConfigError, defaultWorkers, parseServerArgs } from '../../src/main/config.js';

const tlsDir = join(import.meta.dirname, '..', 'fixtures', 'tls');
const certPath = join(tlsDir, 'cert.pem');
const keyPath = join(tlsDir, 'key.pem');
const scratch = mkdtempSync(join(tmpdir(), 'honu-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The ConfigError message parseServerArgs throws (fails the test if it does not throw one). */
function errorOf(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseServerArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.startsWith('honu: ')).toBe(true);
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

describe('defaults', () => {
  test('no flags: one node alone on 2070 with data in ./data', () => {
    const config = parseServerArgs([], {});
    const cores = availableParallelism();
    const workers = cores <= 2 ? 0 : Math.min(8, cores - 1);
    expect(config).toEqual({
      host: '0.0.0.0', port: 2070, nodeId: 1, partitions: 8, workers, logLevel: 'info',
      dataDir: resolve('data'), tls: null, checkpointEntries: 20_000, join: null, reads: 'lease',
      initialCluster: [{ id: 1, host: '127.0.0.1', port: 2070 }],
    });
  });

  test('--join names a member to join through; it excludes --initial-cluster', () => {
    expect(parseServerArgs(['--node-id', '4', '--join', '10.0.0.1:2070'], {}).join)
      .toEqual({ host: '10.0.0.1', port: 2070 });
    expect(parseServerArgs([], { HONU_JOIN: 'a.example:9' }).join)
      .toEqual({ host: 'a.example', port: 9 });
    expect(errorOf(['--join', 'nohost'], {})).toContain('host:port');
    expect(errorOf(['--join', 'a:99999'], {})).toContain('port');
    expect(errorOf(['--join', 'a:1', '--initial-cluster', '1=a:2'], {}))
      .toContain('exclude each other');
  });

  test('--checkpoint-entries sets how often a partition checkpoints', () => {
    expect(parseServerArgs(['--checkpoint-entries', '50'], {}).checkpointEntries).toBe(50);
    expect(errorOf(['--checkpoint-entries', '0'], {})).toContain('checkpoint-entries');
  });

  test('the default cluster follows --port, --host and --node-id', () => {
    const config = parseServerArgs(['--port', '3000', '--host', '10.1.2.3', '--node-id', '7'], {});
    expect(config.initialCluster).toEqual([{ id: 7, host: '10.1.2.3', port: 3000 }]);
  });

  test('default workers: 0 (the main thread) on 2 cores or fewer, else cores - 1 <= partitions', () => {
    expect([1, 2].map((c) => defaultWorkers(c, 8))).toEqual([0, 0]);
    expect([3, 4, 16].map((c) => defaultWorkers(c, 8))).toEqual([2, 3, 8]);
    expect(defaultWorkers(16, 1)).toBe(1);
    expect(parseServerArgs(['--partitions', '1'], {}).workers)
      .toBe(defaultWorkers(availableParallelism(), 1));
    expect(parseServerArgs(['--workers', '0'], {}).workers).toBe(0);
  });
});

describe('flags, environment and precedence', () => {
  test('every flag', () => {
    const config = parseServerArgs([
      '--port', '0', '--host', '127.0.0.1', '--data-dir', join(scratch, 'd1'), '--node-id', '2',
      '--initial-cluster', '3=c.example:2073, 1=a.example:2071,2=[::1]:2072',
      '--partitions', '16', '--workers', '3', '--log-level', 'debug', '--reads', 'read-index',
      '--tls-cert', certPath, '--tls-key', keyPath,
    ], {});
    expect(config.reads).toBe('read-index');
    expect(config.port).toBe(0);
    expect(config.host).toBe('127.0.0.1');
    expect(config.dataDir).toBe(join(scratch, 'd1'));
    expect(config.nodeId).toBe(2);
    expect(config.initialCluster).toEqual([
      { id: 1, host: 'a.example', port: 2071 },
      { id: 2, host: '::1', port: 2072 },
      { id: 3, host: 'c.example', port: 2073 },
    ]);
    expect([config.partitions, config.workers, config.logLevel]).toEqual([16, 3, 'debug']);
    expect(config.tls?.certPath).toBe(certPath);
    expect(config.tls?.cert.equals(readFileSync(certPath))).toBe(true);
    expect(config.tls?.key.equals(readFileSync(keyPath))).toBe(true);
  });

  test('every environment variable', () => {
    const config = parseServerArgs([], {
      HONU_PORT: '2080', HONU_HOST: 'localhost', HONU_DATA_DIR: 'rel/dir', HONU_NODE_ID: '1',
      HONU_INITIAL_CLUSTER: '1=localhost:2080,2=localhost:2081', HONU_PARTITIONS: '4',
      HONU_WORKERS: '2', HONU_LOG_LEVEL: 'warn', HONU_TLS_CERT: certPath, HONU_TLS_KEY: keyPath,
      HONU_READS: 'read-index',
    });
    expect(config.reads).toBe('read-index');
    expect(config.port).toBe(2080);
    expect(config.host).toBe('localhost');
    expect(config.dataDir).toBe(resolve('rel/dir'));
    expect(config.initialCluster.map((m) => m.port)).toEqual([2080, 2081]);
    expect([config.partitions, config.workers, config.logLevel]).toEqual([4, 2, 'warn']);
    expect(config.tls?.keyPath).toBe(keyPath);
  });

  test('a flag wins over its environment variable; an empty variable is unset', () => {
    const config = parseServerArgs(['--port', '2090', '--log-level', 'error'],
      { HONU_PORT: '2080', HONU_LOG_LEVEL: 'trace', HONU_PARTITIONS: '' });
    expect([config.port, config.logLevel, config.partitions]).toEqual([2090, 'error', 8]);
    expect(config.reads).toBe('lease'); // the default
  });

  test('--flag=value form and the last repeated flag', () => {
    const config = parseServerArgs(['--port=2100', '--partitions', '2', '--partitions', '3'], {});
    expect([config.port, config.partitions]).toEqual([2100, 3]);
  });

  test('with --initial-cluster and no --port, the node listens at its own entry', () => {
    const args = ['--node-id', '2', '--initial-cluster', '1=127.0.0.1:4001,2=127.0.0.1:4002'];
    expect(parseServerArgs(args, {}).port).toBe(4002);
    expect(parseServerArgs([...args, '--port', '5002'], {}).port).toBe(5002);
  });

  test('partition and port bounds are inclusive', () => {
    expect(parseServerArgs(['--partitions', String(partitionsMax)], {}).partitions)
      .toBe(partitionsMax);
    expect(parseServerArgs(['--port', '65535'], {}).port).toBe(65535);
  });
});

describe('bad input: one line, naming what is wrong', () => {
  test('unknown flags, missing values and arguments', () => {
    expect(errorOf(['--portt', '1'])).toMatch(/unknown option '--portt'/);
    expect(errorOf(['--port'])).toMatch(/--port <port>' argument missing/);
    expect(errorOf(['extra'])).toBe('honu: server takes flags only (got "extra")');
  });

  test('numbers', () => {
    expect(errorOf(['--port', 'nope'])).toBe(
      'honu: --port must be an integer in 0..65535 (got "nope")');
    expect(errorOf(['--port', '65536'])).toMatch(/--port must be an integer/);
    expect(errorOf(['--port', '-1'])).toMatch(/--port/);
    expect(errorOf(['--port', '1e3'])).toMatch(/--port/);
    expect(errorOf([], { HONU_PORT: '80x' })).toMatch(/^honu: HONU_PORT must be/);
    expect(errorOf(['--node-id', '0'])).toMatch(/--node-id must be an integer in 1\.\./);
    expect(errorOf(['--partitions', '0'])).toMatch(/--partitions must be an integer in 1\.\.4096/);
    expect(errorOf(['--partitions', '4097'])).toMatch(/--partitions/);
    expect(errorOf(['--workers', '-1'])).toMatch(/--workers must be an integer in 0\.\./);
    expect(errorOf(['--partitions', '2', '--workers', '3'])).toMatch(/must not exceed/);
    expect(errorOf(['--port', 'a\nb'])).toMatch(/"a\\nb"/);
  });

  test('host, log level and data directory', () => {
    expect(errorOf(['--host', 'bad host'])).toMatch(/--host is not a valid host/);
    expect(errorOf(['--log-level', 'loud'])).toMatch(/--log-level must be one of fatal\|error/);
    expect(errorOf(['--reads', 'stale'])).toMatch(/--reads must be one of lease\|read-index/);
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    expect(errorOf(['--data-dir', file])).toMatch(/exists and is not a directory/);
  });

  test('initial cluster', () => {
    const bad = (value: string, env: NodeJS.ProcessEnv = {}): string =>
      errorOf(['--initial-cluster', value], env);
    expect(bad('1=a:1,1=b:2')).toMatch(/node id 1 twice/);
    expect(bad('1=a:1,2=a:1')).toMatch(/address a:1 twice/);
    expect(bad('2=a:1,3=b:2')).toMatch(/does not list this node's id 1/);
    expect(bad('1=a:0')).toMatch(/port must be an integer in 1\.\.65535/);
    expect(bad('1=a:70000')).toMatch(/port/);
    expect(bad('0=a:1')).toMatch(/id must be an integer in 1\.\./);
    expect(bad('x=a:1')).toMatch(/id must be/);
    expect(bad('1=a')).toMatch(/is not id=host:port/);
    expect(bad('1:a:2')).toMatch(/is not id=host:port/);
    expect(bad('1=:2')).toMatch(/not a valid host/);
    expect(bad(',')).toMatch(/lists no member/);
    expect(errorOf([], { HONU_INITIAL_CLUSTER: '5=a:1' })).toMatch(/^honu: HONU_INITIAL_CLUSTER/);
  });

  test('TLS', () => {
    expect(errorOf(['--tls-cert', certPath])).toMatch(/--tls-cert and --tls-key .* together/);
    expect(errorOf([], { HONU_TLS_KEY: keyPath })).toMatch(/together/);
    expect(errorOf(['--tls-cert', join(scratch, 'none.pem'), '--tls-key', keyPath]))
      .toMatch(/--tls-cert: no such file/);
    const junk = join(scratch, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    expect(errorOf(['--tls-cert', junk, '--tls-key', keyPath])).toMatch(/unusable TLS material/);
    expect(errorOf(['--tls-cert', certPath, '--tls-key', certPath])).toMatch(/unusable TLS/);
  });
});
