// A forward pass -> hook summaries, attention rows, logit lens and next-token top-k (shared by /trace and the stream).
import { parseHookName } from '../hooks/catalogue.js';
import { familyOf } from '../arch/model-dims.js';
import type { Activation, ForwardResult, ModelRuntime, SummarizeSpec } from '../runtime/types.js';
import type { SummaryResult } from '../stats/summarize.js';
import {
  HISTOGRAM_BINS_DEFAULT,
  type AttentionLayer,
  type HookSummary,
  type LogitLens,
  type NextToken,
} from '../schemas/trace.js';
import { attentionRows } from './attention-rows.js';
import { lensStages, logitLens } from './logit-lens.js';
import { tokenText } from '../tokenizer/token-text.js';
import { topKFromLogits } from './next-token.js';
import { GPT2_TOKENIZER, type ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import { summarizeInParallel } from '../stats/parallel-summarize.js';
import { cacheBuffers } from '../runtime/kv-cache.js';
import { hookSummaryFrom, sliceHook, type HookSlice } from './summarize-hook.js';

export interface SummarizeOptions {
  /** Exact hook names (selectHooks output), forward order. */
  hooks: readonly string[];
  /** Absolute token positions to report, ascending; each must be one of this forward's new positions. */
  positions: readonly number[];
  /** Absolute position of the first new token (the cache length passed to forward; 0 for a prompt). */
  offset: number;
  detail: 'summary' | 'full';
  topK: number;
  logitLens: boolean;
  /** Absolute positions for the logit lens (ascending); defaults to `positions`. */
  lensPositions?: readonly number[];
  bins?: number;
  /** The model's tokenizer for token texts (default GPT-2's). */
  tokenizer?: ModelTokenizer;
}

export interface ForwardSummary {
  hooks: HookSummary[];
  attention: AttentionLayer[];
  logit_lens: LogitLens | null;
  /** Next-token candidates after the last new token. */
  top_k: NextToken[];
}

/** The hook names to ask forward() for: the selection plus the residual points the logit lens reads. */
export function hooksToFetch(hooks: readonly string[], nLayer: number, withLens: boolean): string[] {
  const fetch = new Set(hooks);
  if (withLens) for (const s of lensStages(nLayer)) fetch.add(s.stage);
  fetch.delete('logits'); // always returned as ForwardResult.logits
  return [...fetch];
}

/** The plain-data part of the options (what crosses to a worker): everything but the tokenizer. */
export function summarizeSpec(opts: SummarizeOptions): SummarizeSpec {
  const { tokenizer: _, ...spec } = opts;
  return spec;
}

const sameSpec = (a: SummarizeSpec, b: SummarizeSpec) => JSON.stringify(a) === JSON.stringify(b);

/** Token texts are added by the caller, who has the tokenizer: the worker leaves them empty. */
const NO_TEXTS: ModelTokenizer = Object.freeze({ ...GPT2_TOKENIZER, tokenText: () => '' });

/**
 * Run where the activations are (src/runtime/runtime-worker.ts): the summaries of `spec` with empty token texts,
 * and the milliseconds they took.
 */
export async function summarizeInPlace(
  runtime: ModelRuntime,
  result: ForwardResult,
  spec: SummarizeSpec,
): Promise<{ spec: SummarizeSpec; value: ForwardSummary; ms: number }> {
  const t0 = performance.now();
  const value = await computeSummary(runtime, result, { ...spec, tokenizer: NO_TEXTS });
  return { spec, value, ms: performance.now() - t0 };
}

/** Fill the token texts of a summary made by summarizeInPlace. */
function withTokenTexts(s: ForwardSummary, tokenizer: ModelTokenizer | undefined): ForwardSummary {
  const text = (id: number) => tokenText(id, tokenizer);
  for (const t of s.top_k) t.text = text(t.id);
  for (const p of s.logit_lens?.positions ?? []) {
    p.final_top1.text = text(p.final_top1.id);
    for (const layer of p.layers) for (const t of layer.top) t.text = text(t.id);
  }
  return s;
}

/**
 * The summaries of one forward pass. When the runtime already computed them for these options (the forward
 * request carried `summarize: summarizeSpec(opts)`), they are taken as they are, with token texts filled in;
 * otherwise they are computed here.
 */
export async function summarizeForward(
  runtime: ModelRuntime,
  result: ForwardResult,
  opts: SummarizeOptions,
): Promise<ForwardSummary> {
  const done = result.summary;
  if (done && sameSpec(done.spec, summarizeSpec(opts)))
    return withTokenTexts(done.value as ForwardSummary, opts.tokenizer);
  return computeSummary(runtime, result, opts);
}

/**
 * Statistics + histograms of every slice on both cores (src/stats/parallel-summarize.ts), [n_j] -> SummaryResult.
 * A slice the helper summarised comes back in a new view over the same memory: the slice, and the activation when
 * the slice was all of it, take the new view (the old one is detached). `keep`: buffers that must stay in this thread.
 */
export async function summarizeSlices(
  selected: readonly { act: Activation; slice: HookSlice }[],
  bins: number,
  keep?: ReadonlySet<ArrayBufferLike>,
): Promise<SummaryResult[]> {
  const data = selected.map((h) => h.slice.data);
  const results = await summarizeInParallel(data, bins, keep);
  selected.forEach((h, j) => {
    if (h.act.data === h.slice.data) h.act.data = data[j];
    h.slice.data = data[j];
  });
  return results;
}

async function computeSummary(
  runtime: ModelRuntime,
  result: ForwardResult,
  opts: SummarizeOptions,
): Promise<ForwardSummary> {
  const { nLayer, dVocab } = runtime.dims;
  const hookOpts = {
    positions: opts.positions,
    offset: opts.offset,
    bins: opts.bins ?? HISTOGRAM_BINS_DEFAULT,
    full: opts.detail === 'full',
  };
  const selected = opts.hooks.map((name) => {
    const parsed = parseHookName(name, nLayer, familyOf(runtime.dims));
    if (!parsed) throw new Error(`${name} is not a hook of ${runtime.name}`);
    const act = parsed.site.logits ? result.logits : result.activations.get(name);
    if (!act) throw new Error(`forward() did not return ${name}`);
    return { act, ...parsed, slice: sliceHook(act, parsed.site, hookOpts) };
  });
  const summaries = await summarizeSlices(selected, hookOpts.bins, cacheBuffers(result.present));
  const hooks: HookSummary[] = selected.map(({ act, site, layer, slice }, j) =>
    hookSummaryFrom(act, site, layer, hookOpts, slice, summaries[j].stats, summaries[j].histogram),
  );
  const attention: AttentionLayer[] = [];
  for (const { act, site, layer } of selected) {
    if (site.pattern && layer !== null) attention.push(attentionRows(act, layer, opts.positions, opts.offset));
  }
  const nNew = result.logits.dims[0];
  // [new_pos, d_vocab] -> last row [d_vocab]
  const last = result.logits.data.subarray((nNew - 1) * dVocab, nNew * dVocab);
  const top_k = topKFromLogits(last, opts.topK).map((t) => ({
    id: t.id,
    text: tokenText(t.id, opts.tokenizer),
    prob: t.prob,
    logit: t.logit,
  }));
  const logit_lens = opts.logitLens
    ? await logitLens(
        runtime,
        result.activations,
        result.logits,
        opts.lensPositions ?? opts.positions,
        opts.offset,
        opts.topK,
        opts.tokenizer,
      )
    : null;
  return { hooks, attention, logit_lens, top_k };
}
