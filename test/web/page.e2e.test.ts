// End-to-end: the real server + the built page in headless Chromium, running a prompt over the live stream.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { TraceResponseSchema } from '../../src/schemas/trace.js';
import {
  CHROMIUM,
  hasChromium,
  PAGE_MODEL as MODEL,
  PAGE_MODELS_DIR as MODELS_DIR,
  PAGE_MODEL_TRAINED as useMini,
  startPageServer,
} from '../helpers/browser.js';

const ARTIFACTS = path.join(PROJECT_ROOT, 'test', 'artifacts');
const PROMPT = 'The capital of France is';
const PROMPT_TOKENS = 5; // "The", " capital", " of", " France", " is"

if (!hasChromium)
  process.stderr.write(`page.e2e: skipped, ${CHROMIUM} is absent (install Debian's chromium package)\n`);

describe.skipIf(!hasChromium)(`web page in headless Chromium (model ${MODEL})`, () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ({ app, browser, page, base } = await startPageServer(
      { MODELS_DIR, DEFAULT_MODEL: MODEL, MAX_NEW_TOKENS: 16 },
      { errors: consoleErrors },
    ));
    await mkdir(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('runs a prompt over the stream and shows the top next token the model computes', async () => {
    const trace = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { prompt: PROMPT, model: MODEL, hooks: ['blocks.0.hook_resid_pre'] },
    });
    expect(trace.statusCode).toBe(200);
    const expectedTop = TraceResponseSchema.parse(trace.json()).top_k[0].text;
    if (useMini) expect(expectedTop).toBe(' Paris');

    await page.goto(base);
    await page.getByRole('status').filter({ hasText: 'Ready' }).waitFor();
    await page.getByLabel('Prompt text').fill(PROMPT);
    await page.getByLabel('Max new tokens').fill('3');
    await page.getByLabel('Prompt text').press('Enter');

    // Tokens appear live; the first one is greedy, so it is the model's top next token.
    const first = page.locator('#tokens button[data-index="0"]');
    await first.waitFor();
    expect(await first.getAttribute('data-token-text')).toBe(expectedTop);
    await page.getByRole('status').filter({ hasText: 'Done' }).waitFor();
    // Three tokens unless the model ended the text early (greedy, so this is deterministic per checkpoint).
    const generated = await page.locator('#tokens button.tok.gen').count();
    expect(generated).toBeGreaterThanOrEqual(1);
    expect(generated).toBeLessThanOrEqual(3);
    // The landing view is the answer: the first generated token, not the newest (possibly end-of-text) one.
    await expect.poll(() => page.locator('#next-meta').textContent()).toContain('generated token 0 at position');
    const chosen = page.locator('#topk .topk-row.chosen');
    expect(await chosen.getAttribute('data-token-text')).toBe(expectedTop);
    // One count everywhere: the status line counts the chips.
    const chips = await page.locator('#tokens button.tok.gen').count();
    expect(await page.getByRole('status').textContent()).toContain(`Done: ${chips} token`);
  });

  it('a long prompt replaced by a short one and run at once is not refused (no stale token count)', async () => {
    const long = 'a'.repeat(1) + ' a'.repeat(useMini ? 80 : 40);
    await page.getByLabel('Prompt text').fill(long);
    await page
      .locator('#token-count')
      .filter({ hasText: /^\d+ tokens$/ })
      .waitFor();
    await page.getByLabel('Prompt text').fill(PROMPT);
    await page.getByLabel('Max new tokens').fill('1');
    await page.getByLabel('Prompt text').press('Enter');
    const status = page.getByRole('status');
    await status.filter({ hasText: 'Done' }).waitFor();
    expect(await status.getAttribute('class')).not.toContain('error');
    await page.getByLabel('Max new tokens').fill('3');
  });

  it('clicking the first generated token shows its distribution and the prefill: a 5 x 5 grid for layer 0 head 0', async () => {
    await page.locator('#tokens button[data-index="0"]').click();
    await expect.poll(() => page.locator('#tokens button[data-index="0"]').getAttribute('aria-pressed')).toBe('true');
    // Its next-token bars: the top candidate is the sampled (greedy) token.
    const top = page.locator('#topk .topk-row').first();
    expect(await top.getAttribute('class')).toContain('chosen');
    expect(await top.getAttribute('data-token-text')).toBe(
      await page.locator('#tokens button[data-index="0"]').getAttribute('data-token-text'),
    );
    const heat = page.locator('svg.heatmap[data-layer="0"][data-head="0"]');
    // Full grid: every (query, key) pair is a cell; the 10 future keys are drawn as masked cells.
    await expect.poll(() => heat.locator('rect.cell').count()).toBe(PROMPT_TOKENS * PROMPT_TOKENS);
    expect(await heat.locator('rect.cell.masked').count()).toBe((PROMPT_TOKENS * (PROMPT_TOKENS - 1)) / 2);
    expect(await page.locator('#step-meta').textContent()).toContain('Step 0 — prefill');
    await page.screenshot({ path: path.join(ARTIFACTS, 'page-1280x800.png') });
    await page.screenshot({ path: path.join(ARTIFACTS, 'page-1280x800-full.png'), fullPage: true });
  });

  it('switches the shape flow to Llama-3-8B and labels its matrices with exact dims', async () => {
    await page.getByLabel('Architecture').selectOption({ label: 'Llama-3-8B' });
    await page.getByLabel('Tokens', { exact: true }).fill('1024');
    await page.getByLabel('Tokens', { exact: true }).press('Enter');
    await page.locator('#shape-flow text[data-dims="[1024, 4096]"]').first().waitFor();
    expect(await page.locator('#shape-flow text[data-dims="[4096, 128]"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#params [data-total]').getAttribute('data-total')).toBe('8030261248');
  });

  it('is keyboard-operable: Tab follows the form in reading order', async () => {
    await page.locator('#prompt').focus();
    const order: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.id));
    }
    expect(order).toEqual(['model', 'max-new-tokens', 'temperature']);
  });

  it('is usable at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // The page redraws its figures for the new width on the next animation frames.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.locator('#run').scrollIntoViewIfNeeded();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'page-390-phone.png'), fullPage: true });
  });

  it("shows the server's sentence when a generation is refused", async () => {
    await page.getByLabel('Prompt text').fill('a '.repeat(2100));
    await page.getByLabel('Prompt text').press('Enter');
    const status = page.getByRole('status');
    await expect.poll(() => status.getAttribute('class')).toContain('error');
    expect(await status.textContent()).toMatch(/^The prompt is too long for .*n_ctx/);
    expect(await page.locator('#run').isEnabled()).toBe(true);
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
