import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app.js';
import { collectErrors, launchChromium, hasChromium } from '../helpers/browser.js';

describe.skipIf(!hasChromium)('/docs under the CSP in headless Chromium', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    app = await testApp();
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('renders the API reference with no console errors, and refuses an inline script', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    collectErrors(page, errors);
    const res = await page.goto(`${base}/docs`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('.swagger-ui .opblock', { timeout: 30_000 });
    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('tensortrace');
    expect(errors).toEqual([]);

    const refused = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective));
          const s = document.createElement('script');
          s.textContent = 'window.__ran = true';
          document.body.append(s);
          setTimeout(() => resolve((window as { __ran?: boolean }).__ran ? 'ran' : 'no event'), 2000);
        }),
    );
    expect(refused).toMatch(/^script-src/);
    await page.close();
  });
});
