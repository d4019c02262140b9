// Greedy continuation with the KV cache: one new token per forward call, never re-running the prompt.
import type { ResolvedIntervention } from '../interventions/types.js';
import type { ModelRuntime, KvCache } from '../runtime/types.js';
import { argmax } from '../sampling/softmax.js';
import { probOf } from './next-token.js';

export interface GreedyResult {
  /** Chosen tokens with their probability under the full softmax at that step (an eos token is included). */
  tokens: { id: number; prob: number }[];
  stopReason: 'max_new_tokens' | 'eos';
}

/**
 * `firstRow` = logits [d_vocab] after the last prompt token, `past` = the cache holding the prompt.
 * Each step: argmax -> append -> forward([id], past) -> logits [1, d_vocab]. n tokens cost n-1 forward calls.
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
  let row = firstRow;
  let cache = past;
  try {
    for (;;) {
      const id = argmax(row);
      tokens.push({ id, prob: probOf(row, id) });
      if (stopAtEos && id === eosId) return { tokens, stopReason: 'eos' };
      if (tokens.length >= maxNewTokens) return { tokens, stopReason: 'max_new_tokens' };
      const step = await runtime.forward({ tokenIds: [id], past: cache, hooks: [], interventions });
      row = step.logits.data.subarray(0, runtime.dims.dVocab); // [1, d_vocab] -> [d_vocab]
      if (cache !== past) runtime.release?.(cache); // our own superseded step; `past` stays the caller's
      cache = step.present;
    }
  } finally {
    if (cache !== past) runtime.release?.(cache); // caches this loop made die with it
  }
}
