// End-to-end in headless Chromium: the intervene panel's patch source, the logit lens of both runs, "Generate both"
// over the stream and the sweep heatmaps, each checked against POST /trace or POST /sweep made here by the test.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { SweepResponseSchema } from '../../src/schemas/sweep.js';
import { type TraceResponse, TraceResponseSchema } from '../../src/schemas/trace.js';
import {
  hasChromium,
  PAGE_MODEL as MODEL,
  PAGE_MODELS_DIR as MODELS_DIR,
  PAGE_MODEL_TRAINED as useMini,
  startPageServer,
} from '../helpers/browser.js';

const ARTIFACTS = path.join(PROJECT_ROOT, 'test', 'artifacts');
const PROMPT = 'The capital of France is';
const SOURCE = 'The capital of Italy is';
const NEW_TOKENS = 3;
const LAYER = 1;
const LAST = 4; // " is": the position that predicts the first generated token

const patchAt = (layer: number, position: number, prompt = SOURCE) => ({
  hook: `blocks.${layer}.hook_resid_pre`,
  positions: [position],
  op: 'patch',
  source: { prompt },
});

describe.skipIf(!hasChromium)(`intervene and compare in headless Chromium (model ${MODEL})`, () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  let target = '';
  const consoleErrors: string[] = [];
  let expected400s = 0;

  async function trace(payload: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${base}/trace`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: PROMPT, hooks: [], ...payload }),
    });
    return { status: res.status, body: await res.json() };
  }

  async function compareTrace(interventions: unknown[], extra: Record<string, unknown> = {}): Promise<TraceResponse> {
    const res = await trace({
      logit_lens: true,
      lens_positions: [LAST],
      top_k: 5,
      interventions,
      compare: true,
      metric: { kind: 'prob', token: target },
      ...extra,
    });
    expect(res.status).toBe(200);
    return TraceResponseSchema.parse(res.body);
  }

  async function sweep(payload: Record<string, unknown>) {
    const res = await fetch(`${base}/sweep`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: PROMPT, ...payload }),
    });
    expect(res.status).toBe(200);
    return SweepResponseSchema.parse(await res.json());
  }

  beforeAll(async () => {
    ({ app, browser, page, base } = await startPageServer({ MODELS_DIR, DEFAULT_MODEL: MODEL, MAX_NEW_TOKENS: 16 }));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      // Chromium logs every 4xx response; the one the too-short source provokes on purpose is counted apart.
      if (msg.text().includes('status of 400') && msg.location().url.endsWith('/trace')) expected400s += 1;
      else consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    await mkdir(ARTIFACTS, { recursive: true });
    await page.goto(base);
    await page.getByRole('status').filter({ hasText: 'Ready' }).waitFor();
    await page.getByLabel('Prompt text').fill(PROMPT);
    await page.getByLabel('Max new tokens').fill(String(NEW_TOKENS));
    await page.getByLabel('Prompt text').press('Enter');
    await page.getByRole('status').filter({ hasText: 'Done' }).waitFor();
    await page.locator('#tokens button[data-index="0"]').click();
    await page.locator('#layer').selectOption(String(LAYER));
    await page.locator('#ablate #patch-source').waitFor();
    target = (await page.locator('#tokens button[data-index="0"]').getAttribute('data-token-text')) ?? '';
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('a too-short patch source shows the server’s 400 detail in the panel', async () => {
    const ref = await trace({ interventions: [patchAt(LAYER, LAST, 'Italy')], compare: true });
    expect(ref.status).toBe(400);
    const detail = (ref.body as { detail: string }).detail;
    expect(detail).toMatch(/^interventions\[0\]\.source: /);
    await page.locator('#patch-source').fill('Italy');
    await page.locator('#patch-source').press('Enter');
    const alert = page.locator('#ablate-result [role="alert"]');
    await alert.waitFor();
    expect(await alert.textContent()).toBe(detail);
  });

  it('a patch source changes p(token); the numbers equal POST /trace with the same patch (alone and with a head)', async () => {
    if (useMini) expect(target).toBe(' Paris');
    const ref = await compareTrace([patchAt(LAYER, LAST)]);
    const m = ref.metrics;
    if (!m) throw new Error('no metrics');
    expect(m.intervened).not.toBe(m.baseline);
    // The position choice defaults to the last prompt position.
    expect(await page.locator('#patch-position').inputValue()).toBe(String(LAST));
    await page.locator('#patch-source').fill(SOURCE);
    await page.locator('#patch-source').press('Enter');
    const shown = page.locator('#ablate .ablate-metric');
    await expect.poll(async () => Number(await shown.getAttribute('data-intervened'))).toBe(m.intervened);
    expect(Number(await shown.getAttribute('data-baseline'))).toBe(m.baseline);
    expect(await shown.textContent()).toContain(`resid_pre of layer ${LAYER} at position ${LAST} patched from`);
    const intervenedBars = page.locator('#ablate .ablate-side').nth(1).locator('li');
    expect(Number(await intervenedBars.first().getAttribute('data-token-id'))).toBe(ref.top_k[0].id);

    // Heads and patch together: one request with both interventions.
    const both = await compareTrace([
      { hook: `blocks.${LAYER}.attn.hook_z`, heads: [0], op: 'zero' },
      patchAt(LAYER, LAST),
    ]);
    await page.locator('#ablate button.head-toggle[data-head="0"]').click();
    await expect.poll(async () => Number(await shown.getAttribute('data-intervened'))).toBe(both.metrics?.intervened);
    expect(await shown.textContent()).toContain(`heads 0 of layer ${LAYER} zeroed + resid_pre`);
    await page.locator('#ablate button.head-toggle[data-head="0"]').click();
    await expect.poll(async () => Number(await shown.getAttribute('data-intervened'))).toBe(m.intervened);
  });

  it('the logit-lens table shows both runs per layer, equal to the reply’s logit_lens and baseline.logit_lens', async () => {
    const ref = await compareTrace([patchAt(LAYER, LAST)]);
    const clean = ref.baseline?.logit_lens?.positions[0];
    const patched = ref.logit_lens?.positions[0];
    if (!clean || !patched) throw new Error('no lens');
    expect(clean.position).toBe(LAST);
    const rows = page.locator('#ablate table.lens-compare tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(clean.layers.length);
    let differs = 0;
    for (let i = 0; i < clean.layers.length; i++) {
      const row = rows.nth(i);
      expect(Number(await row.getAttribute('data-layer'))).toBe(clean.layers[i].layer);
      const c = row.locator('td[data-lane="clean"]');
      const p = row.locator('td[data-lane="intervened"]');
      expect(Number(await c.getAttribute('data-token-id'))).toBe(clean.layers[i].top[0].id);
      expect(Number(await c.getAttribute('data-prob'))).toBe(clean.layers[i].top[0].prob);
      expect(Number(await p.getAttribute('data-token-id'))).toBe(patched.layers[i].top[0].id);
      expect(Number(await p.getAttribute('data-prob'))).toBe(patched.layers[i].top[0].prob);
      const differ = clean.layers[i].top[0].id !== patched.layers[i].top[0].id;
      if (differ) differs += 1;
      expect((await row.getAttribute('class')) ?? '').toBe(differ ? 'differs' : '');
    }
    // Below the patched layer nothing changed; the embedding row is the same in both.
    expect(await rows.first().getAttribute('class')).toBe('');
    if (useMini) expect(differs).toBeGreaterThan(0);
    await page.locator('#ablate').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'intervene-compare-1280x800.png'), fullPage: false });
  });

  it('"Generate both" grows both texts; they equal generated.text and baseline.generated.text of POST /trace', async () => {
    const ref = await compareTrace([patchAt(LAYER, LAST)], { max_new_tokens: NEW_TOKENS, logit_lens: false });
    const want = ref.generated?.text ?? '';
    const wantClean = ref.baseline?.generated?.text ?? '';
    expect(want.length).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Generate both' }).click();
    const out = page.locator('#both-out .both');
    await page.locator('#both-out .both[data-phase="done"]').waitFor();
    const lane = (name: string) => out.locator(`.both-lane[data-lane="${name}"]`);
    expect(await lane('intervened').getAttribute('data-text')).toBe(want);
    expect(await lane('clean').getAttribute('data-text')).toBe(wantClean);
    expect(await lane('intervened').locator('.both-text').textContent()).toBe(want);
    expect(await lane('clean').locator('.both-text').textContent()).toBe(wantClean);
    // The marker sits where the two token lists first differ.
    const a = ref.generated?.tokens.map((t) => t.id) ?? [];
    const b = ref.baseline?.generated?.tokens.map((t) => t.id) ?? [];
    let first = -1;
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      if (a[i] !== b[i]) {
        first = i;
        break;
      }
    expect(await out.getAttribute('data-diverge')).toBe(first < 0 ? '' : String(first));
    if (first >= 0)
      expect(await lane('intervened').locator(`.both-tok.diverge[data-index="${first}"]`).count()).toBe(1);
    if (useMini) expect(first).toBe(0);
    expect(await page.getByRole('button', { name: 'Cancel' }).isDisabled()).toBe(true);
    await page.locator('#both-out').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'generate-both-1280x800.png') });
  });

  it('Cancel stops "Generate both" on the server: done with reason cancelled', async () => {
    // Press Generate both and Cancel in one task: the cancel reaches the server right behind the generate frame.
    const cancelWasEnabled = await page.evaluate(() => {
      document.getElementById('both-run')?.click();
      const cancel = document.getElementById('both-cancel') as HTMLButtonElement;
      const enabled = !cancel.disabled;
      cancel.click();
      return enabled;
    });
    expect(cancelWasEnabled).toBe(true);
    const out = page.locator('#both-out .both[data-phase="done"]');
    await out.waitFor();
    expect(await out.textContent()).toContain('the intervened generation was cancelled');
    expect(await page.getByRole('button', { name: 'Generate both' }).isDisabled()).toBe(false);
  });

  it('changing the set while "Generate both" runs sends intervene: the lanes say from which token, the text follows', async () => {
    const head = page.locator('#ablate button.head-toggle[data-head="0"]');
    expect(await head.getAttribute('aria-pressed')).toBe('false');
    // Start it and add head 0 in one task: the intervene frame follows the generate frame.
    await page.evaluate(() => {
      document.getElementById('both-run')?.click();
      (document.querySelector('#ablate button.head-toggle[data-head="0"]') as HTMLButtonElement).click();
    });
    await page.locator('#both-out .both[data-phase="done"]').waitFor();
    const change = page.locator('#both-out .both-change');
    expect(await change.count()).toBe(1);
    expect(await change.textContent()).toContain(`heads 0 of layer ${LAYER} zeroed`);
    const from = Number(await change.getAttribute('data-from'));
    const before = await compareTrace([patchAt(LAYER, LAST)], { max_new_tokens: NEW_TOKENS, logit_lens: false });
    const after = await compareTrace(
      [{ hook: `blocks.${LAYER}.attn.hook_z`, heads: [0], op: 'zero' }, patchAt(LAYER, LAST)],
      {
        max_new_tokens: NEW_TOKENS,
        logit_lens: false,
      },
    );
    const lane = page.locator('#both-out .both-lane[data-lane="intervened"]');
    const shownTokens = await lane.locator('.both-tok').allTextContents();
    // tokens before `from` were made with the old set, the rest with the new one (from 0: the whole text)
    if (from === 0) expect(await lane.getAttribute('data-text')).toBe(after.generated?.text);
    else expect(shownTokens.slice(0, from)).toEqual(before.generated?.tokens.slice(0, from).map((t) => t.text));
    expect(await page.locator('#both-out .both-lane[data-lane="clean"]').getAttribute('data-text')).toBe(
      after.baseline?.generated?.text,
    );
    await head.click(); // back to the patch alone for the tests below
    expect(await head.getAttribute('aria-pressed')).toBe('false');
  });

  it('"Sweep heads" shows progress, then the [layer, head] heatmap; a cell’s hover value equals POST /sweep', async () => {
    const ref = await sweep({ metric: { kind: 'prob', token: target }, sweep: { kind: 'ablate_heads', op: 'zero' } });
    await page.getByRole('button', { name: 'Sweep heads' }).click();
    const grid = page.locator('#sweep-out svg.sweep-grid[data-kind="ablate_heads"]');
    await grid.waitFor();
    expect(Number(await page.locator('#sweep-out').getAttribute('data-progress-frames'))).toBeGreaterThan(0);
    expect(Number(await grid.getAttribute('data-rows'))).toBe(ref.values.length);
    expect(Number(await grid.getAttribute('data-cols'))).toBe(ref.values[0].length);
    const [l, c] = [0, ref.values[0].length - 1];
    const cell = grid.locator(`rect.cell[data-row="${l}"][data-col="${c}"]`);
    await cell.hover();
    expect(Number(await cell.getAttribute('data-value'))).toBe(ref.values[l][c]);
    expect(await cell.locator('title').textContent()).toContain(`= ${ref.values[l][c]}`);
    expect(await page.locator('#sweep-out .sweep-readout').textContent()).toBe(
      await cell.locator('title').textContent(),
    );
    // From the keyboard: focusing the next cell shows its value too.
    const next = grid.locator('rect.cell[data-row="1"][data-col="0"]');
    await next.focus();
    expect(await page.locator('#sweep-out .sweep-readout').textContent()).toContain(`= ${ref.values[1][0]}`);
    expect(await page.locator('#sweep-out figure').getAttribute('data-clean')).toBe(String(ref.clean));
    expect(
      await grid
        .locator('text.tick')
        .filter({ hasText: `h${c}` })
        .count(),
    ).toBe(1);
    await page.locator('#sweep-out').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'sweep-heads-1280x800.png') });
  });

  it('"Patch sweep" patches the clean run into the source prompt’s run: [layer, position] equal to POST /sweep', async () => {
    const italy = await trace({ prompt: SOURCE, logit_lens: false, top_k: 1 });
    const other = TraceResponseSchema.parse(italy.body).top_k[0].text;
    expect(other).not.toBe(target);
    const ref = await sweep({
      corrupted: SOURCE,
      metric: { kind: 'logit_diff', tokens: [target, other] },
      sweep: { kind: 'patch', hook: 'hook_resid_pre', over: ['layer', 'position'] },
    });
    await page.getByRole('button', { name: 'Patch sweep' }).click();
    const grid = page.locator('#sweep-out svg.sweep-grid[data-kind="patch"]');
    await grid.waitFor();
    expect(Number(await page.locator('#sweep-out').getAttribute('data-progress-frames'))).toBeGreaterThan(0);
    const cell = grid.locator(`rect.cell[data-row="${LAYER}"][data-col="${LAST}"]`);
    await cell.hover();
    expect(Number(await cell.getAttribute('data-value'))).toBe(ref.values[LAYER][LAST]);
    expect(Number(await cell.getAttribute('data-normalized'))).toBe(ref.normalized?.[LAYER][LAST]);
    expect(await cell.locator('title').textContent()).toContain(`= ${ref.values[LAYER][LAST]}`);
    const fig = page.locator('#sweep-out figure');
    expect(await fig.getAttribute('data-corrupted')).toBe(String(ref.corrupted));
    // Position labels are the clean prompt's tokens.
    for (const label of ref.axes[1].labels)
      expect(
        await grid
          .locator('text.tick')
          .filter({ hasText: label.replace(/^ /, '␣') })
          .count(),
      ).toBeGreaterThan(0);
    await page.locator('#sweep-out').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'sweep-patch-1280x800.png') });
  });

  it('another layer keeps the patch, now on that layer’s hook_resid_pre, and drops the head toggles', async () => {
    await page.locator('#layer').selectOption('2');
    const ref = await compareTrace([patchAt(2, LAST)]);
    const shown = page.locator('#ablate .ablate-metric');
    await expect.poll(async () => Number(await shown.getAttribute('data-intervened'))).toBe(ref.metrics?.intervened);
    expect(await shown.textContent()).toContain('resid_pre of layer 2 at position 4');
    expect(await page.locator('#ablate .patch-site').textContent()).toBe('blocks.2.hook_resid_pre');
    expect(await page.locator('#ablate button.head-toggle[aria-pressed="true"]').count()).toBe(0);
    await page.locator('#layer').selectOption(String(LAYER));
    await expect.poll(() => shown.textContent()).toContain(`resid_pre of layer ${LAYER} at position 4`);
  });

  it('at 390 px the panel, both texts and the heatmap do not scroll the page sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.locator('#ablate-result').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'intervene-compare-390-phone.png') });
    await page.locator('#sweep-out').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'sweep-patch-390-phone.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('logged no console errors (only the one 400 provoked on purpose)', () => {
    expect(consoleErrors).toEqual([]);
    expect(expected400s).toBe(1);
  });
});
