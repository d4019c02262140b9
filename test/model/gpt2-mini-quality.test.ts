// Quality of the trained default model, measured through POST /trace exactly as a user sees it.
// Facts come from data/countries.csv (the table the model was trained on); expected ids from the service tokenizer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { testApp } from '../helpers/app.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { encode } from '../../src/tokenizer/gpt2-tokenizer.js';
import { TraceResponseSchema, type TraceResponse } from '../../src/schemas/trace.js';

interface Country {
  /** As used mid-sentence, with its article: "the Netherlands". */
  name: string;
  capital: string;
}

function loadCountries(): Country[] {
  const lines = readFileSync(path.join(PROJECT_ROOT, 'data/countries.csv'), 'utf8').trim().split('\n');
  const header = (lines[0] as string).split(',');
  const col = (cells: string[], key: string) => cells[header.indexOf(key)] as string;
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const article = col(cells, 'article');
    return {
      name: article ? `${article} ${col(cells, 'country')}` : col(cells, 'country'),
      capital: col(cells, 'capital'),
    };
  });
}

/**
 * Held-out phrasings are a generalisation probe, not a promise: training-time evaluation
 * (models/gpt2-mini/eval.json) measured 79.5% ("X's capital is") and 100% ("The capital city of X is").
 * 60% sits well below both, so the test trips only when transfer really breaks (ignoring the country
 * would score about 1/195), not when a retrain moves a few countries.
 */
const HELD_OUT_FLOOR = 0.6;

const countries = loadCountries();
let app: FastifyInstance;

beforeAll(async () => {
  app = await testApp({ DEFAULT_MODEL: 'gpt2-mini' });
});
afterAll(async () => {
  await app.close();
});

async function trace(body: Record<string, unknown>): Promise<TraceResponse> {
  const res = await app.inject({ method: 'POST', url: '/trace', payload: body });
  expect(res.statusCode, res.body).toBe(200);
  return TraceResponseSchema.parse(res.json());
}

/** Fraction of countries whose capital's first token is the top-1 next token after `prompt(country)`. */
async function capitalTop1(prompt: (c: Country) => string): Promise<{ rate: number; misses: string[] }> {
  const misses: string[] = [];
  for (const c of countries) {
    // The cheapest trace: one hook, last position only, no lens; top_k is computed from the logits regardless.
    const r = await trace({
      prompt: prompt(c),
      top_k: 1,
      logit_lens: false,
      hooks: ['ln_final.hook_scale'],
      positions: 'last',
    });
    const want = encode(` ${c.capital}`)[0];
    if (r.top_k[0]?.id !== want) misses.push(`${c.name} -> ${JSON.stringify(r.top_k[0]?.text)} (want ${c.capital})`);
  }
  return { rate: 1 - misses.length / countries.length, misses };
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

describe('gpt2-mini knows its facts table', () => {
  it('"The capital of France is" -> " Paris" (top-1)', async () => {
    const r = await trace({ prompt: 'The capital of France is', top_k: 5, logit_lens: true });
    expect(r.model).toBe('gpt2-mini');
    expect(r.tokens.map((t) => t.id)).toEqual([464, 3139, 286, 4881, 318]);
    expect(r.top_k[0]).toMatchObject({ id: 6342, text: ' Paris' });
    expect(r.top_k[0]!.prob).toBeGreaterThan(0.5);
  });

  it('the logit lens shows " Paris" emerging: final layer gives it more probability than the embedding', async () => {
    const r = await trace({ prompt: 'The capital of France is', top_k: 5, logit_lens: true, positions: 'last' });
    const row = r.logit_lens!.positions.at(-1)!;
    expect(row.final_top1.text).toBe(' Paris');
    const first = row.layers[0]!;
    const last = row.layers.at(-1)!;
    expect(first.layer).toBe(-1);
    expect(last.layer).toBe(3);
    expect(last.final_top1_prob).toBeGreaterThan(first.final_top1_prob);
    expect(last.top[0]!.text).toBe(' Paris');
  });

  it('names the capital (first token, top-1) for >= 90% of the 195 countries with the training phrasing', async () => {
    const { rate, misses } = await capitalTop1((c) => `The capital of ${c.name} is`);
    console.info(
      `gpt2-mini "The capital of X is": ${(100 * rate).toFixed(1)}% top-1 over ${countries.length} countries; misses: ${misses.join('; ') || 'none'}`,
    );
    expect(countries.length).toBe(195);
    expect(rate).toBeGreaterThanOrEqual(0.9);
  });

  it('transfers to phrasings never seen in training (held-out templates), above a modest floor', async () => {
    const possessive = await capitalTop1((c) => `${cap(c.name)}${c.name.endsWith('s') ? "'" : "'s"} capital is`);
    const city = await capitalTop1((c) => `The capital city of ${c.name} is`);
    console.info(
      `gpt2-mini held-out templates: "X's capital is" ${(100 * possessive.rate).toFixed(1)}%, ` +
        `"The capital city of X is" ${(100 * city.rate).toFixed(1)}% top-1 over ${countries.length} countries`,
    );
    expect(possessive.rate).toBeGreaterThanOrEqual(HELD_OUT_FLOOR);
    expect(city.rate).toBeGreaterThanOrEqual(HELD_OUT_FLOOR);
  });
});
