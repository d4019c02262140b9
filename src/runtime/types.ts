// The runtime contract: what the trace service and the stream ask of a loaded model (either family).
// Implemented by src/runtime/ort-runtime.ts on an onnxruntime-node session over the graph
// built by src/graph/. Everything here is batch 1; activations carry no batch axis.
import type { ModelDims } from '../arch/model-dims.js';
import type { ResolvedIntervention } from '../interventions/types.js';
import type { SweepJob, SweepOutcome, SweepProgress } from '../sweep/types.js';

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

/**
 * Plain-data options of the summaries of one forward pass (src/decode/summarize-forward.ts computes them): with
 * `ForwardRequest.summarize`, a runtime may compute them where the activations are (the worker of a WorkerRuntime)
 * and return them as `ForwardResult.summary`, so the calling thread receives summaries, not work.
 */
export interface SummarizeSpec {
  hooks: readonly string[];
  positions: readonly number[];
  offset: number;
  detail: 'summary' | 'full';
  topK: number;
  logitLens: boolean;
  lensPositions?: readonly number[];
  bins?: number;
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
  /** Summaries to compute next to the activations (needs `hooks` to hold what they read); see SummarizeSpec. */
  summarize?: SummarizeSpec;
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
  /**
   * The summaries of `ForwardRequest.summarize` when the runtime computed them (a ForwardSummary with empty token
   * texts, for exactly `spec`); absent when it did not, and the caller summarises.
   */
  summary?: { spec: SummarizeSpec; value: unknown; ms: number };
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

export interface ModelRuntime {
  readonly name: string;
  readonly dims: ModelDims;
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
