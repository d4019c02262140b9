import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { FastifyInstance } from 'fastify';
import { TraceResponseSchema, type TraceResponse } from '../../src/schemas/trace.js';
import { tinyApp } from '../trace/models-dir.js';

// Expected numbers come from numpy over the independent reference dump (test/trace/fixtures/reference_summaries.py).
interface Expected {
  prompt: string;
  ids: number[];
  greedy_ids: number[];
  hooks: {
    hook: string;
    positions: number[];
    shape: number[];
    stats: Record<string, number> & { abs_max_index: number[]; abs_max_flat: number };
    histogram_bins: number;
    histogram_counts: number[];
    values_head: number[];
  }[];
  lens: {
    position: number;
    final_top1: number;
    final_top1_prob: number;
    layers: { stage: string; top_ids: number[]; top_probs: number[]; final_top1_prob: number }[];
  }[];
  top_k: { id: number; logit: number; prob: number }[];
}

/** |a - b| <= atol + rtol * |b| (float32 onnxruntime vs float64 numpy reference). */
const close = (a: number | null, b: number, atol = 2e-5, rtol = 1e-4) => {
  expect(a).not.toBeNull();
  expect(Math.abs((a as number) - b), `${a} vs ${b}`).toBeLessThanOrEqual(atol + rtol * Math.abs(b));
};

describe('POST /trace on the tiny fixture vs the reference implementation', () => {
  let app: FastifyInstance;
  let closeApp: () => Promise<void>;
  let expected: Expected;
  beforeAll(async () => {
    expected = JSON.parse(
      await readFile(path.join(import.meta.dirname, '../trace/fixtures/trace-expected.json'), 'utf8'),
    );
    ({ app, close: closeApp } = await tinyApp());
  });
  afterAll(() => closeApp());

  const trace = async (payload: object): Promise<TraceResponse> => {
    const res = await app.inject({ method: 'POST', url: '/trace', payload });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    return TraceResponseSchema.parse(res.json());
  };

  it('default request: exact tokens, the overview hooks per layer, attention, logit lens, top-k', async () => {
    const r = await trace({ prompt: expected.prompt });
    expect(r.tokens.map((t) => t.id)).toEqual([464, 3139, 286, 4881, 318]);
    expect(r.tokens.map((t) => t.text)).toEqual(['The', ' capital', ' of', ' France', ' is']);
    expect(r.positions).toEqual([0, 1, 2, 3, 4]);
    expect(r.hooks.map((h) => h.hook)).toEqual([
      'hook_embed',
      'hook_pos_embed',
      ...[0, 1, 2].flatMap((i) =>
        [
          'hook_resid_pre',
          'attn.hook_pattern',
          'hook_attn_out',
          'hook_resid_mid',
          'mlp.hook_post',
          'hook_mlp_out',
          'hook_resid_post',
        ].map((s) => `blocks.${i}.${s}`),
      ),
      'ln_final.hook_normalized',
    ]);
    expect(r.attention.map((a) => a.layer)).toEqual([0, 1, 2]);
    expect(r.logit_lens?.stages).toEqual([
      'blocks.0.hook_resid_pre',
      'blocks.0.hook_resid_post',
      'blocks.1.hook_resid_post',
      'blocks.2.hook_resid_post',
    ]);
    expect(r.top_k).toHaveLength(10);
    expect(r.generated).toBeNull();
    expect(r.hooks.every((h) => h.values === undefined)).toBe(true);
    expect(r.note).toMatch(/no fold_ln/);
    // shape flow of this run: seq_len = 5 prompt tokens, stage outputs named by hook
    const shapes = r.shapes as { seq_len: number; stages: { output: { name: string; shape: number[] } }[] };
    expect(shapes.seq_len).toBe(5);
    expect(shapes.stages.find((s) => s.output.name === 'hook_embed')?.output.shape).toEqual([5, 32]);
  });

  it('hooks: [] returns no summaries but still the next-token distribution and the lens', async () => {
    const r = await trace({ prompt: expected.prompt, hooks: [] });
    expect([r.hooks, r.attention]).toEqual([[], []]);
    // lens_positions defaults to "last" whatever positions says
    expect(r.logit_lens?.positions.map((p) => p.position)).toEqual([4]);
    expect(r.top_k[0].id).toBe(expected.top_k[0].id);
  });

  it('hook summaries equal numpy statistics of the reference activations', async () => {
    for (const e of expected.hooks) {
      const r = await trace({
        prompt: expected.prompt,
        hooks: [e.hook],
        positions: e.positions,
        histogram_bins: e.histogram_bins,
        logit_lens: false,
      });
      expect(r.hooks).toHaveLength(1);
      const h = r.hooks[0];
      expect(h.shape, e.hook).toEqual(e.shape);
      expect(h.positions).toEqual(e.positions);
      const s = h.stats;
      expect([s.count, s.finite_count, s.nan_count, s.pos_inf_count, s.neg_inf_count]).toEqual([
        e.stats.count,
        e.stats.finite_count,
        e.stats.nan_count,
        e.stats.pos_inf_count,
        e.stats.neg_inf_count,
      ]);
      for (const k of ['mean', 'std', 'min', 'max', 'l2_norm', 'abs_max'] as const) close(s[k], e.stats[k]);
      expect(s.abs_max_index?.index, `${e.hook} abs_max index`).toEqual(e.stats.abs_max_index);
      // A value sitting on a bin edge may fall either side between float32 and float64 runs: allow one move.
      const moved = h.histogram.counts.reduce((acc, c, i) => acc + Math.abs(c - e.histogram_counts[i]), 0);
      expect(moved, `${e.hook} histogram ${h.histogram.counts} vs ${e.histogram_counts}`).toBeLessThanOrEqual(2);
      expect(h.histogram.counts.reduce((a, b) => a + b, 0)).toBe(e.stats.finite_count);
    }
  });

  it('detail=full returns product(shape) values matching the reference, -inf as null', async () => {
    const r = await trace({
      prompt: expected.prompt,
      hooks: ['blocks.1.attn.hook_attn_scores', 'blocks.2.attn.hook_q'],
      positions: [0, 4],
      detail: 'full',
      logit_lens: false,
    });
    for (const h of r.hooks) {
      expect(h.values).toHaveLength(h.shape.reduce((a, b) => a * b, 1));
    }
    const scores = r.hooks[0];
    // [head, query_pos {0, 4}, key_pos 5]: query 0 sees only key 0, so keys 1..4 are masked (-inf -> null)
    expect(scores.values!.slice(1, 5)).toEqual([null, null, null, null]);
    expect(scores.stats.neg_inf_count).toBe(4 * 4);
    const q = r.hooks[1];
    const e = expected.hooks.find((x) => x.hook === 'blocks.2.attn.hook_q')!;
    e.values_head.forEach((v, i) => close(q.values![i], v));
  });

  it('attention rows: key_pos 0..q, each row sums to 1, equal to the reference pattern', async () => {
    const r = await trace({
      prompt: expected.prompt,
      hooks: ['blocks.1.attn.hook_pattern'],
      positions: [2, 4],
      logit_lens: false,
    });
    const [layer] = r.attention;
    expect(layer).toMatchObject({ layer: 1, hook: 'blocks.1.attn.hook_pattern', query_positions: [2, 4] });
    expect(layer.heads).toHaveLength(4);
    for (const head of layer.heads) {
      expect(head.rows.map((row) => row.length)).toEqual([3, 5]);
      for (const row of head.rows)
        close(
          Array.from(row).reduce((a, b) => a + b, 0),
          1,
          1e-6,
          0,
        );
    }
    // reference pattern [4, 2, 5] at query {2, 4}: head 0's first row starts the flat list
    const e = expected.hooks.find((x) => x.hook === 'blocks.1.attn.hook_pattern')!;
    layer.heads[0].rows[0].forEach((v, k) => close(v, e.values_head[k]));
    expect(e.values_head.slice(3, 5)).toEqual([0, 0]); // the causal zeros we leave out
  });

  it('logit lens and next-token top-k match the reference (ln_final + tied unembedding in float64)', async () => {
    const r = await trace({ prompt: expected.prompt, lens_positions: [2, -1], top_k: 5, hooks: ['hook_embed'] });
    const lens = r.logit_lens!;
    expect(lens.positions.map((p) => p.position)).toEqual([2, 4]);
    for (const [j, e] of expected.lens.entries()) {
      const got = lens.positions[j];
      expect(got.final_top1.id).toBe(e.final_top1);
      close(got.final_top1.prob, e.final_top1_prob, 1e-9, 1e-4);
      for (const [s, el] of e.layers.entries()) {
        const gl = got.layers[s];
        expect(gl.stage).toBe(el.stage);
        expect(gl.top[0].id, `${el.stage} @${e.position}`).toBe(el.top_ids[0]);
        gl.top.forEach((t, k) => close(t.prob, el.top_probs[k], 1e-9, 1e-4));
        close(gl.final_top1_prob, el.final_top1_prob, 1e-9, 1e-4);
      }
      // The last stage is the model's own output distribution.
      close(got.layers.at(-1)!.final_top1_prob, got.final_top1.prob, 1e-9, 1e-4);
    }
    const top = (await trace({ prompt: expected.prompt, hooks: ['hook_embed'], logit_lens: false })).top_k;
    expect(top.map((t) => t.id)).toEqual(expected.top_k.map((t) => t.id));
    top.forEach((t, k) => {
      close(t.logit, expected.top_k[k].logit);
      close(t.prob, expected.top_k[k].prob, 1e-9, 1e-4);
    });
  });

  it('greedy continuation with the KV cache equals the reference continuation', async () => {
    const n = expected.greedy_ids.length;
    const r = await trace({
      token_ids: expected.ids,
      max_new_tokens: n,
      hooks: ['hook_embed'],
      positions: 'last',
      logit_lens: false,
    });
    expect(r.generated?.tokens.map((t) => t.id)).toEqual(expected.greedy_ids);
    expect(r.generated?.tokens.map((t) => t.position)).toEqual(Array.from({ length: n }, (_, i) => 5 + i));
    expect(r.generated?.stop_reason).toBe('max_new_tokens');
    expect(r.generated?.full_text).toBe(expected.prompt + r.generated?.text);
    expect(r.top_k[0].id).toBe(expected.greedy_ids[0]);
    close(r.generated!.tokens[0].prob, r.top_k[0].prob, 1e-12, 1e-9);
  });

  it('token_ids and the equivalent prompt give the same trace; negative positions count from the end', async () => {
    const a = await trace({
      prompt: expected.prompt,
      hooks: ['blocks.*.hook_resid_post'],
      positions: [-1],
      logit_lens: false,
    });
    const b = await trace({ token_ids: expected.ids, hooks: ['*resid_post'], positions: 'last', logit_lens: false });
    expect(a.positions).toEqual([4]);
    expect(a.hooks).toEqual(b.hooks);
  });

  it('supertest smoke test on app.server', async () => {
    const res = await request(app.server)
      .post('/trace')
      .send({ prompt: 'Hello', hooks: ['blocks.0.*'], positions: 'last' });
    expect(res.status).toBe(200);
    const body = TraceResponseSchema.parse(res.body);
    expect(body.hooks).toHaveLength(17);
    expect(body.tokens).toEqual([{ id: 15496, text: 'Hello', position: 0 }]);
  });
});
