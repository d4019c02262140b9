// Float64 softmax and argmax over one row of logits ([d_vocab]).

export type Logits = Float32Array | Float64Array | readonly number[];

/** Index of the largest logit; ties go to the lowest id (deterministic, matches torch.argmax). */
export function argmax(logits: Logits): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] as number;
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/** softmax(logits / temperature) in float64, max-subtracted: [d_vocab] -> [d_vocab], sums to 1. */
export function softmax(logits: Logits, temperature = 1): Float64Array {
  const n = logits.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) if ((logits[i] as number) > max) max = logits[i] as number;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(((logits[i] as number) - max) / temperature);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/** Softmax normaliser of a float32 row in float64: max of the row and sum(exp(row - max)), summed in index order. */
export function rowNorm(row: Float32Array): { max: number; sum: number } {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return { max, sum };
}

/**
 * softmax(logits / temperature)[id] without building the [d_vocab] array: the same max, the same exp terms summed
 * in the same order as softmax(), so the result is bit-identical to softmax(logits, temperature)[id]
 * ((x - max) / 1 === x - max, so at temperature 1 a float32 row can use rowNorm).
 */
export function softmaxAt(logits: Logits, id: number, temperature = 1): number {
  if (temperature === 1 && logits instanceof Float32Array) {
    const { max, sum } = rowNorm(logits);
    return Math.exp((logits[id] as number) - max) / sum;
  }
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if ((logits[i] as number) > max) max = logits[i] as number;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(((logits[i] as number) - max) / temperature);
  return Math.exp(((logits[id] as number) - max) / temperature) / sum;
}

/** 0-based rank of `id` by logit among all tokens (ties ranked by lower id first). */
export function rankOf(logits: Logits, id: number): number {
  const v = logits[id] as number;
  let rank = 0;
  for (let i = 0; i < logits.length; i++) {
    const w = logits[i] as number;
    if (w > v || (w === v && i < id)) rank++;
  }
  return rank;
}

/**
 * The k largest entries of `values` as ids, descending (ties: lower id first), in O(V log k) with a min-heap
 * so a 50k vocabulary is not fully sorted every token.
 */
export function topByValue(values: Logits, k: number): number[] {
  const n = values.length;
  const kk = Math.min(Math.max(0, k), n);
  if (kk === 0) return [];
  // "a is worse than b": smaller value, or equal value and larger id.
  const worse = (a: number, b: number) => {
    const va = values[a] as number;
    const vb = values[b] as number;
    return va < vb || (va === vb && a > b);
  };
  const heap: number[] = [];
  const siftUp = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heap[i] as number, heap[p] as number)) break;
      [heap[i], heap[p]] = [heap[p] as number, heap[i] as number];
      i = p;
    }
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l] as number, heap[m] as number)) m = l;
      if (r < heap.length && worse(heap[r] as number, heap[m] as number)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m] as number, heap[i] as number];
      i = m;
    }
  };
  for (let i = 0; i < n; i++) {
    if (heap.length < kk) {
      heap.push(i);
      siftUp(heap.length - 1);
    } else if (worse(heap[0] as number, i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}
