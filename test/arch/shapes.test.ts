// Shape flow: the GPT-2 walk-through shapes, GQA, MoE, MLA, sliding windows, batch, limits and exact FLOP totals.
import { describe, expect, it } from 'vitest';
import { normalizeConfig } from '../../src/arch/normalize.js';
import { shapeFlow, type ShapesReport } from '../../src/arch/shapes.js';

const GPT2 = { model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 };
const LLAMA3_8B = {
  model_type: 'llama',
  vocab_size: 128256,
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  intermediate_size: 14336,
  max_position_embeddings: 8192,
};
const DSV3 = {
  model_type: 'deepseek_v3',
  vocab_size: 129280,
  hidden_size: 7168,
  num_hidden_layers: 61,
  num_attention_heads: 128,
  intermediate_size: 18432,
  max_position_embeddings: 163840,
  moe_intermediate_size: 2048,
  n_routed_experts: 256,
  n_shared_experts: 1,
  num_experts_per_tok: 8,
  first_k_dense_replace: 3,
  q_lora_rank: 1536,
  kv_lora_rank: 512,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  v_head_dim: 128,
  topk_method: 'noaux_tc',
};

const at = (r: ShapesReport, id: string) => {
  const s = r.stages.find((x) => x.id === id);
  if (!s) throw new Error(`no stage ${id}; have ${r.stages.map((x) => x.id).join(', ')}`);
  return s;
};

describe('GPT-2 walk-through', () => {
  const r = shapeFlow(normalizeConfig(GPT2));
  it('defaults to the padded 1024-token context, batch 1', () => {
    expect([r.seq_len, r.batch]).toEqual([1024, 1]);
    expect(at(r, 'tokenize').output.shape).toEqual([1, 1024]);
  });
  it('has the walk-through shapes', () => {
    expect(at(r, 'embed').output.shape).toEqual([1024, 768]);
    expect(at(r, 'embed').weights[0]!.shape).toEqual([50257, 768]);
    const q = at(r, 'blocks.0.attn.q');
    expect([q.inputs[0]!.shape, q.weights[0]!.shape, q.output.shape, q.heads, q.per_head]).toEqual([
      [1024, 768],
      [768, 64],
      [1024, 64],
      12,
      true,
    ]);
    expect(q.all_heads).toEqual({ weights: [768, 768], output: [1024, 768] });
    expect(at(r, 'blocks.0.attn.scores').inputs.map((i) => i.shape)).toEqual([
      [1024, 64],
      [64, 1024],
    ]);
    expect(at(r, 'blocks.0.attn.scores').output.shape).toEqual([1024, 1024]);
    expect(at(r, 'blocks.0.attn.softmax').output.shape).toEqual([1024, 1024]);
    expect(at(r, 'blocks.0.attn.concat').output.shape).toEqual([1024, 768]);
    expect(at(r, 'blocks.0.mlp.in').output.shape).toEqual([1024, 3072]);
    expect(at(r, 'blocks.0.mlp.out').output).toEqual({ name: 'blocks.0.hook_mlp_out', shape: [1024, 768] });
    expect(at(r, 'last_row').output.shape).toEqual([768]);
    const u = at(r, 'unembed');
    expect([u.weights[0]!.name, u.weights[0]!.shape, u.output.shape]).toEqual(['embed.W_E', [50257, 768], [50257]]);
    expect(u.note).toMatch(/tied/);
  });
  it('uses a learned position table and one layer group of 12', () => {
    expect(at(r, 'pos_embed').weights[0]).toEqual({ name: 'pos_embed.W_pos', shape: [1024, 768] });
    expect(r.layer_groups).toMatchObject([{ id: 'dense-global', layers: '0-11', count: 12, representative: 0 }]);
  });
  it('counts matmul FLOPs exactly as 2*m*n*k over all layers (bias adds included)', () => {
    const T = 1024,
      d = 768,
      f = 3072,
      h = 12,
      dh = 64,
      V = 50257;
    const layer =
      3 * (2 * T * d * d + T * d) +
      (2 * T * T * dh * h + h * T * T) +
      2 * T * T * dh * h +
      (2 * T * d * d + T * d) +
      (2 * T * d * f + T * f) +
      (2 * T * f * d + T * d);
    expect(r.totals.matmul_flops).toBe(12 * layer + 2 * d * V);
    expect(BigInt(r.totals.forward_flops_exact)).toBe(BigInt(r.totals.forward_flops));
    expect(r.totals.flops_per_token).toBe(r.totals.forward_flops / 1024);
    expect(r.totals.forward_flops_all_positions_logits - r.totals.forward_flops).toBe(2 * 1023 * d * V);
  });
  it('takes a 5-token prompt as [1, 5]', () => {
    const s = shapeFlow(normalizeConfig(GPT2), { seqLen: 5 });
    expect(at(s, 'tokenize').output.shape).toEqual([1, 5]);
    expect(at(s, 'embed').output.shape).toEqual([5, 768]);
  });
  it('prefixes batch to data shapes and multiplies FLOPs', () => {
    const b = shapeFlow(normalizeConfig(GPT2), { seqLen: 8, batch: 3 });
    const one = shapeFlow(normalizeConfig(GPT2), { seqLen: 8 });
    expect(at(b, 'tokenize').output.shape).toEqual([3, 8]);
    expect(at(b, 'embed').output.shape).toEqual([3, 8, 768]);
    expect(at(b, 'blocks.0.attn.q').weights[0]!.shape).toEqual([768, 64]);
    expect(at(b, 'last_row').output.shape).toEqual([3, 768]);
    expect(b.totals.forward_flops).toBe(3 * one.totals.forward_flops);
  });
  it('refuses seq_len beyond the context with the limit in the sentence', () => {
    expect(() => shapeFlow(normalizeConfig(GPT2), { seqLen: 1025 })).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'seq_len_too_long', detail: expect.stringContaining('1024') }),
    );
  });
  it('caps the default at a shorter context (GPT-1: 512)', () => {
    const g1 = shapeFlow(
      normalizeConfig({
        model_type: 'openai-gpt',
        vocab_size: 40478,
        n_embd: 768,
        n_layer: 12,
        n_head: 12,
        n_positions: 512,
      }),
    );
    expect(g1.seq_len).toBe(512);
    expect(g1.stages.some((s) => s.id === 'ln_final')).toBe(false);
  });
});

describe('Llama-3-8B (GQA)', () => {
  const r = shapeFlow(normalizeConfig(LLAMA3_8B), { seqLen: 1024 });
  it('has per-head Q over 32 heads and K/V over 8 shared kv heads', () => {
    const q = at(r, 'blocks.0.attn.q');
    expect([q.inputs[0]!.shape, q.weights[0]!.shape, q.output.shape, q.heads]).toEqual([
      [1024, 4096],
      [4096, 128],
      [1024, 128],
      32,
    ]);
    for (const id of ['blocks.0.attn.k', 'blocks.0.attn.v']) {
      const k = at(r, id);
      expect([k.heads, k.all_heads?.weights, k.all_heads?.output]).toEqual([8, [4096, 1024], [1024, 1024]]);
      expect(k.note).toMatch(/shared by 4 query heads/);
    }
  });
  it('applies RoPE, has no position table, and a gated MLP of 14336', () => {
    expect(r.stages.some((s) => s.id === 'pos_embed')).toBe(false);
    expect(at(r, 'blocks.0.attn.rope').op).toBe('rope');
    expect(at(r, 'blocks.0.mlp.gate').output.shape).toEqual([1024, 14336]);
    expect(at(r, 'blocks.0.mlp.in').output.shape).toEqual([1024, 14336]);
    expect(at(r, 'blocks.0.mlp.act').op).toBe('silu');
    expect(at(r, 'unembed').weights[0]).toEqual({ name: 'unembed.W_U', shape: [4096, 128256] });
  });
});

describe('MoE and MLA', () => {
  it('Mixtral routes 1024 tokens top-2 of 8: 256 rows per expert on average', () => {
    const r = shapeFlow(
      normalizeConfig({
        ...LLAMA3_8B,
        model_type: 'mixtral',
        vocab_size: 32000,
        num_local_experts: 8,
        num_experts_per_tok: 2,
      }),
      { seqLen: 1024 },
    );
    expect(at(r, 'blocks.0.mlp.router').output.shape).toEqual([1024, 8]);
    expect(at(r, 'blocks.0.mlp.topk').output.shape).toEqual([1024, 2]);
    const up = at(r, 'blocks.0.mlp.experts.in');
    expect([up.inputs[0]!.shape, up.weights[0]!.shape, up.tokens_per_expert]).toEqual([
      [2048, 4096],
      [8, 4096, 14336],
      256,
    ]);
  });
  it('DeepSeek-V3 groups 3 dense and 58 MoE layers, with MLA latents and exact totals', () => {
    const r = shapeFlow(normalizeConfig(DSV3), { seqLen: 1024 });
    expect(r.layer_groups.map((g) => [g.id, g.layers, g.count])).toEqual([
      ['dense-global', '0-2', 3],
      ['moe-global', '3-60', 58],
    ]);
    expect(at(r, 'blocks.0.attn.q_a').output.shape).toEqual([1024, 1536]);
    expect(at(r, 'blocks.0.attn.kv_a').output.shape).toEqual([1024, 576]);
    expect(at(r, 'blocks.0.attn.kv_b').weights[0]!.shape).toEqual([512, 256]);
    expect(at(r, 'blocks.0.attn.scores').inputs[0]!.shape).toEqual([1024, 192]);
    expect(at(r, 'blocks.3.mlp.experts.in').tokens_per_expert).toBe(32);
    const perLayer = r.layer_groups.reduce((a, g) => a + BigInt(g.flops_per_layer) * BigInt(g.count), 0n);
    const outside = r.stages.filter((s) => s.layer === null).reduce((a, s) => a + BigInt(s.flops), 0n);
    expect(BigInt(r.totals.forward_flops_exact)).toBe(perLayer + outside);
  });
  it('Gemma 3 splits sliding and global layers (pattern 3)', () => {
    const r = shapeFlow(
      normalizeConfig({
        model_type: 'gemma3_text',
        vocab_size: 37,
        hidden_size: 6,
        num_hidden_layers: 7,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        head_dim: 4,
        intermediate_size: 9,
        max_position_embeddings: 64,
        sliding_window: 8,
        sliding_window_pattern: 3,
      }),
    );
    expect(r.layer_groups.map((g) => [g.id, g.layers, g.sliding_window])).toEqual([
      ['dense-sliding', '0-1,3-4,6', 8],
      ['dense-global', '2,5', null],
    ]);
    expect(at(r, 'blocks.0.attn.mask').note).toMatch(/sliding window/);
    expect(at(r, 'blocks.0.ln1_post').op).toBe('norm');
    expect(at(r, 'blocks.0.attn.q_norm').weights[0]!.shape).toEqual([4]);
  });
  it('every stage id is unique and every shape is whole and positive', () => {
    for (const cfg of [GPT2, LLAMA3_8B, DSV3]) {
      const r = shapeFlow(normalizeConfig(cfg), { seqLen: 64, batch: 2 });
      expect(new Set(r.stages.map((s) => s.id)).size).toBe(r.stages.length);
      for (const s of r.stages)
        for (const t of [...s.inputs, ...s.weights, s.output])
          for (const n of t.shape) expect(Number.isInteger(n) && n > 0, `${s.id} ${t.name}`).toBe(true);
    }
  });
});
