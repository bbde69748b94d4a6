import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    // Object answers of inline hosts are frozen: a mutation of shared state fails a test.
    env: { HONU_DEBUG_FREEZE_REPLIES: '1' },
  },
});
