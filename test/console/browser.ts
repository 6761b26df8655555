/**
 * What the console's browser tests share: Debian's chromium under playwright-core (DESIGN.md's flags), pages that
 * record every console error and uncaught exception, sign-in through the page itself, and screenshots into
 * test-results/console/ (the README names the folder).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from '../paths.js';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SHOTS_DIR = join(repoRoot, 'test-results', 'console');

export const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;
export type ViewportName = keyof typeof VIEWPORTS;

export const chromiumMissing = !existsSync(CHROMIUM);

export const launch = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: FLAGS });

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** console.error messages and uncaught exceptions, in order. */
  problems: string[];
  /** Only the uncaught exceptions. */
  uncaught: string[];
}

export async function watchedPage(browser: Browser, viewport: ViewportName = 'desktop'): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: VIEWPORTS[viewport] });
  const page = await context.newPage();
  const problems: string[] = [];
  const uncaught: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => {
    problems.push(`uncaught: ${error.message}`);
    uncaught.push(error.message);
  });
  return { page, context, problems, uncaught };
}

/** Opens a console page and waits until its client has mounted it. */
export async function open(page: Page, url: string): Promise<void> {
  const response = await page.goto(url);
  if (response?.status() !== 200) throw new Error(`${url} answered ${response?.status()}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
}

/** Signs in through the sign-in page (the secrets go into this tab's sessionStorage, as a user's would). */
export async function signIn(page: Page, base: string, secrets: { apiKey?: string; adminToken?: string }): Promise<void> {
  await open(page, `${base}/`);
  if (secrets.apiKey) await page.getByLabel('API key').fill(secrets.apiKey);
  if (secrets.adminToken) await page.getByLabel('Admin token (optional)').fill(secrets.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.states .notice:not(:has-text("Checking"))').first().waitFor({ timeout: 15_000 });
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  const path = join(SHOTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** An admin API POST that must answer 201 (a tenant, a key), its body. */
export async function adminPost(base: string, adminToken: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const answer = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(answer.status, `${path}: ${await answer.clone().text()}`).toBe(201);
  return answer.json() as Promise<Record<string, unknown>>;
}
