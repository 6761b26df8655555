// The web console in Debian's chromium against the real Node server (keys mode, admin token, fine-tuning, the
// embedded generation server), a second one in open mode, and a proxy that cuts a stream: every page loads without
// a console error at desktop and phone widths (screenshots in test-results/console/), the playground's classification
// and stream, the usage charts, the keys and fine-tuning pages, keyboard use and accessible names, and the messages
// for a wrong key and a server that went away mid-stream. The keys page is console-keys.browser.ts. `npm run test:browser`.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { adminPost, chromiumMissing, CHROMIUM, launch, open, screenshot, SHOTS_DIR, signIn, VIEWPORTS, watchedPage, type ViewportName } from './browser.js';
import { cutProxy, type CutProxy } from './cut-proxy.js';

const ADMIN = 'console-test-admin-token';
const skip = chromiumMissing && !process.env.CI;
const title = skip ? `the web console in Chromium (skipped: ${CHROMIUM} is missing; apt-get install -y chromium)` : 'the web console in Chromium';

interface Scored { label: string; score: number }

describe.skipIf(skip)(title, () => {
  let server: RunningServer;
  let openServer: RunningServer;
  let proxy: CutProxy;
  let browser: Browser;
  let apiKey = '';
  let dir = '';
  /** Classifications and generations this key made through the browser, for the usage page's numbers. */
  const made = { classify: 0, generate: 0 };

  const admin = (path: string, body: unknown) => adminPost(server.url, ADMIN, path, body);

  beforeAll(async () => {
    if (chromiumMissing) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
    dir = mkdtempSync(join(tmpdir(), 'console-browser-'));
    [server, openServer, browser] = await Promise.all([
      startServer({ port: 0, auth: 'keys', adminToken: ADMIN, usageDb: join(dir, 'keys.sqlite') }),
      startServer({ port: 0, auth: 'open', usageDb: join(dir, 'open.sqlite'), generation: false, fineTuning: false }),
      launch(),
    ]);
    proxy = await cutProxy(server.url);
    await admin('/admin/tenants', { id: 'acme' });
    apiKey = String((await admin('/admin/keys', { tenant: 'acme', name: 'browser test', monthly_budget_micro_usd: 1_000_000 })).key);
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await Promise.all([server?.close(), openServer?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const signedIn = async (viewport: ViewportName = 'desktop', base = server.url) => {
    const watched = await watchedPage(browser, viewport);
    await signIn(watched.page, base, { apiKey, adminToken: ADMIN });
    return watched;
  };

  it('says on the sign-in page that an open-mode server needs no key, and that a keys-mode one does', async () => {
    const { page, problems, context } = await watchedPage(browser);
    await open(page, `${openServer.url}/`);
    await expect.poll(() => page.locator('.states').textContent()).toContain('open mode: no API key is needed');
    await open(page, `${server.url}/`);
    await expect.poll(() => page.locator('.states').textContent()).toContain('needs an API key');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('classifies through the playground and shows the label the model gives, with bars and shaded words', async () => {
    const { page, problems, context } = await signedIn();
    await open(page, `${server.url}/console/playground`);
    const texts = ['An absolute delight: warm, funny and beautifully acted.', 'A tedious, clumsy mess that wasted two hours of my life.'];
    await page.getByRole('textbox', { name: 'Texts, one per line' }).fill(texts.join('\n'));
    await page.getByRole('button', { name: 'Classify' }).click();
    await page.locator('.result').nth(1).waitFor();
    made.classify += 1;
    const shown = await page.locator('.result').evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.topLabel));
    const answer = (await (await fetch(`${server.url}/v1/classify`, {
      method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: texts }),
    })).json()) as { results: Scored[][] };
    made.classify += 1;
    expect(shown).toEqual(answer.results.map((r) => r[0]!.label));
    expect(shown).toEqual(['POSITIVE', 'NEGATIVE']);
    // Every label has a bar whose width is its score; the words of each text are shaded (explain is on by default).
    const bars = await page.locator('.result').first().locator('.bars li').evaluateAll((rows) => rows.map((row) => ({
      label: (row as HTMLElement).dataset.label, width: (row.querySelector('.bar') as HTMLElement).style.width, name: row.querySelector('.bar-track')!.getAttribute('aria-label'),
    })));
    expect(bars.map((b) => b.label).sort()).toEqual(['NEGATIVE', 'POSITIVE']);
    expect(parseFloat(bars[0]!.width)).toBeCloseTo(answer.results[0]![0]!.score * 100, 0);
    expect(bars[0]!.name).toMatch(/^POSITIVE \d+\.\d %$/);
    expect(await page.locator('.result').first().locator('.word').count()).toBeGreaterThan(5);
    // The snippet repeats the request, never the key.
    const snippet = (await page.locator('.snippet').textContent()) ?? '';
    expect(snippet).toContain('/v1/classify');
    expect(snippet).toContain('$EDGE_MAAS_API_KEY');
    expect(snippet).not.toContain(apiKey);
    await page.getByRole('button', { name: '@huggingface/inference' }).click();
    expect(await page.locator('.snippet').textContent()).toContain('textClassification');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('streams a generation in token by token, then shows its latency, tokens and cost', async () => {
    const { page, problems, context } = await signedIn();
    await open(page, `${server.url}/console/playground`);
    await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption({ label: 'stories260K@1 (generation)' });
    await page.getByRole('combobox', { name: 'Mode', exact: true }).selectOption('completion');
    await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('80');
    // Each batch of tokens the page adds, with the time it came: a stream shown at the end would be one batch.
    await page.evaluate(() => {
      const w = window as unknown as { batches: { at: number; tokens: number }[] };
      w.batches = [];
      new MutationObserver(() => {
        w.batches.push({ at: performance.now(), tokens: document.querySelectorAll('.stream .token').length });
      }).observe(document.getElementById('page')!, { childList: true, subtree: true });
    });
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => page.locator('.meta').textContent(), { timeout: 30_000 }).toContain('in all');
    made.generate += 1;
    const batches = await page.evaluate(() => (window as unknown as { batches: { at: number; tokens: number }[] }).batches.filter((b) => b.tokens > 0));
    const counts = [...new Set(batches.map((b) => b.tokens))];
    expect(counts.length, 'tokens arrived in several steps').toBeGreaterThanOrEqual(5);
    expect(batches.at(-1)!.at - batches[0]!.at, 'over some time').toBeGreaterThan(5);
    const meta = (await page.locator('.meta').textContent()) ?? '';
    expect(meta).toMatch(/first token after [\d.]+ ms/);
    expect(meta).toMatch(/\d+ prompt \+ 80 completion tokens/);
    expect(meta).toMatch(/\$[\d.]+ at list price/);
    expect((await page.locator('.stream').textContent())!.length).toBeGreaterThan(20);
    await screenshot(page, 'playground-stream-desktop');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the requests just made on the usage page: the chart, the tables and the budget', async () => {
    const { page, problems, context } = await signedIn();
    await open(page, `${server.url}/console/usage`);
    await page.locator('.chart canvas').first().waitFor();
    const today = new Date().toISOString().slice(0, 10);
    const byModel = await page.locator('table[data-group="model"] tbody tr').evaluateAll((rows) =>
      Object.fromEntries(rows.map((r) => [r.querySelector('th')!.textContent, Number(r.querySelector('[data-requests]')!.getAttribute('data-requests'))])));
    expect(byModel['sst2-glove-bilstm@2']).toBe(made.classify);
    expect(byModel['stories260K@1'] ?? byModel.stories260K).toBe(made.generate);
    // The requests chart's numbers: today's bar holds at least those (the console's own API calls count too).
    const todays = Number(await page.locator(`.chart:has-text("Requests by day") tr[data-day="${today}"] td`).getAttribute('data-value'));
    expect(todays).toBeGreaterThanOrEqual(made.classify + made.generate);
    expect(await page.locator('.chart canvas').count()).toBeGreaterThanOrEqual(3);
    // The canvas is drawn on (not blank).
    const inked = await page.locator('.chart canvas').first().evaluate((canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n += 1;
      return n;
    });
    expect(inked).toBeGreaterThan(500);
    expect(await page.locator('table[data-group="key"] tbody tr').count()).toBe(1);
    expect(await page.getByRole('meter', { name: 'Budget used' }).count()).toBe(1);
    expect(await page.locator('#budget-heading + meter + p').textContent()).toContain('of $1.00');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csvPath = join(dir, 'usage.csv');
    await (await download).saveAs(csvPath);
    const csv = readFileSync(csvPath, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('group_by,group,requests,input_tokens,output_tokens,cost_usd');
    expect(csv).toContain(csv.find((line) => line.startsWith(`model,sst2-glove-bilstm@2,${made.classify},`)));
    expect(problems).toEqual([]);
    await context.close();
  });

  it('works from the keyboard alone, and its main controls have accessible names', async () => {
    const { page, problems, context } = await signedIn();
    await open(page, `${server.url}/console/playground`);
    for (const [role, name] of [['navigation', 'Console'], ['link', 'Usage'], ['link', 'API reference'], ['combobox', 'Model'],
      ['textbox', 'Texts, one per line'], ['checkbox', /^Explain/], ['button', 'Classify']] as const) {
      expect(await page.getByRole(role, { name }).count(), `${role} "${name}"`).toBe(1);
    }
    // Tab from the top of the page to the Classify button, then press Enter.
    await page.locator('body').focus();
    const visited: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        return `${el.tagName.toLowerCase()}:${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? ''}`;
      });
      visited.push(focused);
      if (focused === 'button:Classify') break;
    }
    expect(visited[0]).toBe('a:Skip to content');
    expect(visited).toContain('a:Usage');
    expect(visited.at(-1)).toBe('button:Classify');
    await page.keyboard.press('Enter');
    await page.locator('.result').first().waitFor();
    made.classify += 1;
    // The skip link takes focus to the page's content.
    await page.keyboard.press('Shift+Tab');
    await open(page, `${server.url}/console/usage`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('says clearly that a wrong key was refused, on the sign-in page and on the pages that need it', async () => {
    const { page, uncaught, context } = await watchedPage(browser);
    await signIn(page, server.url, { apiKey: 'sk-not-a-real-key' });
    const refusal = page.getByRole('alert');
    await expect.poll(() => refusal.textContent()).toMatch(/The API key was refused: 401: .+Check the API key on the Sign in page\./);
    await open(page, `${server.url}/console/playground`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The models could not be listed: 401/);
    await open(page, `${server.url}/console/usage`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The usage could not be read: 401/);
    await screenshot(page, 'wrong-key-desktop');
    // An admin token that no longer works (rotated, mistyped): said on sign-in and on the keys page.
    await signIn(page, server.url, { apiKey, adminToken: 'an-old-admin-token' });
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The admin token was refused: 401: .+Check the admin token on the Sign in page\./);
    await open(page, `${server.url}/console/keys`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/The keys could not be listed: 401/);
    expect(uncaught).toEqual([]);
    await context.close();
  });

  it('says that the server went away when a stream is cut off, keeping what arrived', async () => {
    const { page, uncaught, context } = await signedIn('desktop', proxy.url);
    await open(page, `${proxy.url}/console/playground`);
    await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption({ label: 'stories260K@1 (generation)' });
    await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('200');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 30_000 }).toContain('lost mid-stream');
    expect(proxy.cuts).toBe(1);
    expect(await page.locator('.stream .token').count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Generate' }).isEnabled()).toBe(true);
    await screenshot(page, 'stream-cut-desktop');
    expect(uncaught).toEqual([]);
    await context.close();
  });

  it('checks a training file by line, trains on a good one with live progress and loss, shows per-label metrics, and tries the model', async () => {
    const { page, problems, context } = await signedIn();
    await open(page, `${server.url}/console/fine-tuning`);
    const upload = page.getByLabel('Training file (JSON lines)');
    await upload.setInputFiles({ name: 'bad.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from('{"text": "fine", "label": "ok"}\nnot json\n{"text": "no label"}\n') });
    const problemsShown = page.getByRole('alert');
    await expect.poll(() => problemsShown.textContent()).toContain('bad.jsonl is not a training file: 2 problems');
    expect(await problemsShown.locator('li').allTextContents()).toEqual(['line 2: not JSON', 'line 3: "label" must be a non-empty string']);
    expect(await page.getByRole('button', { name: 'Upload and start training' }).isDisabled()).toBe(true);
    await screenshot(page, 'fine-tuning-bad-file-desktop');
    // A file the page cannot fault but the server refuses (a label longer than a label may be): its message, with the line.
    await upload.setInputFiles({ name: 'long-label.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(`{"text": "a", "label": "x"}\n{"text": "b", "label": "${'y'.repeat(300)}"}\n`) });
    await page.getByRole('button', { name: 'Upload and start training' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 20_000 }).toMatch(/The job was not started: 400: .*line 2/);
    // The browser logs the refused upload as a failed resource, and that is all that went to the console.
    expect(problems).toEqual([expect.stringContaining('status of 400')]);
    problems.length = 0;
    const rows: string[] = [];
    const good = ['a joyful, moving film', 'brilliant and funny', 'I loved every minute', 'a warm, wonderful story', 'superb acting and a great script', 'charming and delightful'];
    const bad = ['a dull, lifeless film', 'boring and far too long', 'I hated every minute', 'a clumsy, tedious mess', 'terrible acting and a weak script', 'ugly and unpleasant'];
    for (let i = 0; i < 4; i += 1) {
      for (const text of good) rows.push(JSON.stringify({ text: `${text} ${i}`, label: 'happy' }));
      for (const text of bad) rows.push(JSON.stringify({ text: `${text} ${i}`, label: 'sad' }));
    }
    await upload.setInputFiles({ name: 'moods.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(`${rows.join('\n')}\n`) });
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'moods.jsonl: 48 examples' }).count()).toBe(1);
    await page.getByRole('spinbutton', { name: 'Epochs' }).fill('3');
    await page.getByRole('button', { name: 'Upload and start training' }).click();
    const tryIt = page.getByRole('link', { name: /^Try ft:.+ in the playground$/ });
    await tryIt.waitFor({ timeout: 90_000 });
    // The loss was drawn as it came: a point per step event, and a hold-out accuracy per epoch.
    expect(await page.locator('.chart:has-text("Training loss") td[data-value]').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('.chart:has-text("Hold-out accuracy") td[data-value]').count()).toBe(3);
    expect(await page.getByRole('progressbar', { name: 'Training progress' }).getAttribute('value')).toBe('1');
    expect((await page.locator('table[data-metrics] tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.label))).sort()).toEqual(['happy', 'sad']);
    await screenshot(page, 'fine-tuning-done-desktop');
    await tryIt.click();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.getByRole('combobox', { name: 'Model', exact: true }).inputValue()).toMatch(/^ft:/);
    await page.getByRole('textbox', { name: 'Texts, one per line' }).fill('a joyful and brilliant story');
    await page.getByRole('button', { name: 'Classify' }).click();
    await page.locator('.result').first().waitFor();
    expect(await page.locator('.result').first().getAttribute('data-top-label')).toBe('happy');
    expect(problems).toEqual([]);
    await context.close();
  });

  it.each(['/console/reference', '/docs'])('renders the API reference at %s with Swagger UI from this server, and tries /v1/classify with the signed-in key', async (path) => {
    const { page, problems, context } = await signedIn();
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) outside.push(request.url());
    });
    await open(page, `${server.url}${path}`);
    const classify = page.locator('.opblock-post:has(.opblock-summary-path[data-path="/v1/classify"])');
    await classify.locator('.opblock-summary').first().click();
    await classify.getByRole('button', { name: 'Try it out' }).click();
    await classify.locator('textarea.body-param__text').fill(JSON.stringify({ input: 'A wonderful, moving film.' }));
    await classify.getByRole('button', { name: 'Execute' }).click();
    const status = classify.locator('.live-responses-table .response .response-col_status');
    await expect.poll(() => status.first().textContent(), { timeout: 20_000 }).toContain('200');
    made.classify += 1;
    expect(await classify.locator('.live-responses-table').first().textContent()).toContain('POSITIVE');
    // The 200 in keys mode says the key went with it; the curl Swagger UI shows has the header (the document's bearer
    // scheme tells it the operation takes one) with a placeholder for the key: no secret on the page.
    const curl = await classify.locator('.curl-command').textContent();
    expect(curl).toContain("-H 'Authorization: Bearer <your API key>'");
    expect(curl).not.toContain(apiKey);
    expect(curl).not.toMatch(/[?&](api_)?key=/);
    await classify.locator('.live-responses-table').first().scrollIntoViewIfNeeded();
    await screenshot(page, path === '/docs' ? 'docs-try-it-desktop' : 'reference-try-it-desktop', false);
    expect(outside, 'nothing fetched from outside the deployment').toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('loads every page without a console error, at desktop and phone widths (screenshots)', async () => {
    const shots: string[] = [];
    for (const viewport of Object.keys(VIEWPORTS) as ViewportName[]) {
      const { page, problems, context } = await signedIn(viewport);
      shots.push(await screenshot(page, `home-${viewport}`));
      for (const name of ['playground', 'usage', 'keys', 'fine-tuning', 'reference']) {
        await open(page, `${server.url}/console/${name}`);
        if (name === 'playground') {
          await page.getByRole('button', { name: 'Classify' }).click();
          await page.locator('.result').first().waitFor();
          made.classify += 1;
        }
        if (name === 'usage') await page.locator('.chart canvas').first().waitFor();
        if (name === 'reference') await page.locator('.opblock').first().waitFor();
        await page.waitForLoadState('networkidle');
        shots.push(await screenshot(page, `${name}-${viewport}`));
        // Nothing wider than the viewport (no sideways scrolling on a phone).
        expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at ${viewport}`).toBeLessThanOrEqual(VIEWPORTS[viewport].width);
      }
      expect(problems, viewport).toEqual([]);
      await context.close();
    }
    expect(shots.length).toBe(12);
  });

  it('loads its first page within 200 KB gzip and becomes interactive within 1 s (measured, written to first-load.json)', async () => {
    const { page, context, problems } = await watchedPage(browser);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    let transferred = 0;
    const requests: string[] = [];
    cdp.on('Network.loadingFinished', (event) => {
      transferred += event.encodedDataLength;
    });
    page.on('request', (request) => requests.push(new URL(request.url()).pathname));
    await open(page, `${openServer.url}/`);
    await page.getByRole('status').filter({ hasText: 'open mode' }).waitFor();
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { domInteractive: nav.domInteractive, domContentLoaded: nav.domContentLoadedEventEnd, now: performance.now() };
    });
    const measured = { bytesTransferred: transferred, requests, domInteractiveMs: timing.domInteractive, domContentLoadedMs: timing.domContentLoaded, readyMs: timing.now };
    mkdirSync(SHOTS_DIR, { recursive: true });
    writeFileSync(join(SHOTS_DIR, 'first-load.json'), `${JSON.stringify(measured, null, 2)}\n`);
    console.log(`console first load: ${(transferred / 1024).toFixed(1)} KiB transferred over ${requests.length} requests, ready (signed-in state shown) after ${timing.now.toFixed(0)} ms`);
    expect(transferred).toBeLessThanOrEqual(200 * 1024);
    expect(timing.now).toBeLessThanOrEqual(1000);
    expect(problems).toEqual([]);
    await context.close();
  });
});
