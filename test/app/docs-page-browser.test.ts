// GET /docs in headless Chromium, against the real Node server: the live explanation's words are visible and
// shaded green toward the label and red against it, as the signs of the attributions /v1/classify answers say,
// stronger for larger ones. Writes a screenshot of the section to /tmp/shots/docs-explain.png.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_SENTENCE } from '../../functions/app/routes/docs-example.js';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOT = '/tmp/shots/docs-explain.png';
// DESIGN.md's flags for Debian's chromium under playwright-core.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const missing = !existsSync(CHROMIUM);
// In CI the browser is installed by .ci/run: a missing one fails there instead of skipping.
const skip = missing && !process.env.CI;
const title = skip
  ? `GET /docs in headless Chromium (skipped: ${CHROMIUM} is missing; apt-get install -y chromium)`
  : 'GET /docs in headless Chromium';

interface ShownWord {
  text: string;
  attribution: number;
  title: string;
  rgba: [number, number, number, number];
  visible: boolean;
  width: number;
}

interface Answered {
  results: { label: string; score: number; explanation?: { words: { text: string; attribution: number }[] } }[][];
}

/** "rgb(r, g, b)" or "rgba(r, g, b, a)" as getComputedStyle gives it. */
function parseColour(css: string): [number, number, number, number] {
  const parts = css.match(/[\d.]+/g)!.map(Number);
  return [parts[0]!, parts[1]!, parts[2]!, parts[3] ?? 1];
}

describe.skipIf(skip)(title, () => {
  let server: RunningServer;
  let browser: Browser;
  let words: ShownWord[] = [];
  let legendVisible = false;
  let requestShown = '';

  beforeAll(async () => {
    if (missing) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
    server = await startServer({ port: 0, generation: false, fineTuning: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const response = await page.goto(`${server.url}/docs`);
    expect(response?.status()).toBe(200);
    const section = page.locator('#explanations');
    expect(await section.locator('.unavailable').count(), 'the page rendered no live example (are the classifiers given to docsRoutes?)').toBe(0);
    const shown = section.locator('.explained .word');
    await shown.first().waitFor({ state: 'visible', timeout: 10_000 });
    words = await Promise.all((await shown.all()).map(async (word) => ({
      text: (await word.textContent()) ?? '',
      attribution: Number(await word.getAttribute('data-attribution')),
      title: (await word.getAttribute('title')) ?? '',
      rgba: parseColour(await word.evaluate((el) => getComputedStyle(el).backgroundColor)),
      visible: await word.isVisible(),
      width: (await word.boundingBox())?.width ?? 0,
    })));
    legendVisible = await section.locator('.legend').isVisible();
    requestShown = (await section.locator('pre').first().textContent()) ?? '';
    mkdirSync(dirname(SHOT), { recursive: true });
    await section.screenshot({ path: SHOT });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows every word of the example, the same words and attributions /v1/classify answers with explain on', async () => {
    const answer = await fetch(`${server.url}/v1/classify`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: EXAMPLE_SENTENCE, explain: true }),
    });
    expect(answer.status).toBe(200);
    const explained = ((await answer.json()) as Answered).results[0]![0]!.explanation!.words;
    expect(words.map((w) => w.text)).toEqual(explained.map((w) => w.text));
    // The page ran the same batch of variants, alone on the engine as this request is: the same scores.
    for (const [i, word] of words.entries()) expect(Math.abs(word.attribution - explained[i]!.attribution)).toBeLessThan(1e-3);
    for (const word of words) {
      expect(word.visible).toBe(true);
      expect(word.width).toBeGreaterThan(0);
      expect(word.title).toContain(`${word.text}: ${word.attribution >= 0 ? '+' : '\u2212'}${Math.abs(word.attribution).toFixed(3)}`);
    }
    expect(requestShown).toContain(JSON.stringify({ input: EXAMPLE_SENTENCE, explain: true }));
  });

  it('shades words toward the label green and against it red, with opacity growing with the attribution', () => {
    const toward = words.filter((w) => w.attribution > 0);
    const against = words.filter((w) => w.attribution < 0);
    // The example sentence is chosen to pull both ways.
    expect(toward.length).toBeGreaterThan(0);
    expect(against.length).toBeGreaterThan(0);
    for (const { rgba: [r, g, , a] } of toward) {
      expect(g).toBeGreaterThan(r);
      expect(a).toBeGreaterThan(0.1);
    }
    for (const { rgba: [r, g, , a] } of against) {
      expect(r).toBeGreaterThan(g);
      expect(a).toBeGreaterThan(0.1);
    }
    const byMagnitude = [...toward, ...against].sort((x, y) => Math.abs(x.attribution) - Math.abs(y.attribution));
    const alphas = byMagnitude.map((w) => w.rgba[3]);
    for (let i = 1; i < alphas.length; i++) expect(alphas[i]!).toBeGreaterThanOrEqual(alphas[i - 1]! - 1e-3);
    expect(alphas.at(-1)!).toBeGreaterThan(alphas[0]!);
    expect(legendVisible).toBe(true);
    expect(existsSync(SHOT)).toBe(true);
  });
});
