// The console's client as the runtimes serve it: the committed assets.generated.ts is what the client sources
// build to today (npm run build:console rewrites it), small, and served under its hashed name, gzipped on request.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildConsoleAssets, GENERATED_PATH } from '../../functions/console/build/build-client.js';
import { CONSOLE_ASSETS } from '../../functions/console/assets.generated.js';
import { consoleRoutes } from '../../functions/console/console-plugin.js';

describe('the console client', () => {
  it('is built from the sources as committed (run npm run build:console when this fails)', async () => {
    const built = await buildConsoleAssets();
    expect(built.module === (await readFile(GENERATED_PATH, 'utf8')), 'functions/console/assets.generated.ts is stale: run npm run build:console').toBe(true);
    // The first-load budget is 200 KB gzip for everything; the script and style sheet stay far below it.
    expect(built.sizes.script.gzip + built.sizes.style.gzip).toBeLessThan(60 * 1024);
  }, 60_000);

  it('serves each page shell, its assets by hashed name (gzip when asked), and 404s in the error shape', async () => {
    const app = consoleRoutes();
    for (const path of ['/', '/console', '/console/playground', '/console/usage', '/console/keys', '/console/fine-tuning']) {
      const page = await app.request(path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
      const html = await page.text();
      expect(html).toContain(`/console/assets/${CONSOLE_ASSETS.script.name}`);
      expect(html).toContain(`/console/assets/${CONSOLE_ASSETS.style.name}`);
      // Nothing from another origin: every src and href is local (or the empty data: icon).
      for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(url, path).toMatch(/^(\/|#|data:,$)/);
    }
    const plain = await app.request(`/console/assets/${CONSOLE_ASSETS.script.name}`);
    expect(plain.headers.get('content-type')).toContain('javascript');
    expect(plain.headers.get('cache-control')).toContain('immutable');
    expect(await plain.text()).toBe(CONSOLE_ASSETS.script.text);
    const zipped = await app.request(`/console/assets/${CONSOLE_ASSETS.style.name}`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString()).toBe(CONSOLE_ASSETS.style.text);
    for (const path of ['/console/nowhere', '/console/assets/app.js']) {
      const missing = await app.request(path);
      expect(missing.status, path).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });
});
