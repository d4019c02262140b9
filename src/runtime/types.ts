// The runtime contract: what the trace service and the stream ask of a loaded GPT-2 model.
// Implemented by src/runtime/gpt2-runtime.ts on an onnxruntime-node session over the graph
// built by src/graph/. Everything here is batch 1; activations carry no batch axis.
import type { ResolvedIntervention } from '../interventions/types.js';
import type { SweepJob, SweepOutcome, SweepProgress } from '../sweep/types.js';

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
export interface Gpt2Dims {
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

/** The family-neutral name of the same dims. */
export type ModelDims = Gpt2Dims;

export const familyOf = (d: Pick<Gpt2Dims, 'family'>): ModelFamily => d.family ?? 'gpt2';
export const kvHeadsOf = (d: Pick<Gpt2Dims, 'nHead' | 'nKvHeads'>): number => d.nKvHeads ?? d.nHead;

/** One fetched tensor: raw float32 values in row-major order with its dims (see HOOK_SITES for the axis words). */
export interface Activation {
  hook: string;
  dims: readonly number[];
  data: Float32Array;
}

/**
 * Keys and values of every layer for the tokens seen so far. Opaque to callers except `length`.
 * A cache is immutable: forward() returns a new one and never mutates the one passed in,
 * so a caller may branch from any earlier cache.
 */
export interface KvCache {
  readonly length: number;
}

export interface ForwardRequest {
  /** Token ids to append after the cache (the whole prompt on the first call). */
  tokenIds: readonly number[];
  /** Cache returned by the previous call; omitted = empty. */
  past?: KvCache;
  /** Exact hook names (already expanded from patterns) to fetch; logits are always returned. */
  hooks: readonly string[];
  /**
   * Edits applied during this call, in order (src/interventions/). Omitted or empty: the plain graph runs.
   * Fetched hooks show the edited values; the present cache holds the keys/values of the edited run.
   */
  interventions?: readonly ResolvedIntervention[];
}

export interface ForwardResult {
  /** Requested hooks, each covering only the new positions (scores/pattern: [head, new_pos, past+new]). */
  activations: Map<string, Activation>;
  /** [new_pos, d_vocab] raw logits. */
  logits: Activation;
  /** Cache including the new tokens. */
  present: KvCache;
  /** Wall-clock milliseconds spent inside onnxruntime. */
  runMs: number;
}

/** Logit lens: ln_final + unembedding applied to residual-stream rows. */
export interface LensRequest {
  /** [rows, d_model] residual vectors (e.g. resid_post of every layer at the chosen positions). */
  rows: Float32Array;
  nRows: number;
  topK: number;
  /** Token ids whose probability to report for every row (e.g. the final top-1 token). */
  trackIds?: readonly number[];
}

export interface LensRow {
  topIds: number[];
  topProbs: number[];
  /** Probabilities of LensRequest.trackIds, same order. */
  tracked: number[];
}

export interface Gpt2Runtime {
  readonly name: string;
  readonly dims: Gpt2Dims;
  /** Every hook name this model exposes, in forward order (allHookNames(dims.nLayer, familyOf(dims))). */
  readonly hookNames: readonly string[];
  forward(req: ForwardRequest): Promise<ForwardResult>;
  lens(req: LensRequest): Promise<LensRow[]>;
  /**
   * Free a cache now instead of when it is garbage-collected (a worker-backed runtime holds the tensors in
   * its worker, where the main thread's garbage collector cannot see their size). Idempotent; using the
   * cache afterwards is a 409 `cache_released`. Caches of other runtimes are ignored.
   */
  release?(cache: KvCache): void;
  /**
   * A whole sweep grid (src/sweep/): the unedited and source runs, then every cell on the batch axis of the sweep
   * sessions (opened on first use). Absent or refusing (422 sweep_unsupported) for graphs without sweep pieces.
   */
  sweep?(job: SweepJob, onProgress?: SweepProgress): Promise<SweepOutcome>;
  /** Release the onnxruntime sessions. */
  dispose(): Promise<void>;
}
