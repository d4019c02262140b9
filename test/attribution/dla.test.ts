// Direct logit attribution on POST /trace: parts sum to the logit minus the ln_final bias term, and every part
// equals the independent numpy reference (tools/reference/dla_reference.py, TransformerLens' apply_ln_to_stack).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { TraceResponseSchema, type TraceResponse } from '../../src/schemas/trace.js';
import { testApp } from '../helpers/app.js';
import { TINY_FIXTURE, tinyApp } from '../trace/models-dir.js';

const CAPITAL = [464, 3139, 286, 4881, 318]; // "The capital of France is"
const PARIS = 6342;
const ROME = 10598;

interface RefDla {
  labels: string[];
  parts: number[];
  logit: number;
  ln_final_bias: number;
  final_scale: number;
}

function reference(ids: number[], target: number[]): RefDla {
  const out = execFileSync('/usr/bin/python3', [
    path.join(PROJECT_ROOT, 'tools/reference/dla_reference.py'),
    TINY_FIXTURE,
    '--ids',
    ids.join(','),
    '--target',
    target.join(','),
  ]);
  return JSON.parse(out.toString());
}

/** Our reply's parts in the reference's label order. */
function parts(a: NonNullable<TraceResponse['attribution']>): number[] {
  const out = [a.embed, a.pos_embed];
  a.heads.forEach((hs, l) => out.push(...hs, a.attn_bias[l], a.mlp[l], a.mlp_bias[l]));
  return out;
}

describe('direct logit attribution on /trace', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await tinyApp());
  });
  afterAll(() => close?.());

  const trace = async (payload: object) => {
    const res = await app.inject({ method: 'POST', url: '/trace', payload });
    return res;
  };

  it.each([
    { name: 'one token', tokens: [' Paris'], ids: [PARIS] },
    { name: 'a logit difference', tokens: [' Paris', ROME], ids: [PARIS, ROME] },
  ])('$name: parts sum to logit - ln_final bias within 1e-4 and match the reference', async ({ tokens, ids }) => {
    const res = await trace({ token_ids: CAPITAL, hooks: [], logit_lens: false, attribution: { tokens, top: 5 } });
    expect(res.statusCode).toBe(200);
    const body = TraceResponseSchema.parse(res.json());
    const a = body.attribution!;
    expect(a.target.tokens.map((t) => t.id)).toEqual(ids);
    expect(a.target.kind).toBe(ids.length === 2 ? 'logit_diff' : 'logit');
    const mine = parts(a);
    const total = mine.reduce((s, v) => s + v, 0);
    expect(Math.abs(total - a.sum)).toBeLessThan(1e-9);
    expect(Math.abs(a.logit - a.ln_final_bias - a.sum)).toBeLessThan(1e-4);

    const ref = reference(CAPITAL, ids);
    expect(mine.length).toBe(ref.parts.length);
    for (let i = 0; i < mine.length; i++) expect(Math.abs(mine[i] - ref.parts[i]), ref.labels[i]).toBeLessThan(2e-5);
    expect(a.logit).toBeCloseTo(ref.logit, 4);
    expect(a.ln_final_bias).toBeCloseTo(ref.ln_final_bias, 5);
    expect(a.final_scale).toBeCloseTo(ref.final_scale, 5);
    // the reference sums too: the decomposition is exact there, not only in our float32 run
    expect(Math.abs(ref.parts.reduce((s, v) => s + v, 0) + ref.ln_final_bias - ref.logit)).toBeLessThan(1e-9);

    // top contributors: the largest |part| first, labelled like the reference
    expect(a.top).toHaveLength(5);
    const order = ref.parts.map((v, i) => [Math.abs(v), i] as const).sort((x, y) => y[0] - x[0]);
    expect(a.top.map((c) => c.label)).toEqual(order.slice(0, 5).map(([, i]) => ref.labels[i]));
  });

  it('true attributes the top-1 next token; absent means no attribution', async () => {
    const on = TraceResponseSchema.parse((await trace({ token_ids: CAPITAL, hooks: [], attribution: true })).json());
    expect(on.attribution!.target.tokens[0].id).toBe(on.top_k[0].id);
    expect(on.attribution!.logit).toBeCloseTo(on.top_k[0].logit, 5);
    expect(on.attribution!.top).toHaveLength(10);
    const off = TraceResponseSchema.parse((await trace({ token_ids: CAPITAL, hooks: [] })).json());
    expect(off.attribution).toBeNull();
  });

  it('a target of several tokens or outside the vocabulary is a 400 naming the field', async () => {
    const multi = await trace({ token_ids: CAPITAL, attribution: { tokens: [' Parisians and more'] } });
    expect(multi.statusCode).toBe(400);
    expect(multi.json().code).toBe('not_one_token');
    expect(multi.json().detail).toContain('attribution.tokens[0]');
    const out = await trace({ token_ids: CAPITAL, attribution: { tokens: [1, 99_999_999] } });
    expect(out.statusCode).toBe(400);
    expect(out.json().code).toBe('token_id_out_of_range');
    expect(out.json().detail).toContain('attribution.tokens[1]');
    const three = await trace({ token_ids: CAPITAL, attribution: { tokens: [1, 2, 3] } });
    expect(three.statusCode).toBe(400);
  });
});

it('a llama-family model answers 400 attribution_unsupported before running', async () => {
  const app = await testApp();
  try {
    const res = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { model: 'llama-mini', token_ids: [1, 2, 3], attribution: true },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('attribution_unsupported');
  } finally {
    await app.close();
  }
});
