// POST /trace on random llama-family checkpoints: the same route, plan and summaries as GPT-2, the family's hook
// catalogue read from the loaded model, numbers checked against the independent reference dump.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { TraceResponseSchema, type TraceResponse } from '../../src/schemas/trace.js';
import { testApp } from '../helpers/app.js';
import { loadReference, type Reference } from '../runtime/reference.js';

describe('POST /trace on llama-family checkpoints', () => {
  let app: FastifyInstance;
  let dir: string;
  let mistral: Reference;
  let qwen3: Reference;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-llama-'));
    for (const v of ['tiny-gpt2', 'tiny-mistral', 'tiny-qwen3'])
      await symlink(path.join(PROJECT_ROOT, 'test/fixtures', v), path.join(dir, v), 'dir');
    [mistral, qwen3] = await Promise.all([
      loadReference('tiny-mistral.safetensors'),
      loadReference('tiny-qwen3.safetensors'),
    ]);
    app = await testApp({ MODELS_DIR: dir, DEFAULT_MODEL: 'tiny-gpt2', MODEL_WORKERS: 1 });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const trace = async (payload: object): Promise<TraceResponse> => {
    const res = await app.inject({ method: 'POST', url: '/trace', payload });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    return TraceResponseSchema.parse(res.json());
  };

  it('default overview: the family hooks that exist (no hook_pos_embed; rotated q/k), attention, lens, greedy with the cache', async () => {
    const r = await trace({ model: 'tiny-mistral', token_ids: mistral.ids, max_new_tokens: 8, stop_at_eos: false });
    expect(r.hooks.map((h) => h.hook)).toEqual([
      'hook_embed',
      ...[0, 1].flatMap((i) =>
        [
          'hook_resid_pre',
          'attn.hook_rot_q',
          'attn.hook_rot_k',
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
    expect(r.attention.map((a) => a.layer)).toEqual([0, 1]);
    expect(r.logit_lens?.stages).toHaveLength(3);
    expect(r.generated?.tokens.map((t) => t.id)).toEqual(mistral.greedyIds);
    expect(r.dims.n_head).toBe(4);
  });

  it('grouped keys, rotated queries and Qwen3 head_dim: shapes and statistics of the reference tensors', async () => {
    const hooks = [
      'blocks.1.attn.hook_k',
      'blocks.1.attn.hook_rot_q',
      'blocks.0.ln1.hook_scale',
      'blocks.0.mlp.hook_pre_linear',
    ];
    const r = await trace({ model: 'tiny-qwen3', token_ids: qwen3.ids, hooks, logit_lens: false });
    const T = qwen3.ids.length;
    expect(r.hooks.map((h) => [h.hook, h.shape])).toEqual([
      ['blocks.0.ln1.hook_scale', [T]],
      ['blocks.0.mlp.hook_pre_linear', [T, 64]],
      ['blocks.1.attn.hook_k', [T, 2, 16]],
      ['blocks.1.attn.hook_rot_q', [T, 4, 16]],
    ]);
    for (const h of r.hooks) {
      const ref = qwen3.tensors.get(h.hook)!.data;
      const mean = ref.reduce((a, b) => a + b, 0) / ref.length;
      expect(Math.abs((h.stats.mean as number) - mean), h.hook).toBeLessThan(1e-4 * Math.max(1, Math.abs(mean)));
    }
  });

  it('GPT-2 patterns that the family lacks are 400 unknown_hook with the family patterns', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { model: 'tiny-mistral', token_ids: [1, 2], hooks: ['hook_pos_embed'] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('unknown_hook');
    expect(res.json().valid_patterns).toContain('blocks.*.attn.hook_rot_k');
    expect(res.json().valid_patterns).not.toContain('hook_pos_embed');
  });
});
