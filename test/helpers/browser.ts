// Test helpers for the page tests: headless Chromium with the flags every one uses, and its console errors.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}

/** Push every console error and uncaught page error of `page` onto `into`. */
export function collectErrors(page: Page, into: string[]): void {
  page.on('console', (msg) => {
    if (msg.type() === 'error') into.push(msg.text());
  });
  page.on('pageerror', (err) => into.push(`pageerror: ${err.message}`));
}
