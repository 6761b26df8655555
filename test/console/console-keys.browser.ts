// The console's keys page in Debian's chromium against the real Node server in keys mode (admin token): tenants and
// keys listed, created (the secret shown once), disabled, enabled and revoked; a key's limits and budget edited from
// the keyboard, every unreadable entry refused on the page, the change applied from the next request.
// `npm run test:browser`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { adminPost, chromiumMissing, CHROMIUM, launch, open, screenshot, signIn, VIEWPORTS, watchedPage, type ViewportName } from './browser.js';

const ADMIN = 'console-keys-test-admin-token';
const skip = chromiumMissing && !process.env.CI;
const title = skip ? `the console's keys page in Chromium (skipped: ${CHROMIUM} is missing; apt-get install -y chromium)` : "the console's keys page in Chromium";

describe.skipIf(skip)(title, () => {
  let server: RunningServer;
  let browser: Browser;
  let dir = '';

  const admin = (path: string, body: unknown) => adminPost(server.url, ADMIN, path, body);

  beforeAll(async () => {
    if (chromiumMissing) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
    dir = mkdtempSync(join(tmpdir(), 'console-keys-browser-'));
    [server, browser] = await Promise.all([
      startServer({ port: 0, auth: 'keys', adminToken: ADMIN, usageDb: join(dir, 'keys.sqlite'), generation: false, fineTuning: false }),
      launch(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const signedIn = async (viewport: ViewportName = 'desktop') => {
    const watched = await watchedPage(browser, viewport);
    await signIn(watched.page, server.url, { adminToken: ADMIN });
    return watched;
  };

  it('lists, creates (the secret shown once), disables, enables and revokes keys on the keys page', async () => {
    const { page, problems, context } = await signedIn();
    await open(page, `${server.url}/console/keys`);
    await page.getByRole('textbox', { name: 'New tenant id' }).fill('beta');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Tenant beta created' }).count()).toBe(1);
    // The tenant field was filled in for the key.
    expect(await page.getByRole('combobox', { name: 'Tenant' }).inputValue()).toBe('beta');
    await page.getByRole('textbox', { name: 'Name' }).fill('console key');
    // A budget that is no amount is refused on the page, not sent as no budget (a number input read "5e" as empty).
    await page.getByRole('textbox', { name: 'Monthly budget (USD)' }).fill('5e');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'The key was not created: Monthly budget: "5e" is not an amount in dollars' }).count()).toBe(1);
    await page.getByRole('textbox', { name: 'Monthly budget (USD)' }).fill('5');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretBox = page.getByRole('textbox', { name: 'The new key' });
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    const asKey = (key: string) => fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
    expect(await asKey(secret)).toBe(200);
    const row = page.locator('tr', { hasText: 'console key' });
    await row.waitFor();
    expect(await row.locator('td').nth(5).textContent()).toBe('$5.00');
    // The secret is on the page once, in the box; the table shows only its prefix.
    expect(await page.locator('table').textContent()).not.toContain(secret);
    await page.getByRole('button', { name: 'Disable console key' }).click();
    // The next action takes the secret off the page.
    await expect.poll(() => secretBox.count()).toBe(0);
    await expect.poll(() => row.getAttribute('data-status')).toBe('disabled');
    expect(await asKey(secret)).toBe(403);
    await page.getByRole('button', { name: 'Enable console key' }).click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('active');
    expect(await asKey(secret)).toBe(200);
    await page.getByRole('button', { name: 'Revoke console key' }).click();
    await page.getByRole('button', { name: 'Confirm: revoke console key for good' }).click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('revoked');
    expect(await asKey(secret)).toBe(403);
    await screenshot(page, 'keys-after-revoke-desktop');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('edits a key\'s limits on the keys page from the keyboard: a wrong value refused on the page, a lower limit answered 429 at once', async () => {
    await admin('/admin/tenants', { id: 'limits' });
    const { key } = await admin('/admin/keys', { tenant: 'limits', name: 'limits key', rpm: 100 }) as { key: string };
    const classify = () => fetch(`${server.url}/v1/classify`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'a fine film' }) })
      .then((r) => r.status);
    expect(await classify()).toBe(200);
    const { page, problems, context } = await signedIn();
    await open(page, `${server.url}/console/keys`);
    const row = page.locator('tr', { hasText: 'limits key' });
    const edit = page.getByRole('button', { name: 'Edit limits of limits key' });
    expect(await edit.getAttribute('aria-expanded')).toBe('false');
    await edit.focus();
    await page.keyboard.press('Enter');
    const form = page.getByRole('form', { name: 'Limits of limits key' });
    const rpm = form.getByRole('spinbutton', { name: 'Requests per minute' });
    // The form opens filled with the key's figures, with the focus in its first field.
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('rpm');
    expect(await rpm.inputValue()).toBe('100');
    expect(await edit.getAttribute('aria-expanded')).toBe('true');
    // Escape closes it, the focus back on its button.
    await page.keyboard.press('Escape');
    await expect.poll(() => form.count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Edit limits of limits key');
    await page.keyboard.press('Enter');
    await rpm.waitFor();
    const budget = form.getByRole('textbox', { name: 'Monthly budget (USD)' });
    const noBudget = form.getByRole('checkbox', { name: 'No budget (no monthly cap)' });
    const patches: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PATCH') patches.push(request.postData() ?? '');
    });
    // What the form cannot read is refused on the page, in the units typed, and nothing is sent.
    const refusedOnPage: [string, string, RegExp][] = [
      ['rpm', '-5', /^Requests per minute: enter a whole number from 1 to 1,000,000\.$/],
      ['rpm', '2.5', /^Requests per minute: enter a whole number/],
      ['budget', '5e', /^Monthly budget: "5e" is not an amount in dollars/],
      ['budget', '-1', /^Monthly budget: must be 0 or more dollars\.$/],
      ['budget', '1,5', /^Monthly budget: "1,5" has a comma: write dollars with a decimal point/],
      ['budget', '2.5.1', /^Monthly budget: "2.5.1" is not an amount in dollars/],
      ['budget', '0.0000001', /^Monthly budget: "0.0000001" has more than 6 decimals: the smallest step is \$0.000001 \(enter 0 for free requests only\)/],
      ['budget', '', /^Monthly budget: enter an amount in dollars.*To take the budget away, tick "No budget"\.$/],
    ];
    for (const [which, typed, message] of refusedOnPage) {
      // The field typed in last holds the focus, and Enter there submits.
      if (which === 'rpm') {
        await noBudget.check();
        await rpm.fill(typed);
      } else {
        await noBudget.uncheck();
        await rpm.fill('100');
        await budget.fill(typed);
      }
      await page.keyboard.press('Enter');
      await expect.poll(() => form.getByRole('alert').textContent(), { message: `${which} ${JSON.stringify(typed)}` }).toMatch(message);
      expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe(which);
    }
    expect(patches).toEqual([]);
    expect(await row.locator('td').nth(5).textContent()).toBe('none');
    // The "No budget" box holds the amount field off; unticked, a budget of 0 is free requests only.
    await noBudget.check();
    expect(await budget.isDisabled()).toBe(true);
    await noBudget.uncheck();
    await budget.fill('0');
    await form.getByRole('button', { name: 'Save limits' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'within $0 a month' }).count()).toBe(1);
    expect(patches).toEqual(['{"monthly_budget_micro_usd":0}']);
    await edit.click();
    // An answer of 200 without the key (an odd proxy's) is said plainly, not as a script error.
    await page.route('**/admin/keys/*', (route) => (route.request().method() === 'PATCH' ? route.fulfill({ status: 200, contentType: 'application/json', body: '{}' }) : route.fallback()));
    await noBudget.check();
    await form.getByRole('button', { name: 'Save limits' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toBe('The server answered without the key\'s limits, so whether they changed is unknown: reload the page to see the key as it is now.');
    await page.unroute('**/admin/keys/*');
    // The server's own refusal is shown in the form: the key was revoked while the form was open.
    const { id: gone } = await admin('/admin/keys', { tenant: 'limits', name: 'gone key' }) as { id: string };
    await open(page, `${server.url}/console/keys`);
    await page.getByRole('button', { name: 'Edit limits of gone key' }).click();
    const goneForm = page.getByRole('form', { name: 'Limits of gone key' });
    await goneForm.getByRole('spinbutton', { name: 'Requests per minute' }).fill('7');
    expect((await fetch(`${server.url}/admin/keys/${gone}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    await goneForm.getByRole('button', { name: 'Save limits' }).click();
    await expect.poll(() => goneForm.getByRole('alert').textContent()).toMatch(/The limits were not changed: 409: key "key_\w+" is revoked for good/);
    // The refused PATCH is logged by the browser as a failed resource, and that is all.
    expect(problems).toEqual([expect.stringContaining('status of 409')]);
    problems.length = 0;
    await page.getByRole('button', { name: 'Edit limits of limits key' }).click();
    await rpm.waitFor();
    await noBudget.uncheck();
    await rpm.fill('1');
    await budget.fill('3');
    await screenshot(page, 'keys-edit-limits-desktop');
    await form.getByRole('button', { name: 'Save limits' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'now allows 1 requests' }).count()).toBe(1);
    await expect.poll(() => row.locator('td').nth(3).textContent()).toBe('1');
    expect(await row.locator('td').nth(5).textContent()).toBe('$3.00');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Edit limits of limits key');
    // Applied from the next request: a bucket of one request, then 429.
    expect([await classify(), await classify()][1]).toBe(429);
    expect(problems).toEqual([]);
    await context.close();
    // On a phone the open form stays within the screen.
    const phone = await signedIn('phone');
    await open(phone.page, `${server.url}/console/keys`);
    await phone.page.getByRole('button', { name: 'Edit limits of limits key' }).click();
    const phoneForm = phone.page.getByRole('form', { name: 'Limits of limits key' });
    await phoneForm.waitFor();
    const box = (await phoneForm.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(VIEWPORTS.phone.width);
    await phoneForm.scrollIntoViewIfNeeded();
    await screenshot(phone.page, 'keys-edit-limits-phone');
    expect(phone.problems).toEqual([]);
    await phone.context.close();
  });
});
