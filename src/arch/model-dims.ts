// Model hyper-parameters and family, made by the checkpoint readers and read by every layer above (graph, runtime, trace).
/**
 * Which graph family runs a model: `gpt2` (LayerNorm, learned positions, GELU MLP) or `llama` (RMSNorm, RoPE,
 * grouped-query attention, gated MLP: HF model_type llama, qwen2, qwen3, mistral). Selects the hook catalogue.
 */
export type ModelFamily = 'gpt2' | 'llama';

/**
 * Model hyper-parameters in TransformerLens words (GPT-2: HF n_layer, n_head, n_embd, n_positions, vocab_size;
 * llama family: num_hidden_layers, num_attention_heads, num_key_value_heads, hidden_size, head_dim, ...).
 * Everything the stream, /trace and the KV-cache handles need, whatever the family.
 */
export interface ModelDims {
  /** Omitted = 'gpt2'. */
  family?: ModelFamily;
  nLayer: number;
  nHead: number;
  /** Key/value heads (grouped-query attention); omitted = nHead. */
  nKvHeads?: number;
  dModel: number;
  dHead: number; // GPT-2: dModel / nHead; the llama family may differ (Qwen3 head_dim)
  dMlp: number; // n_inner ?? 4 * dModel; llama family: intermediate_size
  dVocab: number;
  nCtx: number;
  /** LayerNorm eps (GPT-2) or RMSNorm eps (llama family). */
  layerNormEps: number;
}

export const familyOf = (d: Pick<ModelDims, 'family'>): ModelFamily => d.family ?? 'gpt2';
export const kvHeadsOf = (d: Pick<ModelDims, 'nHead' | 'nKvHeads'>): number => d.nKvHeads ?? d.nHead;
