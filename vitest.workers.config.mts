// Tests that run inside workerd (the Cloudflare Workers runtime) with the Worker entry of wrangler.toml,
// its D1 database in Miniflare with migrations/ applied, and an admin token for the tests. A second project
// (vitest.workers-r2.config.mts) runs the Worker with an R2-only registry model and a real generation upstream, a third
// (vitest.workers-trace.config.mts) with a recording upstream for the trace headers it is sent.
// SST-2's dev sentences reach the tests as a binding (TEST_SST2): workerd tests cannot read files outside the root.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { sst2Dir } from './functions/node/shared-paths.js';

const migrations = await readD1Migrations('./migrations');
const sst2Dev = readFileSync(join(sst2Dir, 'dev.tsv'), 'utf8').trim().split('\n').slice(1)
  .map((line) => line.split('\t'))
  .map(([text, label]) => ({ text: text!.trim(), label: label === '1' ? 'positive' : 'negative' }));

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: { bindings: { ADMIN_TOKEN: 'worker-test-admin', TEST_MIGRATIONS: migrations, TEST_SST2: sst2Dev } },
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
      './vitest.workers-trace.config.mts',
    ],
  },
});
