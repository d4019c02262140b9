// Fixed-bin histogram of the finite values of a tensor over [min, max].
import { primeKernel } from './prime.js';
import { wasmHistogram } from './wasm-kernels.js';

/** From this many values on the WebAssembly kernel counts; below, its call and copy cost more than they save. */
const WASM_MIN_VALUES = 256;

export interface HistogramResult {
  /** bins + 1 edges, edges[i] = min + i * (max - min) / bins (float64); empty when there are no finite values. */
  edges: number[];
  /** counts[i] = finite values in [edges[i], edges[i+1]); the last bin also holds values equal to max. */
  counts: number[];
}

/**
 * The hot loop: counts[floor((x - min) * scale)]++ for every finite x, [n] -> counts [bins + 1].
 * For x in [min, max], (x - min) * scale is in [0, bins] (it reaches bins only at x = max), where `| 0` is floor;
 * the caller folds slot `bins` into the last bin. The clamp, on the float before `| 0` could wrap, keeps a value
 * outside [min, max] (a caller passing a narrower range) in the first or last bin, as Math.floor + clamp did.
 * `x - x === 0` is the one-comparison finite test (NaN and ±Inf give NaN). From WASM_MIN_VALUES values on it runs
 * in WebAssembly SIMD (kernels.wat, the same float64 rule), below in JavaScript.
 */
export function histogramKernel(data: Float32Array, min: number, scale: number, counts: Int32Array): void {
  if (data.length < WASM_MIN_VALUES || !wasmHistogram(data, min, scale, counts))
    histogramKernelJs(data, min, scale, counts);
}

/** histogramKernel in JavaScript, whatever the size (small tensors, no WebAssembly, and the tests' cross-check). */
export function histogramKernelJs(data: Float32Array, min: number, scale: number, counts: Int32Array): void {
  const n = data.length;
  const top = counts.length - 1;
  for (let i = 0; i < n; i++) {
    const x = data[i];
    if (x - x === 0) {
      const t = (x - min) * scale;
      counts[t >= top ? top : t < 1 ? 0 : t | 0]++;
    }
  }
}

/** Finite values of `data`; [n] -> count. Used when min === max (every finite value is in bin 0). */
function finiteCount(data: Float32Array): number {
  let c = 0;
  for (let i = 0; i < data.length; i++) if (data[i] - data[i] === 0) c++;
  return c;
}

primeKernel((sample) => {
  histogramKernelJs(sample, -7, 4 / 18, new Int32Array(5));
  finiteCount(sample);
});

/**
 * Bin index = min(bins - 1, floor((x - min) / width)), width = (max - min) / bins.
 * When min === max every finite value lands in bin 0 and all edges equal min.
 * NaN and ±Inf are skipped (the stats count them); pass the finite min/max from tensorStats.
 */
export function histogram(data: Float32Array, min: number | null, max: number | null, bins: number): HistogramResult {
  checkBins(bins);
  if (min === null || max === null || min === max)
    return histogramFromCounts(null, min, max, bins, min === null ? 0 : finiteCount(data));
  const raw = new Int32Array(bins + 1);
  histogramKernel(data, min, histogramScale(min, max, bins), raw);
  return histogramFromCounts(raw, min, max, bins, 0);
}

/** bins / (max - min): the factor histogramKernel multiplies (x - min) by. */
export function histogramScale(min: number, max: number, bins: number): number {
  return bins / (max - min);
}

export function checkBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`histogram bins must be a positive integer, got ${bins}`);
}

/**
 * Edges and counts from histogramKernel's raw [bins + 1] counts; `raw` is null when no kernel ran: no finite value
 * (min/max null: empty edges, zero counts) or min === max (`finite` values, all in bin 0).
 */
export function histogramFromCounts(
  raw: Int32Array | null,
  min: number | null,
  max: number | null,
  bins: number,
  finite: number,
): HistogramResult {
  const counts = new Array<number>(bins).fill(0);
  if (min === null || max === null) return { edges: [], counts };
  const width = (max - min) / bins;
  const edges = new Array<number>(bins + 1);
  for (let i = 0; i < bins; i++) edges[i] = min + i * width;
  edges[bins] = max;
  if (raw === null) {
    counts[0] = finite;
    return { edges, counts };
  }
  for (let b = 0; b < bins; b++) counts[b] = raw[b];
  counts[bins - 1] += raw[bins];
  return { edges, counts };
}
