import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { TraceResponseSchema } from '../../src/schemas/trace.js';
import { hasChromium, startPageServer } from '../helpers/browser.js';

const PROMPT = 'The capital of France is';

describe.skipIf(!hasChromium)('web page on llama-mini in headless Chromium', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ({ app, browser, page, base } = await startPageServer(
      { MODELS_DIR: path.join(PROJECT_ROOT, 'models'), DEFAULT_MODEL: 'gpt2-mini', MAX_NEW_TOKENS: 16 },
      { errors: consoleErrors },
    ));
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('offers both models and streams " Paris" from llama-mini, as /trace computes', async () => {
    const trace = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { prompt: PROMPT, model: 'llama-mini', hooks: ['blocks.0.attn.hook_rot_q'] },
    });
    expect(trace.statusCode).toBe(200);
    const traced = TraceResponseSchema.parse(trace.json());
    expect(traced.top_k[0]?.text).toBe(' Paris');

    await page.goto(base);
    await page.getByRole('status').filter({ hasText: 'Ready' }).waitFor();
    expect(await page.locator('#model option').allTextContents()).toEqual(['gpt2-mini', 'llama-mini']);
    await page.getByLabel('Model').selectOption('llama-mini');
    await page.getByLabel('Prompt text').fill(PROMPT);
    await page.getByLabel('Max new tokens').fill('3');
    await page.getByLabel('Prompt text').press('Enter');
    const first = page.locator('#tokens button[data-index="0"]');
    await first.waitFor();
    expect(await first.getAttribute('data-token-text')).toBe(' Paris');
    await page.getByRole('status').filter({ hasText: 'Done' }).waitFor();
    // Greedy: the continuation /trace computes (" Paris", ".", then <|end_of_text|> ends it within 3 tokens).
    const texts = await page
      .locator('#tokens button')
      .evaluateAll((bs) => bs.map((b) => b.getAttribute('data-token-text')));
    expect(texts[0]).toBe(' Paris');
    expect(texts.length).toBeLessThanOrEqual(3);
  });

  it("the prefill's attention: 4 heads of layer 0, a 6 x 6 grid each, masked above the diagonal", async () => {
    await page.locator('#tokens button[data-index="0"]').click();
    // BOS + the 5 prompt tokens, in one prefill pass.
    await expect.poll(() => page.locator('#step-meta').textContent()).toContain('6 prompt tokens');
    const heat = page.locator('svg.heatmap[data-layer="0"][data-head="0"]');
    await expect.poll(() => heat.locator('rect.cell').count()).toBe(36);
    expect(await heat.locator('rect.cell.masked').count()).toBe(15);
    expect(await page.locator('svg.heatmap[data-layer="0"]').count()).toBe(4);
  });

  it('the intervene panel keeps head ablation and patching, and disables the sweeps (GPT-2 only) with a sentence', async () => {
    await page.locator('#tokens button[data-index="0"]').click();
    await page.locator('#ablate #patch-source').waitFor();
    expect(await page.locator('#ablate button.head-toggle').count()).toBe(4);
    // The panel learns the model type from GET /models/llama-mini.
    await expect.poll(() => page.getByRole('button', { name: 'Sweep heads' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Patch sweep' }).isDisabled()).toBe(true);
    expect(await page.locator('#ablate .sweep-unsupported').textContent()).toContain(
      'Sweeps run on GPT-2 checkpoints only; llama-mini is a llama-family model',
    );
  });

  it("draws the running model's shape flow from its config: RoPE, 2 shared K/V heads, gated MLP", async () => {
    await expect.poll(() => page.locator('#shape-model').inputValue()).toBe('llama-mini');
    const stages = await page
      .locator('#shape-flow .stage')
      .evaluateAll((s) => s.map((x) => x.getAttribute('data-stage')));
    expect(stages).toEqual(
      expect.arrayContaining(['blocks.0.attn.rope', 'blocks.0.mlp.gate', 'blocks.0.attn.k', 'unembed']),
    );
    expect(await page.locator('#shape-flow text[data-dims="[128, 2048]"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#shape-flow .stage[data-stage="blocks.0.attn.k"]').textContent()).toContain(
      'each shared by 2 query heads',
    );
    expect(consoleErrors).toEqual([]);
  });
});
