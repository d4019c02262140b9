import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { TokenizeResponseSchema } from '../../src/schemas/tokenize.js';
import { tinyApp } from '../trace/models-dir.js';

describe('POST /tokenize', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await tinyApp());
  });
  afterAll(() => close());

  const tokenize = (payload: unknown) => app.inject({ method: 'POST', url: '/tokenize', payload: payload as object });

  it('GPT-2 ids and token texts with their leading spaces, without loading the model', async () => {
    const res = await tokenize({ text: 'The capital of France is' });
    expect(res.statusCode).toBe(200);
    const body = TokenizeResponseSchema.parse(res.json());
    expect(body).toEqual({
      model: 'tiny-gpt2',
      ids: [464, 3139, 286, 4881, 318],
      tokens: [
        { id: 464, text: 'The', position: 0 },
        { id: 3139, text: ' capital', position: 1 },
        { id: 286, text: ' of', position: 2 },
        { id: 4881, text: ' France', position: 3 },
        { id: 318, text: ' is', position: 4 },
      ],
      count: 5,
      tokenizer: 'gpt2-bpe',
      bos_prepended: false,
    });
    expect(app.models.list()[0].loaded).toBe(false);
  });

  it('empty text is zero tokens; <|endoftext|> is 50256', async () => {
    expect(TokenizeResponseSchema.parse((await tokenize({ text: '' })).json()).count).toBe(0);
    expect(TokenizeResponseSchema.parse((await tokenize({ text: 'a<|endoftext|>' })).json()).ids).toEqual([64, 50256]);
  });

  it.each([
    ['missing text', {}, 400, 'invalid_request'],
    ['text of wrong type', { text: 5 }, 400, 'invalid_request'],
    ['unknown field', { text: 'a', prompt: 'b' }, 400, 'invalid_request'],
    ['unknown model', { text: 'a', model: 'gpt-5' }, 404, 'unknown_model'],
  ])('%s -> %i %s', async (_what, payload, status, code) => {
    const res = await tokenize(payload);
    expect([res.statusCode, res.json().code]).toEqual([status, code]);
  });

  it('a llama-family model tokenizes with its own tokenizer.json and says it prepended BOS', async () => {
    const { testApp } = await import('../helpers/app.js');
    const other = await testApp({ DEFAULT_MODEL: 'llama-mini' });
    try {
      const res = await other.inject({
        method: 'POST',
        url: '/tokenize',
        payload: { text: 'The capital of France is' },
      });
      const body = TokenizeResponseSchema.parse(res.json());
      expect(body.model).toBe('llama-mini');
      expect(body.tokens.map((t) => t.text)).toEqual(['<|begin_of_text|>', 'The', ' capital', ' of', ' France', ' is']);
      expect([body.tokenizer, body.bos_prepended, body.ids[0]]).toEqual(['tokenizer.json', true, 2046]);
    } finally {
      await other.close();
    }
  });

  it('long text answers 200 or a 400, never a 500: "a "×130000 is over the default cap, under a raised one', async () => {
    const text = 'a '.repeat(130_000);
    const res = await tokenize({ text });
    expect([res.statusCode, res.json().code]).toEqual([400, 'text_too_long']);
    const { app: big, close: closeBig } = await tinyApp({ TOKENIZE_MAX_TOKENS: 200_000 });
    try {
      const ok = await big.inject({ method: 'POST', url: '/tokenize', payload: { text } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().count).toBe(130_001);
    } finally {
      await closeBig();
    }
  });

  it.each([
    ['"ÿ"×100000', 'ÿ'.repeat(100_000)],
    ['"a" + U+0301×99999', `a${'\u0301'.repeat(99_999)}`],
  ])('%s (overflowed the tokenizer before): a 400, not a 500', async (_name, text) => {
    const res = await tokenize({ text });
    expect([res.statusCode, res.json().code]).toEqual([400, 'text_too_long']);
  });

  it.each([
    ['"x"×100000', 'x'.repeat(100_000)],
    ['"中"×100000', '中'.repeat(100_000)],
    ['50k lone surrogates', '\ud800'.repeat(50_000)],
  ])('%s over a small cap: 400 text_too_long at once', async (_name, text) => {
    const { app: small, close: closeSmall } = await tinyApp({ TOKENIZE_MAX_TOKENS: 1000 });
    try {
      // CPU time of this process, not wall time: the bound is on the work done, whatever else the machine runs.
      const cpu0 = process.cpuUsage();
      const res = await small.inject({ method: 'POST', url: '/tokenize', payload: { text } });
      expect([res.statusCode, res.json().code]).toEqual([400, 'text_too_long']);
      const cpu = process.cpuUsage(cpu0);
      expect((cpu.user + cpu.system) / 1000).toBeLessThan(1000);
    } finally {
      await closeSmall();
    }
  });
});
