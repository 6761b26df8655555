// npm run test:browser: the web console in Debian's chromium (playwright-core) against real servers on 127.0.0.1.
// Kept out of `npm test` (a browser and two servers, about a minute); .ci/run runs it after npm test.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/console/**/*.browser.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
