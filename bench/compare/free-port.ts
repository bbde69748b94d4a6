// Free loopback ports for the servers benchmarks and cluster tests start (bench/compare/*.ts,
// test/helpers/cluster.ts). Drawn below the kernel's ephemeral range, because a port-0 bind
// hands out an ephemeral port, and the connections already-started servers open to each other
// take their local ports from that same range: one can take a port before the server that was
// given it binds it (an etcd member, and later a test cluster's node, failed with EADDRINUSE
// that way).
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The first port of the kernel's ephemeral range (outgoing connections' local ports). */
function ephemeralPortMin(): number {
  try {
    const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const low = Number(range.split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const portsHandedOut = new Set<number>();
const freePortTriesMax = 200;

async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) {
    server.close();
    await once(server, 'close');
  }
  return ok;
}

/** A loopback port nothing listens on, below the ephemeral range, never the same one twice in
 *  this process. */
export async function freePort(): Promise<number> {
  const high = ephemeralPortMin() - 1;
  const low = Math.min(10_000, high - 1_000);
  for (let i = 0; i < freePortTriesMax; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (portsHandedOut.has(port) || !(await canListen(port))) continue;
    portsHandedOut.add(port);
    return port;
  }
  throw new Error(`no free port in ${low}..${high}`);
}
