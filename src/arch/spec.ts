// ArchSpec: one normalised description of a decoder-only transformer, whatever config.json it came from.

/** Every HF model_type this service understands (the table in families.ts has one rule per entry). */
export const SUPPORTED_MODEL_TYPES = [
  'openai-gpt',
  'gpt2',
  'llama',
  'mistral',
  'mixtral',
  'qwen2',
  'qwen2_moe',
  'qwen3',
  'qwen3_moe',
  'deepseek',
  'deepseek_v2',
  'deepseek_v3',
  'gemma',
  'gemma2',
  'gemma3_text',
  'phi3',
  'gpt_oss',
] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

export type NormKind = 'layernorm' | 'rmsnorm';
export type PositionKind = 'learned' | 'rope';

/** Multi-head latent attention (DeepSeek-V2/V3): low-rank Q and joint KV compression. */
export interface MlaSpec {
  /** null: Q is a plain [d_model, n_heads*q_head_dim] projection (V2-Lite). */
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
}

export interface AttentionSpec {
  nHeads: number;
  /** Key/value heads: = nHeads for MHA, 1 for MQA, in between for GQA. */
  nKvHeads: number;
  dHead: number;
  /** Biases on the Q, K, V projections. */
  qkvBias: boolean;
  /** Bias on the output projection. */
  oBias: boolean;
  /** Per-head RMSNorm on queries and keys (weight [d_head], shared across heads). */
  qkNorm: boolean;
  /** Learned per-head attention sink logits [n_heads] (gpt-oss). */
  sinks: boolean;
  mla: MlaSpec | null;
  /** Fraction of d_head rotated by RoPE (1 = all; phi-4-mini 0.75); null for learned positions. */
  ropeFraction: number | null;
}

export interface MlpSpec {
  /** plain: up -> act -> down (2 matrices); gated: act(gate) * up -> down (3 matrices). */
  kind: 'plain' | 'gated';
  dMlp: number;
  bias: boolean;
  act: string;
}

export interface MoeSpec {
  nExperts: number;
  topK: number;
  dExpert: number;
  /** Shared experts as one fused MLP of width dShared (0 = none). */
  dShared: number;
  /** How many expert widths dShared is made of (DeepSeek: n_shared_experts; Qwen2-MoE: 1). */
  nShared: number;
  /** Qwen2-MoE: a sigmoid gate [d_model, 1] scaling the shared expert. */
  sharedGate: boolean;
  /** Router bias [n_experts] (gpt-oss linear bias, DeepSeek-V3 e_score_correction_bias). */
  routerBias: boolean;
  /** Biases on the expert matrices (gpt-oss). */
  expertBias: boolean;
}

export type AttentionWindow = { kind: 'global' } | { kind: 'sliding'; window: number };

/** What one layer is made of; layers with equal kinds are identical in shape. */
export interface LayerKind {
  mlp: 'dense' | 'moe';
  attention: AttentionWindow;
}

export interface ArchSpec {
  modelType: ModelType;
  /** Family label for grouping in the UI (e.g. "qwen" for qwen2/qwen2_moe/qwen3/qwen3_moe). */
  family: string;
  vocabSize: number;
  dModel: number;
  nLayers: number;
  maxPositions: number;
  positions: PositionKind;
  norm: NormKind;
  /** Gemma: RMSNorm computes x * (1 + w); the parameter count is the same. */
  normPlusOne: boolean;
  /** openai-gpt normalises after each residual add; everyone else before each sublayer. */
  normPlacement: 'pre' | 'post' | 'sandwich';
  finalNorm: boolean;
  tiedEmbeddings: boolean;
  /** Gemma multiplies embeddings by sqrt(d_model) (no parameter). */
  embedScale: boolean;
  attention: AttentionSpec;
  /** The dense MLP (every layer of a dense model; the dense-first layers of an MoE model). */
  mlp: MlpSpec;
  moe: MoeSpec | null;
  /** One entry per layer, in order. */
  layers: LayerKind[];
  /** DeepSeek-V3 multi-token-prediction modules (num_nextn_predict_layers). */
  mtpLayers: number;
  /** Human notes about choices made while normalising (defaults applied, wrapper configs unwrapped). */
  notes: string[];
}
