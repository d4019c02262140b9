// Parameter counting on hand-computed configs: conventions, breakdown, layer kinds, MoE active, MTP, memory.
import { describe, expect, it } from 'vitest';
import { normalizeConfig } from '../../src/arch/normalize.js';
import { countParams } from '../../src/arch/params.js';

const GPT2 = { model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 };

describe('GPT-2 small', () => {
  const p = countParams(normalizeConfig(GPT2));
  it('has the three named conventions (nanoGPT, TransformerLens)', () => {
    expect(p.total).toBe(124_439_808);
    expect(p.conventions.non_embedding).toBe(123_653_376); // minus wpe 1024*768
    expect(p.conventions.hidden_only).toBe(84_934_656); // TL cfg.n_params: 12 * (4*768^2 + 2*768*3072)
    expect(p.conventions.excluding_embeddings).toBe(124_439_808 - 50257 * 768 - 1024 * 768);
  });
  it('breaks down by component, the tied head counted once', () => {
    expect(p.breakdown.token_embedding).toBe(50257 * 768);
    expect(p.breakdown.position_embedding).toBe(1024 * 768);
    expect(p.breakdown.lm_head).toBe(0);
    expect(p.tied_embeddings).toBe(true);
    // c_attn (768x2304 + 2304) + c_proj (768x768 + 768), per layer
    expect(p.breakdown.attention).toBe(12 * (768 * 2304 + 2304 + 768 * 768 + 768));
    expect(p.breakdown.mlp).toBe(12 * (768 * 3072 + 3072 + 3072 * 768 + 768));
    expect(p.breakdown.norm).toBe(12 * 4 * 768);
    expect(p.breakdown.final_norm).toBe(2 * 768);
    expect(p.active).toBeNull();
  });
  it('reports one layer kind with its tensors', () => {
    expect(p.layer_kinds).toHaveLength(1);
    expect(p.layer_kinds[0]).toMatchObject({ id: 'dense', layers: '0-11', count: 12, params_per_layer: 7_087_872 });
    expect(p.layer_kinds[0]!.tensors.find((t) => t.name === 'attn.W_Q')?.shape).toEqual([12, 768, 64]);
  });
  it('gives memory at four precisions', () => {
    expect(p.memory.map((m) => [m.dtype, m.bytes])).toEqual([
      ['fp32', 497_759_232],
      ['bf16', 248_879_616],
      ['int8', 124_439_808],
      ['int4', 62_219_904],
    ]);
    expect(p.memory[0]!.gib).toBeCloseTo(0.464, 3);
  });
});

describe('hand-computed tiny configs', () => {
  it('Llama with GQA (6 heads, 2 kv heads) and attention + MLP biases', () => {
    // d 12, d_head 2: q 144+12, k 48+4, v 48+4, o 144+12 = 416; gated MLP 3*240 + 20+20+12 = 772; 2 norms 24
    const p = countParams(
      normalizeConfig({
        model_type: 'llama',
        vocab_size: 17,
        hidden_size: 12,
        num_hidden_layers: 2,
        num_attention_heads: 6,
        num_key_value_heads: 2,
        intermediate_size: 20,
        max_position_embeddings: 32,
        attention_bias: true,
        mlp_bias: true,
      }),
    );
    expect(p.layer_kinds[0]!.params_per_layer).toBe(1212);
    expect(p.total).toBe(2 * 1212 + 17 * 12 * 2 + 12);
    expect(p.conventions.hidden_only).toBe(2 * (144 + 48 + 48 + 144 + 720));
    expect(p.conventions.non_embedding).toBe(p.total - 204); // untied: the lookup table is not the head
    expect(p.conventions.excluding_embeddings).toBe(p.total - 408);
  });

  it('DeepSeek-MoE: dense-first layer, moe_layer_freq 2, shared experts, top-2 of 8', () => {
    // d 8, 2 heads: attention 4*64 = 256, norms 16; dense MLP 3*8*12 = 288
    // MoE: router 8*8 = 64, experts 8 * 3*8*3 = 576, shared (2 x width 3 = 6) 3*8*6 = 144
    const p = countParams(
      normalizeConfig({
        model_type: 'deepseek',
        vocab_size: 31,
        hidden_size: 8,
        num_hidden_layers: 4,
        num_attention_heads: 2,
        intermediate_size: 12,
        max_position_embeddings: 64,
        n_routed_experts: 8,
        n_shared_experts: 2,
        num_experts_per_tok: 2,
        moe_intermediate_size: 3,
        first_k_dense_replace: 1,
        moe_layer_freq: 2,
      }),
    );
    expect(p.layer_kinds.map((k) => [k.id, k.layers, k.count, k.params_per_layer, k.active_per_layer])).toEqual([
      ['dense', '0-1,3', 3, 560, 560],
      ['moe', '2', 1, 1056, 256 + 16 + 64 + 144 + 144],
    ]);
    expect(p.total).toBe(3 * 560 + 1056 + 2 * 31 * 8 + 8);
    expect(p.active).toBe(3 * 560 + 624 + 2 * 31 * 8 + 8);
    expect(p.active_non_embedding).toBe(p.active! - 31 * 8);
    expect(p.breakdown).toMatchObject({ routed_experts: 576, shared_experts: 144, router: 64 });
  });

  it('gpt-oss: attention sinks, biases everywhere, router bias, expert biases', () => {
    // d 6, 4 heads x 4, 2 kv heads: q 6*16+16, k 6*8+8, v 6*8+8, o 16*6+6, sinks 4 = 330
    // router 6*4+4 = 28; experts 4 * (gate 30+5, up 30+5, down 30+6) = 424; norms 12
    const p = countParams(
      normalizeConfig({
        model_type: 'gpt_oss',
        vocab_size: 43,
        hidden_size: 6,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 4,
        intermediate_size: 5,
        max_position_embeddings: 64,
        num_local_experts: 4,
        num_experts_per_tok: 2,
        sliding_window: 8,
      }),
    );
    expect(p.layer_kinds[0]!.params_per_layer).toBe(330 + 28 + 424 + 12);
    expect(p.layer_kinds[0]!.active_per_layer).toBe(330 + 28 + 212 + 12);
    expect(p.total).toBe(2 * 794 + 2 * 43 * 6 + 6);
  });

  it('Gemma 2 has four norms per layer and a tied head; Gemma 3 adds q/k norms', () => {
    const base = {
      vocab_size: 37,
      hidden_size: 6,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 4,
      intermediate_size: 9,
      max_position_embeddings: 64,
      sliding_window: 8,
    };
    const g2 = countParams(normalizeConfig({ ...base, model_type: 'gemma2' }));
    // q 6*8, k 6*4, v 6*4, o 8*6 = 144; MLP 3*54 = 162; norms 4*6 = 24
    expect(g2.layer_kinds[0]!.params_per_layer).toBe(144 + 162 + 24);
    expect(g2.total).toBe(2 * 330 + 37 * 6 + 6);
    const g3 = countParams(normalizeConfig({ ...base, model_type: 'gemma3_text' }));
    expect(g3.layer_kinds[0]!.params_per_layer).toBe(330 + 2 * 4);
  });

  it('DeepSeek-V3 style MLA with q_lora, router bias, and one MTP module reported separately', () => {
    const cfg = {
      model_type: 'deepseek_v3',
      vocab_size: 31,
      hidden_size: 8,
      num_hidden_layers: 3,
      num_attention_heads: 2,
      intermediate_size: 12,
      max_position_embeddings: 64,
      n_routed_experts: 4,
      n_shared_experts: 1,
      num_experts_per_tok: 2,
      moe_intermediate_size: 3,
      first_k_dense_replace: 1,
      q_lora_rank: 6,
      kv_lora_rank: 4,
      qk_nope_head_dim: 3,
      qk_rope_head_dim: 2,
      v_head_dim: 5,
      topk_method: 'noaux_tc',
    };
    const p = countParams(normalizeConfig({ ...cfg, num_nextn_predict_layers: 1 }));
    // q_a 8*6, q_a_norm 6, q_b 6*2*5, kv_a 8*(4+2), kv_a_norm 4, kv_b 4*2*(3+5), o 2*5*8 = 48+6+60+48+4+64+80 = 310
    const dense = p.layer_kinds.find((k) => k.id === 'dense')!;
    expect(dense.params_per_layer).toBe(310 + 16 + 3 * 8 * 12);
    const moe = p.layer_kinds.find((k) => k.id === 'moe')!;
    // router 8*4 + bias 4, experts 4*72, shared 72
    expect(moe.params_per_layer).toBe(310 + 16 + 36 + 288 + 72);
    const mtp = p.mtp!;
    expect(mtp.params).toBe(8 + 8 + 16 * 8 + moe.params_per_layer + 8);
    expect(mtp.params_with_shared_copies).toBe(mtp.params + 2 * 31 * 8);
    expect(mtp.total_with_mtp).toBe(p.total + mtp.params_with_shared_copies);
    expect(countParams(normalizeConfig(cfg)).mtp).toBeNull();
  });

  it('Qwen2-MoE: mlp_only_layers stay dense, the shared expert has a sigmoid gate', () => {
    const p = countParams(
      normalizeConfig({
        model_type: 'qwen2_moe',
        vocab_size: 23,
        hidden_size: 8,
        num_hidden_layers: 4,
        num_attention_heads: 4,
        intermediate_size: 10,
        max_position_embeddings: 64,
        num_experts: 6,
        num_experts_per_tok: 2,
        moe_intermediate_size: 3,
        shared_expert_intermediate_size: 7,
        mlp_only_layers: [0],
      }),
    );
    expect(p.layer_kinds.map((k) => [k.id, k.layers])).toEqual([
      ['dense', '0'],
      ['moe', '1-3'],
    ]);
    expect(p.breakdown.shared_experts).toBe(3 * (3 * 8 * 7 + 8));
  });

  it('rejects a config too large to count exactly', () => {
    const huge = {
      model_type: 'llama',
      vocab_size: 10_000_000,
      hidden_size: 1_000_000,
      num_hidden_layers: 10_000,
      num_attention_heads: 1,
      intermediate_size: 10_000_000,
      max_position_embeddings: 8,
    };
    expect(() => countParams(normalizeConfig(huge))).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'config_out_of_range' }),
    );
  });
});
