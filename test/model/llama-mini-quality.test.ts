// Quality of the trained llama-mini, measured through POST /trace exactly as a user sees it (its own tokenizer.json,
// BOS prepended, the llama graph in a worker thread). Facts come from data/countries.csv.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { TraceResponseSchema, type TraceResponse } from '../../src/schemas/trace.js';
import { loadTokenizerJson, type ModelTokenizer } from '../../src/tokenizer/model-tokenizer.js';
import { testApp } from '../helpers/app.js';

const DIR = path.join(PROJECT_ROOT, 'models/llama-mini');

function loadCountries(): { name: string; capital: string }[] {
  const lines = readFileSync(path.join(PROJECT_ROOT, 'data/countries.csv'), 'utf8').trim().split('\n');
  const header = (lines[0] as string).split(',');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const col = (key: string) => cells[header.indexOf(key)] as string;
    return { name: col('article') ? `${col('article')} ${col('country')}` : col('country'), capital: col('capital') };
  });
}

const countries = loadCountries();
let app: FastifyInstance;
let tok: ModelTokenizer;

beforeAll(async () => {
  app = await testApp({ DEFAULT_MODEL: 'gpt2-mini' });
  tok = (await loadTokenizerJson(DIR, JSON.parse(readFileSync(path.join(DIR, 'config.json'), 'utf8'))))!;
});
afterAll(async () => {
  await app.close();
});

async function trace(body: Record<string, unknown>): Promise<TraceResponse> {
  const res = await app.inject({ method: 'POST', url: '/trace', payload: { model: 'llama-mini', ...body } });
  expect(res.statusCode, res.body.slice(0, 400)).toBe(200);
  return TraceResponseSchema.parse(res.json());
}

describe('llama-mini knows its facts table', () => {
  it('"The capital of France is" -> " Paris" (top-1), with the rotated queries among the hooks', async () => {
    const r = await trace({ prompt: 'The capital of France is', top_k: 3, hooks: ['blocks.*.attn.hook_rot_q'] });
    expect(r.model).toBe('llama-mini');
    expect(r.tokenizer).toBe('tokenizer.json');
    expect(r.bos_prepended).toBe(true);
    expect(r.tokens.map((t) => t.text)).toEqual(['<|begin_of_text|>', 'The', ' capital', ' of', ' France', ' is']);
    expect(r.hooks.map((h) => h.hook)).toEqual([0, 1, 2, 3].map((i) => `blocks.${i}.attn.hook_rot_q`));
    expect(r.hooks[0]?.full_shape).toEqual([6, 4, 32]);
    expect(r.top_k[0]?.text).toBe(' Paris');
    expect(r.top_k[0]!.prob).toBeGreaterThan(0.5);
    expect(r.logit_lens?.positions[0]?.final_top1.text).toBe(' Paris');
  });

  it('the request of the README, no hooks named: " Paris" with blocks.0.attn.hook_rot_q in the overview', async () => {
    const r = await trace({ prompt: 'The capital of France is' });
    expect(r.top_k[0]?.text).toBe(' Paris');
    expect(r.hooks.map((h) => h.hook)).toContain('blocks.0.attn.hook_rot_q');
    expect(r.hooks.map((h) => h.hook)).toContain('blocks.3.attn.hook_rot_k');
  });

  it('greedy continuation stops at <|end_of_text|>', async () => {
    const r = await trace({ prompt: 'The capital of France is', hooks: [], max_new_tokens: 8 });
    expect(r.generated?.text).toBe(' Paris.<|end_of_text|>');
    expect(r.generated?.stop_reason).toBe('eos');
  });

  it('the capital is top-1 for at least 90% of the table ("The capital of X is")', async () => {
    const misses: string[] = [];
    for (const c of countries) {
      const r = await trace({
        prompt: `The capital of ${c.name} is`,
        top_k: 1,
        logit_lens: false,
        hooks: ['ln_final.hook_scale'],
        positions: 'last',
      });
      const want = tok.encode(` ${c.capital}`)[1]; // [BOS, first answer token, ...]
      if (r.top_k[0]?.id !== want) misses.push(`${c.name} -> ${JSON.stringify(r.top_k[0]?.text)}`);
    }
    expect(countries.length).toBe(195);
    expect(1 - misses.length / countries.length, misses.join('; ')).toBeGreaterThanOrEqual(0.9);
  });
});
