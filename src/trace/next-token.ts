// Next-token distribution from one logits row: float64 softmax, top-k, argmax.
import { decodeToken, vocabSize } from '../tokenizer/gpt2-tokenizer.js';

export interface RankedToken {
  id: number;
  prob: number;
  logit: number;
}

/** Text of a token id; ids beyond the GPT-2 tokenizer (a model with a larger d_vocab) get a placeholder. */
export function tokenText(id: number): string {
  return id >= 0 && id < vocabSize ? decodeToken(id) : `<|id:${id}|>`;
}

/** Index of the largest finite value (first one on ties). [d_vocab] -> id */
export function argmax(row: Float32Array): number {
  let best = -1;
  let bestV = -Infinity;
  for (let i = 0; i < row.length; i++) {
    if (row[i] > bestV) {
      bestV = row[i];
      best = i;
    }
  }
  return best < 0 ? 0 : best;
}

/** Softmax normaliser in float64: max of the row and sum(exp(row - max)) (shifted so exp never overflows). */
export function softmaxNorm(row: Float32Array): { max: number; sum: number } {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return { max, sum };
}

/** log(sum(exp(row))) in float64. */
export function logSumExp(row: Float32Array): number {
  const { max, sum } = softmaxNorm(row);
  return max === -Infinity ? -Infinity : max + Math.log(sum);
}

/**
 * The k most likely tokens of a logits row, most likely first (lower id first on ties),
 * with softmax probabilities computed in float64. [d_vocab] -> k x {id, prob, logit}
 */
export function topKFromLogits(row: Float32Array, k: number): RankedToken[] {
  const { max, sum } = softmaxNorm(row);
  // A small sorted buffer beats sorting 50k entries when k <= 100.
  const ids: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (ids.length === k && !(v > row[ids[k - 1]])) continue;
    let at = ids.length;
    while (at > 0 && v > row[ids[at - 1]]) at--;
    ids.splice(at, 0, i);
    if (ids.length > k) ids.pop();
  }
  return ids.map((id) => ({ id, logit: row[id], prob: Math.exp(row[id] - max) / sum }));
}

/** Probability of one id under softmax(row), float64. */
export function probOf(row: Float32Array, id: number): number {
  const { max, sum } = softmaxNorm(row);
  return Math.exp(row[id] - max) / sum;
}
