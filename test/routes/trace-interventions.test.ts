// POST /trace with interventions, compare and metric on the tiny fixture; numbers checked against the numpy reference.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/safetensors.js';
import { TraceResponseSchema, type TraceResponse } from '../../src/schemas/trace.js';
import { FIXTURES } from '../runtime/reference.js';
import { tinyApp } from '../trace/models-dir.js';

const PROMPT = 'The capital of France is';
const ZERO_HEADS = [{ hook: 'blocks.1.attn.hook_z', heads: [0, 2], op: 'zero' }]; // = case zero_heads of the reference

/** Reference probability of a token from a float32 logits row (softmax in float64). */
function prob(row: Float32Array, id: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of row) max = Math.max(max, x);
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  return Math.exp(row[id] - max) / sum;
}

describe('POST /trace with interventions', () => {
  let app: FastifyInstance;
  let closeApp: () => Promise<void>;
  let refClean: Float32Array;
  let refZero: Float32Array;
  let refGreedy: number[];
  beforeAll(async () => {
    ({ app, close: closeApp } = await tinyApp({ MAX_INTERVENTIONS: 3 }));
    const clean = await readSafetensors(path.join(FIXTURES, 'reference', 'tiny-gpt2.capital.safetensors'));
    const logits = await clean.readFloat32('logits'); // [5, V]
    refClean = logits.subarray(4 * 50257);
    const iv = await readSafetensors(path.join(FIXTURES, 'reference', 'tiny-gpt2.interventions.safetensors'));
    refZero = await iv.readFloat32('zero_heads/logits_last');
    refGreedy = JSON.parse(iv.metadata.greedy_ids).zero_heads;
  });
  afterAll(() => closeApp());

  const post = (payload: object) => app.inject({ method: 'POST', url: '/trace', payload });
  const trace = async (payload: object): Promise<TraceResponse> => {
    const res = await post(payload);
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    return TraceResponseSchema.parse(res.json());
  };

  it('head ablation with compare and a prob metric: both probabilities as the reference has them', async () => {
    const r = await trace({
      prompt: PROMPT,
      hooks: ['blocks.0.hook_resid_post', 'blocks.1.attn.hook_z', 'blocks.2.hook_resid_post'],
      interventions: ZERO_HEADS,
      compare: true,
      metric: { kind: 'prob', token: ' Paris' },
      logit_lens: false,
    });
    const paris = 6342;
    expect(r.metrics?.token_ids).toEqual([paris]);
    const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-7 + 1e-4 * b);
    close(r.metrics!.baseline, prob(refClean, paris));
    close(r.metrics!.intervened, prob(refZero, paris));
    expect(r.metrics!.intervened).not.toBe(r.metrics!.baseline);
    expect(r.metrics!.delta).toBeCloseTo(r.metrics!.intervened - r.metrics!.baseline, 12);
    // applied[] and the hash
    expect(r.applied).toEqual([
      {
        hook: 'blocks.1.attn.hook_z',
        op: 'zero',
        heads: [0, 2],
        positions: 'all',
        index: null,
        shape: [5, 2, 8],
        values: 80,
      },
    ]);
    expect(r.interventions_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // the baseline is the plain trace; deltas: none upstream, some at and after the edit
    const plain = await trace({ prompt: PROMPT, hooks: ['blocks.0.hook_resid_post'], logit_lens: false });
    expect(r.baseline?.top_k).toEqual(plain.top_k);
    expect(r.top_k).not.toEqual(plain.top_k);
    expect(r.delta?.map((d) => [d.hook, d.l2_norm > 0])).toEqual([
      ['blocks.0.hook_resid_post', false],
      ['blocks.1.attn.hook_z', true],
      ['blocks.2.hook_resid_post', true],
    ]);
  });

  it('the greedy continuation runs with the edits (reference: full recompute with them) and the baseline continues clean', async () => {
    const r = await trace({ prompt: PROMPT, hooks: [], interventions: ZERO_HEADS, compare: true, max_new_tokens: 4 });
    expect(r.generated?.tokens.map((t) => t.id)).toEqual(refGreedy);
    const plain = await trace({ prompt: PROMPT, hooks: [], max_new_tokens: 4 });
    expect(r.baseline?.generated).toEqual(plain.generated);
  });

  it('without interventions the reply says so and carries no baseline', async () => {
    const r = await trace({ prompt: PROMPT, hooks: [] });
    expect(r.applied).toEqual([]);
    expect(r.interventions_hash).toBeNull();
    expect(r.baseline).toBeNull();
    expect(r.delta).toBeNull();
    expect(r.metrics).toBeNull();
  });

  it('kl and logit_diff metrics', async () => {
    const kl = await trace({ prompt: PROMPT, hooks: [], interventions: ZERO_HEADS, metric: { kind: 'kl' } });
    expect(kl.metrics!.baseline).toBe(0);
    expect(kl.metrics!.intervened).toBeGreaterThan(0);
    expect(kl.baseline).toBeNull(); // a metric alone runs the clean model but does not return it
    const ld = await trace({ prompt: PROMPT, hooks: [], metric: { kind: 'logit_diff', tokens: [' Paris', ' Rome'] } });
    expect(ld.metrics!.token_ids).toEqual([6342, 10598]);
    expect(ld.metrics!.delta).toBe(0);
  });

  it.each([
    [{ interventions: [{ hook: 'blocks.7.attn.hook_z', op: 'zero' }] }, 'unknown_hook', 'interventions[0].hook'],
    [
      { interventions: [{ hook: 'hook_embed', heads: [0], op: 'zero' }] },
      'heads_without_head_axis',
      'interventions[0].heads',
    ],
    [
      { interventions: [{ hook: 'blocks.0.attn.hook_z', heads: [9], op: 'zero' }] },
      'head_out_of_range',
      'interventions[0].heads',
    ],
    [
      { interventions: [{ hook: 'hook_embed', positions: [7], op: 'zero' }] },
      'position_out_of_range',
      'interventions[0].positions',
    ],
    [
      { interventions: [{ hook: 'hook_embed', op: 'add', vector: [1] }] },
      'vector_length_mismatch',
      'interventions[0].vector',
    ],
    [
      { interventions: [{ hook: 'hook_embed', op: 'patch', source: { prompt: 'Paris' } }] },
      'patch_source_length',
      'interventions[0].source',
    ],
    [
      { interventions: new Array(4).fill({ hook: 'hook_embed', op: 'zero' }) },
      'too_many_interventions',
      'interventions',
    ],
    [{ metric: { kind: 'prob', token: ' Parisienne of France' } }, 'metric_token_not_single', 'metric.token'],
  ])('%j -> 400 %s', async (extra, code, field) => {
    const res = await post({ prompt: PROMPT, ...extra });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe(code);
    expect(res.json().detail).toContain(field);
  });

  it('an unknown op is a 400 from the schema', async () => {
    const res = await post({ prompt: PROMPT, interventions: [{ hook: 'hook_embed', op: 'ablate' }] });
    expect(res.statusCode).toBe(400);
  });
});
