// End-to-end in headless Chromium: a stage of the shape flow opens its real tensor (checked against POST /trace),
// the next-token controls reshape the distribution without a request, and the true-size toggle.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { TraceResponseSchema } from '../../src/schemas/trace.js';
import {
  hasChromium,
  PAGE_MODEL as MODEL,
  PAGE_MODELS_DIR as MODELS_DIR,
  PAGE_MODEL_TRAINED as useMini,
  startPageServer,
} from '../helpers/browser.js';

const ARTIFACTS = path.join(PROJECT_ROOT, 'test', 'artifacts');
const PROMPT = 'The capital of France is';

describe.skipIf(!hasChromium)(`tensor values in headless Chromium (model ${MODEL})`, () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  const consoleErrors: string[] = [];
  const traceRequests: string[] = [];

  beforeAll(async () => {
    ({ app, browser, page, base } = await startPageServer(
      { MODELS_DIR, DEFAULT_MODEL: MODEL, MAX_NEW_TOKENS: 16 },
      { errors: consoleErrors },
    ));
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url().endsWith('/trace')) traceRequests.push(req.postData() ?? '');
    });
    await mkdir(ARTIFACTS, { recursive: true });
    await page.goto(base);
    await page.getByRole('status').filter({ hasText: 'Ready' }).waitFor();
    await page.getByLabel('Prompt text').fill(PROMPT);
    await page.getByLabel('Max new tokens').fill('3');
    await page.getByLabel('Prompt text').press('Enter');
    await page.getByRole('status').filter({ hasText: 'Done' }).waitFor();
    await page.locator('#tokens button[data-index="0"]').click();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('clicking "Q projection" shows the values of blocks.0.attn.hook_q equal to /trace', async () => {
    const ref = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { prompt: PROMPT, model: MODEL, hooks: ['blocks.0.attn.hook_q'], detail: 'full', logit_lens: false },
    });
    expect(ref.statusCode).toBe(200);
    const hook = TraceResponseSchema.parse(ref.json()).hooks[0];
    const [pos, heads, dHead] = hook.shape;
    expect(pos).toBe(5);

    const stage = page.locator('#shape-flow .stage[data-stage="blocks.0.attn.q"]');
    await stage.waitFor();
    await stage.click();
    const values = page.locator('.stage-values .tensor-values[data-hook="blocks.0.attn.hook_q"]');
    await values.waitFor();
    expect(await values.getAttribute('data-shape')).toBe(`[${pos}, ${heads}, ${dHead}]`);
    // One tile per head, every value its own cell, each cell carrying the exact float32 value from /trace.
    const tiles = values.locator('svg.tensor-map');
    expect(await tiles.count()).toBe(heads);
    const drawn = await values.evaluate((el) =>
      Array.from(el.querySelectorAll('svg.tensor-map')).map((svg) =>
        Array.from(svg.querySelectorAll('rect.cell')).map((r) => Number(r.getAttribute('data-v'))),
      ),
    );
    const expected = hook.values ?? [];
    for (let hd = 0; hd < heads; hd++)
      for (let p = 0; p < pos; p++)
        for (let d = 0; d < dHead; d++) expect(drawn[hd][p * dHead + d]).toBe(expected[(p * heads + hd) * dHead + d]);
    // The printed first values, as in the walk-through.
    const first = (expected[0] as number).toFixed(3);
    const printed = ((await values.locator('.first-values').textContent()) ?? '').split('\n');
    expect(printed[0]).toBe('head 0:');
    // Labels are padded to one width, as in the post's list.
    expect(printed[1].replace(/ +=/, ' =')).toMatch(new RegExp(`^The = \\[${first.replace('.', '\\.')}, `));
    // Hover gives the exact value.
    await tiles.first().locator('rect.cell').nth(1).hover();
    expect(await values.locator('.tensor-readout').textContent()).toContain(String(expected[1]));
    await stage.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'tensor-q-1280x800.png') });
  });

  it('opens a stage from the keyboard and shows the logits overview at the last position', async () => {
    const stage = page.locator('#shape-flow .stage[data-stage="unembed"]');
    await stage.focus();
    await page.keyboard.press('Enter');
    const values = page.locator('.stage-values .tensor-values[data-hook="logits"]');
    await values.waitFor();
    expect(await values.getAttribute('data-shape')).toMatch(/^\[1, \d+\]$/);
    expect(Number(await values.locator('svg.tensor-map').getAttribute('data-col-step'))).toBeGreaterThan(1);
  });

  it('the temperature / top-k / top-p controls reshape the drawn-from bars without a request', async () => {
    const ref = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { prompt: PROMPT, model: MODEL, hooks: [], logit_lens: false, top_k: 3 },
    });
    const top = TraceResponseSchema.parse(ref.json()).top_k;
    const rows = page.locator('#dist .dist-row');
    await rows.first().waitFor();
    // The run was greedy: the argmax is drawn with probability 1, everything else is excluded.
    expect(Number(await rows.first().getAttribute('data-drawn'))).toBe(1);
    expect(await rows.nth(1).getAttribute('class')).toContain('excluded');
    const requestsBefore = traceRequests.length;
    await page.locator('#dist-temperature').evaluate((el: HTMLInputElement) => {
      el.value = '1';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    // T = 1, no filter: the bars are the model's softmax, as /trace computes it.
    await expect.poll(async () => Number(await rows.first().getAttribute('data-drawn'))).toBeLessThan(1);
    expect(Number(await rows.first().getAttribute('data-drawn'))).toBeCloseTo(top[0].prob, 9);
    expect(Number(await rows.nth(1).getAttribute('data-drawn'))).toBeCloseTo(top[1].prob, 9);
    await page.locator('#dist-top-k').fill('2');
    await expect.poll(() => page.locator('#dist .dist-summary').getAttribute('data-kept')).toBe('2');
    expect(await rows.nth(2).getAttribute('class')).toContain('excluded');
    const p0 = Number(await rows.first().getAttribute('data-drawn'));
    expect(p0).toBeCloseTo(top[0].prob / (top[0].prob + top[1].prob), 9);
    expect(traceRequests.length).toBe(requestsBefore);
    await page.locator('#next-title').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'drawn-from-1280x800.png') });
  });

  it('residual norm per position x layer: the last column is the ‖resid‖ npm run watch prints', async () => {
    // watch asks the stream for the prefill's last position, so its ‖resid‖ is that summary's l2_norm.
    const ref = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: {
        prompt: PROMPT,
        model: MODEL,
        hooks: ['blocks.*.hook_resid_post'],
        positions: 'last',
        logit_lens: false,
      },
    });
    const hooks = TraceResponseSchema.parse(ref.json()).hooks;
    const grid = page.locator('#resid-positions svg.resid-grid');
    await grid.waitFor();
    expect(await grid.locator('rect.cell[data-stage="embed"]').count()).toBe(5);
    for (const hk of hooks) {
      const cell = grid.locator(`rect.cell[data-stage="L${hk.layer}"][data-position="4"]`);
      expect(Number(await cell.getAttribute('data-norm'))).toBeCloseTo(hk.stats.l2_norm, 6);
    }
    expect(await page.locator('#lens-embed-note').textContent()).toContain('embed');
  });

  it('ablating a head shows p(top token) before and after, equal to /trace with the same intervention', async () => {
    const target = (await page.locator('#tokens button[data-index="0"]').getAttribute('data-token-text')) ?? '';
    if (useMini) expect(target).toBe(' Paris');
    const ref = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: {
        prompt: PROMPT,
        model: MODEL,
        hooks: [],
        logit_lens: false,
        interventions: [{ hook: 'blocks.0.attn.hook_z', heads: [0], op: 'zero' }],
        compare: true,
        metric: { kind: 'prob', token: target },
      },
    });
    expect(ref.statusCode).toBe(200);
    const metrics = ref.json().metrics as { baseline: number; intervened: number };
    expect(metrics.intervened).not.toBe(metrics.baseline);
    const head0 = page.locator('#ablate button.head-toggle[data-head="0"]');
    await head0.waitFor();
    await head0.focus();
    await page.keyboard.press('Enter');
    const shown = page.locator('#ablate .ablate-metric');
    await shown.waitFor();
    expect(Number(await shown.getAttribute('data-baseline'))).toBe(metrics.baseline);
    expect(Number(await shown.getAttribute('data-intervened'))).toBe(metrics.intervened);
    expect(await shown.textContent()).toMatch(/^p\(␣?\S+\): clean .* → heads 0 of layer 0 zeroed /);
    expect(await page.locator('#ablate .ablate-side').count()).toBe(2);
    await page.locator('#ablate').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'ablate-head-1280x800.png') });
  });

  it('true proportions: [1024, 4096] is four times as wide as tall, 32 query heads against 8 shared K heads', async () => {
    await page.getByLabel('Architecture').selectOption({ label: 'Llama-3-8B' });
    await page.getByLabel('Tokens', { exact: true }).fill('1024');
    await page.getByLabel('Tokens', { exact: true }).press('Enter');
    const box = page.locator('#shape-flow .stage[data-stage="blocks.0.attn.o"] rect[data-dims="[1024, 4096]"]').first();
    await box.waitFor();
    const size = async () => ({
      w: Number(await box.getAttribute('width')),
      h: Number(await box.getAttribute('height')),
    });
    const q = page.locator('#shape-flow .stage[data-stage="blocks.0.attn.q"] rect[data-dims="[1024, 128]"]');
    const k = page.locator('#shape-flow .stage[data-stage="blocks.0.attn.k"] rect[data-dims="[1024, 128]"]');
    // Compact (log) view: squarish boxes, stacks capped.
    const log = await size();
    expect(log.w / log.h).toBeLessThan(2);
    expect(await q.getAttribute('data-copies')).toBe(await k.getAttribute('data-copies'));
    await page.getByLabel('True proportions').check();
    await box.waitFor();
    const lin = await size();
    expect(lin.w / lin.h).toBeCloseTo(4, 1);
    expect(await q.getAttribute('data-copies')).toBe('32');
    expect(await k.getAttribute('data-copies')).toBe('8');
    expect(await page.locator('#shape-flow .stage[data-stage="blocks.0.attn.k"]').textContent()).toContain(
      'each shared by 4 query heads',
    );
    await page.locator('#shape-flow .stage[data-stage="blocks.0.attn.q"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'true-size-llama-1280x800.png') });
    await page.getByLabel('True proportions').uncheck();
  });

  it('shows the published count and the matching "active" convention (gpt-oss-20b: 3.61B = active_non_embedding)', async () => {
    await page.getByLabel('Architecture').selectOption({ label: 'gpt-oss-20b' });
    const active = page.locator('#params .published dd[data-convention="active_non_embedding"]');
    await active.waitFor();
    expect(await active.getAttribute('data-published')).toBe('3610000000');
    expect(await page.locator('#params .published .source').textContent()).toMatch(/^Source: /);
  });

  it('at phone width the opened tensor, the drawn-from panel and the residual grid do not scroll the page sideways', async () => {
    await page.getByLabel('Tokens', { exact: true }).fill('5');
    await page.getByLabel('Architecture').selectOption({ value: MODEL });
    const stage = page.locator('#shape-flow .stage[data-stage="blocks.0.attn.q"]');
    await stage.waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await stage.click();
    await page.locator('.stage-values .tensor-values').waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await stage.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'tensor-q-390-phone.png') });
    await page.locator('#next-title').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'drawn-from-390-phone.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
