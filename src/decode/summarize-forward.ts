// A forward pass -> hook summaries, attention rows, logit lens and next-token top-k (shared by /trace and the stream).
import { parseHookName } from '../hooks/catalogue.js';
import { familyOf } from '../arch/model-dims.js';
import type { ForwardResult, ModelRuntime } from '../runtime/types.js';
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
import type { ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import { summarizeTensors } from '../stats/summarize.js';
import { hookSummaryFrom, sliceHook } from './summarize-hook.js';

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

export async function summarizeForward(
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
  // Statistics + histograms of every slice (src/stats/summarize.ts).
  const summaries = summarizeTensors(
    selected.map((h) => h.slice.data),
    hookOpts.bins,
  );
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
