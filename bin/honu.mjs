#!/usr/bin/env -S node --max-semi-space-size=64
// The shebang's flags are serverNodeFlags (src/env/node-flags.ts, checked by a test).
// The `honu` command. The TypeScript is compiled to dist/ by `npm run build` (run by `prepare`,
// so `npm ci` builds it); this file only loads the compiled command line.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cliUrl = new URL('../dist/src/main/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cliUrl))) {
  process.stderr.write('honu: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
const { main } = await import(cliUrl.href);
await main(process.argv.slice(2));
