// Summary statistics of one float32 tensor in a single pass with float64 accumulators.

export interface TensorStatsResult {
  /** Number of values (product of dims). */
  count: number;
  finiteCount: number;
  nanCount: number;
  posInfCount: number;
  negInfCount: number;
  /** The remaining fields cover finite values only; null when there are none. */
  mean: number | null;
  /** Population standard deviation: sqrt(sum((x - mean)^2) / N), N = finiteCount (torch.std(unbiased=False)). */
  std: number | null;
  min: number | null;
  max: number | null;
  /** sqrt(sum(x^2)) over the finite values; 0 when there are none. */
  l2Norm: number;
  absMax: number | null;
  /** Row-major index of the first value whose |x| equals absMax; -1 when there are no finite values. */
  absMaxFlat: number;
}

/**
 * One pass over `data` (the shape only matters for the caller's index bookkeeping).
 * Variance uses a shifted sum: accumulating (x - k) and (x - k)^2 with k = the first finite
 * value keeps the float64 sums small when |mean| >> std, so the textbook formula
 * var = (S2 - S1^2 / n) / n does not cancel catastrophically.
 */
export function tensorStats(data: Float32Array): TensorStatsResult {
  const n = data.length;
  let finite = 0;
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  let shift = 0;
  let haveShift = false;
  let s1 = 0; // sum (x - shift)
  let s2 = 0; // sum (x - shift)^2
  let sq = 0; // sum x^2
  let min = Infinity;
  let max = -Infinity;
  let absMax = -1;
  let absMaxFlat = -1;
  for (let i = 0; i < n; i++) {
    const x = data[i];
    if (x !== x) {
      nan++;
      continue;
    }
    if (x === Infinity) {
      posInf++;
      continue;
    }
    if (x === -Infinity) {
      negInf++;
      continue;
    }
    if (!haveShift) {
      shift = x;
      haveShift = true;
    }
    finite++;
    const d = x - shift;
    s1 += d;
    s2 += d * d;
    sq += x * x;
    if (x < min) min = x;
    if (x > max) max = x;
    const a = x < 0 ? -x : x;
    if (a > absMax) {
      absMax = a;
      absMaxFlat = i;
    }
  }
  if (finite === 0) {
    return {
      count: n,
      finiteCount: 0,
      nanCount: nan,
      posInfCount: posInf,
      negInfCount: negInf,
      mean: null,
      std: null,
      min: null,
      max: null,
      l2Norm: 0,
      absMax: null,
      absMaxFlat: -1,
    };
  }
  const meanShifted = s1 / finite;
  const variance = Math.max(0, s2 / finite - meanShifted * meanShifted);
  return {
    count: n,
    finiteCount: finite,
    nanCount: nan,
    posInfCount: posInf,
    negInfCount: negInf,
    mean: shift + meanShifted,
    std: Math.sqrt(variance),
    min,
    max,
    l2Norm: Math.sqrt(sq),
    absMax,
    absMaxFlat,
  };
}

/** Row-major flat index -> one index per axis, e.g. unravelIndex(5, [2, 3]) = [1, 2]. */
export function unravelIndex(flat: number, dims: readonly number[]): number[] {
  const index = new Array<number>(dims.length).fill(0);
  let rest = flat;
  for (let a = dims.length - 1; a >= 0; a--) {
    const size = dims[a];
    index[a] = size > 0 ? rest % size : 0;
    rest = size > 0 ? Math.floor(rest / size) : 0;
  }
  return index;
}
