// Config normalisation: family defaults, HF field aliases, and the errors a pasted config can produce.
import { describe, expect, it } from 'vitest';
import { normalizeConfig } from '../../src/arch/normalize.js';
import { SUPPORTED_MODEL_TYPES } from '../../src/arch/spec.js';

const LLAMA = {
  model_type: 'llama',
  vocab_size: 32000,
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 128,
  max_position_embeddings: 128,
};

describe('family defaults', () => {
  it('Llama: untied, RMSNorm, RoPE, MHA when num_key_value_heads is absent', () => {
    const s = normalizeConfig(LLAMA);
    expect([
      s.tiedEmbeddings,
      s.norm,
      s.positions,
      s.attention.nKvHeads,
      s.attention.dHead,
      s.attention.qkvBias,
    ]).toEqual([false, 'rmsnorm', 'rope', 4, 16, false]);
  });
  it('Qwen2: Q/K/V biases but no output bias', () => {
    const s = normalizeConfig({ ...LLAMA, model_type: 'qwen2' });
    expect([s.attention.qkvBias, s.attention.oBias]).toEqual([true, false]);
  });
  it('Gemma: tied, (1 + w) RMSNorm, scaled embeddings; Gemma 2 sandwich norms', () => {
    const s = normalizeConfig({ ...LLAMA, model_type: 'gemma' });
    expect([s.tiedEmbeddings, s.normPlusOne, s.embedScale, s.normPlacement]).toEqual([true, true, true, 'pre']);
    expect(normalizeConfig({ ...LLAMA, model_type: 'gemma2' }).normPlacement).toBe('sandwich');
  });
  it('Qwen3 and Gemma 3 have q/k norms; gpt-oss sinks and biases', () => {
    expect(normalizeConfig({ ...LLAMA, model_type: 'qwen3' }).attention.qkNorm).toBe(true);
    expect(normalizeConfig({ ...LLAMA, model_type: 'gemma3_text' }).attention.qkNorm).toBe(true);
    const o = normalizeConfig({ ...LLAMA, model_type: 'gpt_oss', num_local_experts: 4, num_experts_per_tok: 2 });
    expect([o.attention.sinks, o.attention.qkvBias, o.moe?.routerBias, o.moe?.expertBias]).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });
  it('GPT-2 reads n_ctx when n_positions is absent and defaults n_inner to 4*n_embd', () => {
    const s = normalizeConfig({
      model_type: 'gpt2',
      vocab_size: 10,
      n_embd: 8,
      n_layer: 1,
      n_head: 2,
      n_ctx: 32,
      n_inner: null,
    });
    expect([s.maxPositions, s.mlp.dMlp, s.tiedEmbeddings, s.positions]).toEqual([32, 32, true, 'learned']);
  });
  it('unwraps a multimodal config to its text_config and says so', () => {
    const s = normalizeConfig({
      model_type: 'gemma3',
      text_config: { ...LLAMA, model_type: 'gemma3_text' },
      vision_config: {},
    });
    expect(s.modelType).toBe('gemma3_text');
    expect(s.notes.join(' ')).toMatch(/text_config/);
  });
  it('is frozen', () => {
    expect(Object.isFrozen(normalizeConfig(LLAMA).attention)).toBe(true);
  });
});

describe('errors', () => {
  it('unsupported model_type -> 422 listing the supported ones', () => {
    expect(() => normalizeConfig({ ...LLAMA, model_type: 'mamba' })).toThrow(
      expect.objectContaining({
        statusCode: 422,
        code: 'unsupported_model_type',
        extra: { supported: [...SUPPORTED_MODEL_TYPES] },
      }),
    );
  });
  it('a missing required field -> 400 invalid_config naming it', () => {
    const { hidden_size: _, ...rest } = LLAMA;
    expect(() => normalizeConfig(rest)).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'invalid_config', extra: { field: 'hidden_size' } }),
    );
  });
  it('missing model_type, wrong types, out-of-range values and broken relations are invalid_config', () => {
    const bad: Array<[unknown, string | null]> = [
      [[1, 2], null],
      [{ ...LLAMA, model_type: undefined }, 'model_type'],
      [{ ...LLAMA, hidden_size: '64' }, 'hidden_size'],
      [{ ...LLAMA, hidden_size: 1e12 }, 'hidden_size'],
      [{ ...LLAMA, num_hidden_layers: 1e6 }, 'num_hidden_layers'],
      [{ ...LLAMA, num_hidden_layers: 2.5 }, 'num_hidden_layers'],
      [{ ...LLAMA, num_key_value_heads: 3 }, 'num_key_value_heads'],
      [{ ...LLAMA, hidden_size: 66 }, 'head_dim'],
      [{ ...LLAMA, tie_word_embeddings: 'yes' }, 'tie_word_embeddings'],
      [{ ...LLAMA, model_type: 'mixtral', num_local_experts: 2, num_experts_per_tok: 3 }, 'num_experts_per_tok'],
      [
        {
          ...LLAMA,
          model_type: 'gpt_oss',
          num_local_experts: 2,
          num_experts_per_tok: 1,
          layer_types: ['full_attention'],
        },
        'layer_types',
      ],
    ];
    for (const [cfg, field] of bad) {
      expect(() => normalizeConfig(cfg), JSON.stringify(cfg).slice(0, 80)).toThrow(
        expect.objectContaining({ statusCode: 400, code: 'invalid_config', extra: { field } }),
      );
    }
  });
});
