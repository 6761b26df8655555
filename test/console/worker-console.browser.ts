// The same console served by the Worker inside workerd (wrangler dev, open mode, a fresh local D1): every page
// mounts without a console error (the API reference's Swagger UI too), its gzipped assets decode (workerd must not encode them twice), a classification
// through the playground runs on the Worker's own onnxruntime-web, and the usage page charts it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devEdgeReady, startDevEdge, stopDevEdge } from '../../bench/common/dev-edge.js';
import { chromiumMissing, CHROMIUM, launch, open, screenshot, watchedPage } from './browser.js';

const skip = chromiumMissing && !process.env.CI;

const freePort = () => new Promise<number>((done, fail) => {
  const probe = createServer().once('error', fail).listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => done(port));
  });
});

describe.skipIf(skip)('the web console served by the Worker (wrangler dev)', () => {
  let worker: ChildProcess;
  let browser: Browser;
  let base = '';
  let state = '';

  beforeAll(async () => {
    if (chromiumMissing) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
    state = mkdtempSync(join(tmpdir(), 'console-worker-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = await startDevEdge({ port, persistTo: state, auth: 'open' });
    [browser] = await Promise.all([launch(), devEdgeReady(worker)]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    if (worker) await stopDevEdge(worker);
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it('serves every page, classifies in the playground and charts the usage, without a console error', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await open(page, `${base}/`);
    await expect.poll(() => page.locator('.states').textContent()).toContain('open mode');
    await open(page, `${base}/console/playground`);
    await page.getByRole('textbox', { name: 'Texts, one per line' }).fill('A warm, funny and wonderful film.\nA dull and tedious mess.');
    await page.getByRole('button', { name: 'Classify' }).click();
    await page.locator('.result').nth(1).waitFor({ timeout: 30_000 });
    expect(await page.locator('.result').evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.topLabel))).toEqual(['POSITIVE', 'NEGATIVE']);
    await screenshot(page, 'worker-playground-desktop');
    await open(page, `${base}/console/usage`);
    await page.locator('.chart canvas').first().waitFor();
    const byModel = await page.locator('table[data-group="model"] tbody tr').evaluateAll((rows) =>
      Object.fromEntries(rows.map((r) => [r.querySelector('th')!.textContent, Number(r.querySelector('[data-requests]')?.getAttribute('data-requests'))])));
    expect(byModel['sst2-glove-bilstm@2']).toBe(1);
    await screenshot(page, 'worker-usage-desktop');
    for (const name of ['keys', 'fine-tuning']) await open(page, `${base}/console/${name}`);
    // Swagger UI, from the Worker's bundle (loaded on this page's first view), renders the Worker's own document at /docs.
    await open(page, `${base}/docs`);
    await page.locator('.opblock-summary-path[data-path="/v1/classify"]').waitFor({ timeout: 30_000 });
    expect(problems).toEqual([]);
    await context.close();
  });
});
