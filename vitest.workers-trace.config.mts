// A third workerd suite: the Worker with GENERATION_UPSTREAM_URL pointing at a recording upstream the Node side starts
// (test/worker/trace/global-setup.ts), to see which trace headers its generation sends on. Its own Worker, so that
// the main suite keeps its "no upstream configured" answers.
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const migrations = await readD1Migrations('./migrations');

export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: { bindings: { ADMIN_TOKEN: 'worker-test-admin', TEST_MIGRATIONS: migrations, GENERATION_UPSTREAM_URL: inject('upstreamUrl'), TEST_RECEIVED_URL: inject('receivedUrl') } },
    })),
  ],
  test: {
    name: 'worker-trace',
    include: ['test/worker/trace/**/*.test.ts'],
    setupFiles: ['test/worker/apply-migrations.ts'],
    globalSetup: ['test/worker/trace/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
