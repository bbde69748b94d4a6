// The ceiling server of bench/compare/compare.ts: a bare node:http server on a free loopback
// port answering every request with one constant JSON body (BARE_HTTP_BODY), after reading the
// request body. Prints {"port":N} when listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.from(process.env['BARE_HTTP_BODY'] ?? '{}');
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
