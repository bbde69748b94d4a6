// Where compiled thread entry points live. Workers always run compiled JS (tsx does not load
// inside worker_threads on Node 20, see shared/design/stack.md), so even when the main code runs
// from TypeScript sources (vitest), workers are started from dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (parsed.name === 'honu') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('honu: package.json not found above ' + import.meta.url);
    dir = parent;
  }
}

export const repoRoot: string = findRepoRoot();

/** Absolute path of a compiled worker entry point, e.g. workerPath('writer-worker'). */
export function workerPath(name: string): string {
  return join(repoRoot, 'dist', 'workers', name + '.js');
}
