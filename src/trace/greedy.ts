// /trace's greedy continuation with the KV cache: one new token per decode step, never re-running the prompt.
import { step } from '../decode/step.js';
import { probOf } from '../decode/next-token.js';
import type { ResolvedIntervention } from '../interventions/types.js';
import type { KvCache, ModelRuntime } from '../runtime/types.js';
import { argmax } from '../sampling/softmax.js';
import { type StopReason, stopAfter } from '../sampling/stopping.js';

export interface GreedyResult {
  /** Chosen tokens with their probability under the full softmax at that step (an eos token is included). */
  tokens: { id: number; prob: number }[];
  stopReason: Exclude<StopReason, 'stop'>;
}

/**
 * `firstRow` = logits [d_vocab] after the last prompt token, `past` = the cache holding the prompt.
 * Each step: argmax -> append -> step([id], past) -> logits row [d_vocab]. n tokens cost n-1 forward calls.
 */
export async function greedyContinue(
  runtime: ModelRuntime,
  firstRow: Float32Array,
  past: KvCache,
  maxNewTokens: number,
  stopAtEos: boolean,
  /** The model's end-of-text id (null: the model has none, so only max_new_tokens stops). */
  eosId: number | null,
  /** Edits in force on every step (src/interventions/); the prompt's edits already live in `past`. */
  interventions?: readonly ResolvedIntervention[],
): Promise<GreedyResult> {
  const tokens: GreedyResult['tokens'] = [];
  const rules = { maxNewTokens, stopAtEos, eosId };
  let row = firstRow;
  let cache = past;
  try {
    for (;;) {
      const id = argmax(row);
      tokens.push({ id, prob: probOf(row, id) });
      const reason = stopAfter(rules, id, tokens.length);
      if (reason === 'eos' || reason === 'length') return { tokens, stopReason: reason };
      const next = await step(runtime, { tokenIds: [id], past: cache, fetch: [], interventions });
      row = next.row;
      if (cache !== past) runtime.release?.(cache); // our own superseded step; `past` stays the caller's
      cache = next.result.present;
    }
  } finally {
    if (cache !== past) runtime.release?.(cache); // caches this loop made die with it
  }
}
