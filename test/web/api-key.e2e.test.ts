import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { hasChromium, startPageServer } from '../helpers/browser.js';

const KEY = 'page-key-0123456789abcdef';

describe.skipIf(!hasChromium)('the page on a server with API_KEYS', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ({ app, browser, page, base } = await startPageServer(
      { MODELS_DIR: path.join(PROJECT_ROOT, 'test', 'fixtures'), DEFAULT_MODEL: 'tiny-gpt2', API_KEYS: KEY },
      { errors: consoleErrors },
    ));
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('asks for the key with the server’s sentence; a wrong key asks again; the right one runs the stream', async () => {
    await page.goto(base);
    const form = page.locator('#key-form');
    await form.waitFor();
    expect(await form.textContent()).toContain('This server needs an API key: send it as');
    await page.getByLabel('API key', { exact: true }).fill('not-the-key-0000000000');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await form.waitFor(); // after the reload: refused again, so asked again
    expect(await form.textContent()).toContain('The API key is not one this server accepts.');
    await page.getByLabel('API key', { exact: true }).fill(KEY);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('status').filter({ hasText: 'Ready' }).waitFor();
    expect(await form.count()).toBe(0);
    await page.getByLabel('Max new tokens').fill('2');
    await page.getByLabel('Prompt text').press('Enter');
    await page.getByRole('status').filter({ hasText: 'Done' }).waitFor();
    expect(await page.locator('#tokens button.tok.gen').count()).toBeGreaterThanOrEqual(1);
    // the run came over the stream, whose upgrade needs the key (sent as a subprotocol: a browser sets no headers
    // there); a plain fetch without the header is still refused
    const res = await page.evaluate(async () => (await fetch('/models')).status);
    expect(res).toBe(401);
  });

  it('logged no console errors but the refusals it provoked', () => {
    // Chromium logs each refused request (401) and the refused upgrade; nothing else may appear.
    const other = consoleErrors.filter((e) => !/401|WebSocket connection to .* failed/.test(e));
    expect(other).toEqual([]);
  });
});
