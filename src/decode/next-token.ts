// Next-token distribution from one logits row: float64 softmax, top-k, probabilities.
import { rowNorm, topByValue } from '../sampling/softmax.js';

export interface RankedToken {
  id: number;
  prob: number;
  logit: number;
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
