// Test helpers for the page tests: headless Chromium with the flags every one uses, its console errors, and the
// built page served by a test app.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import type { BuildAppOptions } from '../../src/app.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { buildWeb } from '../../web/build.js';
import { testApp } from './app.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** The trained default model when it is present, else the committed tiny fixture (its top token is whatever it is). */
const useMini = existsSync(path.join(PROJECT_ROOT, 'models', 'gpt2-mini', 'model.safetensors'));
export const PAGE_MODELS_DIR = path.join(PROJECT_ROOT, useMini ? 'models' : path.join('test', 'fixtures'));
export const PAGE_MODEL = useMini ? 'gpt2-mini' : 'tiny-gpt2';
/** PAGE_MODEL is the trained gpt2-mini (whose answers, " Paris", are known). */
export const PAGE_MODEL_TRAINED = useMini;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Push every console error and uncaught page error of `page` onto `into`. */
export function collectErrors(page: Page, into: string[]): void {
  page.on('console', (msg) => {
    if (msg.type() === 'error') into.push(msg.text());
  });
  page.on('pageerror', (err) => into.push(`pageerror: ${err.message}`));
}

export interface PageServer {
  app: FastifyInstance;
  browser: Browser;
  page: Page;
  /** http://127.0.0.1:port */
  base: string;
}

/**
 * The page built and served (SERVE_WEB) by a test app with `config` on a loopback port, and a 1280x800 page in
 * headless Chromium; its console errors go to `opts.errors` when given. Close `browser` and `app` after the file.
 */
export async function startPageServer(
  config: BuildAppOptions['config'],
  opts: { errors?: string[]; context?: BrowserContextOptions } = {},
): Promise<PageServer> {
  await buildWeb();
  const app = await testApp({ SERVE_WEB: true, ...config });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts.context })).newPage();
  if (opts.errors) collectErrors(page, opts.errors);
  return { app, browser, page, base };
}
