// Summary statistics of one float32 tensor in a single fused pass with float64 accumulators.
import { primeKernel } from './prime.js';

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

// Slots of the kernel's output buffer (one module-level Float64Array: nothing is allocated per call).
import {
  FINITE,
  MAX,
  MAX_AT,
  MIN,
  MIN_AT,
  NAN,
  NEG_INF,
  POS_INF,
  S1,
  S2,
  SHIFT,
  SQ,
  STATS_SLOTS,
} from './stats-slots.js';
import { wasmStats } from './wasm-kernels.js';

export { STATS_SLOTS };
/** From this many values on the WebAssembly kernel runs; below, its call and copy cost more than they save. */
const WASM_MIN_VALUES = 256;
const scratch = new Float64Array(STATS_SLOTS);

/**
 * The hot loop, [n] -> out. Four values per step with two independent sets of float64 accumulators, so
 * consecutive additions do not wait on each other. `x - x` is 0 for a finite x and NaN for NaN/±Inf, so one
 * comparison per four values clears the common all-finite case; the rare rest goes one value at a time.
 * |x| is never computed per value: the abs-max is max(-min, max) and its first index follows from the first
 * indices of min and max (see statsFromKernel). Strict < and > keep the first occurrence of each.
 */
export function statsKernel(data: Float32Array, out: Float64Array): void {
  const n = data.length;
  if (n >= WASM_MIN_VALUES) {
    let first = 0;
    while (first < n && data[first] - data[first] !== 0) first++;
    if (wasmStats(data, first < n ? data[first] : 0, out)) return;
  }
  statsKernelJs(data, out);
}

/** statsKernel in JavaScript, whatever the size (small tensors, no WebAssembly, and the tests' cross-check). */
export function statsKernelJs(data: Float32Array, out: Float64Array): void {
  const n = data.length;
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  let i = 0;
  // Leading non-finite values, then the shift k = the first finite value.
  for (; i < n; i++) {
    const x = data[i];
    if (x - x === 0) break;
    if (x !== x) nan++;
    else if (x > 0) posInf++;
    else negInf++;
  }
  const shift = i < n ? data[i] : 0;
  let finite = 0;
  let s1a = 0;
  let s1b = 0;
  let s2a = 0;
  let s2b = 0;
  let sqa = 0;
  let sqb = 0;
  let min = Infinity;
  let max = -Infinity;
  let minAt = -1;
  let maxAt = -1;
  const end4 = n - 3;
  while (i < n) {
    if (i < end4) {
      const x0 = data[i];
      const x1 = data[i + 1];
      const x2 = data[i + 2];
      const x3 = data[i + 3];
      if (x0 - x0 + (x1 - x1) + (x2 - x2) + (x3 - x3) === 0) {
        const d0 = x0 - shift;
        const d1 = x1 - shift;
        const d2 = x2 - shift;
        const d3 = x3 - shift;
        s1a += d0 + d1;
        s1b += d2 + d3;
        s2a += d0 * d0 + d1 * d1;
        s2b += d2 * d2 + d3 * d3;
        sqa += x0 * x0 + x1 * x1;
        sqb += x2 * x2 + x3 * x3;
        if (x0 < min) {
          min = x0;
          minAt = i;
        }
        if (x0 > max) {
          max = x0;
          maxAt = i;
        }
        if (x1 < min) {
          min = x1;
          minAt = i + 1;
        }
        if (x1 > max) {
          max = x1;
          maxAt = i + 1;
        }
        if (x2 < min) {
          min = x2;
          minAt = i + 2;
        }
        if (x2 > max) {
          max = x2;
          maxAt = i + 2;
        }
        if (x3 < min) {
          min = x3;
          minAt = i + 3;
        }
        if (x3 > max) {
          max = x3;
          maxAt = i + 3;
        }
        finite += 4;
        i += 4;
        continue;
      }
    }
    // One value: the tail, or a group of four holding a NaN/±Inf (e.g. a masked attention score).
    const x = data[i];
    if (x - x === 0) {
      const d = x - shift;
      s1a += d;
      s2a += d * d;
      sqa += x * x;
      if (x < min) {
        min = x;
        minAt = i;
      }
      if (x > max) {
        max = x;
        maxAt = i;
      }
      finite++;
    } else if (x !== x) nan++;
    else if (x > 0) posInf++;
    else negInf++;
    i++;
  }
  out[FINITE] = finite;
  out[NAN] = nan;
  out[POS_INF] = posInf;
  out[NEG_INF] = negInf;
  out[SHIFT] = shift;
  out[S1] = s1a + s1b;
  out[S2] = s2a + s2b;
  out[SQ] = sqa + sqb;
  out[MIN] = min;
  out[MAX] = max;
  out[MIN_AT] = minAt;
  out[MAX_AT] = maxAt;
}

primeKernel((sample) => statsKernelJs(sample, scratch));

/**
 * One pass over `data` (the shape only matters for the caller's index bookkeeping).
 * Variance uses a shifted sum: accumulating (x - k) and (x - k)^2 with k = the first finite
 * value keeps the float64 sums small when |mean| >> std, so the textbook formula
 * var = (S2 - S1^2 / n) / n does not cancel catastrophically.
 */
export function tensorStats(data: Float32Array): TensorStatsResult {
  statsKernel(data, scratch);
  return statsFromKernel(data.length, scratch);
}

/** statsKernel output (slots [STATS_SLOTS]) of a tensor of `count` values -> TensorStatsResult. */
export function statsFromKernel(count: number, out: Float64Array): TensorStatsResult {
  const finite = out[FINITE];
  // Plain literals, not `{ ...base, ... }`: the spread took ~9 us a call, longer than the stats pass of 768 values.
  if (finite === 0) {
    return {
      count,
      finiteCount: 0,
      nanCount: out[NAN],
      posInfCount: out[POS_INF],
      negInfCount: out[NEG_INF],
      mean: null,
      std: null,
      min: null,
      max: null,
      l2Norm: 0,
      absMax: null,
      absMaxFlat: -1,
    };
  }
  const min = out[MIN];
  const max = out[MAX];
  // |x| = absMax only at x = max or x = -absMax = min, so the first such index is the earlier of their first indices.
  const absMax = Math.max(-min, max);
  const minAt = out[MIN_AT];
  const maxAt = out[MAX_AT];
  const absMaxFlat = -min > max ? minAt : max > -min ? maxAt : Math.min(minAt, maxAt);
  const meanShifted = out[S1] / finite;
  const variance = Math.max(0, out[S2] / finite - meanShifted * meanShifted);
  return {
    count,
    finiteCount: finite,
    nanCount: out[NAN],
    posInfCount: out[POS_INF],
    negInfCount: out[NEG_INF],
    mean: out[SHIFT] + meanShifted,
    std: Math.sqrt(variance),
    min,
    max,
    l2Norm: Math.sqrt(out[SQ]),
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
