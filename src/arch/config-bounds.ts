// Bounds for every HF config.json field the architecture math reads: one table for the zod schema and the reader.
// The caps keep absurd configs (hidden_size 1e12, a million layers) from hanging or overflowing the math.

export interface IntBound {
  kind: 'int';
  min: number;
  max: number;
}
export interface NumBound {
  kind: 'number';
  min: number;
  max: number;
}
export interface BoolBound {
  kind: 'bool';
}
export interface StrBound {
  kind: 'string';
}
export interface IntListBound {
  kind: 'int[]';
  maxItems: number;
  max: number;
}
export interface StrListBound {
  kind: 'string[]';
  maxItems: number;
}
export type FieldBound = IntBound | NumBound | BoolBound | StrBound | IntListBound | StrListBound;

const int = (min: number, max: number): IntBound => ({ kind: 'int', min, max });

export const MAX_LAYERS = 10_000;
const DIM = 1_000_000; // widths (d_model, head_dim, ranks)
const WIDE = 10_000_000; // vocab and MLP widths
const HEADS = 100_000;
/** 2^24 positions (10M-token contexts exist). */
export const MAX_POSITIONS = 16_777_216;
const CTX = MAX_POSITIONS;

/** Field name -> accepted values. Every field may also be null or absent; presence is checked per family. */
export const CONFIG_FIELDS: Readonly<Record<string, FieldBound>> = {
  vocab_size: int(1, WIDE),
  n_embd: int(1, DIM),
  n_layer: int(1, MAX_LAYERS),
  n_head: int(1, HEADS),
  n_positions: int(1, CTX),
  n_ctx: int(1, CTX),
  n_inner: int(1, WIDE),
  hidden_size: int(1, DIM),
  num_hidden_layers: int(1, MAX_LAYERS),
  num_attention_heads: int(1, HEADS),
  num_key_value_heads: int(1, HEADS),
  head_dim: int(1, DIM),
  intermediate_size: int(1, WIDE),
  max_position_embeddings: int(1, CTX),
  sliding_window: int(1, CTX),
  max_window_layers: int(0, MAX_LAYERS),
  sliding_window_pattern: int(1, MAX_LAYERS),
  num_local_experts: int(1, HEADS),
  num_experts: int(0, HEADS),
  num_experts_per_tok: int(1, HEADS),
  experts_per_token: int(1, HEADS),
  moe_intermediate_size: int(1, WIDE),
  shared_expert_intermediate_size: int(0, WIDE),
  decoder_sparse_step: int(1, MAX_LAYERS),
  n_routed_experts: int(1, HEADS),
  n_shared_experts: int(0, HEADS),
  first_k_dense_replace: int(0, MAX_LAYERS),
  moe_layer_freq: int(1, MAX_LAYERS),
  q_lora_rank: int(1, DIM),
  kv_lora_rank: int(1, DIM),
  qk_nope_head_dim: int(0, DIM),
  qk_rope_head_dim: int(0, DIM),
  v_head_dim: int(1, DIM),
  num_nextn_predict_layers: int(0, 64),
  partial_rotary_factor: { kind: 'number', min: 0, max: 1 },
  tie_word_embeddings: { kind: 'bool' },
  attention_bias: { kind: 'bool' },
  mlp_bias: { kind: 'bool' },
  use_sliding_window: { kind: 'bool' },
  model_type: { kind: 'string' },
  hidden_act: { kind: 'string' },
  hidden_activation: { kind: 'string' },
  activation_function: { kind: 'string' },
  afn: { kind: 'string' },
  topk_method: { kind: 'string' },
  mlp_only_layers: { kind: 'int[]', maxItems: MAX_LAYERS, max: MAX_LAYERS },
  layer_types: { kind: 'string[]', maxItems: MAX_LAYERS },
};
