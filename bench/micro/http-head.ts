// HTTP/1.1 request-head micro-benchmark: what parsing one head costs on the main thread, per
// request, for the heads the compare suite's load generator sends.
//   npm run bench:head   (= npm run build && node dist/bench/micro/http-head.js)
//   node dist/bench/micro/http-head.js --heads 1000000 --runs 5
// Each head is a fresh string (as the server decodes one from the socket), parsed by
// parseRequestHead (src/main/http/http1-head.ts). Speed is never asserted.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isHeadProblem, parseRequestHead } from '../../src/main/http/http1-head.js';

const heads = [
  'POST /v1/locks/try-lock HTTP/1.1\r\nhost: 127.0.0.1:38411\r\n' +
    'content-type: application/json\r\ncontent-length: 112',
  'POST /v1/kv/try-set HTTP/1.1\r\nHost: 127.0.0.1:2070\r\nContent-Type: application/json\r\n' +
    'Content-Length: 180\r\nConnection: keep-alive',
];

function main(): void {
  const { values } = parseArgs({ options: {
    heads: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' },
  } });
  const count = Number(values.heads);
  const runs = Number(values.runs);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(runs) || runs < 1) {
    throw new Error('--heads and --runs must be positive integers');
  }
  // Fresh strings: built from bytes like the server's latin1 decode, not shared literals.
  const bytes = heads.map((h) => Buffer.from(h, 'latin1'));
  console.log(`http-head benchmark, node ${process.version}, ${availableParallelism()} cores, ` +
    `${count} heads per run`);
  let sink = 0;
  for (let r = 0; r < runs; r++) {
    const texts = Array.from({ length: 1024 },
      (_, i) => bytes[i % bytes.length]!.toString('latin1'));
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const parsed = parseRequestHead(texts[i & 1023]!);
      if (isHeadProblem(parsed)) throw new Error(`refused: ${parsed.reason}`);
      sink += parsed.contentLength;
    }
    const ns = Number(process.hrtime.bigint() - start) / count;
    console.log(`run ${r + 1}: ${ns.toFixed(0)} ns per head`);
  }
  if (sink === 0) console.log('(no content lengths?)');
}

main();
