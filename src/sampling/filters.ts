// Candidate filters over a float64 distribution ([d_vocab] probabilities): top-k and top-p (nucleus).
// Both return candidate ids sorted by probability descending (ties: lower id first), so they compose.
import { topByValue } from './softmax.js';

/** The k most probable ids (k <= 0 or k >= vocab: every id, sorted). */
export function topK(probs: Float64Array, k: number): number[] {
  const kk = k <= 0 || k >= probs.length ? probs.length : k;
  return topByValue(probs, kk);
}

/** Every id with probability strictly above `threshold`, sorted descending; with their total mass. */
function sortedAbove(probs: Float64Array, threshold: number): { ids: number[]; mass: number } {
  const ids: number[] = [];
  let mass = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    if (p > threshold) {
      ids.push(i);
      mass += p;
    }
  }
  ids.sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
  return { ids, mass };
}

/**
 * Nucleus filter: the shortest prefix of `sorted` (ids by probability descending) whose cumulative probability
 * reaches `topP` (always at least one id). Without `sorted`, the whole vocabulary is considered; to avoid sorting
 * 50k entries per token it first sorts only ids above a threshold, lowering it until they hold >= topP of the mass
 * (a set {p > t} is itself a prefix of the descending order, so the nucleus lies inside it).
 */
export function topP(probs: Float64Array, topPValue: number, sorted?: readonly number[]): number[] {
  let pool: readonly number[];
  if (sorted) {
    pool = sorted;
  } else if (topPValue >= 1) {
    pool = sortedAbove(probs, -1).ids;
  } else {
    let threshold = 1e-3;
    let picked = sortedAbove(probs, threshold);
    while (picked.mass < topPValue && threshold > 0) {
      threshold = threshold < 1e-12 ? 0 : threshold / 100;
      picked = sortedAbove(probs, threshold === 0 ? -1 : threshold);
    }
    pool = picked.ids;
  }
  if (topPValue >= 1) return [...pool];
  const kept: number[] = [];
  let cum = 0;
  for (const id of pool) {
    kept.push(id);
    cum += probs[id] as number;
    if (cum >= topPValue) break;
  }
  return kept;
}
