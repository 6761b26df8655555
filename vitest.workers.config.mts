// Tests that run inside workerd (the Cloudflare Workers runtime) with the Worker entry of wrangler.toml.
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
  test: {
    include: ['test/worker/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
