// A real node:http server on a real socket serving the Kahuna REST routes from a FakeBackend,
// and a tiny client that posts raw text or JSON and reads the reply back.
import http from 'node:http';
import { RestRouter, createHttpServer } from '../../src/main/rest/router.js';
import { registerKahunaRoutes } from '../../src/main/rest/kahuna-routes.js';
import type { TxBackend } from '../../src/core/api/tx-types.js';
import { FakeBackend } from '../helpers/fake-backend.js';

export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The parsed body (undefined when it is not JSON). */
  readonly json: unknown;
}

export interface RestHarness {
  readonly backend: FakeBackend;
  /** POSTs `body` as JSON, or as-is when it is a string already. */
  post(path: string, body: unknown): Promise<Reply>;
  get(path: string): Promise<Reply>;
  close(): Promise<void>;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function send(port: number, method: string, path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json',
      authorization: 'Bearer xxx' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '',
            text, json: parse(text) });
        });
      });
    req.on('error', reject);
    req.end(body);
  });
}

/** `tx` serves scripts, sessions and exclusive locks (default: registerKahunaRoutes'). */
export async function startRestHarness(tx?: TxBackend): Promise<RestHarness> {
  const backend = new FakeBackend();
  const router = new RestRouter();
  registerKahunaRoutes(router, tx === undefined ? { backend } : { backend, tx });
  const server = createHttpServer(router);
  const port = await server.listen(0, '127.0.0.1');
  return {
    backend,
    post: (path, body) => send(port, 'POST', path,
      typeof body === 'string' ? body : JSON.stringify(body)),
    get: (path) => send(port, 'GET', path),
    close: async () => {
      await server.close();
    },
  };
}

export const zero = { n: 0, l: 0, c: 0 };

export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}
