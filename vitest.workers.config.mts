// Tests that run inside workerd (the Cloudflare Workers runtime) with the Worker entry of wrangler.toml,
// its D1 database in Miniflare with migrations/ applied, and an admin token for the tests.
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const migrations = await readD1Migrations('./migrations');

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: { bindings: { ADMIN_TOKEN: 'worker-test-admin', TEST_MIGRATIONS: migrations } },
    }),
  ],
  test: {
    include: ['test/worker/**/*.test.ts'],
    setupFiles: ['test/worker/apply-migrations.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
