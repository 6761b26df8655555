// Tests that run inside workerd (the Cloudflare Workers runtime) with the Worker entry of wrangler.toml,
// its D1 database in Miniflare with migrations/ applied, and an admin token for the tests. A second project
// (vitest.workers-r2.config.mts) runs the Worker with an R2-only registry model and a real generation upstream.
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const migrations = await readD1Migrations('./migrations');

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: { bindings: { ADMIN_TOKEN: 'worker-test-admin', TEST_MIGRATIONS: migrations } },
          }),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/*.test.ts'],
          setupFiles: ['test/worker/apply-migrations.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      './vitest.workers-r2.config.mts',
    ],
  },
});
