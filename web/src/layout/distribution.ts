// The distribution a token is drawn from, recomputed in the page from one row of logits:
// temperature -> top-k -> top-p, the same rule as the server's sampler (src/sampling), so the controls can
// reshape it live without a request.

export interface Reshape {
  /** 0 = greedy (the argmax); the bars then show the untempered softmax. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
}

export interface Candidate {
  id: number;
  logit: number;
  /** softmax(logits) at temperature 1. */
  prob: number;
  /** softmax(logits / T) (T = 1 when greedy). */
  tempered: number;
  /** The probability it is drawn with: tempered / kept mass, 0 when filtered out. */
  drawn: number;
  kept: boolean;
}

export interface Distribution {
  greedy: boolean;
  /** Candidates surviving the filters (1 when greedy). */
  keptCount: number;
  /** Mass of the kept candidates under the tempered distribution. */
  keptMass: number;
  /** Entropy in bits of the raw softmax and of the distribution drawn from (0 when greedy). */
  entropyRaw: number;
  entropyDrawn: number;
  /** The `show` most likely tokens (by logit), with their fates. */
  top: Candidate[];
}

/** softmax(logits / t) in float64 with the max subtracted. */
export function softmaxT(logits: ArrayLike<number>, t: number): Float64Array {
  const n = logits.length;
  const out = new Float64Array(n);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp((logits[i] - max) / t);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i] /= sum;
  return out;
}

/** Ids by probability, descending (ties by id, as a stable sort of the vocabulary gives). */
export function rankIds(probs: Float64Array): number[] {
  return Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
}

function entropyBits(p: ArrayLike<number>, ids?: readonly number[], mass = 1): number {
  let h = 0;
  const each = (v: number) => {
    const q = v / mass;
    if (q > 0) h -= q * Math.log2(q);
  };
  if (ids) for (const id of ids) each(p[id]);
  else for (let i = 0; i < p.length; i++) each(p[i]);
  return h;
}

/**
 * The candidates of a tempered distribution: the top-k ids (when k > 0), then the shortest prefix of them (or of the
 * whole vocabulary) whose cumulative tempered probability reaches top-p — at least one id. The cumulative sum is over
 * the tempered probabilities, not renormalised after top-k, exactly as the server's `candidatesOf`.
 */
export function candidates(tempered: Float64Array, order: readonly number[], topK: number, topP: number): number[] {
  const pool = topK > 0 ? order.slice(0, topK) : order;
  if (topP >= 1) return [...pool];
  const kept: number[] = [];
  let cum = 0;
  for (const id of pool) {
    kept.push(id);
    cum += tempered[id];
    if (cum >= topP) break;
  }
  return kept;
}

/** Reshape one row of logits; `show` most likely tokens are returned for the bars. */
let memo: { logits: ArrayLike<number>; raw: Float64Array; order: number[] } | null = null;

export function reshape(logits: ArrayLike<number>, r: Reshape, show = 12): Distribution {
  // The raw softmax and the ranking do not depend on the controls (1/T keeps the order): computed once per row.
  if (memo?.logits !== logits) {
    const p = softmaxT(logits, 1);
    memo = { logits, raw: p, order: rankIds(p) };
  }
  const { raw, order } = memo;
  const greedy = r.temperature === 0 || r.topK === 1;
  const tempered = greedy || r.temperature === 1 ? raw : softmaxT(logits, r.temperature);
  const kept = greedy ? [order[0]] : candidates(tempered, order, r.topK, r.topP);
  const keptSet = new Set(kept);
  let keptMass = 0;
  for (const id of kept) keptMass += tempered[id];
  const top = order.slice(0, show).map((id) => ({
    id,
    logit: logits[id],
    prob: raw[id],
    tempered: tempered[id],
    drawn: keptSet.has(id) ? (greedy ? 1 : tempered[id] / keptMass) : 0,
    kept: keptSet.has(id),
  }));
  return {
    greedy,
    keptCount: kept.length,
    keptMass,
    entropyRaw: entropyBits(raw),
    entropyDrawn: greedy ? 0 : entropyBits(tempered, kept, keptMass),
    top,
  };
}
