// One real `honu server` child process per describe block, and one client per transport.
import { afterAll, beforeAll } from 'vitest';
import { createClient, type KahunaClient, type Transport } from './clients.js';
import { removeDir, startHonu, tempDataDir, type HonuProcess } from './server.js';

export interface SharedHonu {
  readonly server: HonuProcess;
  readonly url: string;
  client(transport: Transport): KahunaClient;
}

/** Registers beforeAll/afterAll hooks; the getters are valid inside tests. */
export function useHonu(label: string, flags: string[] = []): SharedHonu {
  let server: HonuProcess | null = null;
  let dataDir = '';
  const clients = new Map<Transport, KahunaClient>();
  beforeAll(async () => {
    dataDir = tempDataDir(label);
    server = await startHonu(dataDir, flags);
  });
  afterAll(async () => {
    for (const client of clients.values()) client.close();
    if (server !== null) await server.stop();
    removeDir(dataDir);
  });
  const shared: SharedHonu = {
    get server() {
      if (server === null) throw new Error('honu is not running');
      return server;
    },
    get url() {
      return shared.server.url;
    },
    client(transport) {
      let client = clients.get(transport);
      if (client === undefined) {
        client = createClient(transport, shared.url);
        clients.set(transport, client);
      }
      return client;
    },
  };
  return shared;
}
