// Next-token distribution from one logits row: float64 softmax, top-k, probabilities.
import { GPT2_TOKENIZER, type ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import { rowNorm, topByValue } from '../sampling/softmax.js';

export interface RankedToken {
  id: number;
  prob: number;
  logit: number;
}

/** Text of a token id in the model's tokenizer (GPT-2's by default); unknown ids get a `<|id:N|>` placeholder. */
export function tokenText(id: number, tokenizer: ModelTokenizer = GPT2_TOKENIZER): string {
  return tokenizer.tokenText(id);
}

/** Decode ids to text; ids the tokenizer does not know fall back to per-token placeholders. */
export function safeDecode(ids: readonly number[], tokenizer: ModelTokenizer = GPT2_TOKENIZER): string {
  try {
    return tokenizer.decode(ids);
  } catch {
    return ids.map((id) => tokenizer.tokenText(id)).join('');
  }
}

/** log(sum(exp(row))) in float64. */
export function logSumExp(row: Float32Array): number {
  const { max, sum } = rowNorm(row);
  return max === -Infinity ? -Infinity : max + Math.log(sum);
}

/**
 * The k most likely tokens of a logits row, most likely first (lower id first on ties),
 * with softmax probabilities computed in float64. [d_vocab] -> k x {id, prob, logit}
 */
export function topKFromLogits(row: Float32Array, k: number): RankedToken[] {
  const { max, sum } = rowNorm(row);
  const ids = topByValue(row, k); // O(V log k): the 50k vocabulary is never sorted
  return ids.map((id) => ({ id, logit: row[id], prob: Math.exp(row[id] - max) / sum }));
}

/** Probability of one id under softmax(row), float64. */
export function probOf(row: Float32Array, id: number): number {
  const { max, sum } = rowNorm(row);
  return Math.exp(row[id] - max) / sum;
}
