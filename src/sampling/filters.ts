// Candidate filters over a float64 distribution ([d_vocab] probabilities): top-k and top-p (nucleus).
// Both return candidate ids sorted by probability descending (ties: lower id first), so they compose.
import { topByValue } from './softmax.js';

/** The k most probable ids (k <= 0 or k >= vocab: every id, sorted). */
export function topK(probs: Float64Array, k: number): number[] {
  const kk = k <= 0 || k >= probs.length ? probs.length : k;
  return topByValue(probs, kk);
}

/** Below this many ids a comparison sort is as fast as the radix sort and allocates nothing. */
const RADIX_MIN = 256;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * `ids` ordered by probability descending, ties by lower id first (ids must be ascending on entry), by a stable
 * LSD radix sort on the float64 bits: for finite values >= 0 the bit pattern orders like the value, so the order
 * is exactly the comparison sort's, in four linear passes instead of ~V log V comparator calls (a temperature-only
 * draw sorts the whole 50k vocabulary every token).
 */
function sortDescending(probs: Float64Array, ids: readonly number[]): number[] {
  const n = ids.length;
  const vals = new Float64Array(n);
  for (let i = 0; i < n; i++) vals[i] = probs[ids[i] as number] as number;
  const bits = new Uint32Array(vals.buffer); // [n, 2]: low word, high word (little-endian)
  // Complemented keys: ascending keys = descending probabilities; equal keys keep their (ascending id) order.
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  let order = new Uint32Array(n); // indices into ids, permuted pass by pass (keys are read through them)
  let next = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    order[i] = i;
    lo[i] = ~(bits[2 * i] as number) >>> 0;
    hi[i] = ~(bits[2 * i + 1] as number) >>> 0;
  }
  // Four stable passes of 16 bits, low to high; a digit every key shares (common in the high word) is skipped.
  const count = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[((word[i] as number) >>> shift) & 0xffff]++;
    if (count[((word[0] as number) >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d] as number;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = order[i] as number;
      next[count[((word[k] as number) >>> shift) & 0xffff]++] = k;
    }
    const t = order;
    order = next;
    next = t;
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = ids[order[i] as number] as number;
  return out;
}

/** Every id with probability strictly above `threshold`, sorted descending; with their total mass. */
function sortedAbove(probs: Float64Array, threshold: number): { ids: number[]; mass: number } {
  const ids: number[] = [];
  let mass = 0;
  let radix = LITTLE_ENDIAN;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    if (p > threshold) {
      ids.push(i);
      mass += p;
      if (!((p > 0 && p < Infinity) || (p === 0 && 1 / p > 0))) radix = false; // bit order = value order only for finite values >= +0
    }
  }
  if (radix && ids.length >= RADIX_MIN) return { ids: sortDescending(probs, ids), mass };
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
