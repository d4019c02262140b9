import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ProblemSchema } from '../../src/schemas/problem.js';
import { sitePatterns } from '../../src/hooks/catalogue.js';
import { tinyApp } from '../trace/models-dir.js';

// tiny-gpt2: 3 layers, 4 heads, d_model 32, n_ctx 64, d_vocab 50257.
describe('POST /trace bad input: clear 4xx, never 500', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await tinyApp({ MAX_NEW_TOKENS: 32, MAX_RETURNED_VALUES: 5000 }));
  });
  afterAll(() => close());

  const post = async (payload: unknown) => {
    const res = await app.inject({ method: 'POST', url: '/trace', payload: payload as object });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    return { status: res.statusCode, body: ProblemSchema.parse(res.json()) };
  };

  it.each([
    ['empty prompt', { prompt: '' }, 400, 'empty_prompt'],
    ['empty token_ids', { token_ids: [] }, 400, 'empty_prompt'],
    ['neither prompt nor token_ids', { top_k: 3 }, 400, 'missing_prompt'],
    ['both prompt and token_ids', { prompt: 'a', token_ids: [1] }, 400, 'prompt_and_token_ids'],
    ['token id = vocab size', { token_ids: [464, 50257] }, 400, 'token_id_out_of_range'],
    ['negative token id', { token_ids: [-1] }, 400, 'token_id_out_of_range'],
    ['fractional token id', { token_ids: [1.5] }, 400, 'invalid_request'],
    ['top_k 101', { prompt: 'a', top_k: 101 }, 400, 'invalid_request'],
    ['top_k 0', { prompt: 'a', top_k: 0 }, 400, 'invalid_request'],
    ['max_new_tokens over the cap', { prompt: 'a', max_new_tokens: 33 }, 400, 'too_many_new_tokens'],
    ['negative max_new_tokens', { prompt: 'a', max_new_tokens: -1 }, 400, 'invalid_request'],
    ['prompt string of wrong type', { prompt: 42 }, 400, 'invalid_request'],
    ['hooks not an array', { prompt: 'a', hooks: 'blocks.0.hook_resid_post' }, 400, 'invalid_request'],
    ['unknown field', { prompt: 'a', max_tokens: 5 }, 400, 'invalid_request'],
    ['bad detail', { prompt: 'a', detail: 'everything' }, 400, 'invalid_request'],
    ['bad positions word', { prompt: 'a', positions: 'first' }, 400, 'invalid_request'],
    ['position past the end', { prompt: 'The capital', positions: [2] }, 400, 'position_out_of_range'],
    ['lens position past the end', { prompt: 'The capital', lens_positions: [-3] }, 400, 'position_out_of_range'],
    ['empty positions list', { prompt: 'a', positions: [] }, 400, 'invalid_request'],
    ['unknown model', { prompt: 'a', model: 'tiny-gpt3' }, 404, 'unknown_model'],
  ])('%s', async (_what, payload, status, code) => {
    const res = await post(payload);
    expect([res.status, res.body.code]).toEqual([status, code]);
    expect(res.body.detail.length).toBeGreaterThan(10);
  });

  it('unknown hook: 400 listing the unknown entries and the valid site patterns', async () => {
    const res = await post({ prompt: 'a', hooks: ['blocks.3.hook_resid_post', 'blocks.*.attn.hook_pattern', 'resid'] });
    expect([res.status, res.body.code]).toEqual([400, 'unknown_hook']);
    expect(res.body.unknown).toEqual(['blocks.3.hook_resid_post', 'resid']);
    expect(res.body.valid_patterns).toEqual(sitePatterns());
    expect(res.body.detail).toMatch(/layer 0\.\.2/);
  });

  it('a glob of 30 stars answers 400 unknown_hook at once (it froze the event loop as a backtracking regex)', async () => {
    const cpu0 = process.cpuUsage(); // CPU time, not wall time: robust to a loaded machine
    const res = await post({ prompt: 'x', hooks: [`${'*'.repeat(30)}X`] });
    expect([res.status, res.body.code]).toEqual([400, 'unknown_hook']);
    const cpu = process.cpuUsage(cpu0);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(1000);
    const long = await post({ prompt: 'x', hooks: ['*'.repeat(201)] });
    expect([long.status, long.body.code]).toEqual([400, 'invalid_request']);
  });

  it('prompt + max_new_tokens over n_ctx: 400 prompt_too_long with the numbers', async () => {
    const res = await post({ token_ids: new Array(40).fill(464), max_new_tokens: 30 });
    expect([res.status, res.body.code]).toEqual([400, 'prompt_too_long']);
    expect(res.body).toMatchObject({ n_tokens: 40, max_new_tokens: 30, n_ctx: 64 });
    expect(res.body.detail).toContain('40 prompt tokens + 30 new tokens = 70');
    const long = await post({ token_ids: new Array(65).fill(464) });
    expect([long.status, long.body.code, long.body.n_ctx]).toEqual([400, 'prompt_too_long', 64]);
  });

  // Each took seconds of main-thread tokenizing (or overflowed the stack) before the budget was checked.
  it.each([
    ['"x"×100000', 'x'.repeat(100_000)],
    ['"中"×100000', '中'.repeat(100_000)],
    ['50k lone surrogates', '\ud800'.repeat(50_000)],
    ['"ÿ"×100000', 'ÿ'.repeat(100_000)],
    ['"a "×50000', 'a '.repeat(50_000)],
  ])('prompt %s: 400 prompt_too_long in milliseconds, /healthz answering meanwhile', async (_what, prompt) => {
    let best = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 3 && best >= 100; attempt++) {
      const t0 = performance.now();
      const [res, health] = await Promise.all([
        app.inject({ method: 'POST', url: '/trace', payload: { prompt } }),
        app.inject({ method: 'GET', url: '/healthz' }),
      ]);
      best = Math.min(best, performance.now() - t0);
      expect([res.statusCode, res.json().code, res.json().n_ctx]).toEqual([400, 'prompt_too_long', 64]);
      expect(health.statusCode).toBe(200);
    }
    expect(best).toBeLessThan(100);
  });

  it('detail=full over MAX_RETURNED_VALUES: 413 with the count it would have been, before running', async () => {
    // logits [5, 50257] alone is 251,285 values > 5000
    const res = await post({ prompt: 'The capital of France is', hooks: ['logits'], detail: 'full' });
    expect([res.status, res.body.code]).toEqual([413, 'too_many_values']);
    expect(res.body).toMatchObject({ values: 5 * 50257, max_values: 5000 });
    // attention rows count at any detail: 3 layers x 4 heads x (1+..+60) = 21,960
    const rows = await post({ token_ids: new Array(60).fill(464), hooks: ['blocks.*.attn.hook_pattern'] });
    expect([rows.status, rows.body.code, rows.body.values]).toEqual([413, 'too_many_values', 21960]);
  });

  it('malformed JSON body is a 400, and the server keeps answering', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/trace',
      headers: { 'content-type': 'application/json' },
      payload: '{"prompt": ',
    });
    expect([res.statusCode, res.json().code]).toEqual([400, 'invalid_json']);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
