// End-to-end: the share toolbar in headless Chromium — state in the URL, copy link / curl / Python, the .safetensors
// download, and "save and share" whose /?trace=ID link reopens the stored trace without recomputing.
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/safetensors.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { SavedTraceListSchema } from '../../src/schemas/traces.js';
import { hasChromium, startPageServer } from '../helpers/browser.js';

const PY = '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const ARTIFACTS = path.join(PROJECT_ROOT, 'test', 'artifacts');
const PROMPT = "The capital of France's is";
const MODEL = 'tiny-gpt2';

describe.skipIf(!hasChromium)('share toolbar in headless Chromium', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  let tmp: string;
  const consoleErrors: string[] = [];

  const shared = async (button: string) => {
    await page.evaluate(() => document.getElementById('share-out')?.replaceChildren());
    await page.getByRole('button', { name: button }).click();
    await page.locator('#share-text').waitFor();
    return page.locator('#share-text').inputValue();
  };

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-share-'));
    ({ app, browser, page, base } = await startPageServer(
      {
        MODELS_DIR: path.join(PROJECT_ROOT, 'test', 'fixtures'),
        DEFAULT_MODEL: MODEL,
        DATA_DIR: path.join(tmp, 'data'),
        MAX_NEW_TOKENS: 16,
      },
      { errors: consoleErrors, context: { acceptDownloads: true } },
    ));
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('opens with the state of its URL and keeps the URL in step with the run', async () => {
    const q = new URLSearchParams({ prompt: PROMPT, max_new_tokens: '2', temperature: '0', top_k: '5', layer: '1' });
    await page.goto(`${base}/?${q}`);
    await page.getByRole('status').filter({ hasText: 'Ready' }).waitFor();
    expect(await page.getByLabel('Prompt text').inputValue()).toBe(PROMPT);
    expect(await page.getByLabel('Max new tokens').inputValue()).toBe('2');
    expect(await page.locator('#top-k').inputValue()).toBe('5');
    await page.getByLabel('Prompt text').press('Enter');
    await page.getByRole('status').filter({ hasText: 'Done' }).waitFor();
    expect(await page.locator('#layer').inputValue()).toBe('1');
    await page.locator('#tokens button[data-index="0"]').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('token')).toBe('0');
    const url = new URL(page.url());
    expect(url.searchParams.get('prompt')).toBe(PROMPT);
    expect(url.searchParams.get('layer')).toBe('1');
    expect(url.searchParams.get('top_k')).toBe('5');
    expect(await shared('Copy link')).toBe(page.url());
  });

  it('copy curl gives a command whose body the server runs; copy Python runs against the server', async () => {
    const curl = await shared('Copy curl');
    expect(curl).toContain(`curl -s -X POST ${base}/trace`);
    const body = /-d '(.*)'$/s.exec(curl)?.[1].replaceAll(`'\\''`, "'");
    expect(body).toBeDefined();
    const res = await app.inject({ method: 'POST', url: '/trace', payload: JSON.parse(body as string) });
    expect(res.statusCode).toBe(200);
    expect(
      res
        .json()
        .tokens.map((t: { text: string }) => t.text)
        .join(''),
    ).toBe(PROMPT);

    const py = await shared('Copy Python');
    expect(py).toContain('tt.run_with_cache(');
    expect(py).toContain('cache["blocks.1.attn.hook_pattern"][0, 0]');
    if (!hasNumpy) return;
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(PY, ['-c', py], {
        env: { ...process.env, PYTHONPATH: path.join(PROJECT_ROOT, 'clients/python') },
      });
      let text = '';
      child.stdout.on('data', (d) => {
        text += d;
      });
      child.stderr.on('data', (d) => {
        text += d;
      });
      child.on('close', (code) => resolve({ code, text }));
    });
    expect(out.code, out.text).toBe(0);
    // "The capital of France's is" is 6 tokens: logits [1, 6, 50257], a head's pattern [6, 6]
    expect(out.text.trim()).toBe('(1, 6, 50257) (6, 6)');
  });

  it('download .safetensors gives every hook of the prompt pass', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download .safetensors' }).click(),
    ]);
    const file = path.join(tmp, 'page.safetensors');
    await download.saveAs(file);
    expect(download.suggestedFilename()).toBe('trace.safetensors');
    const st = await readSafetensors(file);
    expect(st.metadata.model).toBe(MODEL);
    expect(st.tensor('blocks.0.attn.hook_pattern').shape).toEqual([4, 6, 6]);
    expect(st.tensors.map((t) => t.name)).toContain('logits');
  });

  it('save and share: the /?trace=ID link reopens the stored trace without recomputing', async () => {
    await page.getByRole('button', { name: 'Save and share' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved as' }).waitFor();
    const link = await page.locator('#share-text').inputValue();
    const id = new URL(link).searchParams.get('trace');
    expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(page.url()).toBe(link);
    const list = SavedTraceListSchema.parse((await app.inject({ method: 'GET', url: '/traces' })).json());
    expect(list.items.map((t) => t.id)).toEqual([id]);
    const stored = (await app.inject({ method: 'GET', url: `/traces/${id}` })).json();

    // A fresh page opens the link. The run is drawn from the stored reply: no generate frame leaves the page, and
    // the only /trace requests are the two detail panels that fetch their extra values on demand, as they do after
    // a live run (the logits row of "Drawn from", the residual norm per position) — none asks for the run's hooks.
    const other = await page.context().newPage();
    const recomputing: string[] = [];
    const details: string[] = [];
    other.on('request', (r) => {
      if (new URL(r.url()).pathname !== '/trace') return;
      const hooks = (JSON.parse(r.postData() ?? '{}') as { hooks?: string[] }).hooks ?? [];
      const detail = hooks.every((x) => x === 'logits' || /^blocks\.(\*|\d+)\.hook_resid_(pre|post)$/.test(x));
      (detail ? details : recomputing).push(`${r.method()} /trace ${JSON.stringify(hooks)}`);
    });
    other.on('websocket', (ws) =>
      ws.on('framesent', (f) => {
        if (String(f.payload).includes('"generate"')) recomputing.push('generate frame');
      }),
    );
    await other.goto(link);
    await other
      .getByRole('status')
      // a string hasText is a case-insensitive substring: it would match "Opening saved trace ID…" too
      .filter({ hasText: new RegExp(`^Saved trace ${id} \\(`) })
      .waitFor();
    expect(await other.getByLabel('Prompt text').inputValue()).toBe(PROMPT);
    await expect.poll(() => other.locator('#tokens .tok.prompt').count()).toBe(stored.trace.tokens.length);
    expect(await other.locator('#tokens button.tok.gen').count()).toBe(stored.trace.generated.tokens.length);
    const first = other.locator('#tokens button[data-index="0"]');
    expect(await first.getAttribute('data-token-text')).toBe(stored.trace.generated.tokens[0].text);
    expect(await other.locator('#layer').inputValue()).toBe('1');
    await expect
      .poll(() => other.locator('#topk .topk-row').first().getAttribute('data-token-text'))
      .toBe(stored.trace.top_k[0].text);
    const heat = other.locator('svg.heatmap[data-layer="1"][data-head="0"]');
    await expect.poll(() => heat.locator('rect.cell').count()).toBe(6 * 6);
    expect(recomputing).toEqual([]);
    // the speed shown is the stored run's: its tokens over the request's own time, said as such
    const perS = (stored.trace.generated.tokens.length / stored.trace.timings.total_ms) * 1000;
    expect(await other.locator('#run-meta').textContent()).toContain(`${perS.toFixed(1)} tok/s when it was traced`);
    await mkdir(ARTIFACTS, { recursive: true });
    await other.screenshot({ path: path.join(ARTIFACTS, 'share-saved-trace.png') });

    // Its download is the stored tensor file.
    const [download] = await Promise.all([
      other.waitForEvent('download'),
      other.getByRole('button', { name: 'Download .safetensors' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`trace-${id}.safetensors`);
    await other.close();
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
