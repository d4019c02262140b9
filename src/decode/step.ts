// One decode step, the only one: forward (new tokens after a cache) -> summaries -> the next-token logits row.
// /trace's greedy continuation and the stream's generation both call it; the loops decide, the step computes.
import type { ResolvedIntervention } from '../interventions/types.js';
import type { ForwardResult, KvCache, ModelRuntime } from '../runtime/types.js';
import { type ForwardSummary, type SummarizeOptions, summarizeForward, summarizeSpec } from './summarize-forward.js';

export interface StepInput {
  /** Token ids after the cache: the whole prompt on the first step, one id per decode step. */
  tokenIds: readonly number[];
  /** Cache of everything before `tokenIds`; omitted = empty (the prompt). */
  past?: KvCache;
  /** Exact hook names to fetch (summaries and the logit lens read them). */
  fetch: readonly string[];
  /** Edits in force for this pass. */
  interventions?: readonly ResolvedIntervention[];
  /** What to summarise (positions absolute, `offset` = past length); omitted: no summaries. */
  summarize?: Omit<SummarizeOptions, 'offset'>;
}

export interface StepResult {
  /** The pass itself (activations, logits, present cache, run time). */
  result: ForwardResult;
  /** Summaries of the pass; null when none were asked for. */
  summary: ForwardSummary | null;
  /** Logits after the last new token: [new_pos, d_vocab] -> [d_vocab]. */
  row: Float32Array;
  /** Milliseconds spent summarising. */
  summarizeMs: number;
}

/** Runs a forward pass; the caller may wrap it (the stream's fairness gate). Default: run it now. */
export type RunForward = (forward: () => Promise<ForwardResult>) => Promise<ForwardResult>;

export async function step(runtime: ModelRuntime, input: StepInput, run: RunForward = (f) => f()): Promise<StepResult> {
  const offset = input.past?.length ?? 0;
  const opts = input.summarize ? { ...input.summarize, offset } : null;
  // [new] ids + cache of `offset` -> activations over the new positions + logits [new, d_vocab] + cache of offset+new
  const result = await run(() =>
    runtime.forward({
      tokenIds: input.tokenIds,
      past: input.past,
      hooks: input.fetch,
      interventions: input.interventions,
      // the summaries are made where the activations are (a model worker), not on this thread
      ...(opts ? { summarize: summarizeSpec(opts) } : {}),
    }),
  );
  const t = performance.now();
  const summary = opts ? await summarizeForward(runtime, result, opts) : null;
  // where the runtime summarised next to the activations (a worker), its time; else this thread's
  const summarizeMs = result.summary?.ms ?? performance.now() - t;
  return { result, summary, row: lastRow(result, runtime.dims.dVocab), summarizeMs };
}

/** The logits row after the last new token of a pass: [new_pos, d_vocab] -> [d_vocab]. */
export function lastRow(result: ForwardResult, dVocab: number): Float32Array {
  const nNew = result.logits.dims[0] as number;
  return result.logits.data.subarray((nNew - 1) * dVocab, nNew * dVocab);
}
