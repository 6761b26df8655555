import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/worker/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Node 20's global WebSocket (the edge cost count reads the Worker isolate's profiler through it) is behind a flag.
    execArgv: ['--experimental-websocket'],
    // Servers started by tests keep usage in memory unless a test gives them a file.
    env: { USAGE_DB: ':memory:' },
  },
});
