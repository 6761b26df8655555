// A second workerd suite: the Worker with a registry that holds one more edge model whose files live only in R2
// (test/worker/r2/bundled-models.js replaces the bundle's module), and GENERATION_UPSTREAM_URL pointing at a real
// generation server the Node side starts. Its own Worker, so that a failed model load never touches the main suite.
import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const migrations = await readD1Migrations('./migrations');

export default defineConfig({
  // Only functions/worker/index.ts imports './bundled-models.js'.
  resolve: { alias: [{ find: /^\.\/bundled-models\.js$/, replacement: fileURLToPath(new URL('./test/worker/r2/bundled-models.js', import.meta.url)) }] },
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: { bindings: { ADMIN_TOKEN: 'worker-test-admin', TEST_MIGRATIONS: migrations, GENERATION_UPSTREAM_URL: inject('generationUrl') } },
    })),
  ],
  test: {
    name: 'worker-r2',
    include: ['test/worker/r2/**/*.test.ts'],
    setupFiles: ['test/worker/apply-migrations.ts'],
    globalSetup: ['test/worker/r2/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
