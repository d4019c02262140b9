// Pick the next token from one row of logits: greedy, or temperature -> top-k -> top-p -> seeded draw.
// Returns the sampling record that lets anyone replay the step from the same logits.
import { argmax, rankOf, softmax, softmaxAt, type Logits } from './softmax.js';
import { topK, topP } from './filters.js';
import { type SeededRng, uniformAt } from './rng.js';

export interface SamplingParams {
  temperature: number;
  topK: number;
  topP: number;
}

/** Wire form (snake_case) of one step's sampling: see SamplingRecordSchema in src/schemas/stream.ts. */
export interface SamplingRecord {
  greedy: boolean;
  temperature: number;
  top_k: number;
  top_p: number;
  candidates: number;
  rank: number;
  prob: number;
  prob_tempered: number;
  prob_filtered: number;
  draw: number | null;
  rng_counter: number;
  seed: number;
}

export interface SampleResult {
  tokenId: number;
  record: SamplingRecord;
}

/** Greedy when temperature is 0 or only one candidate can survive top-k. */
export function isGreedy(p: SamplingParams): boolean {
  return p.temperature === 0 || p.topK === 1;
}

/** Filter a tempered distribution to its candidates (ids by probability descending). */
export function candidatesOf(tempered: Float64Array, p: SamplingParams): number[] {
  const afterK = p.topK > 0 ? topK(tempered, p.topK) : undefined;
  return topP(tempered, p.topP, afterK);
}

/** Walk the renormalised candidates until the cumulative probability exceeds u * mass. */
export function drawFrom(
  tempered: Float64Array,
  candidates: readonly number[],
  u: number,
): { id: number; mass: number } {
  let mass = 0;
  for (const id of candidates) mass += tempered[id] as number;
  const target = u * mass;
  let cum = 0;
  for (const id of candidates) {
    cum += tempered[id] as number;
    if (cum > target) return { id, mass };
  }
  // u * mass can only reach cum through rounding: the last candidate.
  return { id: candidates[candidates.length - 1] as number, mass };
}

/** logits: [d_vocab] of the predicting position. Advances `rng` by one draw unless greedy. */
export function sampleNext(logits: Logits, params: SamplingParams, rng: SeededRng): SampleResult {
  const base = {
    temperature: params.temperature,
    top_k: params.topK,
    top_p: params.topP,
    rng_counter: rng.counter,
    seed: rng.seed,
  };
  if (isGreedy(params)) {
    const id = argmax(logits);
    // One probability each: no [d_vocab] float64 array per token (softmaxAt gives softmax()'s exact value).
    const prob = softmaxAt(logits, id, 1);
    const tempered =
      params.temperature === 0 ? 1 : params.temperature === 1 ? prob : softmaxAt(logits, id, params.temperature);
    return {
      tokenId: id,
      record: {
        ...base,
        greedy: true,
        candidates: 1,
        rank: rankOf(logits, id),
        prob,
        prob_tempered: tempered,
        prob_filtered: 1,
        draw: null,
      },
    };
  }
  const tempered = softmax(logits, params.temperature);
  const candidates = candidatesOf(tempered, params);
  const u = rng.next();
  const { id, mass } = drawFrom(tempered, candidates, u);
  return {
    tokenId: id,
    record: {
      ...base,
      greedy: false,
      candidates: candidates.length,
      rank: rankOf(logits, id),
      // x / 1 === x, so at temperature 1 the tempered distribution is the raw one, value for value.
      prob: params.temperature === 1 ? (tempered[id] as number) : softmaxAt(logits, id, 1),
      prob_tempered: tempered[id] as number,
      prob_filtered: (tempered[id] as number) / mass,
      draw: u,
    },
  };
}

/** Recompute the token a record chose from the same logits (draw re-derived from seed + counter). */
export function replaySample(logits: Logits, record: SamplingRecord): number {
  const params = { temperature: record.temperature, topK: record.top_k, topP: record.top_p };
  if (isGreedy(params)) return argmax(logits);
  const tempered = softmax(logits, params.temperature);
  return drawFrom(tempered, candidatesOf(tempered, params), uniformAt(record.seed, record.rng_counter)).id;
}
